"""What to do with one stored mail: ignore it, answer it, hand it to staff, or turn it into a request.

Runs on the stored copy (never on the server's). Core calls that commit on their own (create, verify,
provide_info) are made idempotent by checking their result first (a request whose thread_ref is this
mail, a status already moved), and every reply is enqueued with an idempotency key derived from the
mail's Message-ID; the replies, the handoff and the "processed" mark share one transaction. So a crash at
any point followed by reprocessing changes nothing twice and sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiosqlite

from bot import intake
from bot.handoffs import HandoffService
from bot.i18n import format_datetime
from bot.intake import Next
from bot.learning import AskedQuestion
from bot.requests.errors import RequestError, TooManyOpenRequests
from bot.requests.models import (
    Channel,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.services import Services
from handlers.email.loop_guard import automatic_reason
from handlers.email.message_ids import MessageIds
from handlers.email.parsing import AuthVerdict, ParsedMail, auth_verdict, parse_mail
from handlers.email.store import LIMIT_NOTICE, EmailStore, InboundMail, Thread, utc_now
from handlers.email.threading_headers import references_chain, reply_subject

log = logging.getLogger(__name__)

ACTOR = "email"
_REQUEST_ID = re.compile(r"\b([A-Z]{1,8}-\d{4}-\d{3,6})\b")
# Mails committed in one transaction at most (bounds what one failing mail makes the others redo).
MAX_RUN = 50


@dataclass
class Reply:
    kind: str
    text: str
    subject: str
    request_id: str | None = None


@dataclass
class Decision:
    outcome: str
    replies: list[Reply]
    handoff_reason: str | None = None
    request_id: str | None = None
    thread: dict[str, Any] | None = None
    thread_update: dict[str, Any] | None = None
    lang: str = "ru"
    # a question the engine abstained on: staff are asked which section answers it (bot/learning.py)
    learn: AskedQuestion | None = None


class MailProcessor:
    def __init__(self, services: Services, store: EmailStore, handoffs: HandoffService) -> None:
        self.services = services
        self.config = services.config
        self.store = store
        self.handoffs = handoffs
        self.ids = MessageIds(services.config, services.secret)
        self.t = services.translator
        self.own_addresses = {services.config.email.address.lower()}

    # -- entry ---------------------------------------------------------------------------------------

    async def process(self, item: InboundMail) -> str:
        """Never raises for a bad mail: a failure inside is recorded and the mail handed to staff, so one
        mail cannot stop the channel (only a failing database propagates)."""
        return (await self.process_many([item]))[0]

    async def process_many(self, items: list[InboundMail]) -> list[str]:
        """``process`` for a fetched chunk, outcomes in order. Mails whose decision touched nothing a later
        decision reads (no request, no thread) are committed together, one transaction for a run of them;
        any other decision commits the run at once, so the next mail sees its thread and request."""
        outcomes: list[str] = []
        run: list[tuple[InboundMail, ParsedMail | None, Decision]] = []
        for item in items:
            # Understanding a mail needs no I/O: let the loop run in between, so replies already queued
            # keep going out while a long chunk is processed.
            await asyncio.sleep(0)
            try:
                mail, decision = await self._prepare(item)
            except Exception:
                log.exception("email: processing mail %s failed; handed to staff", item.id)
                mail, decision = None, self._error_decision()
            run.append((item, mail, decision))
            if decision.request_id or decision.thread or decision.thread_update or len(run) >= MAX_RUN:
                outcomes += await self._finish_run(run)
                run = []
        if run:
            outcomes += await self._finish_run(run)
        return outcomes

    def _error_decision(self) -> Decision:
        return Decision("error", [], handoff_reason="error", lang=self.config.policy.default_language)

    async def _prepare(self, item: InboundMail) -> tuple[ParsedMail | None, Decision]:
        try:
            mail = parse_mail(item.raw, max_text_chars=self.config.email.max_text_chars, truncated=item.truncated)
        except Exception:  # parse_mail is defensive; this is the last line so the channel never stops
            log.exception("email: mail %s could not be parsed", item.id)
            mail = None
        if mail is None:
            return None, Decision("unreadable", [], handoff_reason="unreadable")
        return mail, await self._decide(item, mail)

    async def _finish_run(self, run: list[tuple[InboundMail, ParsedMail | None, Decision]]) -> list[str]:
        try:
            async with self.services.db.transaction() as conn:
                return await self._finish_in(conn, run)
        except Exception:
            if len(run) == 1 and run[0][2].outcome == "error":
                raise  # even the error record cannot be written: the database is failing
        # One mail spoiled the shared commit: each on its own, the failing one recorded as an error.
        outcomes = []
        for item, mail, decision in run:
            try:
                outcomes.append(await self._finish(item, mail, decision))
            except Exception:
                log.exception("email: processing mail %s failed; handed to staff", item.id)
                outcomes.append(await self._finish(item, None, self._error_decision()))
        return outcomes

    # -- deciding --------------------------------------------------------------------------------------

    def _verdict(self, mail: ParsedMail) -> AuthVerdict:
        """The receiving server's word on the From domain; without it, and when it is required, untrusted."""
        cfg = self.config.email
        verdict = auth_verdict(mail.auth_headers, mail.from_addr, cfg.auth_server_id)
        if cfg.require_auth_results and not verdict.present:
            return AuthVerdict(results=verdict.results, untrusted=True, present=False)
        return verdict

    async def _decide(self, item: InboundMail, mail: ParsedMail) -> Decision:
        default_lang: str = self.config.policy.default_language
        if self.ids.is_ours(mail.message_id):
            return Decision("own_copy", [])
        if mail.sender_problem is not None:
            # No single address we could answer (none, several, or one that does not parse): a person
            # looks at it; nothing is sent anywhere.
            return Decision(f"bad_sender:{mail.sender_problem}", [], handoff_reason="bad_sender", lang=default_lang)
        reason = automatic_reason(mail, self.own_addresses)
        if reason is not None:
            return Decision(f"auto:{reason}", [])
        verdict = self._verdict(mail)
        thread, proven = await self._thread_of(mail)
        if thread is not None:
            return await self._in_thread(mail, thread, proven, verdict)
        if mail.broken:
            return Decision("unreadable", [self._ack(mail, default_lang)], handoff_reason="unreadable",
                            lang=default_lang)
        outcome = intake.read(self.services.engine, self._inbound(mail))
        lang = outcome.lang
        if mail.unreadable and outcome.next is not Next.REQUEST:
            # No text, and a subject that asks for nothing (a subject alone is too short to answer from).
            return Decision("unreadable", [self._ack(mail, default_lang)], handoff_reason="unreadable",
                            lang=default_lang)
        if outcome.next is Next.REQUEST:
            assert outcome.request_type is not None
            return await self._new_request(item, mail, outcome.request_type, lang, verdict, outcome.third_party)
        if outcome.next is Next.ANSWER:
            assert outcome.understanding.answer is not None
            text = self.t(lang, "email-answer", answer=outcome.understanding.answer.text)
            return Decision("answered", [self._reply(mail, lang, "email.answer", text)], lang=lang)
        if outcome.next is Next.GREETING:
            return Decision("greeted", [self._reply(mail, lang, "email.greeting", self.t(lang, "email-greeting"))],
                            lang=lang)
        if outcome.next is Next.NOT_IN_POLICY:
            # The writer is told the policy does not say; a person takes the question.
            reply = self._reply(mail, lang, "email.handoff_ack", self.t(lang, "email-not-in-policy"))
            return Decision("handoff", [reply], handoff_reason="not_in_policy", lang=lang, learn=outcome.learn)
        why = {Next.HUMAN: "human", Next.OUT_OF_SCOPE: "out_of_scope"}.get(outcome.next, "unplaced")
        return Decision("handoff", [self._ack(mail, lang)], handoff_reason=why, lang=lang, learn=outcome.learn)

    def _inbound(self, mail: ParsedMail) -> intake.Inbound:
        return intake.Inbound(
            text=mail.text[: self.config.email.max_text_chars], subject=mail.subject,
            declared_lang=mail.content_language, lang_hint=self.config.policy.default_language,
            names=(mail.from_name, mail.from_addr.split("@", 1)[0]), sender_address=mail.from_addr,
            own_addresses=frozenset(self.own_addresses))

    async def _thread_of(self, mail: ParsedMail) -> tuple[Thread | None, bool]:
        """The request thread this mail belongs to, and whether it *proves* it read our mail there.

        Proof is a reply naming the signed Message-ID of a mail we sent in that thread, or the thread's
        confirmation token in the text. The writer's own earlier Message-IDs and a request id in the subject
        only claim a thread: anyone can write those, so such mail is shown to staff and changes nothing.
        """
        ours = [mid for mid in mail.thread_ids if self.ids.is_ours(mid)]
        if ours:
            thread = await self.store.thread_for_message_ids(ours)
            if thread is not None:
                return thread, True
        theirs = [mid for mid in mail.thread_ids if mid not in ours]
        thread = await self.store.thread_for_message_ids(theirs) if theirs else None
        if thread is None:
            for request_id in _REQUEST_ID.findall(mail.subject.upper()):
                thread = await self.store.thread(request_id)
                if thread is not None:
                    break
        if thread is not None:
            return thread, self._answers_confirmation(mail, thread, ours)
        text = f"{mail.subject}\n{mail.full_text}"
        if self.ids.has_token_shape(text):  # no token-shaped word: no awaiting request can be named
            for candidate in await self.store.awaiting_from(mail.from_addr):
                if self.ids.carries_token(text, candidate.request_id):
                    return candidate, True
        return None, False

    def _answers_confirmation(self, mail: ParsedMail, thread: Thread, ours: list[str]) -> bool:
        """Our confirmation or reminder mail named (by its deterministic signed id, in case it was not
        recorded yet), or its token carried."""
        expected = {self.ids.for_key(confirmation_key(thread.root_message_id)),
                    self.ids.for_key(reminder_key(thread.request_id))}
        if expected & set(ours):
            return True
        return self.ids.carries_token(f"{mail.subject}\n{mail.full_text}", thread.request_id)

    async def _in_thread(self, mail: ParsedMail, thread: Thread, proven: bool, verdict: AuthVerdict) -> Decision:
        lang = thread.lang
        if mail.from_addr != thread.address.lower():
            # Nothing about a request goes to an address that did not make it; staff look at it.
            return Decision("handoff", [], handoff_reason="thread_other_sender", request_id=None, lang=lang)
        try:
            request = await self.services.requests.get(thread.request_id)
        except RequestError:
            return Decision("handoff", [self._ack(mail, lang)], handoff_reason="request_closed", lang=lang)
        # Only mail that proved it read ours moves the thread on (our next mail answers it).
        update: dict[str, Any] = {"last_inbound": mail.message_id} if proven and not verdict.untrusted else {}
        if request.status is RequestStatus.AWAITING_VERIFICATION:
            if not proven:
                # "PR-2026-0001" in a subject, or a reply to their own mail: not proof of the mailbox.
                return Decision("handoff", [], handoff_reason="unproven_confirmation", request_id=request.id,
                                lang=lang)
            if verdict.untrusted:
                await self._refuse_confirmation(request.id, verdict)
                return Decision("handoff", [], handoff_reason="auth_failed", request_id=request.id, lang=lang)
            await self._thread_points_here(request.id, mail)
            await self.services.requests.verify(request.id, VerificationMethod.EMAIL_REPLY, ACTOR, email=mail.from_addr)
            update["confirmation"] = "confirmed"
            return Decision("confirmed", [], request_id=request.id, thread_update=update, lang=lang)
        if thread.confirmation == "awaiting" and request.verification_method is VerificationMethod.EMAIL_REPLY:
            # Verified before a crash interrupted us: just finish the bookkeeping.
            update["confirmation"] = "confirmed"
            return Decision("confirmed", [], request_id=request.id, thread_update=update, lang=lang)
        if request.status is RequestStatus.NEEDS_INFO and mail.text and proven and not verdict.untrusted:
            await self._thread_points_here(request.id, mail)
            await self.services.requests.provide_info(request.id, mail.text, actor=ACTOR)
            return Decision("info_provided", [], request_id=request.id, thread_update=update, lang=lang)
        if verdict.untrusted:
            return Decision("handoff", [], handoff_reason="auth_failed", request_id=request.id, lang=lang)
        if not proven:
            # Naming a request proves nothing (ids are sequential): staff see it as not from the requester,
            # and nothing is mailed about the request to whoever the From claims to be.
            return Decision("handoff", [], handoff_reason="unproven_follow_up", request_id=request.id, lang=lang)
        reason = "request_follow_up" if request.is_open else "request_closed"
        return Decision("handoff", [self._ack(mail, lang)], handoff_reason=reason, request_id=request.id,
                        thread_update=update or None, lang=lang)

    async def _refuse_confirmation(self, request_id: str, verdict: AuthVerdict) -> None:
        """A confirmation in mail that failed authentication: the request stays unverified, staff are told
        (once per request: the flag is only added the first time)."""
        request = await self.services.requests.get(request_id)
        if request.flags.get("confirmation_auth_failed"):
            return
        await self.services.requests.flag(request_id, {"confirmation_auth_failed": True,
                                                       "auth_results": verdict.results}, ACTOR, "auth_failed")

    async def _thread_points_here(self, request_id: str, mail: ParsedMail) -> None:
        """Make this mail the thread's latest before a core call that enqueues mail: the outbox worker may
        send that mail before this one's processing commits, and it must answer this mail (idempotent)."""
        async with self.services.db.transaction() as conn:
            await self.store.set_thread_state(conn, request_id, last_inbound=mail.message_id)

    async def _pending_request(self, mail: ParsedMail, kind: RequestType) -> PrivacyRequest | None:
        for thread in await self.store.awaiting_from(mail.from_addr):
            try:
                request = await self.services.requests.get(thread.request_id)
            except RequestError:
                continue
            if request.type is kind and request.status is RequestStatus.AWAITING_VERIFICATION:
                return request
        return None

    async def _existing_request(self, mail: ParsedMail) -> PrivacyRequest | None:
        for request in await self.services.requests.for_email(mail.from_addr):
            if request.thread_ref == mail.message_id:
                return request
        return None

    async def _new_request(self, item: InboundMail, mail: ParsedMail, kind: RequestType, lang: str,
                           verdict: AuthVerdict, third_party: bool) -> Decision:
        flags: dict[str, Any] = {}
        if mail.auth_results:
            flags["auth_results"] = mail.auth_results
        if mail.auth_failed or verdict.untrusted:
            flags["auth_failed"] = True
        if third_party:
            flags["third_party_mentioned"] = True
        if mail.reply_to and mail.reply_to != mail.from_addr:
            flags["reply_to_differs"] = True  # we answer the From address only
        request = await self._existing_request(mail)
        duplicate_of = None
        pending = None if request is not None else await self._pending_request(mail, kind)
        if pending is not None:
            # Mail from this address already awaits its confirmation for the same thing: one request and
            # one confirmation (the reminder repeats it), however many mails claim this From. Forged ones
            # therefore cannot use up the address's reply allowance.
            await self.services.requests.attach_submission(
                pending.id, Channel.EMAIL, ACTOR, self._with_attachments(mail, mail.text[:4000]))
            return Decision("request_linked", [], handoff_reason="third_party" if third_party else None,
                            request_id=pending.id, lang=lang)
        if request is None:
            try:
                result = await self.services.requests.create(
                    type=kind, channel=Channel.EMAIL, lang=lang, requester=Requester(email=mail.from_addr),
                    details=self._staff_notes(mail, flags) + self._with_attachments(mail, mail.text[:4000]),
                    received_at=item.received_at, actor=ACTOR, flags=flags,
                    thread_ref=mail.message_id)
            except TooManyOpenRequests as exc:
                text = self.t(lang, "email-too-many-open", count=len(exc.open_ids), ids=", ".join(exc.open_ids))
                return Decision("too_many_open", [self._reply(mail, lang, "email.too_many_open", text)], lang=lang)
            request, duplicate_of = result.request, result.duplicate_of
        handoff = "third_party" if third_party else None
        if duplicate_of is not None:
            # Linked to an open request; the core tells a verified requester. Staff see the follow-up.
            return Decision("duplicate", [], handoff_reason=handoff or "request_follow_up", request_id=request.id,
                            lang=lang)
        if request.status is not RequestStatus.AWAITING_VERIFICATION:
            return Decision("request_created", [], handoff_reason=handoff, request_id=request.id, lang=lang)
        if verdict.untrusted:
            # The From address may be forged: no confirmation goes to it (its owner could only be spammed,
            # and a reply from the same forger would fail the same checks). Staff see a card with the warning.
            await self.services.requests.announce_unverified(request.id)
            return Decision("request_unverified", [], handoff_reason=handoff, request_id=request.id, lang=lang)
        text = self.t(lang, "email-confirm", id=request.id, what=self.t(lang, "email-request-type", type=kind.value),
                      hours=f"{self.config.email.confirmation_expire_hours:g}",
                      token=self.ids.confirmation_token(request.id))
        if third_party:
            text += "\n\n" + self.t(lang, "email-confirm-third-party")
        subject = f"{self.t(lang, 'email-confirm-subject', id=request.id)} [{request.id}]"
        reply = Reply("email.confirm", text, subject, request_id=request.id)
        thread = {"request_id": request.id, "address": mail.from_addr, "message_id": mail.message_id,
                  "subject": mail.subject, "lang": lang}
        return Decision("request_created", [reply], handoff_reason=handoff, request_id=request.id, thread=thread,
                        lang=lang)

    def _staff_notes(self, mail: ParsedMail, flags: dict[str, Any]) -> str:
        """Warnings at the top of the request details, so every staff view (chat card, CLI) shows them."""
        lang = self.config.policy.default_language
        notes = []
        if flags.get("auth_failed"):
            results = ", ".join(f"{k.upper()}={v}" for k, v in sorted(mail.auth_results.items()))
            notes.append(self.t(lang, "email-note-auth-failed", results=results))
        if flags.get("third_party_mentioned"):
            notes.append(self.t(lang, "email-note-third-party"))
        if flags.get("reply_to_differs"):
            notes.append(self.t(lang, "email-note-reply-to", reply_to=mail.reply_to))
        return "".join(f"{note}\n" for note in notes) + ("\n" if notes else "")

    def _with_attachments(self, mail: ParsedMail, text: str) -> str:
        """Staff see that files came with the mail; the files themselves are not kept."""
        if not mail.attachments:
            return text
        listed = ", ".join(f"{a.filename or '-'} ({a.content_type}, {max(1, a.size // 1024)} KB)"
                           for a in mail.attachments[:10])
        note = self.t(self.config.policy.default_language, "email-attachments-note", list=listed)
        return f"{text}\n\n{note}".strip()

    def _reply(self, mail: ParsedMail, lang: str, kind: str, text: str) -> Reply:
        return Reply(kind, text, reply_subject(mail.subject))

    def _ack(self, mail: ParsedMail, lang: str) -> Reply:
        return self._reply(mail, lang, "email.handoff_ack", self.t(lang, "email-handoff-ack"))

    # -- committing ------------------------------------------------------------------------------------

    async def _finish(self, item: InboundMail, mail: ParsedMail | None, decision: Decision) -> str:
        async with self.services.db.transaction() as conn:
            return (await self._finish_in(conn, [(item, mail, decision)]))[0]

    async def _finish_in(self, conn: aiosqlite.Connection,
                         run: list[tuple[InboundMail, ParsedMail | None, Decision]]) -> list[str]:
        """Commit a run's decisions inside ``conn``'s transaction; the outcomes in order.

        The reply cap reads the last hour's replies of the run's senders once and counts the run's own
        replies as it goes (the write lock is held, so nothing else adds any meanwhile); the "processed"
        marks are written together at the end."""
        cap = self.config.email.replies_per_sender_per_hour
        now = utc_now()
        since = now - timedelta(hours=1)
        senders = {mail.from_addr for _, mail, decision in run if decision.replies and mail is not None
                   and mail.from_addr}
        replied_to = await self.store.replies_since_many(conn, senders, since)
        noticed: set[str] = set()
        marks: list[tuple[int, str, str, bool, str | None]] = []
        for item, mail, decision in run:
            sender = mail.from_addr if mail else ""
            replies = decision.replies
            outcome = decision.outcome
            notice = False
            if replies and mail is not None and sender:
                if replied_to.get(sender, 0) >= cap:
                    # Loop protection: no more mail to this address this hour; the request/handoff still stands.
                    replies = []
                    if outcome in ("answered", "greeted", "handoff", "unreadable"):
                        outcome = f"{outcome}:rate_limited"
                    # The writer is told once when we answer again: one notice per hour, not one per mail, so
                    # the notice cannot feed a loop (and it is not counted as a reply).
                    if sender not in noticed and not await self.store.limit_notices_since(conn, sender, since):
                        noticed.add(sender)
                        stored = await self.store.reply_times_since(conn, sender, since)
                        # Newest first; this run's replies are not marked yet: they are the newest, sent now.
                        times = [*[now] * max(0, replied_to.get(sender, 0) - len(stored)), *stored]
                        again = times[cap - 1] + timedelta(hours=1)
                        replies = [Reply("email.reply_limit", self.t(decision.lang, "email-reply-limit", cap=cap,
                                                                     at=format_datetime(decision.lang, again)),
                                         reply_subject(mail.subject))]
                        outcome, notice = f"{outcome}{LIMIT_NOTICE}", True
                else:
                    replied_to[sender] = replied_to.get(sender, 0) + 1
            if mail is not None and sender:
                for reply in replies:
                    await self._enqueue(conn, mail, reply, decision.lang)
            elif replies:
                replies = []
            if decision.thread is not None:
                await self.store.insert_thread(conn, confirmed=False, **decision.thread)
            if decision.thread_update and decision.request_id:
                await self.store.set_thread_state(conn, decision.request_id,
                                                  confirmation=decision.thread_update.get("confirmation"),
                                                  last_inbound=decision.thread_update.get("last_inbound"))
            if decision.handoff_reason is not None:
                await self.handoffs.add(
                    # A From we cannot answer is shown as it came (plain text, never used to route anything).
                    conn, channel="email", sender=sender or (f"? {mail.raw_from}" if mail else "?"),
                    subject=mail.subject if mail else "",
                    text=self._with_attachments(mail, mail.text or mail.full_text) if mail else "",
                    lang=decision.lang, reason=decision.handoff_reason,
                    reference=f"{item.message_id}" if decision.request_id is None
                    else f"{item.message_id}:{decision.request_id}")
            if decision.learn is not None:
                await self.services.learning.add(conn, lang=decision.learn.lang, text=decision.learn.text,
                                                 channel="email", reason="abstained", offered=decision.learn.offered,
                                                 reference=item.message_id)
            marks.append((item.id, outcome, sender, bool(replies) and not notice, decision.request_id))
        await self.store.mark_processed_many(conn, marks)
        return [outcome for _, outcome, *_ in marks]

    async def _enqueue(self, conn: aiosqlite.Connection, mail: ParsedMail, reply: Reply, lang: str) -> None:
        # The confirmation's key is fixed (confirmation_key): a reply naming its Message-ID proves the thread.
        payload: dict[str, Any] = {
            "text": f"{reply.text}\n\n{self.t(lang, 'email-signature')}",
            "subject": reply.subject, "lang": lang, "kind": reply.kind,
            "reply_to": mail.message_id,
            "references": references_chain([*mail.references, mail.message_id]).split(),
        }
        if reply.request_id:
            payload["request_id"] = reply.request_id
        await self.services.outbox.enqueue(
            conn, channel="email", recipient=mail.from_addr, kind=reply.kind, payload=payload,
            idempotency_key=reply_key(mail.message_id, reply.kind), request_id=reply.request_id)


def reply_key(message_id: str, kind: str) -> str:
    return f"email:{message_id}:{kind}"


def confirmation_key(root_message_id: str) -> str:
    """Idempotency key (hence Message-ID) of the confirmation mail answering a request's first mail."""
    return reply_key(root_message_id, "email.confirm")


def reminder_key(request_id: str) -> str:
    return f"email:reminder:{request_id}"
