"""Removing quoted earlier messages and signatures, so only what the person wrote now is understood (mail
and chat alike: people paste mail into chats too).

Covers ">" quoting and the reply headers of common clients in Russian and English: Gmail ("On ... wrote:",
"пн, 12 окт. 2026 г. в 10:00, Иван <ivan@...>:"), Outlook ("-----Original Message-----", "From: ... Sent:",
"От: ... Отправлено:"), Apple Mail ("On 12 Oct 2026, at 10:00, ... wrote:", "... написал(а):"), Yandex
("12.10.2026, 10:00, "Иван" <ivan@yandex.ru>:"), Mail.ru ("Понедельник, 12 октября 2026, 10:00 +03:00 от
Иван <ivan@mail.ru>:"), Thunderbird ("... пишет:").
"""

from __future__ import annotations

import re

# A line (or two joined lines, clients wrap long headers) that introduces the quoted message.
_REPLY_HEADERS = [
    re.compile(r"^\s*on\b.{3,250}\bwrote\s*:\s*$", re.IGNORECASE),
    re.compile(r"^.{0,250}(написал|написала|написал\(а\)|пишет|писал|писала)\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(original message|исходное сообщение|исходное письмо)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above "From:" in HTML-to-text
    # Gmail ru / Yandex / Mail.ru: a line with a date-ish number and an address in <>, ending with ":".
    re.compile(r"^.{0,200}\d.{0,200}<[^<>\s]+@[^<>\s]+>\s*:\s*$"),
    re.compile(r"^.{0,200}\d{1,2}[:.]\d{2}.{0,120}\bот\s+.{1,120}:\s*$", re.IGNORECASE),
]
# Outlook-style header block: "From:"/"От:" followed within two lines by "Sent:"/"Date:"/"Отправлено:".
_FROM_LINE = re.compile(r"^\s*\*?(from|от|de|von)\s*:\s*\*?.+", re.IGNORECASE)
_SENT_LINE = re.compile(r"^\s*\*?(sent|date|отправлено|дата|to|кому)\s*:\s*\*?", re.IGNORECASE)

_SIGNATURE_DELIMITER = re.compile(r"^--\s*$")
_SIGN_OFF = re.compile(
    r"^\s*(best regards|kind regards|regards|thanks|thank you|many thanks|спасибо|заранее спасибо|best wishes|cheers|thanks and regards|sincerely|"
    r"с уважением|с наилучшими пожеланиями|всего доброго|всего хорошего|спасибо заранее)[,.!]?\s*$",
    re.IGNORECASE,
)
_MOBILE_FOOTER = re.compile(
    r"^\s*(sent from my \w+|sent from (mail|outlook|yahoo mail|gmail) for \w+|get outlook for \w+|"
    r"отправлено (с|из) (моего )?(iphone|ipad|android|мобильной почты mail\.ru|мобильной яндекс\.почты|"
    r"яндекс\.почты для \w+|почты mail\.ru)|"
    r"отправлено из мобильной почты mail\.ru|"
    r"--\s*отправлено из мобильной почты mail\.ru)\b.*$",
    re.IGNORECASE,
)


# Every reply-header pattern but the two dividers ends with ":"; testing that first spares long lines the
# backtracking of the ".{0,250}" patterns (they cost more than the rest of understanding a letter).
_DIVIDERS = (_REPLY_HEADERS[2], _REPLY_HEADERS[3])
_COLON_ENDED = (_REPLY_HEADERS[0], _REPLY_HEADERS[1], _REPLY_HEADERS[4], _REPLY_HEADERS[5])


def is_reply_header(line: str, following: str) -> bool:
    if any(pattern.match(line) for pattern in _DIVIDERS):
        return True
    if line.rstrip().endswith(":") and any(pattern.match(line) for pattern in _COLON_ENDED):
        return True
    if following and len(line) < 200 and following.rstrip().endswith(":"):
        joined = f"{line.rstrip()} {following.strip()}"
        return any(pattern.match(joined) for pattern in _REPLY_HEADERS[:2])
    return False


def _is_outlook_block(lines: list[str], index: int) -> bool:
    if not _FROM_LINE.match(lines[index]):
        return False
    window = lines[index + 1:index + 4]
    return any(_SENT_LINE.match(candidate) for candidate in window)


def strip_quotes_and_signature(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not kept and not line.strip():
            continue
        if is_reply_header(line, following):
            if not kept:
                continue  # bottom-posting: the quote comes first, ">" lines are dropped below
            break  # top-posting: everything after the introduction of a quote is history
        if _is_outlook_block(lines, index):
            break
        if _SIGNATURE_DELIMITER.match(line) or _MOBILE_FOOTER.match(line):
            break
        if _SIGN_OFF.match(line) and any(k.strip() for k in kept):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", result)
