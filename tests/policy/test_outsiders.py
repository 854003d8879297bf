"""Someone else deleting or changing data is a question about protection, not a request.

"What stops a stranger from editing my details?" shares its verbs with a correction request, but the
actor is an outsider; a sentence that also asks us to act ("please delete it, I don't want strangers
reading it") stays a request. Sentences are our own, not from the curated examples or message sets.
"""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize(("text", "lang"), [
    ("what would stop a stranger from editing my details?", "en"),
    ("is there anything preventing somebody from wiping my data?", "en"),
    ("could anyone erase or change my info without me knowing?", "en"),
    ("что будет, если злоумышленник удалит мою анкету из вашей системы?", "ru"),
    ("а хакер сможет поменять мой номер в вашей базе?", "ru"),
    ("может ли посторонний человек исправить мои данные в вашей базе?", "ru"),
])
def test_outsider_acting_on_data_is_a_question(engine: PolicyEngine, text: str, lang: str) -> None:
    assert engine.understand(text, lang=lang).intent == Intent.QUESTION


@pytest.mark.parametrize(("text", "lang"), [
    ("what would stop a stranger from editing my details?", "en"),
    ("а хакер сможет поменять мой номер в вашей базе?", "ru"),
])
def test_outsider_questions_go_to_protection(engine: PolicyEngine, text: str, lang: str) -> None:
    # The shared test engine abstains below 0.35; the ranking is what is checked here.
    result = engine.understand(text, lang=lang)
    ranked = [s.id for s in result.sections]
    assert ranked and ranked[0] == "protection"


@pytest.mark.parametrize(("text", "lang", "intent"), [
    ("can someone delete my account please", "en", Intent.DELETION),
    ("please delete everything, I don't want strangers reading my messages", "en", Intent.DELETION),
    ("удалите мой аккаунт, не хочу, чтобы мошенники его взломали", "ru", Intent.DELETION),
])
def test_a_request_that_mentions_outsiders_stays_a_request(engine: PolicyEngine, text: str, lang: str,
                                                           intent: Intent) -> None:
    assert engine.understand(text, lang=lang).intent == intent
