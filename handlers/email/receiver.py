"""The IMAP side: wait for mail (IDLE, or polling), store it, process it from the store, then flag it.

Order per chunk: FETCH -> INSERT (deduplicated by (UIDVALIDITY, UID) and Message-ID) -> remember the last
UID -> process from the database -> \\Seen on the server. A crash between any two steps repeats at most
the later ones, and each of those is idempotent. When the server goes away the loop reconnects with
exponential backoff; a changed UIDVALIDITY starts over from the unseen mail (the Message-ID dedupe stops
anything already handled from being handled again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable

from bot.config import Config
from handlers.email.imap import ImapError, ImapSession
from handlers.email.parsing import NO_MESSAGE_ID_PREFIX, header_message_id
from handlers.email.store import EmailStore, InboundMail

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
FETCH_BYTES_PER_COMMAND = 8_000_000
# IMAP servers may drop an IDLE after 30 minutes (RFC 2177): renew well before.
IDLE_RENEW_SECONDS = 25 * 60.0
# After a sync that stored mail, wait this long before the next IDLE (see ``run``).
BUSY_PAUSE_SECONDS = 0.2
# Stored mail processed per database read.
PROCESS_BATCH = 100


class Receiver:
    def __init__(self, config: Config, store: EmailStore, process: Callable[[InboundMail], Awaitable[str]], *,
                 is_own: Callable[[str], bool] = lambda message_id: False,
                 ssl_context: ssl.SSLContext | None = None, min_backoff: float = 0.5,
                 process_many: Callable[[list[InboundMail]], Awaitable[list[str]]] | None = None) -> None:
        self.config = config
        self.store = store
        self.process = process
        # Processes a stored chunk at once (fewer commits); one by one through ``process`` without it.
        self.process_many = process_many
        self.is_own = is_own
        self.ssl_context = ssl_context
        self.mailbox = config.email.imap_folder
        self.min_backoff = min_backoff
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.using_idle: bool | None = None

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self.min_backoff
        while not stop.is_set():
            session = ImapSession(self.config, ssl_context=self.ssl_context)
            try:
                await session.connect()
                self.using_idle = session.has_idle
                self.connected.set()
                backoff = self.min_backoff
                log.info("email: connected to the mailbox (IDLE %s)", "yes" if session.has_idle else "no")
                stored = await self.sync(session)
                while not stop.is_set():
                    if stored and session.has_idle:
                        # Mail is arriving (in a burst, mostly the copies of our own replies): let more
                        # of it land, so one sync takes many instead of one sync per IDLE round.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), BUSY_PAUSE_SECONDS)
                        if stop.is_set():
                            break
                    news = session.grown  # announced while the last sync ran: look again without waiting
                    if session.has_idle and not news:
                        news = await session.wait_for_news(
                            min(self.config.email.imap_poll_seconds, IDLE_RENEW_SECONDS), stop)
                    elif not news:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.config.email.imap_poll_seconds)
                    if not stop.is_set():
                        # After the server announced mail it has just shown us its mailbox: no NOOP needed.
                        stored = await self.sync(session, refresh=not news)
            except (ImapError, OSError, TimeoutError) as exc:
                log.warning("email: mailbox unavailable (%s); reconnecting in %.1fs", exc, backoff)
            except Exception:
                log.exception("email: receiver failed; reconnecting in %.1fs", backoff)
            finally:
                self.connected.clear()
                await session.close()
            if stop.is_set():
                break
            self.reconnects += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def sync(self, session: ImapSession, *, refresh: bool = True) -> int:
        """Bring the store up to date with the mailbox and process what is new; returns mails stored.

        ``refresh``: NOOP first, so the server looks at its mailbox again (polling)."""
        if refresh:
            await session.noop()
        uidvalidity = session.uidvalidity
        state = await self.store.mailbox_state(self.mailbox)
        if state is None or state[0] != uidvalidity:
            # First run or a rebuilt mailbox (UIDs mean nothing now): history that is already read stays
            # alone; unseen mail is taken below.
            if state is not None:
                log.warning("email: UIDVALIDITY changed; re-reading unseen mail")
            last = max(session.uidnext - 1, 0)
            await self.store.set_mailbox_state(self.mailbox, uidvalidity, last)
        else:
            last = state[1]
        # New UIDs plus anything still unseen: a crash before \Seen or a lost flag never loses a mail.
        session.grown = False  # what the server announces from now on, this search may not include
        uids = await session.new_or_unseen(last)
        known = await self.store.known_uids(self.mailbox, uidvalidity, uids)
        todo = [uid for uid in uids if uid not in known]
        stored = 0
        heads = await session.headers(todo) if todo else {}
        # Copies of our own replies (a signed Message-ID) are stored from their headers: only their
        # Message-ID matters (the proof a reply went out), so their bodies are never fetched.
        ids = {uid: header_message_id(mail.raw) for uid, mail in heads.items()}
        copies = [(uid, ids[uid], b"", heads[uid].size, False) for uid in todo if uid in ids and self.is_own(ids[uid])]
        if copies:
            stored += await self.store.store_inbound(self.mailbox, uidvalidity, copies,
                                                     frozenset(message_id for _, message_id, *_ in copies))
            copied = {uid for uid, *_ in copies}
            todo = [uid for uid in todo if uid not in copied]
        for part in await self._plan(session, todo, {uid: mail.size for uid, mail in heads.items()}):
            fetched = await session.fetch(part)
            items = [(mail.uid, _message_id(ids.get(mail.uid), mail.raw), mail.raw, mail.size, mail.truncated)
                     for mail in fetched]
            own = frozenset(message_id for _, message_id, *_ in items if self.is_own(message_id))
            # The mail and the last UID seen commit together.
            last = max(last, *part)
            stored += await self.store.store_inbound(self.mailbox, uidvalidity, items, own, last_uid=last)
            await self.process_pending()
            await self.flag(session)
        if uids and max(uids) > last:
            await self.store.set_mailbox_state(self.mailbox, uidvalidity, max(uids))
        await self.process_pending()
        await self.flag(session)
        return stored

    async def _plan(self, session: ImapSession, uids: list[int],
                    sizes: dict[int, int] | None = None) -> list[list[int]]:
        """Chunks of at most imap_fetch_chunk mails and about FETCH_BYTES_PER_COMMAND bytes, so one FETCH
        of big mail finishes well within the command timeout (``sizes``: asked of the server if not given)."""
        if not uids:
            return []
        cap = self.config.email.max_message_bytes
        if sizes is None:
            sizes = await session.sizes(uids)
        chunks: list[list[int]] = [[]]
        total = 0
        for uid in uids:
            size = min(sizes.get(uid, cap), cap)
            if chunks[-1] and (len(chunks[-1]) >= self.config.email.imap_fetch_chunk
                               or total + size > FETCH_BYTES_PER_COMMAND):
                chunks.append([])
                total = 0
            chunks[-1].append(uid)
            total += size
        return chunks

    async def process_pending(self) -> int:
        done = 0
        while True:
            batch = await self.store.unprocessed(limit=PROCESS_BATCH)
            if not batch:
                return done
            if self.process_many is not None:
                await self.process_many(batch)
            else:
                for item in batch:
                    await self.process(item)
            done += len(batch)
            if len(batch) < PROCESS_BATCH:
                return done  # all of it (one query fewer on every sync)

    async def flag(self, session: ImapSession) -> None:
        uids = await self.store.unflagged(self.mailbox, session.uidvalidity)
        if uids:
            await session.mark_seen(uids)
            await self.store.mark_flagged(self.mailbox, session.uidvalidity, uids)


def _message_id(from_headers: str | None, raw: bytes) -> str:
    """The Message-ID read from the header fetch, unless there was none: then the digest of the whole mail."""
    if from_headers is None or from_headers.startswith(NO_MESSAGE_ID_PREFIX):
        return header_message_id(raw)
    return from_headers
