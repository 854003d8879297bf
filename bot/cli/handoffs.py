"""``privacy-bot handoffs``: messages that need a person (list, show, close)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.backup import database
from bot.config import Config
from bot.handoffs import Handoff, HandoffAlreadyClosed, HandoffNotFound, HandoffService
from bot.i18n import format_datetime, get_translator


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("handoffs", help="messages the bot passed to a person")
    commands = parser.add_subparsers(dest="handoffs_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="open handoffs (with --all also closed ones)")
    listing.add_argument("--all", action="store_true", help="include closed handoffs")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_list)
    show = commands.add_parser("show", help="one handoff in full")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)
    close = commands.add_parser("close", help="mark a handoff as dealt with")
    close.add_argument("id", type=int)
    close.add_argument("--by", required=True, metavar="NAME", help="who dealt with it")
    close.set_defaults(handler=_close)


async def _with_service(config: Config, action: Any) -> int:
    db = await database(config).open()
    try:
        result: int = await action(HandoffService(db, config))
        return result
    finally:
        await db.close()


def _line(lang: str, handoff: Handoff) -> str:
    return get_translator()(lang, "handoff-cli-line", id=handoff.id, created=format_datetime(lang, handoff.created_at),
        channel=handoff.channel, sender=handoff.sender, reason=handoff.reason,
        subject=handoff.subject or "-", status="open" if handoff.is_open else "closed")


def _list(args: argparse.Namespace, config: Config) -> int:
    lang = config.policy.default_language

    async def action(service: HandoffService) -> int:
        items = await service.list(include_closed=args.all)
        if args.json:
            print(json.dumps([h.to_dict() for h in items], ensure_ascii=False, indent=2))
        elif not items:
            print(get_translator()(lang, "handoff-cli-empty"))
        else:
            for handoff in items:
                print(_line(lang, handoff))
        return 0

    return asyncio.run(_with_service(config, action))


def _show(args: argparse.Namespace, config: Config) -> int:
    lang = config.policy.default_language
    t = get_translator()

    async def action(service: HandoffService) -> int:
        try:
            handoff = await service.get(args.id)
        except HandoffNotFound:
            print(t(lang, "handoff-cli-not-found", id=args.id))
            return 1
        if args.json:
            print(json.dumps(handoff.to_dict(), ensure_ascii=False, indent=2))
            return 0
        print(_line(lang, handoff))
        if handoff.reference:
            print(t(lang, "handoff-cli-reference", reference=handoff.reference))
        if handoff.closed_at:
            print(t(lang, "handoff-cli-closed", by=handoff.closed_by or "-",
                    at=format_datetime(lang, handoff.closed_at)))
        print()
        print(handoff.text)
        return 0

    return asyncio.run(_with_service(config, action))


def _close(args: argparse.Namespace, config: Config) -> int:
    lang = config.policy.default_language
    t = get_translator()

    async def action(service: HandoffService) -> int:
        try:
            handoff = await service.close(args.id, args.by)
        except HandoffNotFound:
            print(t(lang, "handoff-cli-not-found", id=args.id))
            return 1
        except HandoffAlreadyClosed as exc:
            closed = exc.handoff
            print(t(lang, "handoff-cli-already-closed", id=closed.id, by=closed.closed_by or "-"))
            return 1
        print(t(lang, "handoff-cli-closed", by=handoff.closed_by or "-",
                at=format_datetime(lang, handoff.closed_at) if handoff.closed_at else "-"))
        return 0

    return asyncio.run(_with_service(config, action))
