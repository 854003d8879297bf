"""Message catalogs: Fluent ``.ftl`` files under ``bot/locales/<lang>/``, one file per area.

Every user-facing string lives there, in both languages; handler code only names message ids.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import fluent_number

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
# Times people and staff see are Moscow times: the law's deadlines are counted on the Moscow calendar.
MOSCOW = ZoneInfo("Europe/Moscow")
# One date format per language, wherever a person or staff member sees a date.
_DATE_FORMATS = {"ru": "%d.%m.%Y", "en": "%Y-%m-%d"}


class Translator:
    """Renders message ids in a language; a missing id raises, so a gap is found by the tests."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._bundles: dict[str, FluentBundle] = {}
        self._ids: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            bundle = FluentBundle([lang], use_isolating=False)
            ids: set[str] = set()
            for ftl in sorted((locales_dir / lang).glob("*.ftl")):
                resource = FluentResource(ftl.read_text(encoding="utf-8"))
                bundle.add_resource(resource)
                ids.update(getattr(entry.id, "name", "") for entry in resource.body if hasattr(entry, "id"))
            self._bundles[lang] = bundle
            self._ids[lang] = ids

    def message_ids(self, lang: str) -> set[str]:
        return set(self._ids[lang])

    def __call__(self, lang: str, message_id: str, **args: Any) -> str:
        return self.get(lang, message_id, **args)

    def get(self, lang: str, message_id: str, **args: Any) -> str:
        bundle = self._bundles.get(lang) or self._bundles[DEFAULT_LANGUAGE]
        message = bundle.get_message(message_id)
        if message is None or message.value is None:
            raise KeyError(f"message {message_id!r} missing from the {lang} catalog")
        fluent_args, long_values = _fluent_args(args)
        text, errors = bundle.format_pattern(message.value, fluent_args)
        if errors:
            raise ValueError(f"message {message_id!r} ({lang}): {errors[0]}")
        return _put_back(str(text), long_values)


# fluent.runtime refuses a string argument longer than 2,500 characters (its guard against expansion);
# ours are data (a long letter, a long reason typed at the command line), so longer ones are put in after.
_LONG_ARGUMENT = 2000
_MARKER = re.compile("\ue000([0-9a-f]+):([0-9]+)\ue001")


def _fluent_args(args: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, list[str]]]:
    """The arguments as Fluent gets them, and the long strings held back (with the call's nonce).

    Integers are passed as Fluent numbers without digit grouping: Fluent groups them by default
    ("1 000 001", "1,000,001"), and most integers the messages carry are identifiers people copy
    (Telegram user and chat ids, handoff and request numbers). A Fluent number still selects plural
    forms ("21 поле", "5 полей").
    """
    nonce = ""
    long_values: list[str] = []
    prepared: dict[str, Any] = {}
    for name, value in args.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = fluent_number(value, useGrouping=False)
        elif isinstance(value, str) and len(value) > _LONG_ARGUMENT:
            # A marker of private-use characters and a per-call nonce, so typed text cannot forge one.
            nonce = nonce or secrets.token_hex(4)
            long_values.append(value)
            value = f"\ue000{nonce}:{len(long_values) - 1}\ue001"
        prepared[name] = value
    return prepared, (nonce, long_values)


def _put_back(text: str, held: tuple[str, list[str]]) -> str:
    nonce, long_values = held
    if not long_values:
        return text
    return _MARKER.sub(lambda m: long_values[int(m.group(2))] if m.group(1) == nonce else m.group(0), text)


def format_date(lang: str, day: date | str) -> str:
    """A date as the language writes it (ru 05.01.2027, en 2027-01-05); a datetime is taken in Moscow time,
    an ISO date string (a policy's effective date) is read first. Anything else is shown as it is."""
    if isinstance(day, str):
        text = day
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return text
    if isinstance(day, datetime):
        day = _moscow(day).date()
    return day.strftime(_DATE_FORMATS.get(lang, _DATE_FORMATS[DEFAULT_LANGUAGE]))


def format_datetime(lang: str, at: datetime) -> str:
    """A moment in Moscow time, with the date as ``format_date`` writes it: "05.01.2027 14:30 МСК"."""
    moscow = _moscow(at)
    return get_translator()(lang, "datetime-moscow", date=format_date(lang, moscow.date()),
                            time=moscow.strftime("%H:%M"))


def _moscow(at: datetime) -> datetime:
    # Stored times are UTC; a naive one is taken as UTC too.
    return (at if at.tzinfo else at.replace(tzinfo=ZoneInfo("UTC"))).astimezone(MOSCOW)


_default: Translator | None = None


def get_translator() -> Translator:
    global _default
    if _default is None:
        _default = Translator()
    return _default
