"""A real outbox worker process for the crash test: ``python outbox_crash_worker.py DB RECORD MODE CHECK``.

MODE "crash": the first delivery reaches the recipient (recorded to RECORD, fsynced), then the process
dies with os._exit before the worker can mark it sent. MODE "normal": deliver everything and exit 0.
CHECK "1": the sender can answer was_sent() (like email by Message-ID); "0": it cannot (like Telegram).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.config import Config, StorageConfig
from bot.outbox.base import OutboxMessage
from bot.outbox.recording import RecordingSender
from bot.outbox.worker import OutboxWorker
from bot.storage.db import Database

CRASH_EXIT = 17


class CrashingSender(RecordingSender):
    def __init__(self, channel: str, path: Path, can_check: bool, crash: bool) -> None:
        super().__init__(channel, path=path, can_check=can_check)
        self.crash = crash

    async def send(self, message: OutboxMessage) -> str | None:
        external_id = await super().send(message)
        if self.crash:
            os._exit(CRASH_EXIT)  # delivered, not yet marked: the worst moment to die
        return external_id


async def main(db_path: Path, record: Path, mode: str, can_check: bool) -> int:
    config = Config(storage=StorageConfig(database=db_path))
    db = await Database(db_path).open()
    senders = {name: CrashingSender(name, record, can_check, crash=mode == "crash")
               for name in ("telegram", "email", "staff")}
    worker = OutboxWorker(db, senders, config)
    await worker.repo.release_claims()  # what run() does first after a restart
    while await worker.deliver_due():
        pass
    await db.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4] == "1")))
