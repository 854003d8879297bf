"""SQL for the email channel's tables (migration 0200): inbound mail, mailbox state, outbound, threads."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from bot.storage.db import Database

# Appended to the outcome of the mail whose answer was the notice of the reply limit (once per window).
LIMIT_NOTICE = ":limit_notice"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class InboundMail:
    id: int
    mailbox: str
    uidvalidity: int
    uid: int
    message_id: str
    raw: bytes
    truncated: bool
    received_at: datetime


@dataclass(frozen=True)
class Thread:
    request_id: str
    address: str
    root_message_id: str
    last_inbound_message_id: str
    subject: str
    lang: str
    confirmation: str
    created_at: datetime
    reminded_at: datetime | None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _thread(row: aiosqlite.Row) -> Thread:
    created = _parse_time(row["created_at"])
    assert created is not None
    return Thread(row["request_id"], row["address"], row["root_message_id"], row["last_inbound_message_id"],
                  row["subject"], row["lang"], row["confirmation"], created, _parse_time(row["reminded_at"]))


def _set_mailbox_state(connection: sqlite3.Connection, mailbox: str, uidvalidity: int, last_uid: int) -> None:
    connection.execute(
        "INSERT INTO email_mailbox_state(mailbox, uidvalidity, last_uid) VALUES (?, ?, ?)"
        " ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
        " last_uid = excluded.last_uid", (mailbox, uidvalidity, last_uid))


class EmailStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- outbound ----------------------------------------------------------------------------------

    async def outbound_state(self, idempotency_key: str) -> str | None:
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT state FROM email_outbound WHERE idempotency_key = ?", (idempotency_key,)))
        row = rows[0] if rows else None
        return None if row is None else str(row["state"])

    async def record_sent(self, idempotency_key: str, message_id: str, recipient: str,
                          request_id: str | None, subject: str) -> None:
        now = iso(utc_now())
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO email_outbound(idempotency_key, message_id, recipient, request_id, subject, state,"
                " created_at, sent_at) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)"
                " ON CONFLICT(idempotency_key) DO UPDATE SET state = 'sent', sent_at = excluded.sent_at",
                (idempotency_key, message_id, recipient, request_id, subject, now, now))

    async def request_message_ids(self, request_id: str) -> list[str]:
        """Message-IDs of a request's thread, oldest first (for References)."""
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT message_id, received_at AS at FROM email_inbound WHERE request_id = ?"
                " UNION ALL SELECT message_id, created_at AS at FROM email_outbound"
                " WHERE request_id = ? AND state = 'sent' ORDER BY at", (request_id, request_id)))
        return [str(row["message_id"]) for row in rows]

    # -- threads -----------------------------------------------------------------------------------

    async def thread(self, request_id: str) -> Thread | None:
        rows = list(await self.db.conn.execute_fetchall("SELECT * FROM email_threads WHERE request_id = ?", (request_id,)))
        row = rows[0] if rows else None
        return None if row is None else _thread(row)

    async def insert_thread(self, conn: aiosqlite.Connection, *, request_id: str, address: str,
                            message_id: str, subject: str, lang: str, confirmed: bool) -> None:
        await conn.execute(
            "INSERT OR REPLACE INTO email_threads(request_id, address, root_message_id, last_inbound_message_id,"
            " subject, lang, confirmation, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (request_id, address, message_id, message_id, subject, lang,
             "confirmed" if confirmed else "awaiting", iso(utc_now())))

    async def thread_for_message_ids(self, message_ids: list[str]) -> Thread | None:
        """The request thread one of these Message-IDs belongs to (a reply's In-Reply-To/References)."""
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        query = (
            f"SELECT t.* FROM email_threads t WHERE t.root_message_id IN ({marks})"
            f" OR t.last_inbound_message_id IN ({marks})"
            f" OR t.request_id IN (SELECT request_id FROM email_outbound WHERE message_id IN ({marks}))"
            f" OR t.request_id IN (SELECT request_id FROM email_inbound WHERE message_id IN ({marks}))"
            " ORDER BY t.created_at DESC LIMIT 1")
        rows = list(await self.db.conn.execute_fetchall(query, message_ids * 4))
        row = rows[0] if rows else None
        return None if row is None else _thread(row)

    async def set_thread_state(self, conn: aiosqlite.Connection, request_id: str, *,
                               confirmation: str | None = None, last_inbound: str | None = None,
                               reminded: bool = False) -> None:
        if confirmation is not None:
            await conn.execute("UPDATE email_threads SET confirmation = ? WHERE request_id = ?",
                               (confirmation, request_id))
        if last_inbound is not None:
            await conn.execute("UPDATE email_threads SET last_inbound_message_id = ? WHERE request_id = ?",
                               (last_inbound, request_id))
        if reminded:
            await conn.execute("UPDATE email_threads SET reminded_at = ? WHERE request_id = ?",
                               (iso(utc_now()), request_id))

    async def awaiting_from(self, address: str) -> list[Thread]:
        """Threads of one address still waiting for their confirmation (a token may confirm one)."""
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT * FROM email_threads WHERE address = ? AND confirmation = 'awaiting' ORDER BY created_at"
                " LIMIT 20", (address,)))
        return [_thread(row) for row in rows]

    async def awaiting_confirmation(self) -> list[Thread]:
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT * FROM email_threads WHERE confirmation = 'awaiting' ORDER BY created_at"))
        return [_thread(row) for row in rows]

    # -- inbound -----------------------------------------------------------------------------------

    async def mailbox_state(self, mailbox: str) -> tuple[int, int] | None:
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT uidvalidity, last_uid FROM email_mailbox_state WHERE mailbox = ?", (mailbox,)))
        row = rows[0] if rows else None
        return None if row is None else (int(row["uidvalidity"]), int(row["last_uid"]))

    async def set_mailbox_state(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        await self.db.transact(lambda connection: _set_mailbox_state(connection, mailbox, uidvalidity, last_uid))

    async def known_uids(self, mailbox: str, uidvalidity: int, uids: list[int]) -> set[int]:
        if not uids:
            return set()
        marks = ",".join("?" * len(uids))
        rows = list(await self.db.conn.execute_fetchall(
                f"SELECT uid FROM email_inbound WHERE mailbox = ? AND uidvalidity = ? AND uid IN ({marks})",
                (mailbox, uidvalidity, *uids)))
        return {int(row["uid"]) for row in rows}

    async def store_inbound(self, mailbox: str, uidvalidity: int,
                            items: list[tuple[int, str, bytes, int, bool]],
                            own_ids: frozenset[str] = frozenset(), *, last_uid: int | None = None) -> int:
        """Store fetched mail (uid, message_id, capped raw, full size, truncated); duplicates are ignored.

        Copies of our own replies (``own_ids``) are stored already processed and without their body:
        they only prove a reply went out. With ``last_uid`` the mailbox's last seen UID is set in the same
        transaction. Returns how many rows were new. One transaction per chunk (one trip to the database).
        """
        now = iso(utc_now())
        rows = []
        for uid, message_id, raw, size, truncated in items:
            own = message_id in own_ids
            rows.append((mailbox, uidvalidity, uid, message_id, None if own else raw, size, int(truncated), now,
                         "processed" if own else "received", "own_copy" if own else "", now if own else None))

        def store(connection: sqlite3.Connection) -> int:
            cursor = connection.executemany(
                "INSERT OR IGNORE INTO email_inbound(mailbox, uidvalidity, uid, message_id, raw, raw_size,"
                " truncated, received_at, state, outcome, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows)
            new = max(cursor.rowcount, 0)
            if last_uid is not None:
                _set_mailbox_state(connection, mailbox, uidvalidity, last_uid)
            return new

        return await self.db.transact(store)

    async def has_inbound(self, message_id: str) -> bool:
        rows = list(await self.db.conn.execute_fetchall("SELECT 1 FROM email_inbound WHERE message_id = ?", (message_id,)))
        return bool(rows)

    async def unprocessed(self, limit: int = 100) -> list[InboundMail]:
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT id, mailbox, uidvalidity, uid, message_id, raw, truncated, received_at FROM email_inbound"
                " WHERE state = 'received' ORDER BY id LIMIT ?", (limit,)))
        rows = rows
        result = []
        for row in rows:
            received = _parse_time(row["received_at"])
            assert received is not None
            result.append(InboundMail(int(row["id"]), row["mailbox"], int(row["uidvalidity"]), int(row["uid"]),
                                      row["message_id"], bytes(row["raw"] or b""), bool(row["truncated"]),
                                      received))
        return result

    async def mark_processed_many(self, conn: aiosqlite.Connection,
                                  marks: list[tuple[int, str, str, bool, str | None]]) -> None:
        """(inbound id, outcome, from address, replied, request id) for each mail, in one statement."""
        now = iso(utc_now())
        await conn.executemany(
            "UPDATE email_inbound SET state = 'processed', outcome = ?, from_addr = ?, replied = ?,"
            " request_id = ?, processed_at = ? WHERE id = ?",
            [(outcome, from_addr, int(replied), request_id, now, inbound_id)
             for inbound_id, outcome, from_addr, replied, request_id in marks])

    async def replies_since_many(self, conn: aiosqlite.Connection, addresses: set[str],
                                 since: datetime) -> dict[str, int]:
        """Mails answered per address since ``since`` (the reply cap), for several addresses at once."""
        if not addresses:
            return {}
        marks = ",".join("?" * len(addresses))
        rows = await conn.execute_fetchall(
                f"SELECT from_addr, COUNT(*) FROM email_inbound WHERE from_addr IN ({marks}) AND replied = 1"
                " AND processed_at >= ? GROUP BY from_addr", (*addresses, iso(since)))
        return {str(row[0]): int(row[1]) for row in rows}

    async def reply_times_since(self, conn: aiosqlite.Connection, address: str, since: datetime) -> list[datetime]:
        """When mails from this address that we replied to were processed, newest first."""
        rows = list(await conn.execute_fetchall(
                "SELECT processed_at FROM email_inbound WHERE from_addr = ? AND replied = 1 AND processed_at >= ?"
                " ORDER BY processed_at DESC", (address, iso(since))))
        return [moment for row in rows if (moment := _parse_time(row[0])) is not None]

    async def limit_notices_since(self, conn: aiosqlite.Connection, address: str, since: datetime) -> int:
        """How many times this address was told of the reply limit (outcome ``...:limit_notice``)."""
        rows = list(await conn.execute_fetchall(
                "SELECT COUNT(*) FROM email_inbound WHERE from_addr = ? AND outcome LIKE ? AND processed_at >= ?",
                (address, f"%{LIMIT_NOTICE}", iso(since))))
        return int(rows[0][0]) if rows else 0

    async def unflagged(self, mailbox: str, uidvalidity: int, limit: int = 500) -> list[int]:
        rows = list(await self.db.conn.execute_fetchall(
                "SELECT uid FROM email_inbound WHERE mailbox = ? AND uidvalidity = ? AND state = 'processed'"
                " AND flagged = 0 ORDER BY uid LIMIT ?", (mailbox, uidvalidity, limit)))
        return [int(row["uid"]) for row in rows]

    async def mark_flagged(self, mailbox: str, uidvalidity: int, uids: list[int]) -> None:
        if not uids:
            return
        marks = ",".join("?" * len(uids))

        def flag(connection: sqlite3.Connection) -> None:
            connection.execute(
                f"UPDATE email_inbound SET flagged = 1 WHERE mailbox = ? AND uidvalidity = ? AND uid IN ({marks})",
                (mailbox, uidvalidity, *uids))

        await self.db.transact(flag)

    async def inbound_outcomes(self) -> dict[str, str]:
        rows = list(await self.db.conn.execute_fetchall("SELECT message_id, outcome FROM email_inbound"))
        return {str(row["message_id"]): str(row["outcome"]) for row in rows}
