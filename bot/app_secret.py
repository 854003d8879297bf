"""The installation's secret key: signs our Message-IDs and confirmation tokens, keys pseudonyms.

PRIVACY_BOT_PSEUDONYM_SALT when set; otherwise one random key generated on first use and kept in the
database's meta table, so it is never guessable (a key derived from public facts, such as our address,
would let anyone forge a "reply to our confirmation mail").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.config import Config
from bot.storage import requests_repo
from bot.storage.db import Database

# The name predates its other uses: databases written before keep their key.
SECRET_META_KEY = "pseudonym_salt"


async def app_secret(db: Database, config: Config) -> str:
    if config.secrets.pseudonym_salt:
        return config.secrets.pseudonym_salt
    stored = await requests_repo.get_meta(db.conn, SECRET_META_KEY)
    if stored:
        return stored
    async with db.transaction() as conn:
        return await requests_repo.set_meta_if_absent(conn, SECRET_META_KEY, secrets.token_hex(32))


def derive_key(secret: str, purpose: str) -> bytes:
    """A separate key per purpose, so a value signed for one use is worthless for another."""
    return hmac.new(secret.encode(), f"privacy-bot:{purpose}".encode(), hashlib.sha256).digest()
