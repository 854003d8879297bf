"""Message catalog access bound to one language, and HTML escaping of what people typed."""

from __future__ import annotations

import html
from typing import Any

from bot.i18n import Translator
from handlers.telegram.limits import clip


class Texts:
    """``t("tg-start")`` renders a catalog message in the language of the current chat."""

    def __init__(self, translator: Translator, lang: str) -> None:
        self.translator = translator
        self.lang = lang

    def __call__(self, message_id: str, **args: Any) -> str:
        return self.translator.get(self.lang, message_id, **args)


def esc(text: object) -> str:
    """Everything a person typed is escaped before it is echoed in an HTML message."""
    return html.escape(str(text), quote=False)


def shown(text: object, units: int) -> str:
    """What a person typed, cut to ``units`` (Telegram's limits) and escaped for an HTML message."""
    return esc(clip(str(text), units))


def language_of(language_code: str | None, default: str = "ru") -> str:
    """Telegram's language_code -> a catalog language. Russian unless the person uses English."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    if language_code and language_code.lower().startswith("ru"):
        return "ru"
    return default
