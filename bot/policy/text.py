"""Finding the request in a message: quoted replies, mail headers and signatures are not the request."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"^\s*>")
_HEADER = re.compile(r"^\s*(?:from|to|cc|subject|sent|date|от|кому|копия|тема|отправлено|дата)\s*:", re.IGNORECASE)
_DIVIDER = re.compile(r"^\s*-{2,}\s*(?:forwarded message|original message|пересылаемое сообщение|"
                      r"исходное сообщение)?\s*-*\s*$", re.IGNORECASE)
# A short line that closes a letter; what follows is a signature.
_CLOSING = re.compile(
    r"^\s*(?:(?:best|kind|warm|many)?\s*regards|best|sincerely|yours (?:sincerely|faithfully|truly)|best wishes|"
    r"thanks(?: in advance)?|thank you(?: in advance)?|many thanks|cheers|respectfully|"
    r"с уважением|с наилучшими пожеланиями|всего (?:доброго|хорошего)|заранее спасибо|спасибо|благодарю|"
    r"заранее благодарю|с благодарностью)\b[\s,.!]*(?:[\w.\- ]{0,40})?$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n+")


def request_text(text: str) -> str:
    """The part of a message that can hold the request: no quoted lines, mail headers or signature."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTED.match(line) or _HEADER.match(line):
            continue
        if line.strip() == "--" or line.rstrip() == "-- ":
            break  # the standard signature delimiter
        if _DIVIDER.match(line):
            continue
        if kept and any(k.strip() for k in kept) and _CLOSING.match(line):
            break
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text) if part and part.strip()]


def has_condition(tokens: list[str], markers: frozenset[str]) -> bool:
    return any(token in markers for token in tokens)
