""""Show me" is asked of us: the imperative "покажите" is an access request, while "показываете" (on
the site) is about publishing. Sentences are our own, not from the curated examples or message sets."""

from __future__ import annotations

import pytest

from bot.policy import Intent, PolicyEngine


@pytest.mark.parametrize("text", [
    "покажите, что у вас записано про меня",
    "покажи, какие мои данные у вас лежат",
])
def test_show_me_what_you_hold_is_access(engine: PolicyEngine, text: str) -> None:
    assert engine.understand(text, lang="ru").intent == Intent.ACCESS


def test_showing_on_the_site_is_still_publishing(engine: PolicyEngine) -> None:
    result = engine.understand("вы показываете отзывы клиентов с именами на сайте?", lang="ru")
    assert result.intent == Intent.QUESTION
    assert result.sections and result.sections[0].id == "public-access"
