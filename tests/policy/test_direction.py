"""Direction of a transfer: data that others send to the studio ("вам передал маркетплейс") is the
third-party section; data the studio sends out ("вы передаёте ... другим фирмам") is disclosure.

The Russian lexicon keeps "вам" apart from "вы" so the direction survives lemmatisation. Sentences are
our own, not from the curated examples or message sets.
"""

from __future__ import annotations

import pytest

from bot.policy import PolicyEngine


@pytest.mark.parametrize(("text", "lang", "section"), [
    ("сервис бронирования отправил вам мои контакты, по каким правилам вы с ними работаете?", "ru",
     "third-party-services"),
    ("а если мои данные вам передаст банк, это тоже под вашей политикой?", "ru", "third-party-services"),
    ("вы передаёте мой телефон другим фирмам?", "ru", "disclosure"),
    ("кому ещё вы можете отдать мой адрес?", "ru", "disclosure"),
    # English keeps the direction in phrases: "passes you", "shares with you".
    ("a recruiting agency passed you my CV, which rules cover it now?", "en", "third-party-services"),
    ("if a marketplace shares with you my order details, what policy applies?", "en", "third-party-services"),
    ("do you pass my phone number on to other firms?", "en", "disclosure"),
])
def test_direction_of_transfer_decides_the_section(engine: PolicyEngine, text: str, lang: str, section: str) -> None:
    result = engine.understand(text, lang=lang)
    ranked = [s.id for s in result.sections]
    assert result.intent.value == "question" and ranked and ranked[0] == section


def test_vam_is_kept_apart_from_vy(engine: PolicyEngine) -> None:
    normaliser = engine._models["ru"].normaliser  # the lexicon's effect on tokens
    assert normaliser.tokens("вам") != normaliser.tokens("вы")
