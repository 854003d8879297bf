"""Write load for the backup test: ``python backup_writer.py DB STOP``.

Creates requests and approves them (each a transaction with its audit events and outbox messages) as fast
as it can, through the real request core, until the file STOP exists. Prints "ready" once the first
request is committed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.audit import staff_actor
from bot.config import REPO_ROOT, load_config
from bot.requests.models import Channel, Requester, RequestType, VerificationMethod
from bot.services import open_core


async def main(database: Path, stop: Path) -> int:
    config = load_config(REPO_ROOT / "config.toml", environ={"PRIVACY_BOT__STORAGE__DATABASE": str(database)})
    db, service = await open_core(config)
    try:
        number = 0
        while not stop.exists():  # noqa: ASYNC240 - a stat between transactions
            number += 1
            created = await service.create(
                type=RequestType.DELETION, channel=Channel.MANUAL, lang="ru",
                requester=Requester(phone=f"+7 901 {number:07d}"), details="нагрузка " * 50,
                verified=VerificationMethod.STAFF, actor=staff_actor("anna"))
            await service.approve(created.request.id, staff_actor("anna"))
            if number == 1:
                print("ready", flush=True)
    finally:
        await db.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]))))
