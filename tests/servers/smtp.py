"""A real SMTP server (aiosmtpd) on a free loopback port, for tests and benchmarks.

It records every accepted message thread-safely (aiosmtpd runs in its own thread and loop), can refuse
chosen recipients with a given reply, can require AUTH, speaks plain SMTP, STARTTLS or implicit TLS, and
delivers mail for "local" addresses into a Maildir the way a real MTA's local delivery does (Dovecot then
sees it). With ``spool_dir`` every message is also written there as a file, so another process can count
what arrived.

    with SmtpServer() as smtp:           # or the ``smtp_server`` pytest fixture
        ... send to 127.0.0.1:smtp.port ...
        smtp.wait_for(3, timeout=5)

From a shell (a server for another process's tests): ``python -m tests.servers.smtp --spool DIR``
prints ``PORT <n>`` and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Security = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    received_at: float
    authenticated_as: str | None = None

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str:
        return str(self.message().get(name, ""))


def make_test_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (openssl CLI), returns (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "test-cert.pem", directory / "test-key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True, timeout=60,
        )
    return cert, key


def client_context_trusting(cert: Path) -> ssl.SSLContext:
    """A client TLS context that trusts exactly the test certificate."""
    context = ssl.create_default_context(cafile=str(cert))
    return context


@dataclass
class _Behaviour:
    # recipient address (lower case) -> full SMTP reply to RCPT TO, e.g. "550 5.1.1 No such user"
    refuse: dict[str, str] = field(default_factory=dict)
    # reply to DATA for the next N messages, e.g. ("451 4.3.0 Try later", 2)
    data_failure: tuple[str, int] | None = None


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        reply = self._server.behaviour.refuse.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self._server.behaviour.data_failure
        if failure is not None:
            reply, remaining = failure
            self._server.behaviour.data_failure = (reply, remaining - 1) if remaining > 1 else None
            return reply
        data = envelope.original_content or b""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=data,
            received_at=time.time(),
            authenticated_as=login.decode() if isinstance(login, bytes) else None,
        )
        # Local delivery happens before the 250 reply, as an MTA's does: once the client has its
        # "accepted", the copy is in the mailbox.
        self._server.deliver_locally(mail)
        self._server.record(mail)
        if self._server.on_accept is not None:
            # Runs after the message is ours and before the client hears "250": a test can kill the
            # client exactly in the window where the server has it and the client does not know.
            self._server.on_accept(mail)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1, port chosen by the OS, in a background thread."""

    def __init__(self, *, security: Security = "none", certificate: tuple[Path, Path] | None = None,
                 username: str | None = None, password: str | None = None,
                 local_maildirs: dict[str, Path] | None = None, spool_dir: Path | None = None) -> None:
        if security != "none" and certificate is None:
            raise ValueError("TLS needs a certificate (make_test_certificate)")
        self.security = security
        self.certificate = certificate
        self.username = username
        self.password = password
        self.local_maildirs = {k.lower(): v for k, v in (local_maildirs or {}).items()}
        self.spool_dir = spool_dir
        self.behaviour = _Behaviour()
        self.on_accept: Callable[[ReceivedMail], None] | None = None
        self.port = 0
        self._messages: list[ReceivedMail] = []
        self._condition = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    # -- recording (called from the server thread) -------------------------------------------------

    def record(self, mail: ReceivedMail) -> None:
        if self.spool_dir is not None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
            tmp = self.spool_dir / f".{name}.tmp"
            tmp.write_bytes(mail.data)
            tmp.rename(self.spool_dir / name)
        with self._condition:
            self._messages.append(mail)
            self._condition.notify_all()

    def deliver_locally(self, mail: ReceivedMail) -> None:
        for rcpt in mail.rcpt_tos:
            maildir = self.local_maildirs.get(rcpt.lower())
            if maildir is None:
                continue
            for sub in ("tmp", "new", "cur"):
                (maildir / sub).mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns()}.{uuid.uuid4().hex}.smtp-test"
            tmp = maildir / "tmp" / name
            tmp.write_bytes(b"Delivered-To: " + rcpt.encode() + b"\r\n" + mail.data)
            stat = maildir.stat()
            os.chown(tmp, stat.st_uid, stat.st_gid)
            tmp.rename(maildir / "new" / name)

    # -- reading (any thread) -----------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._condition:
            return list(self._messages)

    def clear(self) -> None:
        with self._condition:
            self._messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self._messages)} in {timeout}s")
                self._condition.wait(left)
            return list(self._messages)

    async def wait_for_async(self, count: int, seconds: float = 10.0) -> list[ReceivedMail]:
        return await asyncio.to_thread(self.wait_for, count, seconds)

    # -- lifecycle ----------------------------------------------------------------------------------

    def _server_context(self) -> ssl.SSLContext | None:
        if self.certificate is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.certificate[0]), str(self.certificate[1]))
        return context

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _factory(self) -> SMTP:
        context = self._server_context()
        return SMTP(
            _Handler(self),
            hostname="smtp.test.local",
            tls_context=context if self.security == "starttls" else None,
            require_starttls=self.security == "starttls",
            authenticator=self._authenticate if self.username else None,
            auth_required=bool(self.username),
            # With implicit TLS aiosmtpd cannot see the TLS layer below it; only STARTTLS needs the check.
            auth_require_tls=self.security == "starttls",
            timeout=30,
        )

    def start(self) -> SmtpServer:
        # proto=IPPROTO_TCP so asyncio sets TCP_NODELAY on accepted connections; without it the
        # multi-line EHLO reply meets Nagle + delayed ACK and every session costs 40 ms.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                ssl_context = self._server_context() if self.security == "ssl" else None
                self._server = loop.run_until_complete(
                    loop.create_server(self._factory, sock=sock, ssl=ssl_context))
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            self._server.close()
            # Clients may keep sessions open (the sender reuses its connection): end them too.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=serve, name=f"smtp-test-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("SMTP test server did not start in 10s")
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None
            self._thread = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def read_spool(spool_dir: Path) -> list[bytes]:
    """Messages another process's server wrote to ``spool_dir``, oldest first."""
    if not spool_dir.exists():
        return []
    return [p.read_bytes() for p in sorted(spool_dir.glob("*.eml"))]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain (no TLS, no AUTH) SMTP server for one test; import this fixture into a conftest."""
    with SmtpServer() as server:
        yield server


def main() -> None:
    parser = argparse.ArgumentParser(description="loopback SMTP test server")
    parser.add_argument("--spool", type=Path, required=True, help="write every message here as .eml")
    parser.add_argument("--security", choices=["none", "starttls", "ssl"], default="none")
    parser.add_argument("--cert-dir", type=Path, help="where the self-signed certificate is made")
    parser.add_argument("--local", action="append", default=[], metavar="ADDRESS=MAILDIR",
                        help="deliver mail for ADDRESS into MAILDIR too")
    args = parser.parse_args()
    certificate = make_test_certificate(args.cert_dir or args.spool / "tls") if args.security != "none" else None
    local = {}
    for item in args.local:
        address, _, maildir = item.partition("=")
        local[address] = Path(maildir)
    server = SmtpServer(security=args.security, certificate=certificate, local_maildirs=local,
                        spool_dir=args.spool).start()
    print(f"PORT {server.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
