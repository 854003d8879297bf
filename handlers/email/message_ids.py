"""Our Message-IDs: deterministic per outbox message and signed, so a reply's In-Reply-To is recognisably ours.

Deterministic matters for exactly-once: after a crash the same outbox message gets the same Message-ID,
so the copy of an already accepted message can be found by it.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bot.config import Config

_OURS = re.compile(r"^<?pb-([0-9a-f]{24})-([0-9a-f]{16})@([^>]+)>?$")


class MessageIds:
    def __init__(self, config: Config) -> None:
        # The pseudonym salt is the only app secret there is; without it the signature only guards
        # against accidents, which is all In-Reply-To recognition needs.
        secret = config.secrets.pseudonym_salt or f"privacy-bot:{config.email.address}"
        self._key = hashlib.sha256(b"privacy-bot message-id\0" + secret.encode()).digest()
        self.domain = config.email.address.rpartition("@")[2] or "localhost"

    def _sign(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:16]

    def for_key(self, idempotency_key: str) -> str:
        token = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        return f"<pb-{token}-{self._sign(token)}@{self.domain}>"

    def is_ours(self, message_id: str) -> bool:
        match = _OURS.match(message_id.strip())
        if match is None:
            return False
        return hmac.compare_digest(match.group(2), self._sign(match.group(1)))
