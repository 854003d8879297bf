"""Understanding a whole letter: its subject is part of it, and a request stated at its top stands.

A mail with an empty body ("Subject: Удалите мои данные") says what it wants in the subject; a long mail
that opens with a request and then pastes a chat export, a forwarded thread or logs is still that
request, whatever the pasted material would be read as alone. Channels with letters (email, web forms)
call this instead of ``engine.understand``.
"""

from __future__ import annotations

import re
from typing import Protocol

from bot.policy.models import REQUEST_INTENTS, Intent, Understanding

# The opening of a letter that states its request: its first paragraphs up to this many characters
# (a salutation paragraph alone is short, so the next one joins it).
HEAD_CHARS = 300
HEAD_MAX_CHARS = 800
# Reply and forward prefixes in any number ("Re: Fwd: RE:"), and our own "[PR-2026-0001]" tags.
_SUBJECT_NOISE = re.compile(r"^\s*(?:(?:re|ha|aw|sv|fw|fwd|ответ|отв|пересл)(?:\[\d+\])?\s*:\s*)+|\[[^\]]{0,40}\]",
                            re.IGNORECASE)


class Understands(Protocol):
    def understand(self, text: str, lang: str | None = None) -> Understanding: ...


def subject_words(subject: str) -> str:
    """What the writer put in a subject: reply/forward prefixes and bracketed tags removed."""
    return " ".join(_SUBJECT_NOISE.sub(" ", subject or "").split())


def letter_head(body: str) -> str:
    """The first paragraphs of a letter, up to HEAD_CHARS (never more than HEAD_MAX_CHARS)."""
    head: list[str] = []
    size = 0
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        if not paragraph.strip():
            continue
        head.append(paragraph.strip())
        size += len(paragraph)
        if size >= HEAD_CHARS:
            break
    return "\n\n".join(head)[:HEAD_MAX_CHARS]


def _says_nothing(understanding: Understanding) -> bool:
    return understanding.intent in (Intent.GREETING, Intent.OUT_OF_SCOPE) or understanding.abstained


def understand_letter(engine: Understands, body: str, subject: str = "", lang: str | None = None) -> Understanding:
    body = body.strip()
    subject = subject_words(subject)
    if not body:
        return engine.understand(subject, lang=lang)
    whole = engine.understand(body, lang=lang)
    if whole.intent in REQUEST_INTENTS:
        return whole
    head = letter_head(body)
    if len(head) < len(body):
        top = engine.understand(head, lang=lang or whole.lang)
        if top.intent in REQUEST_INTENTS:
            return top
    if subject and _says_nothing(whole):
        # "Hello," under "Subject: delete my data": the subject is what the letter is about.
        with_subject = engine.understand(f"{subject}\n\n{body}", lang=lang or whole.lang)
        if not _says_nothing(with_subject):
            return with_subject
    return whole
