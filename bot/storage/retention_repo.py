"""SQL of the retention job for tables other areas own (channels' message copies, codes, transcripts).

Each purge names a table and columns; it runs only when that table exists, so the core works with or
without a channel's migrations. Times in those tables are ISO 8601 text, compared as text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.timefmt import to_db


@dataclass(frozen=True)
class Purge:
    category: str  # which retention period applies: message_bodies, transcripts, verification_codes
    table: str
    time_column: str
    # SET clause that removes the personal content; None deletes the row
    clear: str | None
    pending: str  # condition true while there is still something to clear
    needs: tuple[str, ...] = ()  # other columns the statement uses


PURGES: tuple[Purge, ...] = (
    Purge("message_bodies", "email_inbound", "received_at", "raw = NULL", "raw IS NOT NULL", ("raw",)),
    Purge("transcripts", "telegram_handoffs", "created_at", "text = NULL", "text IS NOT NULL", ("text",)),
    # a handoff still waiting for a person keeps its text
    Purge("transcripts", "handoffs", "created_at", "text = '', subject = '', sender = ''",
          "text <> '' AND closed_at IS NOT NULL", ("text", "subject", "sender", "closed_at")),
    Purge("verification_codes", "verification_codes", "issued_at", None, "1"),
)

# Per-request copies of personal data in other areas' tables, cleared when a request is redacted.
REQUEST_LINKED: tuple[tuple[str, str], ...] = (
    ("email_inbound", "raw = NULL, from_addr = ''"),
    ("email_threads", "address = ''"),
    ("email_outbound", "recipient = ''"),
)


async def _columns(conn: aiosqlite.Connection, table: str) -> set[str]:
    async with conn.execute(f"PRAGMA table_info({table})") as cur:
        return {str(row[1]) for row in await cur.fetchall()}


async def apply_purge(conn: aiosqlite.Connection, purge: Purge, cutoff: datetime) -> int:
    columns = await _columns(conn, purge.table)
    if not {purge.time_column, *purge.needs} <= columns:
        return 0  # that area's table is not there (or has another shape): nothing of ours to purge
    where = f"{purge.time_column} < ? AND {purge.pending}"
    sql = (f"DELETE FROM {purge.table} WHERE {where}" if purge.clear is None
           else f"UPDATE {purge.table} SET {purge.clear} WHERE {where}")
    cur = await conn.execute(sql, (to_db(cutoff),))
    return cur.rowcount


async def clear_request_copies(conn: aiosqlite.Connection, request_id: str) -> int:
    cleared = 0
    for table, assignments in REQUEST_LINKED:
        if "request_id" not in await _columns(conn, table):
            continue
        cur = await conn.execute(f"UPDATE {table} SET {assignments} WHERE request_id = ?", (request_id,))
        cleared += cur.rowcount
    return cleared
