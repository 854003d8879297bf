"""A thin IMAP session over aioimaplib: every command under a timeout, fetches in small chunks.

aioimaplib 2.0.3 hangs forever after a RecursionError on responses of ~900+ lines (upstream issue 118),
so no command may run without ``asyncio.wait_for`` and FETCH asks for at most ``imap_fetch_chunk``
messages at a time. Responses are raw lines; the few this channel needs are parsed here.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aioimaplib

from bot.config import Config

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_UIDNEXT = re.compile(rb"UIDNEXT (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")
_FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")
MAX_UID = 4_294_967_295  # UIDs are 32-bit (RFC 3501)


class ImapError(Exception):
    """The server refused a command or the connection is unusable: reconnect."""


@dataclass(frozen=True)
class FetchedMail:
    uid: int
    raw: bytes  # at most the configured cap
    size: int  # the full size on the server

    @property
    def truncated(self) -> bool:
        return self.size > len(self.raw)


class ImapSession:
    def __init__(self, config: Config, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self.cfg = config.email
        self.timeout = self.cfg.imap_command_timeout_seconds
        self.ssl_context = ssl_context
        self.client: aioimaplib.IMAP4 | None = None
        self.uidvalidity = 0
        self.uidnext = 0
        # Set by aioimaplib when the server closes the connection (an IDLE would otherwise not notice).
        self.lost = asyncio.Event()
        # Set when the server says the mailbox grew ("* n EXISTS"), whatever command that came with.
        self.grown = False

    def _connection_lost(self, exc: Exception | None) -> None:
        self.lost.set()

    async def _run(self, coro: Awaitable[aioimaplib.Response], what: str) -> aioimaplib.Response:
        try:
            response: aioimaplib.Response = await asyncio.wait_for(coro, self.timeout)
        except TimeoutError:
            raise ImapError(f"{what}: no answer in {self.timeout}s") from None
        except (aioimaplib.Abort, aioimaplib.Error, OSError, RecursionError) as exc:
            raise ImapError(f"{what}: {type(exc).__name__}") from None
        if response.result != "OK":
            raise ImapError(f"{what}: {response.result}")
        return response

    @property
    def imap(self) -> aioimaplib.IMAP4:
        if self.client is None:
            raise ImapError("not connected")
        return self.client

    async def connect(self) -> None:
        cfg = self.cfg
        # IMAP4 must be created inside the running loop (it starts its connection task at once).
        context = (self.ssl_context or ssl.create_default_context()) if cfg.imap_security == "ssl" else None
        self.lost = asyncio.Event()
        self.client = aioimaplib.IMAP4(host=cfg.imap_host, port=cfg.imap_port, timeout=self.timeout,
                                       conn_lost_cb=self._connection_lost, ssl_context=context)
        self._watch_exists(self.client.protocol)
        try:
            await asyncio.wait_for(self.client.wait_hello_from_server(), self.timeout)
        except (TimeoutError, OSError, aioimaplib.Abort, aioimaplib.Error) as exc:
            await self.close()
            raise ImapError(f"connect: {type(exc).__name__}") from None
        if cfg.imap_security == "starttls":
            await self._starttls()
        await self._run(self.imap.login(cfg.imap_username or cfg.address, self.config.secrets.imap_password or ""),
                        "LOGIN")
        await self.select()

    def _watch_exists(self, protocol: aioimaplib.IMAP4ClientProtocol) -> None:
        """Note every "* n EXISTS". aioimaplib drops an untagged response that comes with a command it does
        not expect it for (new mail announced during a FETCH or STORE), and a server that has announced
        mail does not announce it again when the next IDLE starts: that mail would wait for the next event."""
        untagged = protocol._untagged_response

        def noting(line: bytes) -> Any:
            if line.rstrip().endswith(b" EXISTS"):
                self.grown = True
            return untagged(line)

        protocol._untagged_response = noting

    async def _starttls(self) -> None:
        # aioimaplib 2.0.3 has no STARTTLS helper: send the command, then upgrade the transport.
        protocol = self.imap.protocol
        await self._run(protocol.execute(aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
                        "STARTTLS")
        loop = asyncio.get_running_loop()
        transport = await loop.start_tls(protocol.transport, protocol,
                                         self.ssl_context or ssl.create_default_context(),
                                         server_hostname=self.cfg.imap_host)
        protocol.transport = transport

    async def select(self) -> int:
        response = await self._run(self.imap.select(self.cfg.imap_folder), "SELECT")
        for line in response.lines:
            match = _UIDVALIDITY.search(bytes(line))
            if match:
                self.uidvalidity = int(match.group(1))
            match = _UIDNEXT.search(bytes(line))
            if match:
                self.uidnext = int(match.group(1))
        if not self.uidvalidity:
            raise ImapError("SELECT: no UIDVALIDITY")
        return self.uidvalidity

    @property
    def has_idle(self) -> bool:
        return self.client is not None and self.client.has_capability("IDLE")

    async def noop(self) -> None:
        """Lets the server look at its mailbox again (how a polling client learns of new mail)."""
        await self._run(self.imap.noop(), "NOOP")

    async def search(self, *criteria: str) -> list[int]:
        response = await self._run(self.imap.uid_search(*criteria, charset=None), "UID SEARCH")
        uids: list[int] = []
        for line in response.lines:
            text = bytes(line).decode(errors="replace").strip()
            if text.startswith("SEARCH"):
                text = text[len("SEARCH"):]
            if text and all(part.isdigit() for part in text.split()):
                uids.extend(int(part) for part in text.split())
        return sorted(set(uids))

    async def uids_after(self, last_uid: int) -> list[int]:
        # "n:*" always includes the highest UID even when it is below n: filter.
        return [uid for uid in await self.search("UID", f"{last_uid + 1}:*") if uid > last_uid]

    async def new_or_unseen(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid`` and unseen ones, in one SEARCH. The range ends at the largest UID rather
        than "*", which always matches the highest message, even one below ``last_uid``."""
        if last_uid >= MAX_UID:
            return await self.unseen()
        return await self.search("OR", "UID", f"{last_uid + 1}:{MAX_UID}", "UNSEEN")

    async def unseen(self) -> list[int]:
        return await self.search("UNSEEN")

    async def has_message_id(self, message_id: str) -> bool:
        return bool(await self.search("HEADER", "Message-ID", f'"{message_id}"'))

    async def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE per UID (one short line each), to plan fetches by bytes as well as by count."""
        result: dict[int, int] = {}
        for start in range(0, len(uids), 200):
            part = ",".join(str(u) for u in uids[start:start + 200])
            response = await self._run(self.imap.uid("fetch", part, "(UID RFC822.SIZE)"), "UID FETCH SIZE")
            for line in response.lines:
                raw = bytes(line)
                uid, size = _FETCH_UID.search(raw), _FETCH_SIZE.search(raw)
                if uid and size:
                    result[int(uid.group(1))] = int(size.group(1))
        return result

    async def headers(self, uids: list[int]) -> dict[int, FetchedMail]:
        """Per UID its full size and its Message-ID header lines (``raw`` is those lines only): enough to plan
        fetches by bytes and to recognise our own copies without fetching their bodies."""
        result: dict[int, FetchedMail] = {}
        # Three response lines per mail: within what aioimaplib parses safely (see the module docstring).
        chunk = min(self.cfg.imap_fetch_chunk, 200)
        for start in range(0, len(uids), chunk):
            part = ",".join(str(u) for u in uids[start:start + chunk])
            response = await self._run(
                self.imap.uid("fetch", part, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"),
                "UID FETCH HEADER")
            result.update((mail.uid, mail) for mail in parse_fetch(response.lines))
        return result

    async def fetch(self, uids: list[int]) -> list[FetchedMail]:
        """Bodies capped at max_message_bytes (a partial fetch: big mail never loads the bot)."""
        result: list[FetchedMail] = []
        chunk = self.cfg.imap_fetch_chunk
        cap = self.cfg.max_message_bytes
        for start in range(0, len(uids), chunk):
            part = uids[start:start + chunk]
            response = await self._run(
                self.imap.uid("fetch", ",".join(str(u) for u in part), f"(UID RFC822.SIZE BODY.PEEK[]<0.{cap}>)"),
                "UID FETCH")
            result.extend(parse_fetch(response.lines))
        return result

    async def mark_seen(self, uids: list[int]) -> None:
        for start in range(0, len(uids), 200):
            part = ",".join(str(u) for u in uids[start:start + 200])
            await self._run(self.imap.uid("store", part, "+FLAGS.SILENT", r"(\Seen)"), "UID STORE")

    async def wait_for_news(self, seconds: float, stop: asyncio.Event) -> bool:
        """IDLE until the server reports something, ``seconds`` pass, or ``stop`` is set."""
        client = self.imap
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=seconds + self.timeout), self.timeout)
        except (TimeoutError, aioimaplib.Abort, aioimaplib.Error, OSError) as exc:
            raise ImapError(f"IDLE: {type(exc).__name__}") from None
        push = asyncio.ensure_future(client.wait_server_push(timeout=seconds))
        stopper = asyncio.ensure_future(stop.wait())
        lost = asyncio.ensure_future(self.lost.wait())
        news = False
        try:
            done, _ = await asyncio.wait({push, stopper, lost}, return_when=asyncio.FIRST_COMPLETED)
            if lost in done:
                raise ImapError("connection lost")
            if push in done and not push.cancelled():
                failure = push.exception()
                if failure is None:
                    news = push.result() != aioimaplib.STOP_WAIT_SERVER_PUSH
                elif not isinstance(failure, TimeoutError):
                    raise ImapError(f"IDLE push: {type(failure).__name__}")
        finally:
            for task in (push, stopper, lost):
                if not task.done():
                    task.cancel()
            if not self.lost.is_set():
                with contextlib.suppress(Exception):
                    client.idle_done()
                try:
                    await asyncio.wait_for(idle, self.timeout)
                except (TimeoutError, aioimaplib.Abort, aioimaplib.Error, OSError):
                    raise ImapError("IDLE DONE: no answer") from None
        # Drain pushes that arrived meanwhile; the caller re-syncs anyway.
        while not client.protocol.idle_queue.empty():
            client.protocol.idle_queue.get_nowait()
            news = True
        return news

    async def append(self, raw: bytes, folder: str | None = None) -> None:
        await self._run(self.imap.append(raw, mailbox=folder or self.cfg.imap_folder), "APPEND")

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 2)
        with contextlib.suppress(Exception):
            if client.protocol.transport is not None:
                client.protocol.transport.close()


def parse_fetch(lines: list[bytes | bytearray]) -> list[FetchedMail]:
    """UID FETCH lines: a header line ending in {n}, the literal as one bytearray, then ")"/" UID n)"."""
    result: list[FetchedMail] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if isinstance(line, bytes) and b"FETCH (" in line and _LITERAL.search(line.rstrip()):
            literal = lines[index + 1] if index + 1 < len(lines) else b""
            trailer = bytes(lines[index + 2]) if index + 2 < len(lines) else b""
            meta = line + b" " + trailer
            uid_match = _FETCH_UID.search(meta)
            size_match = _FETCH_SIZE.search(meta)
            raw = bytes(literal)
            if uid_match:
                size = int(size_match.group(1)) if size_match else len(raw)
                result.append(FetchedMail(int(uid_match.group(1)), raw, max(size, len(raw))))
            index += 3
            continue
        index += 1
    return result
