"""Benchmark of the request core with 100,000 requests in the database.

Prints: the rate of creating requests through RequestService (row, audit events and outbox messages in
one transaction each) against a baseline measured in the same run (plain sqlite3 single-row inserts of
the same request rows, one transaction each); the p50/p99 time of the staff queue query (open requests
by due date, first page) against the same query forced to ignore indexes; and the database file size.

    .venv/bin/python bench/requests_queue.py            # defaults: 100,000 requests, about 30-60 s
    .venv/bin/python bench/requests_queue.py --total 20000 --queries 200

Targets (the issue): queue query p99 under 20 ms, database file under 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Config, StorageConfig  # noqa: E402
from bot.requests import deadlines  # noqa: E402
from bot.requests.models import (  # noqa: E402
    OPEN_STATUSES,
    Channel,
    PrivacyRequest,
    Requester,
    RequestStatus,
    RequestType,
    VerificationMethod,
)
from bot.requests.service import RequestService  # noqa: E402
from bot.storage import requests_repo  # noqa: E402
from bot.storage.db import Database  # noqa: E402
from bot.storage.timefmt import to_db  # noqa: E402

OPEN_SHARE = 0.08  # most requests in a mature database are closed
CLOSED = [RequestStatus.COMPLETED, RequestStatus.REJECTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED]
OPEN = sorted(OPEN_STATUSES)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def synthetic(i: int, year_counter: dict[int, int], rng: random.Random, config: Config) -> PrivacyRequest:
    received = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 4 * 365 * 24 * 60))
    type_ = rng.choice(list(RequestType))
    year = received.year
    year_counter[year] = year_counter.get(year, 0) + 1
    is_open = rng.random() < OPEN_SHARE
    status = rng.choice(OPEN) if is_open else rng.choice(CLOSED)
    decided = received + timedelta(days=rng.randrange(1, 9))
    return PrivacyRequest(
        id=f"BX-{year}-{year_counter[year]:06d}", type=type_, channel=rng.choice(list(Channel)), lang="ru",
        status=status,
        requester=Requester(telegram_user_id=10_000_000 + i, telegram_chat_id=10_000_000 + i,
                            telegram_name=f"Пользователь {i}", email=f"user{i}@example.ru"),
        verification_method=VerificationMethod.EMAIL_CODE, verified_at=received,
        details="Прошу удалить мою учётную запись, историю заказов и переписку с менеджером.",
        corrections=(), received_at=received, due_date=deadlines.due_date(type_, received, config.requests),
        decided_by=None if is_open else "staff:anna", decided_at=None if is_open else decided,
        completed_at=decided if status is RequestStatus.COMPLETED else None,
        closed_at=None if is_open else decided, updated_at=decided,
    )


async def fill(db: Database, count: int, config: Config, rng: random.Random) -> None:
    """Bulk rows with the audit events and delivered messages a real request leaves behind."""
    counters: dict[int, int] = {}
    batch = 5000
    for start in range(0, count, batch):
        rows = [synthetic(i, counters, rng, config) for i in range(start, min(count, start + batch))]
        async with db.transaction() as conn:
            await requests_repo.insert_many(conn, rows)
            audit, outbox = [], []
            for r in rows:
                at = to_db(r.received_at)
                audit += [(r.id, at, "created", "requester", json.dumps({"type": r.type.value})),
                          (r.id, at, "verified", "requester", '{"method": "email_code"}'),
                          (r.id, at, "status_changed", "staff:anna", '{"from": "pending_review", "to": "approved"}'),
                          (r.id, at, "message_sent", "system", '{"kind": "request.created"}')]
                payload = json.dumps({"text": "Ваш запрос зарегистрирован. По закону мы ответим не позднее "
                                              "23.01.2026.", "lang": "ru", "request_id": r.id}, ensure_ascii=False)
                outbox += [("telegram", str(r.requester.telegram_chat_id), "request.created", payload,
                            f"{r.id}:1:requester", r.id, "sent", at, at)]
            await conn.executemany("INSERT INTO request_audit(request_id, at, event, actor, details) "
                                   "VALUES (?, ?, ?, ?, ?)", audit)
            await conn.executemany("INSERT INTO outbox(channel, recipient, kind, payload, idempotency_key, "
                                   "request_id, status, next_attempt_at, created_at) "
                                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox)


def baseline_insert_rate(path: Path, count: int) -> float:
    """Plain sqlite3: the same request rows, one INSERT per transaction, same pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"CREATE TABLE requests ({', '.join(requests_repo.COLUMNS)})")
    config = Config()
    rows = [requests_repo.request_to_row(synthetic(i, {}, random.Random(i), config)) for i in range(count)]
    sql = (f"INSERT INTO requests ({', '.join(requests_repo.COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in requests_repo.COLUMNS)})")
    start = time.perf_counter()
    for i, row in enumerate(rows):
        values = list(row[c] for c in requests_repo.COLUMNS)
        values[0] = f"B-{i}"
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, values)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


async def main(total: int, create_count: int, queries: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="privacy-bot-bench-"))
    path = workdir / "bench.sqlite3"
    config = Config(storage=StorageConfig(database=path))
    rng = random.Random(20260101)
    db = await Database(path).open()
    try:  # a failure must not leave the connection's thread keeping the process alive
        service = RequestService(db, config)

        # 1. creation through the service (row + audit + outbox messages, one transaction each)
        start = time.perf_counter()
        for i in range(create_count):
            await service.create(type=rng.choice(list(RequestType)), channel=Channel.TELEGRAM, lang="ru",
                                 requester=Requester(telegram_user_id=i + 1, telegram_chat_id=i + 1),
                                 details="удалить всё", verified=VerificationMethod.EMAIL_CODE, actor="requester")
        create_rate = create_count / (time.perf_counter() - start)
        plain_rate = baseline_insert_rate(workdir / "baseline.sqlite3", create_count)

        # 2. fill up to the total with realistic rows (most closed), with their trail and sent messages
        start = time.perf_counter()
        await fill(db, total - create_count, config, rng)
        await db.conn.execute("ANALYZE")
        fill_seconds = time.perf_counter() - start
        async with db.conn.execute("SELECT COUNT(*), SUM(status IN ('awaiting_verification', 'pending_review', "
                                   "'needs_info', 'approved')) FROM requests") as cur:
            row = await cur.fetchone()
        assert row is not None
        count, open_count = row

        # 3. the staff queue: first page of open requests by effective due date
        timings = []
        for _ in range(queries):
            t0 = time.perf_counter()
            page = await service.open_queue(limit=50)
            timings.append((time.perf_counter() - t0) * 1000)
        assert len(page) == 50
        # baseline: the same query with every index ignored (what it costs without requests_open_queue)
        unindexed_sql = requests_repo.QUEUE_SQL.replace("INDEXED BY requests_open_queue", "NOT INDEXED")
        base_timings = []
        for _ in range(max(5, queries // 20)):
            t0 = time.perf_counter()
            async with db.conn.execute(unindexed_sql, (50, 0)) as cur:
                rows = await cur.fetchall()
            [requests_repo.row_to_request(r) for r in rows]
            base_timings.append((time.perf_counter() - t0) * 1000)

        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()
    size_mb = path.stat().st_size / 1e6

    p50, p99 = statistics.median(timings), percentile(timings, 99)
    b50, b99 = statistics.median(base_timings), percentile(base_timings, 99)
    print(f"requests in database:          {count:,} ({open_count:,} open)")
    print(f"create via RequestService:     {create_rate:,.0f} requests/s ({create_count:,} requests, "
          f"row + audit + outbox per transaction)")
    print(f"baseline plain sqlite3 insert: {plain_rate:,.0f} rows/s  -> service/baseline = "
          f"{create_rate / plain_rate:.2f}")
    print(f"bulk fill:                     {total - create_count:,} requests in {fill_seconds:.1f} s")
    print(f"queue query (50 open by due):  p50 {p50:.2f} ms, p99 {p99:.2f} ms over {queries} runs "
          f"(target p99 < 20 ms: {'met' if p99 < 20 else 'MISSED'})")
    print(f"baseline without index:        p50 {b50:.2f} ms, p99 {b99:.2f} ms  -> baseline/indexed p50 = "
          f"{b50 / p50:.1f}x")
    print(f"database file:                 {size_mb:.1f} MB (target < 200 MB: "
          f"{'met' if size_mb < 200 else 'MISSED'})")
    if "--keep" in sys.argv:
        print(f"kept: {path}")
        return 0
    shutil.rmtree(workdir)
    return 0 if p99 < 20 and size_mb < 200 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total", type=int, default=100_000, help="requests in the database")
    parser.add_argument("--create", type=int, default=2_000, help="of which created through RequestService")
    parser.add_argument("--queries", type=int, default=500, help="queue queries timed")
    parser.add_argument("--keep", action="store_true", help="keep the database file (prints its path)")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.total, args.create, args.queries)))
