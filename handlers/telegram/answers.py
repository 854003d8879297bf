"""The answers a person was shown lately, so that "did not help" can take their question to staff.

Kept in memory only, already masked (bot/learning.py), the last few per chat for a day, in one bounded map
(bot/lru.py): a press on an answer the bot no longer remembers (older, or from before a restart) asks the
person to ask again. Pressing takes the question out, so a second press sends nothing twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.learning import AskedQuestion
from bot.lru import PER_PERSON_ENTRIES, BoundedLRU

PER_CHAT = 3
KEPT_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class _Shown:
    question: AskedQuestion
    at: float


class RecentAnswers:
    def __init__(self, max_chats: int = PER_PERSON_ENTRIES) -> None:
        self._chats: BoundedLRU[int, dict[int, _Shown]] = BoundedLRU(max_chats)

    def remember(self, chat_id: int, answer_message_id: int, question: AskedQuestion) -> None:
        shown = dict(self._chats.peek(chat_id) or {})
        shown[answer_message_id] = _Shown(question, time.monotonic())
        while len(shown) > PER_CHAT:
            del shown[min(shown)]
        self._chats[chat_id] = shown

    def take(self, chat_id: int, answer_message_id: int) -> AskedQuestion | None:
        shown = self._chats.peek(chat_id)
        entry = shown.pop(answer_message_id, None) if shown else None
        if entry is None or time.monotonic() - entry.at > KEPT_SECONDS:
            return None
        return entry.question

    def forget(self, chat_id: int) -> None:
        self._chats.pop(chat_id)

    def __len__(self) -> int:
        return len(self._chats)
