"""SQL for privacy requests: rows in, PrivacyRequest out. Callers own the transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.requests.models import (
    OPEN_STATUSES,
    Channel,
    CorrectionItem,
    Identity,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.storage.timefmt import date_from_db, date_to_db, from_db, to_db

# Written exactly as in the WHERE of the partial index requests_open_queue (migration 0002): SQLite
# uses a partial index only when the query repeats its condition term for term.
_OPEN_SQL = "('awaiting_verification', 'pending_review', 'needs_info', 'approved')"
assert {part.strip(" '") for part in _OPEN_SQL.strip("()").split(",")} == {s.value for s in OPEN_STATUSES}
# Must match the expression of the requests_open_queue index (migration 0002) for SQLite to use it.
EFFECTIVE_DUE_SQL = "COALESCE(extended_due_date, due_date)"

COLUMNS = (
    "id", "type", "channel", "lang", "status", "verification_method", "verified_at", "details", "corrections",
    "received_at",
    "due_date", "extended_due_date", "extension_reason", "decided_by", "decided_at", "decision_reason",
    "info_question", "completed_at", "duplicate_of", "flags", "thread_ref", "updated_at", "closed_at",
    "redacted_at", "requester_pseudonym",
)
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM requests"
# The staff queue. INDEXED BY: on a young database without statistics the planner would pick
# (status, due_date) and sort; the partial index returns rows already in queue order.
QUEUE_SQL = (f"{_SELECT} INDEXED BY requests_open_queue WHERE status IN {_OPEN_SQL} "
             f"ORDER BY {EFFECTIVE_DUE_SQL}, id LIMIT ? OFFSET ?")


_IDENTITY_COLUMNS = ("request_id", "kind", "address", "shown", "route", "name", "verified_by", "verified_at")


def request_to_row(request: PrivacyRequest) -> dict[str, Any]:
    return {
        "id": request.id, "type": request.type.value, "channel": request.channel.value, "lang": request.lang,
        "status": request.status.value, "verification_method": request.verification_method.value,
        "verified_at": to_db(request.verified_at) if request.verified_at else None,
        "details": request.details,
        "corrections": json.dumps([c.to_dict() for c in request.corrections], ensure_ascii=False),
        "received_at": to_db(request.received_at), "due_date": date_to_db(request.due_date),
        "extended_due_date": date_to_db(request.extended_due_date), "extension_reason": request.extension_reason,
        "decided_by": request.decided_by, "decided_at": to_db(request.decided_at) if request.decided_at else None,
        "decision_reason": request.decision_reason, "info_question": request.info_question,
        "completed_at": to_db(request.completed_at) if request.completed_at else None,
        "duplicate_of": request.duplicate_of, "flags": json.dumps(request.flags, ensure_ascii=False),
        "thread_ref": request.thread_ref,
        "updated_at": to_db(request.updated_at or request.received_at),
        "closed_at": to_db(request.closed_at) if request.closed_at else None,
        "redacted_at": to_db(request.redacted_at) if request.redacted_at else None,
        "requester_pseudonym": request.requester_pseudonym,
    }


def identity_to_row(request_id: str, identity: Identity) -> tuple[Any, ...]:
    return (request_id, identity.kind, identity.address, identity.shown, identity.route, identity.name,
            identity.verified_by, to_db(identity.verified_at) if identity.verified_at else None)


def _row_to_identity(row: Sequence[Any]) -> Identity:
    return Identity(kind=row[1], address=row[2], shown=row[3], route=row[4], name=row[5], verified_by=row[6],
                    verified_at=from_db(row[7]))


# Stored order, which is also the order of preference among a requester's other channels.
_KIND_ORDER = "CASE kind WHEN 'email' THEN 0 WHEN 'telegram' THEN 1 ELSE 2 END"


async def _identities_of(conn: aiosqlite.Connection, request_ids: Sequence[str]) -> dict[str, list[Identity]]:
    found: dict[str, list[Identity]] = {request_id: [] for request_id in request_ids}
    # SQLite allows 999 parameters per statement in old builds: ask in chunks.
    for start in range(0, len(request_ids), 500):
        chunk = request_ids[start:start + 500]
        async with conn.execute(
                f"SELECT {', '.join(_IDENTITY_COLUMNS)} FROM request_identities WHERE request_id IN "
                f"({', '.join('?' for _ in chunk)}) ORDER BY request_id, {_KIND_ORDER}", chunk) as cur:
            for row in await cur.fetchall():
                found[row[0]].append(_row_to_identity(row))
    return found


async def _requests(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[PrivacyRequest]:
    """Requests read by ``sql`` (a ``_SELECT``), each with its identities."""
    async with conn.execute(sql, params) as cur:
        rows = await cur.fetchall()
    identities = await _identities_of(conn, [row[0] for row in rows])
    return [row_to_request(row, identities[row[0]]) for row in rows]


def row_to_request(row: Sequence[Any], identities: Sequence[Identity] = ()) -> PrivacyRequest:
    d = dict(zip(COLUMNS, row, strict=True))
    received = from_db(d["received_at"])
    due = date_from_db(d["due_date"])
    assert received is not None and due is not None
    return PrivacyRequest(
        id=d["id"], type=RequestType(d["type"]), channel=Channel(d["channel"]), lang=d["lang"],
        status=RequestStatus(d["status"]),
        requester=Requester.from_identities(identities), identities=tuple(identities),
        verification_method=VerificationMethod(d["verification_method"]), verified_at=from_db(d["verified_at"]),
        details=d["details"],
        corrections=tuple(CorrectionItem.from_dict(c) for c in json.loads(d["corrections"] or "[]")),
        received_at=received, due_date=due, extended_due_date=date_from_db(d["extended_due_date"]),
        extension_reason=d["extension_reason"], decided_by=d["decided_by"], decided_at=from_db(d["decided_at"]),
        decision_reason=d["decision_reason"], info_question=d["info_question"],
        completed_at=from_db(d["completed_at"]), duplicate_of=d["duplicate_of"],
        flags=json.loads(d["flags"] or "{}"), thread_ref=d["thread_ref"], updated_at=from_db(d["updated_at"]),
        closed_at=from_db(d["closed_at"]), redacted_at=from_db(d["redacted_at"]),
        requester_pseudonym=d["requester_pseudonym"],
    )


async def next_id(conn: aiosqlite.Connection, prefix: str, year: int) -> str:
    """Allocate the next human-friendly id of ``year``; call inside a write transaction."""
    async with conn.execute(
            "INSERT INTO request_counters(year, last) VALUES (?, 1) "
            "ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last", (year,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return f"{prefix}-{year}-{row[0]:04d}"


_INSERT_IDENTITY = (f"INSERT INTO request_identities ({', '.join(_IDENTITY_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _IDENTITY_COLUMNS)})")


async def insert(conn: aiosqlite.Connection, request: PrivacyRequest) -> None:
    """The request and its identities (``request.identities``)."""
    await insert_many(conn, [request])


async def insert_many(conn: aiosqlite.Connection, requests: Iterable[PrivacyRequest]) -> None:
    """Bulk load (benchmarks, imports); ids must already be allocated."""
    requests = list(requests)
    await conn.executemany(
        f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
        [tuple(row[c] for c in COLUMNS) for row in map(request_to_row, requests)])
    await conn.executemany(_INSERT_IDENTITY, [identity_to_row(request.id, identity) for request in requests
                                              for identity in request.identities])


async def prove(conn: aiosqlite.Connection, request_id: str, identity: Identity) -> None:
    """Record a proven identity: a new one, or one typed earlier now proven (one per kind and request)."""
    await conn.execute(
        f"{_INSERT_IDENTITY} ON CONFLICT(request_id, kind) DO UPDATE SET address = excluded.address, "
        "route = COALESCE(excluded.route, route), verified_by = excluded.verified_by, "
        "verified_at = excluded.verified_at", identity_to_row(request_id, identity))


async def get(conn: aiosqlite.Connection, request_id: str) -> PrivacyRequest | None:
    found = await _requests(conn, f"{_SELECT} WHERE id = ?", (request_id,))
    return found[0] if found else None


async def update_fields(conn: aiosqlite.Connection, request_id: str, expected_status: RequestStatus,
                        fields: dict[str, Any]) -> bool:
    """Conditional update: applies only if the status is still ``expected_status``; True when it did."""
    values = []
    for name, value in fields.items():
        if name not in COLUMNS or name == "id":
            raise ValueError(f"unknown request column {name}")
        if isinstance(value, datetime):
            value = to_db(value)
        elif isinstance(value, date):
            value = date_to_db(value)
        elif hasattr(value, "value"):  # enums
            value = value.value
        values.append(value)
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cur = await conn.execute(f"UPDATE requests SET {assignments} WHERE id = ? AND status = ?",
                             (*values, request_id, expected_status.value))
    return cur.rowcount == 1


async def open_for_requester(conn: aiosqlite.Connection, identities: Iterable[Identity]) -> list[PrivacyRequest]:
    """Open requests that share a *proven* identity with the given ones (pass only proven ones): the same
    Telegram account, the same address or phone proven on that request too."""
    pairs = [(identity.kind, identity.address) for identity in identities if identity.proven]
    if not pairs:
        return []
    match = " OR ".join("(kind = ? AND address = ?)" for _ in pairs)
    sql = (f"{_SELECT} WHERE status IN {_OPEN_SQL} AND id IN (SELECT request_id FROM request_identities "
           f"WHERE verified_by IS NOT NULL AND ({match})) ORDER BY received_at")
    return await _requests(conn, sql, [value for pair in pairs for value in pair])


async def open_queue(conn: aiosqlite.Connection, limit: int = 50, offset: int = 0) -> list[PrivacyRequest]:
    """The staff queue: open requests, the soonest due first (served by requests_open_queue)."""
    return await _requests(conn, QUEUE_SQL, (limit, offset))


async def list_requests(conn: aiosqlite.Connection, *, status: RequestStatus | None = None,
                        overdue_before: date | None = None, received_from: datetime | None = None,
                        received_to: datetime | None = None, limit: int | None = None) -> list[PrivacyRequest]:
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        clauses.append("status = ?")
        params.append(status.value)
    if overdue_before is not None:
        clauses.append(f"status IN {_OPEN_SQL} AND {EFFECTIVE_DUE_SQL} < ?")
        params.append(overdue_before.isoformat())
    if received_from is not None:
        clauses.append("received_at >= ?")
        params.append(to_db(received_from))
    if received_to is not None:
        clauses.append("received_at < ?")
        params.append(to_db(received_to))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"{_SELECT}{where} ORDER BY {EFFECTIVE_DUE_SQL}, id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return await _requests(conn, sql, params)


async def for_identity(conn: aiosqlite.Connection, kind: str, address: str) -> list[PrivacyRequest]:
    """Every request naming this identity (proven or not), the newest first."""
    sql = (f"{_SELECT} WHERE id IN (SELECT request_id FROM request_identities WHERE kind = ? AND address = ?) "
           "ORDER BY received_at DESC")
    return await _requests(conn, sql, (kind, address))


async def status_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    async with conn.execute("SELECT status, COUNT(*) FROM requests GROUP BY status") as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def count_overdue(conn: aiosqlite.Connection, today: date) -> int:
    async with conn.execute(f"SELECT COUNT(*) FROM requests WHERE status IN {_OPEN_SQL} "
                            f"AND {EFFECTIVE_DUE_SQL} < ?", (today.isoformat(),)) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def due_for_reminder(conn: aiosqlite.Connection, due_by: date, today: date,
                           limit: int = 500) -> list[PrivacyRequest]:
    """Open requests due on or before ``due_by`` not yet reminded about ``today``."""
    sql = (f"{_SELECT} WHERE status IN {_OPEN_SQL} AND {EFFECTIVE_DUE_SQL} <= ? "
           f"AND (last_reminder_on IS NULL OR last_reminder_on < ?) ORDER BY {EFFECTIVE_DUE_SQL}, id LIMIT ?")
    return await _requests(conn, sql, (due_by.isoformat(), today.isoformat(), limit))


async def mark_reminded(conn: aiosqlite.Connection, request_id: str, today: date) -> bool:
    """Claim today's reminder; False when someone (another process) already did."""
    cur = await conn.execute(
        "UPDATE requests SET last_reminder_on = ? WHERE id = ? "
        "AND (last_reminder_on IS NULL OR last_reminder_on < ?)",
        (today.isoformat(), request_id, today.isoformat()))
    return cur.rowcount == 1


async def closed_before(conn: aiosqlite.Connection, cutoff: datetime, limit: int = 500) -> list[PrivacyRequest]:
    """Closed requests whose personal details are older than retention allows and not yet redacted."""
    sql = f"{_SELECT} WHERE closed_at IS NOT NULL AND redacted_at IS NULL AND closed_at < ? ORDER BY closed_at LIMIT ?"
    return await _requests(conn, sql, (to_db(cutoff), limit))


async def redact(conn: aiosqlite.Connection, request_id: str, pseudonym: str, at: datetime) -> bool:
    """Remove the requester's personal details, keeping type, dates, decision and the pseudonym."""
    cur = await conn.execute(
        "UPDATE requests SET details = '', corrections = '[]', info_question = NULL, thread_ref = NULL, "
        "decision_reason = NULL, extension_reason = NULL, "
        "flags = '{}', requester_pseudonym = ?, redacted_at = ?, updated_at = ? "
        "WHERE id = ? AND redacted_at IS NULL",
        (pseudonym, to_db(at), to_db(at), request_id))
    if cur.rowcount != 1:
        return False
    await conn.execute("DELETE FROM request_identities WHERE request_id = ?", (request_id,))
    await conn.execute("UPDATE request_messages SET body = NULL WHERE request_id = ?", (request_id,))
    return True


async def add_message(conn: aiosqlite.Connection, request_id: str, author: str, body: str, at: datetime) -> int:
    cur = await conn.execute("INSERT INTO request_messages(request_id, at, author, body) VALUES (?, ?, ?, ?)",
                             (request_id, to_db(at), author, body))
    return int(cur.lastrowid or 0)


async def messages(conn: aiosqlite.Connection, request_id: str) -> list[dict[str, Any]]:
    async with conn.execute("SELECT id, at, author, body FROM request_messages WHERE request_id = ? ORDER BY id",
                            (request_id,)) as cur:
        return [{"id": r[0], "at": from_db(r[1]), "author": r[2], "body": r[3]} for r in await cur.fetchall()]


async def get_meta(conn: aiosqlite.Connection, key: str) -> str | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    return str(row[0]) if row else None


async def set_meta_if_absent(conn: aiosqlite.Connection, key: str, value: str) -> str:
    """Store ``value`` unless the key exists; return the stored value either way."""
    await conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", (key, value))
    stored = await get_meta(conn, key)
    assert stored is not None
    return stored
