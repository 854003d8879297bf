"""Understanding messages: intents, ranked sections, quoted answers, abstention."""

from __future__ import annotations

import time

import pytest

from bot.policy import Intent, PolicyEngine

from .conftest import POLICY_DIR, URL


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("how do I delete my data?", Intent.DELETION),
        ("удалите мой отзыв с сайта", Intent.DELETION),
        ("я отзываю согласие на обработку персональных данных", Intent.DELETION),
        ("please fix my surname, you spelled it wrong", Intent.CORRECTION),
        ("у меня новый номер телефона, обновите его пожалуйста", Intent.CORRECTION),
        ("what data do you have on me?", Intent.ACCESS),
        ("какие данные обо мне у вас хранятся?", Intent.ACCESS),
        ("can I talk to a real person", Intent.HUMAN),
        ("позовите оператора", Intent.HUMAN),
        ("thanks!", Intent.GREETING),
        ("Здравствуйте", Intent.GREETING),
        ("сколько стоит сайт", Intent.OUT_OF_SCOPE),
        ("the contact form on my site broke after your update", Intent.OUT_OF_SCOPE),
        ("are you hiring developers?", Intent.OUT_OF_SCOPE),
    ],
)
def test_intents(engine: PolicyEngine, text: str, intent: Intent) -> None:
    result = engine.understand(text)
    assert result.intent is intent, result.explanation
    # Only questions are answered with policy sections.
    assert result.sections == []
    assert result.answer is None


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("r u passing my stuff on to other firms", "disclosure"),
        ("а налоговая может получить мои данные от вас?", "legal-requirement"),
        ("do you collect my IP?", "non-personal-data"),
        ("will the courier get my home address", "service-delivery"),
        ("вы публикуете отзывы с именем?", "public-access"),
        ("как вы защищаете мои данные от утечек", "protection"),
        ("does the policy cover subdomains?", "scope"),
        ("what if I don't agree with the policy", "consent"),
        ("вы отвечаете за сайты, на которые ведут ссылки?", "disclaimer"),
        ("how will I know the policy changed", "changes"),
        ("какой у вас телефон для вопросов о данных", "contact"),
        ("whose policy applies to the chat widget on your site", "third-party-services"),
        ("why do you need my phone number", "personal-data"),
    ],
)
def test_questions_rank_the_right_section_first(engine: PolicyEngine, text: str, section: str) -> None:
    result = engine.understand(text)
    assert result.intent is Intent.QUESTION
    assert result.sections and result.sections[0].id == section, [s.id for s in result.sections]
    scores = [s.score for s in result.sections]
    assert scores == sorted(scores, reverse=True)
    assert result.confidence >= engine.min_confidence


def test_answer_quotes_the_policy_with_title_and_link(engine: PolicyEngine) -> None:
    result = engine.understand("а налоговая может получить мои данные от вас?")
    top = engine.section("ru", result.sections[0].id)
    assert top is not None and result.answer is not None
    assert top.text in result.answer.text  # quoted word for word, nothing invented
    assert top.title in result.answer.text
    assert URL in result.answer.text
    assert result.policy_version == engine.policy_version


def test_the_sentences_that_answer_are_quoted_and_marked(engine: PolicyEngine) -> None:
    answer = engine.answer_from("en", "personal-data", "how can I stop cookies, can I disable them in the browser?")
    assert answer is not None
    marked = [line for line in answer.quote.split("\n") if "▶ " in line]
    assert any("disabling cookies in your browser" in part for line in marked for part in line.split("▶ ")[1:])
    # The list of data a section opens with is never cut away.
    assert "It may include: first name" in answer.quote
    assert "Policy version" in answer.text


def test_a_long_section_is_quoted_by_the_paragraphs_that_answer(engine: PolicyEngine,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.policy import answer as answer_module

    monkeypatch.setattr(answer_module, "WHOLE_SECTION_CHARS", 200)
    answer = engine.answer_from("en", "personal-data", "can I disable cookies in the browser?")
    section = engine.section("en", "personal-data")
    assert answer is not None and section is not None
    kept = [p for p in section.paragraphs if p.split(". ")[0] in answer.quote]
    assert section.paragraphs[0] in kept or section.paragraphs[0].split(". ")[0] in answer.quote
    assert any("cookies" in p for p in kept) and len(kept) < len(section.paragraphs)
    assert "[…]" in answer.quote


def test_polite_email_is_judged_by_its_request(engine: PolicyEngine) -> None:
    email = ("Здравствуйте!\n\nВ прошлом году я оставлял заявку на вашем сайте. Прошу удалить мои персональные "
             "данные из вашей базы.\n\nС уважением,\nИван Петров\n+7 900 123-45-67")
    assert engine.understand(email).intent is Intent.DELETION
    question = ("Good afternoon,\n\nCould you tell me whether you pass customer data to the tax authorities "
                "if they ask?\n\nBest regards,\nAnna")
    result = engine.understand(question)
    assert result.intent is Intent.QUESTION
    assert result.sections[0].id == "legal-requirement"


def test_quoted_reply_lines_are_ignored(engine: PolicyEngine) -> None:
    email = "> Your request has been received, our manager will contact you.\n\nThanks, please delete my data."
    assert engine.understand(email).intent is Intent.DELETION


def test_abstains_below_the_threshold(engine: PolicyEngine) -> None:
    text = "who do you share my data with?"
    answered = engine.understand(text, lang="en")
    assert answered.intent is Intent.QUESTION and answered.sections and not answered.abstained
    assert answered.confidence < 1.0
    strict = PolicyEngine.load(POLICY_DIR, url=URL, min_confidence=answered.confidence + 0.001)
    result = strict.understand(text, lang="en")
    assert result.intent is Intent.QUESTION
    # Abstaining, it still says which sections came closest (for staff to pick from).
    assert result.abstained and result.answer is None and not result.unanswered
    assert [s.id for s in result.sections] == [s.id for s in answered.sections]
    assert result.confidence == answered.confidence


def test_empty_and_noise_messages(engine: PolicyEngine) -> None:
    for text in ("", "   ", "???", "12345"):
        result = engine.understand(text)
        assert result.sections == []
        assert result.intent in (Intent.OUT_OF_SCOPE, Intent.GREETING)


def test_sections_for_a_browse_menu(engine: PolicyEngine) -> None:
    sections = engine.sections("ru")
    assert [s.order for s in sections] == sorted(s.order for s in sections)
    assert {"id", "title", "order", "parent", "text"} <= set(vars(sections[0]))
    whole = engine.answer_for_section("en", "contact")
    assert whole is not None and "support@jetbit.ru" in whole.text and URL in whole.text
    assert engine.answer_for_section("en", "nope") is None
    assert engine.effective_date == "2026-11-25"


def test_speed_per_message(engine: PolicyEngine) -> None:
    texts = ["r u passing my stuff on to other firms", "кто ещё увидит мой номер телефона",
             "Здравствуйте! Подскажите, вы передаёте данные курьерам? С уважением, Ольга"] * 100
    for text in texts[:3]:
        engine.understand(text)  # warm the per-word caches
    started = time.perf_counter()
    for text in texts:
        engine.understand(text)
    per_message_ms = (time.perf_counter() - started) * 1000 / len(texts)
    assert per_message_ms < 5.0


@pytest.mark.parametrize(
    ("text", "intent", "section"),
    [
        ("удолите мои даные", Intent.DELETION, None),
        ("вы передаете данные в полицыю?", Intent.QUESTION, "legal-requirement"),
        ("how do you protcet my data", Intent.QUESTION, "protection"),
        ("каке данные вы сабираете", Intent.QUESTION, "personal-data"),
    ],
)
def test_misspellings_are_understood(engine: PolicyEngine, text: str, intent: Intent, section: str | None) -> None:
    result = engine.understand(text)
    assert result.intent is intent
    if section is not None:
        assert result.sections[0].id == section


@pytest.mark.parametrize(
    ("text", "intent", "section"),
    [
        # A conditional about deleting cookies asks about the policy; it is not a deletion request.
        ("если я удалю куки в браузере, вы перестанете собирать данные?", Intent.QUESTION, None),
        ("can I opt out of cookies somehow?", Intent.QUESTION, "personal-data"),
        # "update" without any policy word is about the person's data, not policy changes.
        ("Hello,\n\nPlease note our new office address: Lenina 5, Moscow. Update it in your records.\n\nOlga",
         Intent.CORRECTION, None),
        ("how will I know that you updated the policy?", Intent.QUESTION, "changes"),
        # Thanks with nothing else asked is a pleasantry, even in a long sentence.
        ("Hello,\n\nThank you for the quick response, everything works now.\n\nBest regards,\nSergey",
         Intent.GREETING, None),
        # The stemmer makes "personal" into "person": it must not look like asking for a person.
        ("Could you send me an export of all personal data related to me that you store?", Intent.ACCESS, None),
        ("who else gets my info, do you pass it to anyone?", Intent.QUESTION, "disclosure"),
        ("Поздравляем! Вы выиграли айфон, переходите по ссылке", Intent.OUT_OF_SCOPE, None),
    ],
)
def test_look_alike_messages(engine: PolicyEngine, text: str, intent: Intent, section: str | None) -> None:
    result = engine.understand(text)
    assert result.intent is intent, result.explanation
    if section is not None:
        assert result.sections and result.sections[0].id == section, result.explanation


def test_a_parent_section_answer_lists_its_cases() -> None:
    from bot.config import REPO_ROOT
    from bot.policy.engine import PolicyEngine

    engine = PolicyEngine.load(REPO_ROOT / "policy_text", "https://jetbit.ru/policy/", 0.2)
    answer = engine.answer_for_section("en", "disclosure")
    assert answer is not None
    assert "except in the cases listed below" in answer.text
    for child in ("User Data in Public Access", "By Legal Requirement", "Third-Party Services Installed on the Site"):
        assert f"• {child}" in answer.text
    leaf = engine.answer_for_section("en", "contact")
    assert leaf is not None and "•" not in leaf.text
