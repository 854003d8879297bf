"""``privacy-bot requests ...``: the staff command line for the request queue."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.audit import staff_actor
from bot.cli import CliError
from bot.config import Config
from bot.i18n import Translator, format_date, format_datetime, get_translator
from bot.requests import destruction, export
from bot.requests.errors import (
    AlreadyDecided,
    CannotExtend,
    DestructionNotApplicable,
    DestructionRequired,
    IllegalTransition,
    MissingReason,
    RequestError,
    RequestNotFound,
    TooManyOpenRequests,
    UnknownChoice,
)
from bot.requests.models import (
    Channel,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.requests.service import RequestService, display_names
from bot.requests.states import STAFF_ACTIONS, Action, staff_actions, staff_statuses
from bot.services import open_core

Runner = Callable[[RequestService, argparse.Namespace, Config], Awaitable[int]]
MAX_STAFF_NAME = 100


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("requests", help="the privacy request queue (staff)")
    sub = parser.add_subparsers(dest="requests_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="register a request received by phone, letter or another channel")
    create.add_argument("--type", required=True, choices=[t.value for t in RequestType])
    create.add_argument("--channel", default="manual", choices=[c.value for c in Channel])
    create.add_argument("--email")
    create.add_argument("--phone")
    create.add_argument("--telegram-id", type=int)
    create.add_argument("--name")
    create.add_argument("--details", default="")
    create.add_argument("--lang", default="ru", choices=["ru", "en"])
    create.add_argument("--received", help="ISO 8601 time of receipt (default: now; no zone = Moscow)")
    create.add_argument("--by", default="cli", help="staff member entering it")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=_runner(_create))

    listing = sub.add_parser("list", help="requests by due date")
    listing.add_argument("--status", choices=[s.value for s in RequestStatus])
    listing.add_argument("--overdue", action="store_true", help="open requests past their due date")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_runner(_list))

    show = sub.add_parser("show", help="one request with its audit events")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_runner(_show))

    # One sub-command per staff action of the core's table (bot/requests/states.py), with the statuses it
    # applies to; the table, not this file, decides what a request in a given status allows.
    for staff_action in STAFF_ACTIONS:
        statuses = ", ".join(s.value for s in staff_statuses(staff_action))
        described = f"{ACTION_HELP[staff_action]} (when {statuses})"
        action = sub.add_parser(command_name(staff_action), help=described, description=described)
        action.add_argument("id")
        action.add_argument("--by", type=_staff_name, required=staff_action is not Action.CANCEL,
                            default="cli" if staff_action is Action.CANCEL else None, help="staff member deciding")
        if staff_action is Action.REJECT:
            action.add_argument("--reason", default="", help="sent to the requester")
        elif staff_action is Action.NEED_INFO:
            action.add_argument("--question", default="", help="sent to the requester")
        elif staff_action is Action.COMPLETE:
            action.add_argument("--categories", type=_ids, default=[],
                                help="deletions: the categories of personal data destroyed, ids from [destruction] "
                                     "categories in the config, comma-separated")
            action.add_argument("--systems", type=_ids, default=[],
                                help="deletions: the information systems they were destroyed in, ids from "
                                     "[destruction] systems, comma-separated")
        action.set_defaults(handler=_runner(_decide), action=staff_action.value)

    extend = sub.add_parser("extend", help="extend an open access request once (the reason is sent to the requester)")
    extend.add_argument("id")
    extend.add_argument("--by", type=_staff_name, required=True)
    extend.add_argument("--reason", default="")
    extend.set_defaults(handler=_runner(_decide), action="extend")

    exporter = sub.add_parser("export", help="the register: one row per request")
    exporter.add_argument("--format", choices=["csv", "json"], default="csv")
    exporter.add_argument("--from", dest="date_from", help="received on or after (YYYY-MM-DD)")
    exporter.add_argument("--to", dest="date_to", help="received on or before (YYYY-MM-DD)")
    exporter.add_argument("--by", default="cli")
    exporter.set_defaults(handler=_runner(_export))

    act = sub.add_parser("act", help="the destruction act of a completed deletion (in the default language, ready to print)")
    act.add_argument("id")
    act.add_argument("--by", default="cli")
    act.set_defaults(handler=_runner(_act))


ACTION_HELP: dict[Action, str] = {
    Action.VERIFY: "staff checked the requester's identity (a phone call, a letter)",
    Action.APPROVE: "approve a request",
    Action.REJECT: "reject a request (the reason is sent to the requester)",
    Action.NEED_INFO: "ask the requester a question",
    Action.COMPLETE: "mark an approved request carried out (a deletion names what was destroyed)",
    Action.CANCEL: "cancel a request (the requester withdrew it, or never confirmed it)",
}


def command_name(action: Action) -> str:
    return action.value.replace("_", "-")


def _staff_name(text: str) -> str:
    # The name goes into the audit trail and the destruction act: one line of text.
    if not text.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in text) or len(text) > MAX_STAFF_NAME:
        raise argparse.ArgumentTypeError(f"expected a staff member's name: one line, 1 to {MAX_STAFF_NAME} characters")
    return text.strip()


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _runner(action: Runner) -> Callable[[argparse.Namespace, Config], int]:
    def handler(args: argparse.Namespace, config: Config) -> int:
        return asyncio.run(_with_core(action, args, config))
    return handler


async def _with_core(action: Runner, args: argparse.Namespace, config: Config) -> int:
    db, service = await open_core(config)
    try:
        return await action(service, args, config)
    except RequestError as exc:
        raise CliError(_error_line(get_translator(), config.policy.default_language, exc, config)) from None
    finally:
        await db.close()


def _allowed_now(t: Translator, lang: str, status: str) -> str:
    """What the request's status still allows, from the core's table ("; now: approve, reject")."""
    actions = staff_actions(RequestStatus(status))
    return "; " + t(lang, "cli-allowed-now", count=len(actions),
                    actions=", ".join(command_name(a) for a in actions))


def _error_line(t: Translator, lang: str, exc: RequestError, config: Config) -> str:
    if isinstance(exc, RequestNotFound):
        return t(lang, "cli-not-found", id=exc.request_id)
    if isinstance(exc, AlreadyDecided):
        at = format_datetime(lang, exc.decided_at) if exc.decided_at else "?"
        return t(lang, "cli-already-decided", id=exc.request_id, by=exc.decided_by or "?", at=at,
                 **display_names(t, lang, status=exc.status)) + _allowed_now(t, lang, exc.status)
    if isinstance(exc, IllegalTransition):
        return t(lang, "cli-illegal-transition", id=exc.request_id,
                 **display_names(t, lang, status=exc.current, target=exc.target)) + _allowed_now(t, lang, exc.current)
    if isinstance(exc, UnknownChoice):
        return t(lang, "cli-unknown-choice", kind=exc.kind, value=exc.value, known=", ".join(exc.known))
    if isinstance(exc, DestructionRequired):
        return t(lang, "cli-destruction-required", id=exc.request_id,
                 categories=", ".join(destruction.known_ids(config.destruction, "categories")),
                 systems=", ".join(destruction.known_ids(config.destruction, "systems")))
    if isinstance(exc, DestructionNotApplicable):
        return t(lang, "cli-destruction-not-applicable", id=exc.request_id,
                 **display_names(t, lang, type=exc.type))
    if isinstance(exc, TooManyOpenRequests):
        return t(lang, "cli-too-many-open", count=len(exc.open_ids), limit=exc.limit, ids=", ".join(exc.open_ids))
    if isinstance(exc, MissingReason):
        return t(lang, "cli-missing-reason", what=exc.what)
    if isinstance(exc, CannotExtend):
        return t(lang, "cli-cannot-extend", id=exc.request_id, why=str(exc).split(": ", 1)[-1])
    return t(lang, "cli-error", message=str(exc))


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None if isinstance(data, dict) else 2))


def _parse_received(text: str, config: Config) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(get_translator()(config.policy.default_language, "cli-bad-datetime", value=text)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(config.requests.timezone))
    return moment


def _parse_day(text: str | None, config: Config) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(get_translator()(config.policy.default_language, "cli-bad-date", value=text)) from None


async def _create(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    t, lang = get_translator(), config.policy.default_language
    # a private Telegram chat has the id of its user
    requester = Requester(telegram_user_id=args.telegram_id, telegram_chat_id=args.telegram_id, telegram_name=args.name,
                          email=args.email, phone=args.phone)
    if requester.is_empty:
        raise CliError(t(lang, "cli-need-requester"))
    received = _parse_received(args.received, config) if args.received else None
    result = await service.create(type=RequestType(args.type), channel=Channel(args.channel), lang=args.lang,
                                  requester=requester, details=args.details, received_at=received,
                                  verified=VerificationMethod.STAFF, actor=staff_actor(args.by))
    request = result.request
    if args.json:
        _print_json({**request.to_dict(), "duplicate_of": result.duplicate_of})
    elif result.duplicate_of:
        print(t(lang, "cli-duplicate", id=request.id, due=format_date(lang, request.effective_due_date)))
    else:
        print(t(lang, "cli-created", id=request.id, status=t(lang, "request-status", status=request.status.value),
                due=format_date(lang, request.effective_due_date)))
    return 0


def _shown_fields(request: PrivacyRequest, t: Translator, lang: str) -> list[tuple[str, str]]:
    """A request as staff read it, in the run's language (``--json`` gives the raw record)."""
    fields: list[tuple[str, str]] = [
        ("id", request.id), ("type", t(lang, "request-type", type=request.type.value)),
        ("channel", t(lang, "request-channel", channel=request.channel.value)), ("lang", request.lang),
        ("status", t(lang, "request-status", status=request.status.value))]
    for identity in request.identities:
        proof = t(lang, "verification-method", method=identity.verified_by) if identity.verified_by else \
            t(lang, "verification-method", method="none")
        shown = identity.shown or identity.address
        fields.append((f"identity-{identity.kind}", f"{shown}{f' ({identity.name})' if identity.name else ''}, {proof}"))
    fields.append(("verification", t(lang, "verification-method", method=request.verification_method.value)))
    for name, moment in (("verified_at", request.verified_at), ("received_at", request.received_at),
                         ("decided_at", request.decided_at), ("completed_at", request.completed_at),
                         ("closed_at", request.closed_at), ("redacted_at", request.redacted_at)):
        if moment is not None:
            fields.append((name, format_datetime(lang, moment)))
    fields.append(("due_date", format_date(lang, request.effective_due_date)))
    for name, text in (("extension_reason", request.extension_reason), ("decided_by", request.decided_by),
                       ("decision_reason", request.decision_reason), ("info_question", request.info_question),
                       ("duplicate_of", request.duplicate_of), ("details", request.details)):
        if text:
            fields.append((name, text))
    for item in request.corrections:
        fields.append(("correction", f"{item.field}: {item.current} -> {item.wanted}"))
    if request.flags:
        fields.append(("flags", ", ".join(sorted(request.flags))))
    return fields


def _table(requests: list[PrivacyRequest], t: Translator, lang: str) -> str:
    header = [part.strip() for part in t(lang, "cli-table-header").split("|")]
    rows = [[r.id, t(lang, "request-type", type=r.type.value), t(lang, "request-channel", channel=r.channel.value),
             t(lang, "request-status", status=r.status.value),
             format_date(lang, r.received_at),
             format_date(lang, r.effective_due_date) + ("*" if r.extended_due_date else ""),
             r.decided_by or ""] for r in requests]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])


async def _list(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    t, lang = get_translator(), config.policy.default_language
    status = RequestStatus(args.status) if args.status else None
    requests = await service.list(status=status, overdue=args.overdue, limit=None)
    if args.json:
        _print_json([r.to_dict() for r in requests])
    elif not requests:
        print(t(lang, "cli-empty"))
    else:
        print(_table(requests, t, lang))
    return 0


async def _show(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    t, lang = get_translator(), config.policy.default_language
    request = await service.get(args.id)
    events = await service.audit_events(request.id)
    deliveries = [{"id": d.message.id, "channel": d.message.channel, "recipient": d.message.recipient,
                   "kind": d.message.kind, "status": d.status,
                   "attempts": d.message.attempts, "error": d.last_error} for d in await service.deliveries(request.id)]
    actions = [command_name(a) for a in staff_actions(request.status)]
    destroyed = await service.destruction_of(request.id)
    if args.json:
        _print_json({**request.to_dict(), "actions": actions,
                     "destruction": {"categories": destroyed.ids("categories"), "systems": destroyed.ids("systems")}
                     if destroyed else None,
                     "events": [e.to_dict() for e in events], "deliveries": deliveries})
        return 0
    for field, value in _shown_fields(request, t, lang):
        print(t(lang, "cli-show-field", field=field, value=value))
    if destroyed:
        print(t(lang, "cli-show-field", field="destroyed", value="; ".join(
            ", ".join(destroyed.ids(kind)) for kind in ("categories", "systems"))))
    print(t(lang, "cli-show-actions", count=len(actions), actions=", ".join(actions)))
    print(t(lang, "cli-show-events"))
    for event in events:
        print(f"  {format_datetime(lang, event.at)}  {event.event}  {event.actor}  {event.details_text()}")
    print(t(lang, "cli-show-deliveries"))
    for d in deliveries:
        print(f"  #{d['id']}  {d['channel']}  {d['kind']}  {d['status']}  {d['error'] or ''}".rstrip())
    return 0


async def _decide(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    t, lang = get_translator(), config.policy.default_language
    by = staff_actor(args.by)
    if args.action == Action.VERIFY:
        request = await service.verify(args.id, VerificationMethod.STAFF, actor=by)
    elif args.action == Action.APPROVE:
        request = await service.approve(args.id, by)
    elif args.action == Action.REJECT:
        request = await service.reject(args.id, by, args.reason)
    elif args.action == Action.NEED_INFO:
        request = await service.need_info(args.id, by, args.question)
    elif args.action == Action.COMPLETE:
        request = await service.complete(args.id, by, categories=args.categories, systems=args.systems)
    elif args.action == "extend":
        request = await service.extend(args.id, by, args.reason)
        assert request.extended_due_date is not None
        print(t(lang, "cli-extended", id=request.id, date=format_date(lang, request.extended_due_date)))
        return 0
    else:
        request = await service.cancel(args.id, by)
    print(t(lang, "cli-done", id=request.id, status=request.status.value))
    return 0


async def _export(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    zone = ZoneInfo(config.requests.timezone)
    day_from, day_to = _parse_day(args.date_from, config), _parse_day(args.date_to, config)
    received_from = datetime.combine(day_from, time(), zone) if day_from else None
    received_to = datetime.combine(day_to + timedelta(days=1), time(), zone) if day_to else None
    requests = await service.list(limit=None, received_from=received_from, received_to=received_to)
    requests.sort(key=lambda r: (r.received_at, r.id))
    sys.stdout.write(export.to_csv(requests) if args.format == "csv" else export.to_json(requests) + "\n")
    await service.record_export([r.id for r in requests], staff_actor(args.by), f"register.{args.format}")
    return 0


async def _act(service: RequestService, args: argparse.Namespace, config: Config) -> int:
    request = await service.get(args.id)
    if not export.is_actable(request):
        raise CliError(get_translator()(config.policy.default_language, "cli-act-not-completed-deletion",
                                        id=request.id))
    events = await service.audit_events(request.id)
    lang = config.policy.default_language
    sys.stdout.write(export.destruction_act(request, events, await service.destruction_of(request.id),
                                            get_translator(), lang, operator=config.destruction.operator.get(lang),
                                            timezone=config.requests.timezone))
    await service.record_export([request.id], staff_actor(args.by), "destruction_act")
    return 0
