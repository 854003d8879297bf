"""Our Message-IDs: deterministic per outbox message, unguessable, and signed, so a reply's In-Reply-To
proves the writer saw a mail we sent.

Deterministic matters for exactly-once: after a crash the same outbox message gets the same Message-ID,
so the copy of an already accepted message can be found by it. Unguessable matters for identity: a reply
that names the Message-ID of a confirmation mail proves control of the mailbox it went to, so both the
token and its signature are keyed with the installation's secret (bot/app_secret.py).
"""

from __future__ import annotations

import base64
import hmac
import re

from bot.app_secret import derive_key
from bot.config import Config

_OURS = re.compile(r"^<?pb-([0-9a-f]{24})-([0-9a-f]{16})@([^>]+)>?$")
# A confirmation token as people may type or paste it: ten base32 letters, with or without the dash.
_TOKEN = re.compile(r"(?<![A-Z0-9])([A-Z2-7]{5})[\s-]?([A-Z2-7]{5})(?![A-Z0-9])", re.IGNORECASE)


class MessageIds:
    def __init__(self, config: Config, secret: str) -> None:
        self._token_key = derive_key(secret, "message-id token")
        self._sign_key = derive_key(secret, "message-id signature")
        self._token_key_confirm = derive_key(secret, "confirmation token")
        self.domain = config.email.address.rpartition("@")[2] or "localhost"

    def _sign(self, token: str) -> str:
        return hmac.new(self._sign_key, token.encode(), "sha256").hexdigest()[:16]

    def for_key(self, idempotency_key: str) -> str:
        token = hmac.new(self._token_key, idempotency_key.encode(), "sha256").hexdigest()[:24]
        return f"<pb-{token}-{self._sign(token)}@{self.domain}>"

    def is_ours(self, message_id: str) -> bool:
        match = _OURS.match(message_id.strip())
        if match is None:
            return False
        return hmac.compare_digest(match.group(2), self._sign(match.group(1)))

    def confirmation_token(self, request_id: str) -> str:
        """The code printed in a request's confirmation mail (50 bits): carrying it proves the writer read
        that mail, for a person who writes anew instead of replying. It confirms nothing once the request
        has left awaiting_verification, so it works once."""
        digest = hmac.new(self._token_key_confirm, request_id.encode(), "sha256").digest()
        letters = base64.b32encode(digest).decode()[:10]
        return f"{letters[:5]}-{letters[5:]}"

    @staticmethod
    def has_token_shape(text: str) -> bool:
        """Whether ``text`` has anything ``carries_token`` could accept (checked before looking up requests)."""
        return _TOKEN.search(text[:100_000]) is not None

    def carries_token(self, text: str, request_id: str) -> bool:
        expected = self.confirmation_token(request_id).replace("-", "")
        return any(hmac.compare_digest((a + b).upper(), expected) for a, b in _TOKEN.findall(text[:100_000]))
