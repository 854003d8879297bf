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


def test_one_date_format_per_language_and_moments_in_moscow_time() -> None:
    from datetime import UTC, date, datetime

    from bot.i18n import format_date, format_datetime
    day = date(2027, 1, 5)
    assert format_date("ru", day) == "05.01.2027" and format_date("en", day) == "2027-01-05"
    assert format_date("ru", "2027-01-05") == "05.01.2027"  # a policy's effective date, stored as text
    assert format_date("ru", "soon") == "soon"  # not a date: shown as it is
    late = datetime(2027, 1, 4, 22, 30, tzinfo=UTC)  # already the 5th in Moscow
    assert format_date("ru", late) == "05.01.2027"
    assert format_datetime("ru", late) == "05.01.2027 01:30 МСК"
    assert format_datetime("en", late) == "2027-01-05 01:30 Moscow time"
    assert format_datetime("en", late.replace(tzinfo=None)) == "2027-01-05 01:30 Moscow time"  # naive = UTC


def test_no_iso_dates_left_where_people_and_staff_read_them() -> None:
    """Dates shown to people and staff go through bot.i18n.format_date / format_datetime; a raw
    isoformat() or strftime() in a rendered message is a second format."""
    from bot.config import REPO_ROOT
    shown_in = ["handlers/telegram/private.py", "handlers/telegram/cards.py", "handlers/telegram/staff.py",
                "bot/requests/service.py", "bot/policy/answer.py", "bot/policy_reload.py", "bot/cli/handoffs.py",
                "bot/cli/examples.py", "bot/cli/policy.py", "bot/cli/ask.py"]
    for name in shown_in:
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        found = re.findall(r"(?:due|date|at|created)=[^,\n]*(?:isoformat\(\)|strftime\()", text)
        assert not found, (name, found)
