"""Message catalogs: Fluent ``.ftl`` files under ``bot/locales/<lang>/``, one file per area.

Every user-facing string lives there, in both languages; handler code only names message ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


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
        text, errors = bundle.format_pattern(message.value, args)
        if errors:
            raise ValueError(f"message {message_id!r} ({lang}): {errors[0]}")
        return str(text)


_default: Translator | None = None


def get_translator() -> Translator:
    global _default
    if _default is None:
        _default = Translator()
    return _default
