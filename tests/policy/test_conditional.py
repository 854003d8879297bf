"""A conditional question asks what would happen, not for the act itself: "если я сменю почту, мне
надо вам об этом сообщать?" is not a correction request. Sentences are our own."""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize(("text", "lang"), [
    ("если я сменю почту, мне надо вам об этом сообщать?", "ru"),
])
def test_conditional_question_is_a_question(engine: PolicyEngine, text: str, lang: str) -> None:
    assert engine.understand(text, lang=lang).intent == Intent.QUESTION


@pytest.mark.parametrize(("text", "intent"), [
    ("можете ли вы удалить мои данные?", Intent.DELETION),
    ("не могли бы вы исправить мою фамилию в договоре?", Intent.CORRECTION),
    ("можно ли поговорить с живым сотрудником?", Intent.HUMAN),
])
def test_polite_question_forms_of_requests_stay_requests(engine: PolicyEngine, text: str,
                                                         intent: Intent) -> None:
    assert engine.understand(text, lang="ru").intent == intent


@pytest.mark.parametrize(("text", "lang"), [
    # "whether"/"ли" ask; "if so"/"если да" lean on the ask: none of them makes the request hypothetical.
    ("Good morning. Kindly confirm whether your company processes my personal data and, if so, send me "
     "a copy of it.", "en"),
    ("Прошу сообщить, обрабатываете ли вы мои персональные данные, и если да, прислать мне их копию.", "ru"),
])
def test_asking_whether_data_is_held_is_an_access_request(engine: PolicyEngine, text: str, lang: str) -> None:
    assert engine.understand(text, lang=lang).intent == Intent.ACCESS
