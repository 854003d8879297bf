"""The contract between the outbox worker (core) and channel senders (handlers).

The core only knows channel names ("telegram", "email", "staff"). A sender for each is registered by
the channel code at start; tests register a recording sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    # "telegram" (a person's private chat), "email" (an address), "staff" (the staff side: staff chat)
    channel: str
    # chat id for telegram, address for email, "" for staff
    recipient: str
    # what the message is, e.g. "request.approved", "verification.code", "staff.request_created"
    kind: str
    # rendered, channel-neutral content: "text" (always), "subject" (email), "lang", "request_id",
    # "reply_to" (a channel reference the reply should thread to), plus kind-specific fields
    payload: dict[str, Any] = field(default_factory=dict)
    # stable per message; senders that can check "already sent?" use it to avoid duplicates after a crash
    idempotency_key: str = ""
    attempts: int = 0


class TemporaryDeliveryError(Exception):
    """Try again later (network error, 5xx, 429). ``retry_after`` overrides the backoff when known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(Exception):
    """Will never succeed at this address (user blocked the bot, mailbox does not exist)."""


class Sender(Protocol):
    channel: str

    async def send(self, message: OutboxMessage) -> str | None:
        """Deliver; return the channel's id for the sent message (Telegram message_id, Message-ID)."""
        ...

    async def was_sent(self, message: OutboxMessage) -> bool:
        """True when the channel can prove this message already went out (idempotency after a crash).

        Channels that cannot check return False; the gap is documented in ARCHITECTURE.md.
        """
        ...
