"""A sender that records what it would deliver: for tests and the console chat.

With ``path`` every delivered message is appended to a JSON-lines file and flushed to disk before
``send`` returns, so a test can count deliveries across a killed process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.outbox.base import OutboxMessage


class RecordingSender:
    def __init__(self, channel: str, *, path: Path | None = None, can_check: bool = True,
                 keep_in_memory: bool = True) -> None:
        self.channel = channel
        self.path = path
        # False imitates a channel with no way to ask "was this sent?" (Telegram).
        self.can_check = can_check
        # False where nothing reads ``sent`` (the running bot's stand-in for a missing staff chat): kept
        # messages would grow with every request and hold what people wrote until a restart.
        self.keep_in_memory = keep_in_memory
        self.count = 0
        self.sent: list[OutboxMessage] = []
        self._failures: list[Exception] = []
        self._always: Exception | None = None

    def fail_next(self, error: Exception, times: int = 1) -> None:
        self._failures.extend([error] * times)

    def fail_always(self, error: Exception | None) -> None:
        self._always = error

    async def send(self, message: OutboxMessage) -> str | None:
        if self._always is not None:
            raise self._always
        if self._failures:
            raise self._failures.pop(0)
        self.count += 1
        if self.keep_in_memory:
            self.sent.append(message)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps({"id": message.id, "key": message.idempotency_key,
                                         "channel": message.channel, "recipient": message.recipient,
                                         "kind": message.kind, "payload": message.payload},
                                        ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        return f"{self.channel}-{self.count}"

    def recorded_keys(self) -> list[str]:
        if self.path is None:
            return [m.idempotency_key for m in self.sent]
        if not self.path.exists():
            return []
        return [json.loads(line)["key"] for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    async def was_sent(self, message: OutboxMessage) -> bool:
        return self.can_check and message.idempotency_key in self.recorded_keys()
