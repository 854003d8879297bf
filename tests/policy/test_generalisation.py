"""Error classes seen on messages written by other people, checked with sentences of our own.

None of these sentences is in the curated examples or in the labelled message sets: each stands for
a kind of wording the engine used to get wrong (polite openers, who inside the company sees data,
data received from partners, page visits, formal access requests, letters with business context,
signatures with phone numbers).
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from bot.policy import Intent, PolicyEngine
from bot.policy.loader import PolicyLoadError
from bot.policy.morphology import Morphology, tokenize
from bot.policy.text import request_text

from .conftest import POLICY_DIR

QUESTIONS = [
    # A polite opener introduces the question; it is not a request for a person.
    ("Подскажите, вы передаёте мои данные другим компаниям?", "disclosure"),
    ("Скажите, пожалуйста, какие данные вы собираете через форму заявки?", "personal-data"),
    ("Не подскажете, может ли полиция запросить мои данные?", "legal-requirement"),
    ("Хотела уточнить — мои контакты вы кому-нибудь передаёте или нет?", "disclosure"),
    ("Could you tell me whether you share my data with other companies?", "disclosure"),
    ("I was wondering how my data is protected", "protection"),
    # Who inside the company (staff, contractors) can see the data is about protection.
    ("кто из ваших сотрудников может видеть мои данные?", "protection"),
    ("у кого внутри компании есть доступ к моей информации", "protection"),
    ("who inside the company has access to my personal data?", "protection"),
    ("can your employees or contractors see my information?", "protection"),
    # Data the company receives from others is the third-party section, not disclosure.
    ("как вы обращаетесь с данными, которые получаете от партнёров?", "third-party-services"),
    ("how do you handle data you receive from partners?", "third-party-services"),
    # What happens to the record of page visits is non-personal data.
    ("что вы делаете с информацией о моих посещениях страниц?", "non-personal-data"),
    ("what do you do with information about my page visits?", "non-personal-data"),
    # "What data do you collect" asks about the policy.
    ("what data do you collect?", "personal-data"),
    ("какие данные вы собираете?", "personal-data"),
    # A business context before the question does not make the letter off-topic.
    ("Добрый день! Мы планируем заказать у вас интернет-магазин. Подскажите, кому вы передаёте данные "
     "покупателей из форм?\n\nС уважением, Анна", "disclosure"),
    ("Hello,\n\nWe are a small bakery and plan to order a website from you. Before signing, could you tell me "
     "whether you ever sell visitor data to other companies?\n\nBest regards,\nMark", "disclosure"),
    # Authorities named in the question make it the legal-requirement section.
    ("Good afternoon,\n\nDo you hand customer data over to the tax office when it asks?\n\nAnna", "legal-requirement"),
]


@pytest.mark.parametrize(("text", "section"), QUESTIONS)
def test_questions_from_the_error_classes(engine: PolicyEngine, text: str, section: str) -> None:
    result = engine.understand(text)
    assert result.intent is Intent.QUESTION, result.explanation
    assert result.sections and result.sections[0].id == section, result.explanation


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # What the company holds about me (or whether it processes my data at all) is an access request.
        ("what data do you hold about me?", Intent.ACCESS),
        ("какие данные вы храните обо мне?", Intent.ACCESS),
        ("есть ли я вообще в вашей базе? хочу проверить", Intent.ACCESS),
        ("В соответствии с законом о персональных данных прошу сообщить, обрабатываете ли вы мои "
         "персональные данные.", Intent.ACCESS),
        ("Under data protection law I request to know whether you process my personal data.", Intent.ACCESS),
        # Asking for a manager to get in touch is a request for a person, not a contacts question.
        ("хочу связаться с менеджером", Intent.HUMAN),
        ("пусть со мной свяжется кто-нибудь, кто отвечает за персональные данные", Intent.HUMAN),
        ("please have someone from your legal department get in touch with me", Intent.HUMAN),
        # Giving up a project is not withdrawing consent; fees and project status are off-topic.
        ("мы отказались от проекта, когда вернёте предоплату?", Intent.OUT_OF_SCOPE),
        ("Добрый день!\n\nПодскажите, когда будет готов второй этап по нашему сайту? Демо обещали ещё "
         "на прошлой неделе.\n\nИгорь Ветров\nООО «Ветер»\n+7 (812) 555-01-02", Intent.OUT_OF_SCOPE),
        ("Hello,\n\nWhat is the status of our project? The mockup was due on Monday.\n\nTom Reed\n"
         "Reed & Sons\n+44 20 7946 0000", Intent.OUT_OF_SCOPE),
        # A reaction alone is small talk.
        ("👍", Intent.GREETING),
        ("🙂🙂", Intent.GREETING),
    ],
)
def test_intents_from_the_error_classes(engine: PolicyEngine, text: str, intent: Intent) -> None:
    result = engine.understand(text)
    assert result.intent is intent, result.explanation
    assert result.sections == []


def test_contact_question_is_still_a_question(engine: PolicyEngine) -> None:
    for text in ("как связаться с вами по вопросам персональных данных?", "how can I contact you about my personal data?"):
        result = engine.understand(text)
        assert result.intent is Intent.QUESTION
        assert result.sections[0].id == "contact"


def test_signature_paragraph_with_a_phone_is_not_the_request() -> None:
    letter = "Добрый день.\n\nПрошу передать моё обращение.\n\nЛюдмила Петровна\nбухгалтер, ООО «Альфа»\n+7 (812) 551-30-27"
    assert request_text(letter) == "Добрый день.\n\nПрошу передать моё обращение."
    mobile = "Hello!\n\nWhat do you collect?\n\nSent from my iPhone"
    assert request_text(mobile) == "Hello!\n\nWhat do you collect?"
    # A chat line that gives a new number keeps it: one paragraph has no signature to tell apart.
    chat = "мой новый номер +7 999 111 22 33"
    assert request_text(chat) == chat


def test_signature_phone_does_not_turn_a_letter_into_a_contacts_question(engine: PolicyEngine) -> None:
    letter = ("Добрый день!\n\nВ личном кабинете сайта, который вы нам делали, не приходит письмо для смены "
              "пароля. Посмотрите, пожалуйста.\n\nОлег Соколов\nООО «Сокол»\n+7 (495) 123-45-67")
    result = engine.understand(letter)
    assert result.intent is Intent.OUT_OF_SCOPE, result.explanation


def test_hand_written_cues_are_refused(policy_copy: Path) -> None:
    # Which section a question gets is learnt from examples and texts; a cue phrase would be a rule.
    sections = policy_copy / "examples" / "en" / "sections.toml"
    text = sections.read_text(encoding="utf-8")
    sections.write_text(text.replace("[scope]\n", "[scope]\ncues = [\"subdomain\"]\n", 1), encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="unknown key 'cues'"):
        PolicyEngine.load(policy_copy)


# Groups that share a stem on purpose or since before this check (both members lead to the same answer,
# or the overlap is harmless); anything else is a mistake like "revisions" (a project word) swallowing
# "revised" (a policy change).
KNOWN_SHARED_FORMS = {
    ("en", ("forward",)), ("en", ("investig",)), ("en", ("regul",)), ("en", ("refus",)), ("en", ("reject",)),
    ("en", ("mail",)), ("en", ("promot",)),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_synonym_groups_do_not_claim_the_same_word(lang: str) -> None:
    morphology = Morphology.shared()
    lexicon = tomllib.loads((POLICY_DIR / "examples" / lang / "lexicon.toml").read_text(encoding="utf-8"))
    groups_of: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for group in lexicon["synonyms"]:
        for member in group:
            groups_of[tuple(morphology.lemma(t) or "" for t in tokenize(member))].add(group[0])
    shared = {(lang, form): names for form, names in groups_of.items() if len(names) > 1}
    assert set(shared) <= KNOWN_SHARED_FORMS, {k: v for k, v in shared.items() if k not in KNOWN_SHARED_FORMS}
