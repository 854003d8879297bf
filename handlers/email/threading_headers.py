"""Reply subjects and References chains."""

from __future__ import annotations

import re

_REPLY_PREFIX = re.compile(r"^\s*((re|ha|aw|sv|fw|fwd|ответ|отв)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 10
# Of a very long subject the reply keeps the start (so a "[PR-2026-0001]" tag added after it stays whole).
MAX_BASE_SUBJECT = 200


def reply_subject(subject: str) -> str:
    """"Re: <subject>" without piling prefixes ("Re: Re: RE:" -> "Re:")."""
    base = " ".join(_REPLY_PREFIX.sub("", subject or "").split())
    if len(base) > MAX_BASE_SUBJECT:
        base = base[:MAX_BASE_SUBJECT - 1].rstrip() + "…"
    return f"Re: {base}" if base else "Re:"


def references_chain(ids: list[str]) -> str:
    """RFC 5322 References: the root and the most recent ids, without repeats, bounded in length."""
    unique: list[str] = []
    for item in ids:
        if item and item not in unique:
            unique.append(item)
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1):]]
    return " ".join(unique)
