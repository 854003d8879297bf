"""The policy the bot last ran with (``meta`` key ``policy_snapshot``): read and replaced in a transaction.

The value is the snapshot's JSON, compressed (zlib, then base64 after ``zlib:``): the section texts it keeps
for recognising renames would otherwise take about 18 KB of every database, 6 KB so.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib

import aiosqlite

from bot.policy.snapshot import PolicySnapshot

SNAPSHOT_META_KEY = "policy_snapshot"
_COMPRESSED = "zlib:"


async def load_snapshot(conn: aiosqlite.Connection) -> PolicySnapshot | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (SNAPSHOT_META_KEY,)) as cur:
        row = await cur.fetchone()
    return parse_snapshot(str(row[0])) if row else None


def parse_snapshot(raw: str) -> PolicySnapshot | None:
    """None for a value this code cannot read (written by another version): treated as nothing recorded."""
    try:
        if raw.startswith(_COMPRESSED):
            raw = zlib.decompress(base64.b64decode(raw[len(_COMPRESSED):], validate=True)).decode("utf-8")
        return PolicySnapshot.from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError, zlib.error, binascii.Error):
        return None


def encode_snapshot(snapshot: PolicySnapshot) -> str:
    return _COMPRESSED + base64.b64encode(zlib.compress(snapshot.to_json().encode("utf-8"), 9)).decode("ascii")


async def save_snapshot(conn: aiosqlite.Connection, snapshot: PolicySnapshot) -> None:
    await conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (SNAPSHOT_META_KEY, encode_snapshot(snapshot)))
