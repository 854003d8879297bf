"""Direction of a transfer: data that others send to the studio ("вам передал маркетплейс") is the
third-party section; data the studio sends out ("вы передаёте ... другим фирмам") is disclosure.

The Russian lexicon keeps "вам" apart from "вы" so the direction survives lemmatisation. Sentences are
our own, not from the curated examples or message sets.
"""

from __future__ import annotations

import pytest

from bot.policy import PolicyEngine


@pytest.mark.parametrize(("text", "section"), [
    ("сервис бронирования отправил вам мои контакты, по каким правилам вы с ними работаете?",
     "third-party-services"),
    ("а если мои данные вам передаст банк, это тоже под вашей политикой?", "third-party-services"),
    ("вы передаёте мой телефон другим фирмам?", "disclosure"),
    ("кому ещё вы можете отдать мой адрес?", "disclosure"),
])
def test_direction_of_transfer_decides_the_section(engine: PolicyEngine, text: str, section: str) -> None:
    result = engine.understand(text, lang="ru")
    ranked = [label for label in result.explanation if label.startswith("section:")]
    assert ranked and ranked[0] == "section:" + section


def test_vam_is_kept_apart_from_vy(engine: PolicyEngine) -> None:
    normaliser = engine._models["ru"].normaliser  # the lexicon's effect on tokens
    assert normaliser.tokens("вам") != normaliser.tokens("вы")


@pytest.mark.parametrize(("text", "section"), [
    ("a recruiting agency passed you my CV, which rules cover it now?", "third-party-services"),
    ("if a marketplace shares with you my order details, what policy applies?", "third-party-services"),
    ("do you pass my phone number on to other firms?", "disclosure"),
])
def test_english_direction_of_transfer_decides_the_section(engine: PolicyEngine, text: str, section: str) -> None:
    result = engine.understand(text, lang="en")
    ranked = [label for label in result.explanation if label.startswith("section:")]
    assert ranked and ranked[0] == "section:" + section
