"""``privacy-bot retention run``: apply the retention periods now (the running bot also does it periodically)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.backup import database
from bot.config import Config
from bot.i18n import get_translator
from bot.retention import RetentionJob


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="retention of the bot's own personal data")
    sub = parser.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="redact old closed requests and remove expired messages and codes")
    run.add_argument("--json", action="store_true")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, config: Config) -> int:
    return asyncio.run(_run_async(args, config))


async def _run_async(args: argparse.Namespace, config: Config) -> int:
    db = await database(config).open()
    try:
        report = await RetentionJob(db, config).run()
    finally:
        await db.close()
    if args.json:
        print(json.dumps({"redacted": report.redacted, "message_bodies": report.message_bodies,
                          "outbox_messages": report.outbox_messages, "other": report.other}))
    else:
        print(get_translator()(config.policy.default_language, "cli-retention-done",
                               redacted=len(report.redacted), bodies=report.message_bodies,
                               outbox=report.outbox_messages, other=report.other_total))
    return 0
