"""Language detection from the letters of a message."""

from __future__ import annotations

import pytest

from bot.policy.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("а налоговая может получить мои данные от вас?", "ru"),
        ("r u passing my stuff on to other firms", "en"),
        ("вы используете cookie и Google Analytics?", "ru"),
        ("my email is ivan@mail.ru, what do you store?", "en"),
        ("Здравствуйте! Какие данные собирает jetbit.ru?", "ru"),
        ("udalite moi dannye pozhaluysta", "ru"),
        ("Do you share data with the police? Спасибо", "en"),
    ],
)
def test_detects_language(text: str, expected: str) -> None:
    assert detect_language(text, default="ru") == expected


@pytest.mark.parametrize("default", ["ru", "en"])
def test_no_letters_falls_back_to_the_default(default: str) -> None:
    assert detect_language("+7 981 989-53-11 ???", default=default) == default
    assert detect_language("", default=default) == default


def test_engine_uses_hint_and_detection(engine: object) -> None:
    from bot.policy import PolicyEngine

    assert isinstance(engine, PolicyEngine)
    assert engine.understand("do you use cookies?").lang == "en"
    assert engine.understand("вы используете куки?").lang == "ru"
    # A hint wins over detection (a Russian speaker typing in English still gets Russian).
    assert engine.understand("do you use cookies?", lang="ru").lang == "ru"
