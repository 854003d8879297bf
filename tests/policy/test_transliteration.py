"""Russian typed in Latin letters or on the English keyboard layout is read as Russian; English is not."""

from __future__ import annotations

import pytest

from bot.policy import PolicyEngine
from bot.policy.models import Intent
from bot.policy.transliteration import from_translit, from_wrong_layout


def test_translit_is_spelled_back_in_cyrillic() -> None:
    assert from_translit("udalite moi dannye") == "удалите мой данные"  # final "oi" is "ой": one lemma with "мои"
    assert from_translit("vy peredaete dannye tretim licam??") == "вы передаете данные третим лицам??"
    assert from_translit("ya oshibsya odnoi cifroi, moyu pochtu") == "я ошибся одной цифрой, мою почту"
    assert from_translit("shchuka zhdet") == "щука ждет"
    # Addresses and links stay as written.
    assert from_translit("moy email ivan.petrov@mail.ru") == "мой емаил ivan.petrov@mail.ru"


def test_wrong_layout_is_typed_again_on_the_russian_one() -> None:
    assert from_wrong_layout("ghbdtn") == "привет"
    assert from_wrong_layout("elfkbnt vjb lfyyst") == "удалите мои данные"
    assert from_wrong_layout("xnj ds cj,bhftnt") == "что вы собираете"  # "," is the key of "б"


@pytest.mark.parametrize(
    ("text", "intent", "section"),
    [
        ("udalite pozhaluista moi dannye", Intent.DELETION, None),
        ("vy peredaete dannye tretim licam??", Intent.QUESTION, "disclosure"),
        ("chto vy sobiraete pri registracii na saite", Intent.QUESTION, "personal-data"),
        ("ispravte moi nomer telefona, ya oshibsya odnoi cifroi", Intent.CORRECTION, None),
        ("ghbdtn", Intent.GREETING, None),
        ("elfkbnt vjb lfyyst", Intent.DELETION, None),
    ],
)
def test_russian_without_cyrillic_is_understood_as_russian(engine: PolicyEngine, text: str, intent: Intent,
                                                           section: str | None) -> None:
    result = engine.understand(text)
    assert result.lang == "ru"
    assert result.intent is intent
    if section is not None:
        assert result.sections[0].id == section
        assert "https://jetbit.ru/policy/" in (result.answer.text if result.answer else "")


@pytest.mark.parametrize("text", ["do you sell my data", "hello", "ok thanks", "GDPR?", "cookies?", "Thanks, Anna",
                                  "can u delete my stuff pls", "my email is ivan@mail.ru, please fix it"])
def test_english_is_left_alone(engine: PolicyEngine, text: str) -> None:
    assert engine.understand(text).lang == "en"


def test_an_english_hint_is_respected(engine: PolicyEngine) -> None:
    assert engine.understand("privet", lang="en").lang == "en"
