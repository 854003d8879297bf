"""Message catalogs: every id exists in both languages, with the same variables, and renders."""

from __future__ import annotations

import re

import pytest

from bot.i18n import LANGUAGES, LOCALES_DIR, Translator

VARIABLE = re.compile(r"\{\s*\$([a-zA-Z_][\w-]*)")


def test_same_files_in_every_language() -> None:
    files = {lang: sorted(p.name for p in (LOCALES_DIR / lang).glob("*.ftl")) for lang in LANGUAGES}
    assert files["ru"] == files["en"]
    assert files["en"], "no catalogs found"


def test_same_message_ids_in_every_language() -> None:
    translator = Translator()
    assert translator.message_ids("ru") == translator.message_ids("en")


def _variables_by_id(lang: str) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    current = None
    for path in sorted((LOCALES_DIR / lang).glob("*.ftl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^([a-zA-Z][\w-]*)\s*=", line)
            if match:
                current = match.group(1)
                result[current] = set()
            if current and not line.startswith("#"):
                result[current].update(VARIABLE.findall(line))
    return result


def test_same_variables_in_every_language() -> None:
    ru, en = _variables_by_id("ru"), _variables_by_id("en")
    differing = {key for key in en if ru.get(key) != en[key]}
    assert not differing, f"messages whose variables differ between ru and en: {sorted(differing)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_renders(lang: str) -> None:
    translator = Translator()
    variables = _variables_by_id(lang)
    for message_id in translator.message_ids(lang):
        args = {name: "1" for name in variables.get(message_id, set())}
        text = translator(lang, message_id, **args)
        assert text.strip(), message_id


def test_russian_catalog_is_russian() -> None:
    translator = Translator()
    for message_id in translator.message_ids("ru"):
        en_text = translator("en", message_id, **{n: "1" for n in _variables_by_id("en")[message_id]})
        ru_text = translator("ru", message_id, **{n: "1" for n in _variables_by_id("ru")[message_id]})
        if re.search(r"[A-Za-z]{4,}", en_text) and ru_text == en_text and not en_text.startswith("http"):
            pytest.fail(f"{message_id}: the Russian text is the English one")


def test_missing_message_raises() -> None:
    with pytest.raises(KeyError):
        Translator()("en", "no-such-message")
