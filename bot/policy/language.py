"""Language of a message: Russian or English, from the letters it is written in."""

from __future__ import annotations

import re

CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
# Russian typed in Latin letters ("udalite moi dannye"): a few unmistakable word stems.
_TRANSLIT = re.compile(
    r"\b(?:zdravstvuyte|zdravstvujte|privet|pozhaluysta|pozhalujsta|spasibo|udalit\w*|dannye|dannyh|"
    r"moi|moih|moyu|vashe\w*|vy|kak|chto|pochemu|mozhno|nuzhno|hochu|telefon\w*|sayt\w*|politik\w*)\b",
    re.IGNORECASE,
)
# URLs and addresses are Latin in both languages; they must not decide the language.
_NOISE = re.compile(r"https?://\S+|\S+@\S+|www\.\S+|\b\w+\.(?:ru|com|рф)\b", re.IGNORECASE)


def detect_language(text: str, default: str = "ru") -> str:
    cleaned = _NOISE.sub(" ", text)
    cyrillic = len(CYRILLIC.findall(cleaned))
    latin = len(_LATIN.findall(cleaned))
    if cyrillic == 0 and latin == 0:
        return default
    # Russian messages often carry Latin product words (cookie, IP, email); Cyrillic weighs more.
    if cyrillic * 3 >= latin:
        return "ru" if cyrillic else default
    if len(_TRANSLIT.findall(cleaned)) >= 2:
        return "ru"
    return "en"


def has_words(text: str) -> bool:
    """True when a message has letters of a language (not only digits, emoji, addresses or links)."""
    cleaned = _NOISE.sub(" ", text)
    return bool(CYRILLIC.search(cleaned) or _LATIN.search(cleaned))
