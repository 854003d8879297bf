"""Every table that can hold personal data, and how long it may: the one place retention rules live.

``rules()`` lists the tables with a time-based rule (which ``[retention]`` period applies, which column dates
a row, and what is cleared or deleted); ``redacted_with_request()`` the copies cleared when a closed request
is redacted; ``no_personal_data()`` the tables that hold none, each with the reason. The core declares its
own tables here, each channel its own in its ``tables`` module (``bot/channels.py``). A test checks that
every table of the schema is in exactly one of them, so a new table cannot be forgotten. Rules for a table
that does not exist are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.timefmt import to_db


@dataclass(frozen=True)
class Rule:
    # which [retention] period applies (a key of RetentionConfig without "_days")
    period: str
    table: str
    time_column: str
    # SET clause that removes the personal content; None deletes the row
    clear: str | None
    # condition true while there is still something to clear
    pending: str = "1"
    # what the rows are, for people reading the rules (and `privacy-bot retention rules`)
    what: str = ""


# The core's tables; each channel declares its own (``bot/channels.py``).
CORE_RULES: tuple[Rule, ...] = (
    Rule("message_bodies", "request_messages", "at", "body = NULL", "body IS NOT NULL",
         "what a requester or staff wrote about a request"),
    Rule("message_bodies", "outbox", "created_at", None, "status IN ('sent', 'failed')",
         "delivered messages: addresses and delivery records (their text is dropped when sent)"),
    Rule("transcripts", "handoffs", "created_at",
         "text = '', subject = '', sender = '', reference = NULL, closed_at = COALESCE(closed_at,"
         " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), closed_by = CASE WHEN closed_at IS NULL THEN 'retention'"
         " ELSE closed_by END",
         "text <> '' OR sender <> '' OR subject <> '' OR reference IS NOT NULL",
         "what needed a person, open or answered"),
    Rule("verification_codes", "verification_codes", "issued_at", None, what="codes (hashed) and the address"),
    Rule("verification_codes", "verification_sends", "sent_at", None, what="when codes were sent, per person"),
    # Masked before they are stored (no emails, phones, links or names), but a question may still say
    # something about its writer: they go, waiting or learnt, once unchanged for the period.
    Rule("learning", "learning_questions", "updated_at", None,
         what="questions sent to staff to teach the engine, and the examples they became (masked)"),
)

# The request and its identities (redacted by RetentionJob) and its trail (never holds any: bot/audit.py
# refuses it).
CORE_REQUEST_TABLES = frozenset({"requests", "request_identities", "request_audit"})

CORE_NO_PERSONAL_DATA: dict[str, str] = {
    "meta": "the installation's key and settings, the policy the bot last ran with (public text)",
    "schema_migrations": "applied migrations",
    "request_counters": "the last request number of each year",
    "learning_audit": "staff decisions on learning questions: who, when, which section; never the question",
}


def rules() -> tuple[Rule, ...]:
    """Every time-based rule: the core's, then each installed channel's."""
    from bot.channels import installed
    return CORE_RULES + tuple(rule for channel in installed() for rule in channel.retention)


def redacted_with_request() -> tuple[tuple[str, str], ...]:
    """Channels' copies of a request's personal data, cleared when the request is redacted."""
    from bot.channels import installed
    return tuple(copy for channel in installed() for copy in channel.redacted_with_request)


def no_personal_data() -> dict[str, str]:
    from bot.channels import installed
    tables = dict(CORE_NO_PERSONAL_DATA)
    for channel in installed():
        tables.update(channel.no_personal_data)
    return tables


async def _columns(conn: aiosqlite.Connection, table: str) -> set[str]:
    async with conn.execute(f"PRAGMA table_info({table})") as cur:
        return {str(row[1]) for row in await cur.fetchall()}


async def apply_rule(conn: aiosqlite.Connection, rule: Rule, cutoff: datetime) -> int:
    if rule.time_column not in await _columns(conn, rule.table):
        return 0  # that area's table is not there: nothing of ours to purge
    where = f"{rule.time_column} < ? AND ({rule.pending})"
    sql = (f"DELETE FROM {rule.table} WHERE {where}" if rule.clear is None
           else f"UPDATE {rule.table} SET {rule.clear} WHERE {where}")
    # Channels write "2026-01-01T00:00:00+00:00", the core "2026-01-01T00:00:00.000000Z": both compare
    # correctly as text against the core format down to the second.
    cur = await conn.execute(sql, (to_db(cutoff),))
    return cur.rowcount


async def clear_request_copies(conn: aiosqlite.Connection, request_id: str) -> int:
    cleared = 0
    for table, assignments in redacted_with_request():
        if "request_id" not in await _columns(conn, table):
            continue
        cur = await conn.execute(f"UPDATE {table} SET {assignments} WHERE request_id = ?", (request_id,))
        cleared += cur.rowcount
    return cleared
