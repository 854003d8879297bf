"""Reply subjects and References chains."""

from __future__ import annotations

import re

_REPLY_PREFIX = re.compile(r"^\s*((re|ha|aw|sv|fw|fwd|ответ|отв)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 10


def reply_subject(subject: str) -> str:
    """"Re: <subject>" without piling prefixes ("Re: Re: RE:" -> "Re:")."""
    base = _REPLY_PREFIX.sub("", subject or "").strip()
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
