"""Every table that can hold personal data, and how long it may: the one place retention rules live.

``RULES`` lists the tables with a time-based rule (which ``[retention]`` period applies, which column dates
a row, and what is cleared or deleted); ``REDACTED_WITH_REQUEST`` the copies cleared when a closed request
is redacted; ``NO_PERSONAL_DATA`` the tables that hold none, each with the reason. A test checks that every
table of the schema is in exactly one of them, so a new table cannot be forgotten. Rules for a table that
does not exist (a channel not installed) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.storage.db import FORGOTTEN_PREFIX
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


RULES: tuple[Rule, ...] = (
    Rule("message_bodies", "request_messages", "at", "body = NULL", "body IS NOT NULL",
         "what a requester or staff wrote about a request"),
    Rule("message_bodies", "outbox", "created_at", None, "status IN ('sent', 'failed')",
         "delivered messages: addresses and delivery records (their text is dropped when sent)"),
    # Message-IDs can name their writer's machine: kept as a digest (still unique for the dedupe).
    Rule("message_bodies", "email_inbound", "received_at",
         "raw = NULL, from_addr = '', message_id = forgotten(message_id)",
         f"raw IS NOT NULL OR from_addr <> '' OR message_id NOT LIKE '{FORGOTTEN_PREFIX}%'",
         "mail received: its bytes, sender and Message-ID"),
    Rule("message_bodies", "email_outbound", "created_at",
         "recipient = '', subject = '', idempotency_key = forgotten(idempotency_key)",
         f"recipient <> '' OR subject <> '' OR idempotency_key NOT LIKE '{FORGOTTEN_PREFIX}%'",
         "mail sent: recipient, subject, and the Message-ID it answered (in its key)"),
    Rule("transcripts", "telegram_handoffs", "created_at", None, what="talk-to-a-person messages and replies"),
    Rule("transcripts", "handoffs", "created_at",
         "text = '', subject = '', sender = '', reference = NULL, closed_at = COALESCE(closed_at,"
         " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), closed_by = CASE WHEN closed_at IS NULL THEN 'retention'"
         " ELSE closed_by END",
         "text <> '' OR sender <> '' OR subject <> '' OR reference IS NOT NULL",
         "what needed a person, open or answered"),
    Rule("verification_codes", "verification_codes", "issued_at", None, what="codes (hashed) and the address"),
    Rule("verification_codes", "verification_sends", "sent_at", None, what="when codes were sent, per person"),
    Rule("conversations", "telegram_fsm", "updated_at", None, what="a flow in progress or abandoned"),
    Rule("conversations", "telegram_staff_prompts", "created_at", None, what="reasons typed by staff"),
    Rule("profiles", "telegram_users", "last_seen", None, what="a person's language and blocked mark"),
    Rule("security_events", "telegram_security_events", "at", None, what="refused presses and commands"),
    # Masked before they are stored (no emails, phones, links or names), but a question may still say
    # something about its writer: they go, waiting or learnt, once unchanged for the period.
    Rule("learning", "learning_questions", "updated_at", None,
         what="questions sent to staff to teach the engine, and the examples they became (masked)"),
)

# Copies of a request's personal data kept by channels, cleared when the request is redacted.
REDACTED_WITH_REQUEST: tuple[tuple[str, str], ...] = (
    ("email_inbound", "raw = NULL, from_addr = '', message_id = forgotten(message_id)"),
    ("email_threads", "address = '', subject = '', root_message_id = forgotten(root_message_id),"
                      " last_inbound_message_id = forgotten(last_inbound_message_id)"),
    ("email_outbound", "recipient = '', subject = ''"),
)

# The request itself (redacted by RetentionJob) and its trail (never holds any: bot/audit.py refuses it).
CORE_REQUEST_TABLES = frozenset({"requests", "request_audit"})

NO_PERSONAL_DATA: dict[str, str] = {
    "meta": "the installation's key and settings, the policy the bot last ran with (public text)",
    "schema_migrations": "applied migrations",
    "request_counters": "the last request number of each year",
    "email_mailbox_state": "the last UID fetched per mailbox",
    "telegram_cards": "which staff-chat message shows which request",
    "learning_audit": "staff decisions on learning questions: who, when, which section; never the question",
}


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
    for table, assignments in REDACTED_WITH_REQUEST:
        if "request_id" not in await _columns(conn, table):
            continue
        cur = await conn.execute(f"UPDATE {table} SET {assignments} WHERE request_id = ?", (request_id,))
        cleared += cur.rowcount
    return cleared
