"""The policy the bot last ran with (``meta`` key ``policy_snapshot``): read and replaced in a transaction."""

from __future__ import annotations

import json

import aiosqlite

from bot.policy.snapshot import PolicySnapshot

SNAPSHOT_META_KEY = "policy_snapshot"


async def load_snapshot(conn: aiosqlite.Connection) -> PolicySnapshot | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (SNAPSHOT_META_KEY,)) as cur:
        row = await cur.fetchone()
    return parse_snapshot(str(row[0])) if row else None


def parse_snapshot(raw: str) -> PolicySnapshot | None:
    """None for a value this code cannot read (written by another version): treated as nothing recorded."""
    try:
        return PolicySnapshot.from_json(raw)
    except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError):
        return None


async def save_snapshot(conn: aiosqlite.Connection, snapshot: PolicySnapshot) -> None:
    await conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (SNAPSHOT_META_KEY, snapshot.to_json()))
