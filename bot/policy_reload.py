"""The policy the running bot answers with: recorded at start, reloaded on SIGHUP, staff told of each change.

- At start (``record_start``) the policy the engine loaded is compared with the snapshot of the one the
  bot last ran with (``meta`` key ``policy_snapshot``, ``bot/policy/snapshot.py``). When the version or
  the effective date differs, the staff chat gets one notice (outbox kind ``staff.policy_changed``:
  version, effective date, added, removed, changed and likely renamed sections) written in the same
  transaction as the new snapshot, so it is sent once however often the bot restarts or crashes. The very
  first run records the snapshot silently: there is nothing to compare with.
- On SIGHUP (``privacy-bot policy reload`` sends it, finding the bot by its pid file, ``bot/pidfile.py``)
  the engine is built again off the event loop, checked by what the channels require of it (Telegram:
  every section id fits in a button), and swapped into ``services.engine`` in one assignment. Handlers
  read ``services.engine`` for every message, so an answer comes wholly from the old or the new engine;
  conversations in progress live in the database and do not notice. A folder the engine refuses keeps
  the old engine and is logged as one line. Signals that arrive during a reload cause one more reload
  after it, so the files read are never older than the last signal.
- Each attempt's outcome is written to ``privacy-bot.reload.json`` beside the pid file for the command
  that asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n import format_date
from bot.learning import stored_examples
from bot.policy.engine import PolicyEngine
from bot.policy.snapshot import PolicyDiff, describe, diff, snapshot_of
from bot.services import Services, load_engine
from bot.storage import policy_repo
from bot.storage.db import DatabaseUnusable

log = logging.getLogger(__name__)

STAFF_KIND = "staff.policy_changed"


@dataclass
class ReloadOutcome:
    ok: bool
    version: str  # the version the bot answers with after the attempt
    effective_date: str
    previous_version: str
    error: str = ""
    changes: list[str] = field(default_factory=list)
    version_changed: bool = False

    def as_status(self, started: float) -> dict[str, Any]:
        return {"pid": os.getpid(), "started": started, "finished": time.time(), "ok": self.ok,
                "version": self.version, "effective_date": self.effective_date,
                "previous_version": self.previous_version, "error": self.error, "changes": self.changes,
                "version_changed": self.version_changed}


class PolicyReloader:
    def __init__(self, services: Services, *, status_file: Path | None = None) -> None:
        self.services = services
        self.status_file = status_file
        self._wanted = asyncio.Event()
        self.attempts = 0

    # ----- start --------------------------------------------------------------------------------

    async def record_start(self) -> PolicyDiff:
        change = await self._record(self.services.engine)
        if change.old is not None and change.version_changed:
            log.info("policy: started with version %s (effective %s), was %s (effective %s); staff told",
                     change.new.version, change.new.effective_date, change.old.version, change.old.effective_date)
        return change

    async def _record(self, engine: PolicyEngine) -> PolicyDiff:
        """Compare ``engine``'s policy with the recorded one; when it differs, save it and tell staff."""
        services = self.services
        lang = services.config.policy.default_language
        snapshot = snapshot_of(engine.policy)
        async with services.db.transaction() as conn:
            old = await policy_repo.load_snapshot(conn)
            change = diff(old, snapshot)
            if old is None:
                await policy_repo.save_snapshot(conn, snapshot)
            elif change.version_changed or change.sections_changed:
                number = old.changes + 1
                await policy_repo.save_snapshot(conn, snapshot.with_changes(number))
                lines = [services.translator(lang, "policy-staff-changed", version=snapshot.version,
                                             date=format_date(lang, snapshot.effective_date),
                                             old_version=old.version, old_date=format_date(lang, old.effective_date))]
                lines += [f"• {line}" for line in describe(change, services.translator, lang)]
                await services.outbox.enqueue(
                    conn, channel="staff", recipient="", kind=STAFF_KIND,
                    payload={"text": "\n".join(lines), "version": snapshot.version,
                             "effective_date": snapshot.effective_date, "previous_version": old.version},
                    idempotency_key=f"policy-changed:{number}:{snapshot.version}")
        if old is not None:
            # Buttons already in people's chats may name a section this policy no longer has: stale, not forged.
            current = set(snapshot.ids())
            services.retired_section_ids.update(i for i in old.ids() if i not in current)
        return change

    # ----- reloading ----------------------------------------------------------------------------

    def request(self) -> None:
        """Ask for a reload (the SIGHUP handler): runs soon, or once more after the one running."""
        self._wanted.set()

    async def run(self, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                wanted = asyncio.create_task(self._wanted.wait())
                await asyncio.wait([wanted, stopping], return_when=asyncio.FIRST_COMPLETED)
                if not wanted.done():
                    wanted.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await wanted
                if stop.is_set():
                    break
                self._wanted.clear()
                await self.reload()
        finally:
            stopping.cancel()

    async def reload(self) -> ReloadOutcome:
        """Build the engine from the folder again and swap it in; on any problem keep the old one."""
        started = time.time()
        self.attempts += 1
        services = self.services
        old = services.engine
        config = services.config
        try:
            # What staff taught (bot/learning.py) lives in the database: the new engine learns it too.
            examples = await stored_examples(services.db)
            new = await asyncio.to_thread(load_engine, config, services.translator, examples)
            for check in services.policy_checks:
                check(new)
        except DatabaseUnusable:
            raise
        except Exception as exc:
            error = str(exc) or type(exc).__name__
            log.error("policy reload failed, still answering with version %s: %s", old.policy_version, error)
            outcome = ReloadOutcome(ok=False, version=old.policy_version, effective_date=old.effective_date,
                                    previous_version=old.policy_version, error=error)
            self._write_status(outcome, started)
            return outcome
        change = await self._record(new)
        services.engine = new
        # Taught at load: the examples read before it; decisions made while it was built went to the old
        # engine, so they are taught again (catch_up) - nothing staff decided is lost by a reload.
        services.learning.forget_taught()
        services.learning.mark_taught(e.id for e in examples)
        del old
        await services.learning.catch_up()
        await asyncio.to_thread(_collect_old_engine)
        lines = describe(change, services.translator, config.policy.default_language)
        outcome = ReloadOutcome(ok=True, version=new.policy_version, effective_date=new.effective_date,
                                previous_version=change.old.version if change.old else "", changes=lines,
                                version_changed=change.version_changed)
        log.info("policy reloaded: version %s (effective %s), was %s; %d section change(s)",
                 new.policy_version, new.effective_date, outcome.previous_version or "-", len(lines))
        self._write_status(outcome, started)
        return outcome

    def _write_status(self, outcome: ReloadOutcome, started: float) -> None:
        if self.status_file is None:
            return
        from bot.pidfile import write_status
        try:
            write_status(self.status_file, outcome.as_status(started))
        except OSError as exc:
            log.warning("policy reload: cannot write %s (%s)", self.status_file, exc.strerror)


def _collect_old_engine() -> None:
    # The engine freezes what it loads out of the collector's sight (gc.freeze, bot/policy/engine.py); the
    # replaced engine's reference cycles would stay frozen for ever, so let one full collection see them.
    gc.unfreeze()
    gc.collect()
    gc.freeze()
