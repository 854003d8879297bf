"""The privacy request and its parts, independent of any channel or storage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.digits import ascii_digits


class RequestType(StrEnum):
    DELETION = "deletion"
    CORRECTION = "correction"
    ACCESS = "access"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    EMAIL = "email"
    MANUAL = "manual"  # staff entering a request received by phone or letter


class RequestStatus(StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"
    PENDING_REVIEW = "pending_review"
    NEEDS_INFO = "needs_info"
    APPROVED = "approved"
    REJECTED = "rejected"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_STATUSES: frozenset[RequestStatus] = frozenset({
    RequestStatus.AWAITING_VERIFICATION, RequestStatus.PENDING_REVIEW,
    RequestStatus.NEEDS_INFO, RequestStatus.APPROVED,
})
CLOSED_STATUSES: frozenset[RequestStatus] = frozenset(set(RequestStatus) - OPEN_STATUSES)


class VerificationMethod(StrEnum):
    EMAIL_CODE = "email_code"  # the requester typed a code sent to the address
    EMAIL_REPLY = "email_reply"  # the requester confirmed by replying from the address
    STAFF = "staff"  # a person checked identity (phone call, letter, in person)
    UNVERIFIED_PHONE = "unverified_phone"  # a phone number the bot cannot check: staff must
    NONE = "none"


# Methods that prove the requester's email address.
EMAIL_VERIFIED: frozenset[VerificationMethod] = frozenset({
    VerificationMethod.EMAIL_CODE, VerificationMethod.EMAIL_REPLY, VerificationMethod.STAFF})


# An identity the channel itself proved (a Telegram update comes from the account it names).
PROVEN_BY_CHANNEL = "channel"


@dataclass(frozen=True)
class Identity:
    """One way to know a requester and perhaps to reach them, stored as a row whatever the channel."""

    kind: str  # "telegram" (an account), "email", "phone"
    address: str  # what identifies them: a Telegram user id, a lower-cased address, a phone's digits
    shown: str | None = None  # as given (a phone number as typed)
    # Where a message for them goes on the channel named ``kind`` (a Telegram chat id, an email address);
    # None when this kind carries no messages (a phone).
    route: str | None = None
    name: str | None = None  # what the channel called them
    # How it was proven: PROVEN_BY_CHANNEL, or a VerificationMethod value; None: as typed, proves nothing.
    verified_by: str | None = None
    verified_at: datetime | None = None

    @property
    def proven(self) -> bool:
        return self.verified_by is not None


@dataclass(frozen=True)
class Requester:
    """Who is asking, as a channel describes them (and as staff and the CLI read them back)."""

    telegram_user_id: int | None = None
    telegram_chat_id: int | None = None
    telegram_name: str | None = None
    email: str | None = None
    phone: str | None = None

    def normalized_email(self) -> str | None:
        return self.email.strip().lower() if self.email else None

    def normalized_phone(self) -> str | None:
        if not self.phone:
            return None
        digits = ascii_digits(self.phone)
        # Russian numbers are written both as 8XXXXXXXXXX and +7XXXXXXXXXX.
        if len(digits) == 11 and digits[0] == "8":
            digits = "7" + digits[1:]
        return digits or None

    @property
    def is_empty(self) -> bool:
        return not (self.telegram_user_id or self.email or self.phone)

    def identities(self, channel: Channel, method: VerificationMethod, at: datetime) -> tuple[Identity, ...]:
        """The rows this requester becomes, each marked proven only by what proved it: the Telegram account
        an update came from (or that staff entered), an address proven by a code, a reply or staff, a
        phone staff checked. A phone or address someone merely typed proves nothing."""
        rows: list[Identity] = []
        email = self.normalized_email()
        if email:
            proven = method in EMAIL_VERIFIED
            rows.append(Identity("email", email, route=email, verified_by=method.value if proven else None,
                                 verified_at=at if proven else None))
        if self.telegram_user_id:
            by = (PROVEN_BY_CHANNEL if channel is Channel.TELEGRAM
                  else VerificationMethod.STAFF.value if channel is Channel.MANUAL else None)
            chat = self.telegram_chat_id or self.telegram_user_id
            rows.append(Identity("telegram", str(self.telegram_user_id), route=str(chat), name=self.telegram_name,
                                 verified_by=by, verified_at=at if by else None))
        phone = self.normalized_phone()
        if phone:
            staff = method is VerificationMethod.STAFF
            rows.append(Identity("phone", phone, shown=self.phone, verified_by=method.value if staff else None,
                                 verified_at=at if staff else None))
        if self.telegram_name and not self.telegram_user_id and rows:
            # A name staff typed for a person with no Telegram account stays with their first identity.
            rows[0] = replace(rows[0], name=self.telegram_name)
        return tuple(rows)

    @classmethod
    def from_identities(cls, identities: Iterable[Identity]) -> Requester:
        by_kind = {identity.kind: identity for identity in identities}
        tg, email, phone = by_kind.get("telegram"), by_kind.get("email"), by_kind.get("phone")
        return cls(telegram_user_id=int(tg.address) if tg else None,
                   telegram_chat_id=int(tg.route) if tg and tg.route else None,
                   telegram_name=tg.name if tg else next((i.name for i in by_kind.values() if i.name), None),
                   email=email.address if email else None,
                   phone=(phone.shown or phone.address) if phone else None)


@dataclass(frozen=True)
class CorrectionItem:
    field: str
    current: str
    wanted: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "current": self.current, "wanted": self.wanted}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorrectionItem:
        return cls(field=str(data.get("field", "")), current=str(data.get("current", "")),
                   wanted=str(data.get("wanted", "")))


@dataclass(frozen=True)
class PrivacyRequest:
    id: str
    type: RequestType
    channel: Channel
    lang: str
    status: RequestStatus
    requester: Requester
    verification_method: VerificationMethod
    verified_at: datetime | None
    details: str
    corrections: tuple[CorrectionItem, ...]
    received_at: datetime  # aware, UTC
    due_date: date
    extended_due_date: date | None = None
    extension_reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    info_question: str | None = None
    completed_at: datetime | None = None
    duplicate_of: str | None = None
    flags: dict[str, Any] = field(default_factory=dict)
    thread_ref: str | None = None
    updated_at: datetime | None = None
    redacted_at: datetime | None = None
    requester_pseudonym: str | None = None
    closed_at: datetime | None = None
    # The rows ``requester`` is read from: each with how and when it was proven.
    identities: tuple[Identity, ...] = ()

    @property
    def effective_due_date(self) -> date:
        return self.extended_due_date or self.due_date

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the CLI's --json, the export)."""
        def iso(value: datetime | date | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "id": self.id, "type": str(self.type), "channel": str(self.channel), "lang": self.lang,
            "status": str(self.status),
            "requester": {
                "telegram_user_id": self.requester.telegram_user_id,
                "telegram_chat_id": self.requester.telegram_chat_id,
                "telegram_name": self.requester.telegram_name,
                "email": self.requester.email, "phone": self.requester.phone,
            },
            "verification_method": str(self.verification_method), "verified_at": iso(self.verified_at),
            "details": self.details, "corrections": [c.to_dict() for c in self.corrections],
            "received_at": iso(self.received_at), "due_date": iso(self.due_date),
            "extended_due_date": iso(self.extended_due_date), "effective_due_date": iso(self.effective_due_date),
            "extension_reason": self.extension_reason,
            "decided_by": self.decided_by, "decided_at": iso(self.decided_at),
            "decision_reason": self.decision_reason, "info_question": self.info_question,
            "completed_at": iso(self.completed_at), "duplicate_of": self.duplicate_of,
            "flags": self.flags, "thread_ref": self.thread_ref,
            "redacted_at": iso(self.redacted_at), "requester_pseudonym": self.requester_pseudonym,
        }
