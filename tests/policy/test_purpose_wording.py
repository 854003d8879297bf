"""Why a form asks for something, in colloquial Russian ("с какой стати", "на кой", "зачем вы
запрашиваете"), is the purpose of collecting personal data. Sentences are our own."""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize("text", [
    "с какой стати вы просите мой инстаграм",
    "на кой вам моя дата рождения в анкете?",
    "зачем вы запрашиваете ИНН, если я физлицо?",
])
def test_why_do_you_ask_is_personal_data(engine: PolicyEngine, text: str) -> None:
    result = engine.understand(text, lang="ru")
    assert result.intent == Intent.QUESTION
    assert result.sections and result.sections[0].id == "personal-data"
