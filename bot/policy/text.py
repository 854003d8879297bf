"""Finding the request in a message: quoted replies, mail headers and signatures are not the request."""

from __future__ import annotations

import re

from bot.policy.language import CYRILLIC
from bot.policy.quotes import is_reply_header, strip_quotes_and_signature

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
# The line a letter opens with ("Dear Data Protection Officer,", "Уважаемые коллеги!", "To the Data
# Controller of Jetbit,"): it names who is written to, and its words ("data protection") are not the ask.
# A bare "Hello!" stays: it is the greeting the engine recognises.
_SALUTATION = re.compile(
    r"^\s*(?:dear|hello|hi|hey|good (?:morning|afternoon|evening)|greetings|to(?: the)?|attn|attention|"
    r"уважаем\w*|здравствуй\w*|добр\w+ (?:день|утро|вечер)|привет\w*|дорог\w+)\b[\s,]+\w[^.?!\n]{0,60}[,!:]?\s*$",
    re.IGNORECASE,
)
SALUTATION_MAX_WORDS = 7
# A legal footer ("This e-mail and any attachments are confidential...", "Информация в этом письме
# конфиденциальна..."): everything from it on is boilerplate, and its words ("confidential", "intended
# for the addressee") read like a question about protection.
_DISCLAIMER = re.compile(
    r"^\s*(?:(?:this|the) (?:e-?mail|message|communication)\b.{0,80}\b(?:confidential|privileged|intended)|"
    r"confidentiality notice|disclaimer\s*:|"
    r"(?:информация|сведения),? (?:содержащ\w+ )?в (?:этом|данном|настоящем) (?:письме|сообщении)|"
    r"(?:это|данное|настоящее) (?:письмо|сообщение)\b.{0,80}\bконфиденциальн)",
    re.IGNORECASE,
)
# A forwarded letter: the divider and the original's header block go, the forwarded words are the ask.
_FORWARDED = re.compile(r"^\s*-{2,}\s*(?:forwarded message|пересылаемое сообщение)\s*-*\s*$", re.IGNORECASE)
# "see below", "forwarding a question from our lawyer", "пересылаю вопрос ниже": the quote is the ask.
_POINTS_BELOW = re.compile(r"\b(?:see below|below|forwarding|forwarded|пересылаю|пересылаем|переслал[аи]?|ниже)\b",
                           re.IGNORECASE)
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")
# "Sent from my iPhone" and the like: added by the mail program, never the person's words.
_DEVICE_FOOTER = re.compile(r"^\s*(?:sent from my|отправлено (?:с|из)|get outlook for)\b", re.IGNORECASE)
# A closing paragraph of short lines (name, job title, company, phone) with no sentence in it.
SIGNATURE_LINE_MAX_WORDS = 8
_SENTENCE_LINE = re.compile(r"[?]|[.!…]\s*$")
# An English dash can join a story and its question ("a courier called me and knew my name - did you pass
# it on?"); a Russian one is usually the copula ("jetbit - это вы?"), and a dash before a list is no new
# sentence ("I'd like a data export - all records"), so only a dash between Latin words before a
# question splits.
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n+|(?<=[A-Za-z0-9,])\s+[-–—]+\s+(?=[A-Za-z][^.!?\n]*\?)")


def request_text(text: str) -> str:
    """The part of a message that can hold the request: no quoted lines, mail headers or signature."""
    kept: list[str] = []
    # Quoted history under a reply header ("On ... wrote:", "чт, 19 нояб. 2026 г. в 14:02, ... <...>:",
    # "-----Original Message-----") is what we or others wrote before, not this request.
    for line in strip_quotes_and_signature(_unquote_pointed(_unwrap_forwarded(text))).splitlines():
        if _DISCLAIMER.match(line):
            break
        if _QUOTED.match(line) or _HEADER.match(line):
            continue
        if line.strip() == "--" or line.rstrip() == "-- ":
            break  # the standard signature delimiter
        if _DIVIDER.match(line) or _DEVICE_FOOTER.match(line):
            continue
        if kept and any(k.strip() for k in kept) and _CLOSING.match(line):
            break
        if not any(k.strip() for k in kept) and _is_salutation(line):
            continue
        kept.append(line)
    result = "\n".join(_without_signature_block(kept)).strip()
    return result or text


def _is_salutation(line: str) -> bool:
    """"Dear Data Protection Officer," / "Уважаемые коллеги!"; an English line ending in "!" is more
    often the ask itself ("Hi, delete my data!") than an address."""
    stripped = line.rstrip()
    ends = (",", ":", "!") if CYRILLIC.search(stripped) else (",", ":")
    return bool(_SALUTATION.match(stripped)) and len(stripped.split()) <= SALUTATION_MAX_WORDS and stripped.endswith(ends)


def _unwrap_forwarded(text: str) -> str:
    """A forwarded letter ("---------- Forwarded message ---------" and its From/Date/Subject/To lines,
    perhaps under a line of introduction): the divider and header block go, the forwarded words stay, as
    they hold the question."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _FORWARDED.match(line)), None)
    if start is None:
        return text
    rest = start + 1
    while rest < len(lines) and (_HEADER.match(lines[rest]) or not lines[rest].strip()):
        rest += 1
    return "\n".join([*lines[:start], "", *lines[rest:]])


def _unquote_pointed(text: str) -> str:
    """"forwarding from our CFO, see below. > Please replace my old email ...": quoted lines that the
    writer points to, with no reply header above them, are the request itself, not history."""
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.lstrip().startswith(">")), None)
    if first is None or not _POINTS_BELOW.search("\n".join(lines[:first])):
        return text
    if any(is_reply_header(line, lines[i + 1] if i + 1 < len(lines) else "") for i, line in enumerate(lines[:first])):
        return text
    return "\n".join(_QUOTE_MARK.sub("", line) for line in lines)


def _without_signature_block(lines: list[str]) -> list[str]:
    """Drop a last paragraph that is only a signature ("Ivan Petrov / Director, Alpha LLC / +7 ..."):
    its phone number or job title would otherwise read as a question about contacts."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    if not paragraphs[-1]:
        paragraphs.pop()
    if len(paragraphs) < 2:
        return lines  # a chat line or a one-paragraph letter: nothing to tell a signature from
    last = paragraphs[-1]
    if all(len(line.split()) <= SIGNATURE_LINE_MAX_WORDS and not _SENTENCE_LINE.search(line) for line in last):
        return [line for paragraph in paragraphs[:-1] for line in [*paragraph, ""]]
    return lines


def sentences(text: str) -> list[str]:
    return [part for part in _SENTENCE_END.split(text) if part and part.strip()]


def has_condition(tokens: list[str], markers: frozenset[str]) -> bool:
    return any(token in markers for token in tokens)
