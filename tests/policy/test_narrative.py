"""A sentence that tells what happened is context, not a request.

Letters often tell a story before they ask ("the manager called me back", "I typed a colleague's
address by mistake"); the story's verbs look like a request for a person or a correction, but the
question is elsewhere. Sentences here are our own, not from the curated examples or message sets.
"""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize(("text", "section"), [
    ("Спасибо, ваш юрист со мной уже связался. А мои паспортные данные после проверки вы где храните?",
     "protection"),
    ("Оператор перезвонил через пять минут, всё решили. Интересно, а запись разговора вы потом "
     "кому-нибудь передаёте?", "disclosure"),
    ("Здравствуйте. Я в анкете по ошибке указала рабочий адрес вместо личного. "
     "Что вы вообще делаете с адресами, которые оставляют в анкете?", "personal-data"),
])
def test_story_before_the_question_does_not_become_a_request(engine: PolicyEngine, text: str,
                                                              section: str) -> None:
    result = engine.understand(text, lang="ru")
    assert result.intent == Intent.QUESTION
    assert result.sections and result.sections[0].id == section


def test_a_mistake_told_is_not_a_correction_request(engine: PolicyEngine) -> None:
    text = "Я вчера по ошибке отправила вам не тот телефон. Скажите, вы проверяете, чьи номера вам присылают?"
    assert engine.understand(text, lang="ru").intent == Intent.QUESTION


@pytest.mark.parametrize(("text", "intent"), [
    # A story followed by a real request keeps the request.
    ("Вчера заполнил у вас форму обратной связи. Удалите, пожалуйста, все мои данные.", Intent.DELETION),
    ("Я сменила фамилию после свадьбы. Исправьте её, пожалуйста, в ваших записях.", Intent.CORRECTION),
    ("Я пытался разобраться сам, но ничего не понял. Мне нужно, чтобы со мной связался живой человек.",
     Intent.HUMAN),
])
def test_a_request_after_a_story_is_still_a_request(engine: PolicyEngine, text: str, intent: Intent) -> None:
    assert engine.understand(text, lang="ru").intent == intent


def test_english_dash_separates_the_story_from_the_question(engine: PolicyEngine) -> None:
    from bot.policy.text import sentences
    assert sentences("a delivery guy rang me and knew my surname - was it you who gave it to him?") == [
        "a delivery guy rang me and knew my surname", "was it you who gave it to him?"]
    # A Russian dash is mostly the copula: the sentence stays whole.
    assert sentences("jetbit - это ваша студия?") == ["jetbit - это ваша студия?"]


def test_a_friendly_note_with_a_small_story_is_a_greeting(engine: PolicyEngine) -> None:
    text = "Hi all,\n\nJust wanted to say hello — we talked at the DevDays stand on Monday. Nice meeting you!\n\nCheers,\nAna"
    assert engine.understand(text, lang="en").intent == Intent.GREETING
