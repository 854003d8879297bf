"""RequestService: the only way requests are created and changed.

Each change runs in one write transaction: re-read the row, check the transition table, update it
conditionally, append the audit events, and write the outbox messages it causes. Either all of it
happens or none of it does.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.audit import REQUESTER, SYSTEM, AuditEvent, AuditLog
from bot.config import Config
from bot.i18n import LANGUAGES, Translator, format_date, get_translator
from bot.outbox.repository import OutboxRecord, OutboxRepository
from bot.requests import deadlines, destruction
from bot.requests.errors import (
    AlreadyDecided,
    CannotExtend,
    DestructionNotApplicable,
    IllegalTransition,
    MissingReason,
    RequestNotFound,
    TooManyOpenRequests,
)
from bot.requests.models import (
    Channel,
    CorrectionItem,
    Identity,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.requests.routing import requester_route, routes
from bot.requests.states import RESULT, TERMINAL, Action, allows, can_transition
from bot.storage import destruction_repo, requests_repo
from bot.storage.db import Database
from bot.storage.timefmt import utcnow

S = RequestStatus
# What a transition writes besides the status, and what it causes after (audit events, messages).
Apply = Callable[[aiosqlite.Connection, PrivacyRequest], Awaitable[dict[str, Any]]]
After = Callable[[aiosqlite.Connection, PrivacyRequest, int], Awaitable[None]]
# Statuses someone chose: acting on a request already in one of them is "already decided".
DECIDED = frozenset({S.APPROVED, S.REJECTED, S.NEEDS_INFO, S.COMPLETED, S.CANCELLED, S.EXPIRED})
# Methods that prove the requester owns the email address on the request.
NOT_VERIFIED = frozenset({VerificationMethod.NONE, VerificationMethod.UNVERIFIED_PHONE})


@dataclass(frozen=True)
class CreateResult:
    request: PrivacyRequest
    # set when the new submission duplicated an open request and was linked to it instead
    duplicate_of: str | None = None


@dataclass(frozen=True)
class RequestStats:
    by_status: dict[str, int]
    open: int
    overdue: int


def display_names(translator: Translator, lang: str, *, type: str | None = None, status: str | None = None,
                  channel: str | None = None, target: str | None = None) -> dict[str, str]:
    """Localised names of a type, status or channel, passed to messages as $type_name and the like."""
    names: dict[str, str] = {}
    if type is not None:
        names["type_name"] = translator(lang, "request-type", type=type)
    if status is not None:
        names["status_name"] = translator(lang, "request-status", status=status)
    if target is not None:
        names["target_name"] = translator(lang, "request-status", status=target)
    if channel is not None:
        names["channel_name"] = translator(lang, "request-channel", channel=channel)
    return names


def _same_kind(open_requests: Sequence[PrivacyRequest], type: RequestType) -> PrivacyRequest | None:
    """A second request of the same type while one is open is the same request (linked, not queued)."""
    return next((r for r in open_requests if r.type is type), None)


def proven_identity(requester: Requester, channel: Channel, method: VerificationMethod) -> tuple[Identity, ...]:
    """Only the identities a channel or a check proved (``Requester.identities``). Duplicates and open-request
    limits match on these alone: a phone number or address someone merely typed never links them to another
    person's request, nor tells them anything about it."""
    return tuple(i for i in requester.identities(channel, method, utcnow()) if i.proven)


def submitter_route(requester: Requester, channel: Channel, method: VerificationMethod) -> tuple[str, str] | None:
    """Where to answer whoever just submitted (their own proven channel, never an existing request's)."""
    found = routes(proven_identity(requester, channel, method), channel.value)
    return found[0] if found else None


class RequestService:
    def __init__(self, db: Database, config: Config, *, outbox: OutboxRepository | None = None,
                 audit: AuditLog | None = None, translator: Translator | None = None) -> None:
        self.db = db
        self.config = config
        self.outbox = outbox or OutboxRepository(db)
        self.audit = audit or AuditLog()
        self.translator = translator or get_translator()

    # ---- reading -------------------------------------------------------------------------------

    async def get(self, request_id: str) -> PrivacyRequest:
        request = await requests_repo.get(self.db.conn, request_id.strip().upper())
        if request is None:
            raise RequestNotFound(request_id)
        return request

    async def list(self, status: RequestStatus | None = None, overdue: bool = False,
                   limit: int | None = 1000, received_from: datetime | None = None,
                   received_to: datetime | None = None) -> builtins.list[PrivacyRequest]:
        """Requests sorted by effective due date; ``overdue`` keeps open ones past it."""
        return await requests_repo.list_requests(
            self.db.conn, status=status, overdue_before=self.today() if overdue else None,
            received_from=received_from, received_to=received_to, limit=limit)

    async def open_queue(self, limit: int = 50, offset: int = 0) -> builtins.list[PrivacyRequest]:
        return await requests_repo.open_queue(self.db.conn, limit=limit, offset=offset)

    async def for_telegram_user(self, user_id: int) -> builtins.list[PrivacyRequest]:
        return await requests_repo.for_identity(self.db.conn, "telegram", str(user_id))

    async def for_email(self, address: str) -> builtins.list[PrivacyRequest]:
        return await requests_repo.for_identity(self.db.conn, "email", address.strip().lower())

    async def audit_events(self, request_id: str) -> builtins.list[AuditEvent]:
        request = await self.get(request_id)
        return await self.audit.events(self.db.conn, request.id)

    async def deliveries(self, request_id: str) -> builtins.list[OutboxRecord]:
        """Messages this request caused and their delivery state (failures included), for staff."""
        request = await self.get(request_id)
        return await self.outbox.records(request_id=request.id, limit=1000)

    async def messages(self, request_id: str) -> builtins.list[dict[str, Any]]:
        request = await self.get(request_id)
        return await requests_repo.messages(self.db.conn, request.id)

    async def stats(self) -> RequestStats:
        by_status = await requests_repo.status_counts(self.db.conn)
        open_count = sum(n for s, n in by_status.items() if S(s) not in TERMINAL)
        overdue = await requests_repo.count_overdue(self.db.conn, self.today())
        return RequestStats(by_status=by_status, open=open_count, overdue=overdue)

    def today(self) -> date:
        return deadlines.today(self.config.requests.timezone)

    # ---- creating ------------------------------------------------------------------------------

    async def create(self, *, type: RequestType, channel: Channel, lang: str, requester: Requester,
                     details: str = "", corrections: Sequence[CorrectionItem] = (),
                     received_at: datetime | None = None, verified: VerificationMethod | None = None,
                     actor: str, flags: dict[str, Any] | None = None,
                     thread_ref: str | None = None) -> CreateResult:
        """Register a request (pending_review when ``verified``, else awaiting_verification).

        A submission of the same type as an open request of the same requester is linked to it instead.
        """
        if requester.is_empty:
            raise ValueError("a requester needs a Telegram user id, an email address or a phone number")
        type, channel = RequestType(type), Channel(channel)
        lang = lang if lang in LANGUAGES else self.config.policy.default_language
        now = utcnow()
        received = received_at or now
        is_verified = verified is not None and verified not in NOT_VERIFIED
        flags = dict(flags or {})
        if requester.phone and not requester.email and not requester.telegram_user_id and not is_verified:
            flags["phone_unverified"] = True
        method = verified if verified is not None else (
            VerificationMethod.UNVERIFIED_PHONE if flags.get("phone_unverified") else VerificationMethod.NONE)
        async with self.db.transaction() as conn:
            open_requests = await requests_repo.open_for_requester(conn, proven_identity(requester, channel, method))
            existing = _same_kind(open_requests, type)
            if existing is not None:
                await self._link_duplicate(conn, existing, channel, actor, details,
                                           submitter_route(requester, channel, method), lang)
                return CreateResult(request=existing, duplicate_of=existing.id)
            limit = self.config.requests.max_open_per_requester
            if len(open_requests) >= limit:
                raise TooManyOpenRequests(limit, [r.id for r in open_requests])
            year = deadlines.local_date(received, self.config.requests.timezone).year
            request_id = await requests_repo.next_id(conn, self.config.requests.id_prefix, year)
            request = PrivacyRequest(
                id=request_id, type=type, channel=channel, lang=lang,
                status=S.PENDING_REVIEW if is_verified else S.AWAITING_VERIFICATION,
                requester=requester, verification_method=method, verified_at=now if is_verified else None,
                details=details, corrections=tuple(corrections), received_at=received,
                due_date=deadlines.due_date(type, received, self.config.requests),
                flags=flags, thread_ref=thread_ref, updated_at=now,
                identities=requester.identities(channel, method, now))
            await requests_repo.insert(conn, request)
            await self.audit.append(conn, request.id, "created", actor, {
                "type": type.value, "channel": channel.value, "status": request.status.value,
                "due_date": request.due_date.isoformat(), "received_at": received.isoformat()})
            if is_verified:
                event_id = await self.audit.append(conn, request.id, "verified", actor, {"method": method.value})
                await self._announce_review(conn, request, event_id)
            stored = await requests_repo.get(conn, request.id)
        assert stored is not None
        return CreateResult(request=stored)

    async def open_duplicate(self, type: RequestType, requester: Requester, channel: Channel,
                             method: VerificationMethod = VerificationMethod.NONE) -> PrivacyRequest | None:
        """The open request a new submission would be linked to by ``create`` (same type, same proven
        identity), so a channel can say so before asking the person for anything."""
        open_requests = await requests_repo.open_for_requester(self.db.conn,
                                                               proven_identity(requester, channel, method))
        return _same_kind(open_requests, RequestType(type))

    async def _link_duplicate(self, conn: aiosqlite.Connection, existing: PrivacyRequest, channel: Channel,
                              actor: str, details: str, route: tuple[str, str] | None, lang: str) -> None:
        """A submission of the same proven person about the same thing: kept with the open request, and the
        submitter told where they submitted (the match was on a proven identity, so it is their own)."""
        # What the new submission said is kept with the open request (a message body, under retention).
        if details.strip() and details.strip() != existing.details.strip():
            await requests_repo.add_message(conn, existing.id, actor, details.strip(), utcnow())
        event_id = await self.audit.append(conn, existing.id, "duplicate_linked", actor,
                                           {"channel": channel.value, "details_length": len(details.strip())})
        if route is None:
            await self.audit.append(conn, existing.id, "message_skipped", SYSTEM,
                                    {"kind": "request.duplicate", "why": "no proven channel to the submitter"})
            return
        await self._notify(conn, existing, route, lang, event_id, "request.duplicate", "request-duplicate",
                           to="submitter", due=format_date(lang, existing.effective_due_date))

    async def attach_submission(self, request_id: str, channel: Channel, actor: str, details: str) -> PrivacyRequest:
        """A new submission joins a request still awaiting its confirmation (the same claimed address and
        type): its text is kept with the request and nothing is sent. The claim is not proof, so this never
        touches a verified request; the address's owner confirms one request, not one per mail."""
        async with self.db.transaction() as conn:
            request = await self._load(conn, request_id)
            if request.status is not S.AWAITING_VERIFICATION:
                raise IllegalTransition(request.id, request.status.value, request.status.value)
            if details.strip() and details.strip() != request.details.strip():
                await requests_repo.add_message(conn, request.id, actor, details.strip(), utcnow())
            await self.audit.append(conn, request.id, "duplicate_linked", actor,
                                    {"channel": channel.value, "details_length": len(details.strip())})
        return request

    async def _announce_review(self, conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
        """A request reaching review: the requester learns its id and due date, staff get a card."""
        await self._notify_requester(conn, request, event_id, "request.created", "request-created",
                                     due=format_date(request.lang, request.effective_due_date))
        await self._notify_staff(conn, request, event_id, "staff.request_created", "staff-request-created",
                                 channel=request.channel.value,
                                 due=format_date(self._staff_lang, request.effective_due_date))

    # ---- changing ------------------------------------------------------------------------------

    async def verify(self, request_id: str, method: VerificationMethod, actor: str, *,
                     email: str | None = None) -> PrivacyRequest:
        """Identity confirmed: awaiting_verification -> pending_review (``email``: the address proven).

        Now that the identity is proven, an open request of the same person and type makes this one a
        duplicate: it is closed as such (cancelled, ``duplicate_of`` set) and the person told which is open.
        """
        method = VerificationMethod(method)
        if method in NOT_VERIFIED:
            raise ValueError(f"{method.value} does not verify a requester")
        request = await self.get(request_id)
        proven_as = replace(request.requester, email=email.strip().lower() if email else request.requester.email)
        for existing in await requests_repo.open_for_requester(
                self.db.conn, proven_identity(proven_as, request.channel, method)):
            if existing.type is request.type and existing.id != request.id:
                return await self._close_as_duplicate(request, existing, method, proven_as, actor)

        async def apply(conn: aiosqlite.Connection, request: PrivacyRequest) -> dict[str, Any]:
            await self._prove(conn, request, proven_as, method)
            return {"verification_method": method, "verified_at": utcnow()}

        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, _: int) -> None:
            event_id = await self.audit.append(conn, request.id, "verified", actor, {"method": method.value})
            await self._announce_review(conn, request, event_id)

        return await self._transition(request_id, Action.VERIFY, actor, apply, after, staff_update=False)

    @staticmethod
    async def _prove(conn: aiosqlite.Connection, request: PrivacyRequest, proven_as: Requester,
                     method: VerificationMethod) -> None:
        """The identities ``method`` proves (an address by a code or reply; everything, when staff checked)."""
        for identity in proven_as.identities(request.channel, method, utcnow()):
            if identity.proven:
                await requests_repo.prove(conn, request.id, identity)

    async def _close_as_duplicate(self, request: PrivacyRequest, existing: PrivacyRequest,
                                  method: VerificationMethod, proven_as: Requester, actor: str) -> PrivacyRequest:
        async def apply(conn: aiosqlite.Connection, current: PrivacyRequest) -> dict[str, Any]:
            await self._prove(conn, current, proven_as, method)
            return {"verification_method": method, "verified_at": utcnow(),
                    "duplicate_of": existing.id, "decided_by": SYSTEM, "decided_at": utcnow()}

        async def after(conn: aiosqlite.Connection, current: PrivacyRequest, _: int) -> None:
            await self.audit.append(conn, current.id, "verified", actor, {"method": method.value})
            await self._link_duplicate(conn, existing, current.channel, actor, current.details,
                                       submitter_route(proven_as, current.channel, method), current.lang)

        return await self._transition(request.id, Action.CLOSE_DUPLICATE, actor, apply, after, staff_update=False)

    async def approve(self, request_id: str, by: str) -> PrivacyRequest:
        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.approved", "request-approved",
                                         due=format_date(request.lang, request.effective_due_date))

        return await self._transition(request_id, Action.APPROVE, by, self._decision(by), after)

    async def reject(self, request_id: str, by: str, reason: str) -> PrivacyRequest:
        reason = (reason or "").strip()
        if not reason:
            raise MissingReason("reason")

        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.rejected", "request-rejected",
                                         reason=reason)

        return await self._transition(request_id, Action.REJECT, by, self._decision(by, decision_reason=reason),
                                      after, reason=reason)

    async def need_info(self, request_id: str, by: str, question: str) -> PrivacyRequest:
        question = (question or "").strip()
        if not question:
            raise MissingReason("question")

        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.needs_info", "request-needs-info",
                                         question=question)

        return await self._transition(request_id, Action.NEED_INFO, by, self._decision(by, info_question=question),
                                      after, reason=question)

    async def provide_info(self, request_id: str, text: str, actor: str = REQUESTER) -> PrivacyRequest:
        """The requester answered the question: needs_info -> pending_review, the answer kept with the request."""
        text = (text or "").strip()
        if not text:
            raise MissingReason("answer")

        async def apply(conn: aiosqlite.Connection, request: PrivacyRequest) -> dict[str, Any]:
            await requests_repo.add_message(conn, request.id, actor, text, utcnow())
            return {}

        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            # The answer itself stays out of the append-only trail (retention must be able to remove it).
            await self.audit.append(conn, request.id, "info_provided", actor, {"length": len(text)})
            await self._notify_requester(conn, request, event_id, "request.info_received", "request-info-received")
            await self._notify_staff(conn, request, event_id, "staff.request_updated", "staff-request-info",
                                     text=text)

        return await self._transition(request_id, Action.PROVIDE_INFO, actor, apply, after, staff_update=False)

    async def complete(self, request_id: str, by: str, *, categories: Sequence[str] = (),
                       systems: Sequence[str] = ()) -> PrivacyRequest:
        """Staff carried the request out. A deletion names what was destroyed: the categories of personal
        data and the information systems, chosen from ``[destruction]`` (``choose``); they are stored with
        the completion, written to the trail (ids only) and printed in the destruction act."""
        audit_details: dict[str, Any] = {}  # filled by apply, read when the trail event is written

        async def apply(conn: aiosqlite.Connection, request: PrivacyRequest) -> dict[str, Any]:
            now = utcnow()
            if request.type is RequestType.DELETION:
                chosen = destruction.choose(self.config.destruction, request.id, categories, systems)
                await destruction_repo.insert(conn, request.id, chosen, now)
                audit_details.update(categories=chosen.ids("categories"), systems=chosen.ids("systems"))
            elif categories or systems:
                raise DestructionNotApplicable(request.id, request.type.value)
            return {"completed_at": now}

        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.completed", "request-completed")

        return await self._transition(request_id, Action.COMPLETE, by, apply, after, audit_details=audit_details)

    async def destruction_of(self, request_id: str) -> destruction.Destruction | None:
        """What a completed deletion destroyed, as chosen when it was completed (None before this was asked)."""
        request = await self.get(request_id)
        return await destruction_repo.get(self.db.conn, request.id)

    async def cancel(self, request_id: str, by: str) -> PrivacyRequest:
        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.cancelled", "request-cancelled")

        return await self._transition(request_id, Action.CANCEL, by, self._decision(by), after)

    async def expire(self, request_id: str, actor: str = SYSTEM) -> PrivacyRequest:
        async def after(conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int) -> None:
            await self._notify_requester(conn, request, event_id, "request.expired", "request-expired")

        return await self._transition(request_id, Action.EXPIRE, actor, self._decision(actor), after)

    async def extend(self, request_id: str, by: str, reason: str) -> PrivacyRequest:
        """Access requests only, once: the due date moves by the statutory extension; the requester is told why."""
        reason = (reason or "").strip()
        if not reason:
            raise MissingReason("reason")
        async with self.db.transaction() as conn:
            request = await self._load(conn, request_id)
            if request.type is not RequestType.ACCESS:
                raise CannotExtend(request.id, "only access requests can be extended")
            if not request.is_open:
                raise CannotExtend(request.id, f"it is {request.status.value}")
            if request.extended_due_date is not None:
                raise CannotExtend(request.id, f"it was already extended to {request.extended_due_date.isoformat()}")
            new_due = deadlines.extended_due_date(request.due_date, self.config.requests)
            changed = await requests_repo.update_fields(conn, request.id, request.status, {
                "extended_due_date": new_due, "extension_reason": reason, "updated_at": utcnow()})
            if not changed:  # unreachable under BEGIN IMMEDIATE; kept so a change is never silent
                raise IllegalTransition(request.id, request.status.value, request.status.value)
            event_id = await self.audit.append(conn, request.id, "extended", by, {
                "from": request.due_date.isoformat(), "to": new_due.isoformat(), "reason_length": len(reason)})
            updated = await self._load(conn, request.id)
            await self._notify_requester(conn, updated, event_id, "request.extended", "request-extended",
                                         date=format_date(updated.lang, new_due), reason=reason)
            await self._notify_staff(conn, updated, event_id, "staff.request_updated", "staff-request-extended",
                                     date=format_date(self._staff_lang, new_due), reason=reason, actor=by)
        return updated

    async def flag(self, request_id: str, flags: dict[str, Any], actor: str, why: str) -> PrivacyRequest:
        """A warning for staff on a request (a refused verification, a sender that may be forged): merged
        into its flags (the card shows them), written to the trail and announced in the staff chat."""
        async with self.db.transaction() as conn:
            request = await self._load(conn, request_id)
            merged = {**request.flags, **flags}
            await requests_repo.update_fields(conn, request.id, request.status, {
                "flags": json.dumps(merged, ensure_ascii=False), "updated_at": utcnow()})
            event_id = await self.audit.append(conn, request.id, "flagged", actor, {"why": why,
                                                                                  "flags": sorted(flags)})
            updated = await self._load(conn, request.id)
            await self._notify_staff(conn, updated, event_id, "staff.request_updated", "staff-request-flagged",
                                     why=why)
        return updated

    async def announce_unverified(self, request_id: str) -> None:
        """Only verified requests reach staff on their own; one that staff must verify (a phone number the
        bot cannot check, a sender whose mail failed authentication) is announced with this."""
        async with self.db.transaction() as conn:
            request = await self._load(conn, request_id)
            await self.outbox.enqueue(
                conn, channel="staff", recipient="", kind="staff.request_created",
                payload={"request_id": request.id, "kind": "staff.request_created", "text": request.id},
                idempotency_key=f"{request.id}:unverified:staff.request_created", request_id=request.id)

    async def record_export(self, request_ids: Sequence[str], actor: str, what: str) -> None:
        """An export or a printed act is itself an event in each request's trail."""
        async with self.db.transaction() as conn:
            for request_id in request_ids:
                await self.audit.append(conn, request_id, "exported", actor, {"what": what})

    # ---- machinery -----------------------------------------------------------------------------

    @property
    def _staff_lang(self) -> str:
        return self.config.policy.default_language

    @staticmethod
    def _decision(by: str, **extra: Any) -> Apply:
        async def apply(conn: aiosqlite.Connection, request: PrivacyRequest) -> dict[str, Any]:
            return {"decided_by": by, "decided_at": utcnow(), **extra}
        return apply

    async def _load(self, conn: aiosqlite.Connection, request_id: str) -> PrivacyRequest:
        request = await requests_repo.get(conn, request_id.strip().upper())
        if request is None:
            raise RequestNotFound(request_id)
        return request

    async def _refuse(self, conn: aiosqlite.Connection, request: PrivacyRequest, target: S) -> Exception:
        if request.status in DECIDED:
            # Name whoever moved it into its current status (the last status change in the trail).
            changes = [e for e in await self.audit.events(conn, request.id) if e.event == "status_changed"]
            last = changes[-1] if changes else None
            return AlreadyDecided(request.id, request.status.value, target.value,
                                  last.actor if last else request.decided_by,
                                  last.at if last else request.decided_at)
        return IllegalTransition(request.id, request.status.value, target.value)

    async def _transition(self, request_id: str, action: Action, actor: str, apply: Apply, after: After, *,
                          reason: str | None = None, staff_update: bool = True,
                          audit_details: dict[str, Any] | None = None) -> PrivacyRequest:
        target = RESULT[action]
        async with self.db.transaction() as conn:
            request = await self._load(conn, request_id)
            if not allows(request.status, action):
                if can_transition(request.status, target):
                    # another action leads there, not this one (verify is not an answer to a question)
                    raise IllegalTransition(request.id, request.status.value, target.value)
                raise await self._refuse(conn, request, target)
            now = utcnow()
            fields: dict[str, Any] = {"status": target, "updated_at": now, **(await apply(conn, request))}
            if target in TERMINAL:
                fields["closed_at"] = now
            if not await requests_repo.update_fields(conn, request.id, request.status, fields):
                raise await self._refuse(conn, await self._load(conn, request.id), target)
            details: dict[str, Any] = {"from": request.status.value, "to": target.value, **(audit_details or {})}
            if reason:
                # The text stays with the request (redacted by retention); the trail only notes it was given.
                details["reason_length"] = len(reason)
            event_id = await self.audit.append(conn, request.id, "status_changed", actor, details)
            updated = await self._load(conn, request.id)
            await after(conn, updated, event_id)
            if staff_update:
                await self._notify_staff(conn, updated, event_id, "staff.request_updated", "staff-request-updated",
                                         actor=actor)
        return updated

    async def _notify_requester(self, conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int,
                                kind: str, message_id: str, **args: Any) -> int | None:
        route = requester_route(request)
        if route is None:
            await self.audit.append(conn, request.id, "message_skipped", SYSTEM,
                                    {"kind": kind, "why": "no verified channel to the requester"})
            return None
        return await self._notify(conn, request, route, request.lang, event_id, kind, message_id, **args)

    async def _notify(self, conn: aiosqlite.Connection, request: PrivacyRequest, route: tuple[str, str], lang: str,
                      event_id: int, kind: str, message_id: str, *, to: str = "requester", **args: Any) -> int:
        """A message about ``request`` to ``route``: the requester's own (``to="requester"``, threaded into
        the request's mail thread), or whoever submitted a duplicate of it (``to="submitter"``)."""
        channel, recipient = route
        args = {"id": request.id, "type": request.type.value, **args,
                **display_names(self.translator, lang, type=request.type.value,
                                status=request.status.value, channel=request.channel.value)}
        payload = {
            "text": self.translator(lang, message_id, **args),
            "subject": self.translator(lang, f"{message_id}-subject", **args),
            "lang": lang, "request_id": request.id, "kind": kind,
        }
        if to == "requester" and request.thread_ref and channel == "email" and request.channel is Channel.EMAIL:
            payload["reply_to"] = request.thread_ref
        return await self.outbox.enqueue(conn, channel=channel, recipient=recipient, kind=kind, payload=payload,
                                         idempotency_key=f"{request.id}:{event_id}:{kind}:{to}",
                                         request_id=request.id)

    async def _notify_staff(self, conn: aiosqlite.Connection, request: PrivacyRequest, event_id: int,
                            kind: str, message_id: str, **args: Any) -> int:
        args = {"id": request.id, "type": request.type.value, "status": request.status.value, **args,
                **display_names(self.translator, self._staff_lang, type=request.type.value,
                                status=request.status.value, channel=request.channel.value)}
        text = self.translator(self._staff_lang, message_id, **args)
        return await self.outbox.enqueue(conn, channel="staff", recipient="", kind=kind,
                                         payload={"request_id": request.id, "text": text, "kind": kind},
                                         idempotency_key=f"{request.id}:{event_id}:{kind}:staff",
                                         request_id=request.id)

    async def remind(self, today: date | None = None) -> builtins.list[str]:
        """Staff reminders: requests due within the configured working days, or overdue; once a day each."""
        today = today or self.today()
        horizon = deadlines.add_working_days(today, self.config.requests.remind_when_due_within_working_days)
        reminded: builtins.list[str] = []
        for request in await requests_repo.due_for_reminder(self.db.conn, horizon, today):
            async with self.db.transaction() as conn:
                if not await requests_repo.mark_reminded(conn, request.id, today):
                    continue  # another process reminded already today
                overdue = request.effective_due_date < today
                event_id = await self.audit.append(conn, request.id, "reminder", SYSTEM, {
                    "overdue": overdue, "due": request.effective_due_date.isoformat()})
                await self._notify_staff(conn, request, event_id, "staff.reminder",
                                         "staff-reminder-overdue" if overdue else "staff-reminder-due",
                                         due=format_date(self._staff_lang, request.effective_due_date))
            reminded.append(request.id)
        return reminded

