"""A private Dovecot IMAP server on loopback, started from a temporary config (reads nothing from /etc).

One mailbox user with a plain password, Maildir under the temp dir. Works as root (CI) and as a normal
user. The listening port accepts connections before Dovecot can serve, so ``start()`` waits for the
``* OK`` greeting.

    server = DovecotServer(tmp_dir).start()
    ... IMAP at 127.0.0.1:server.port, user server.user, password server.password ...
    server.stop()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

DOVECOT_CANDIDATES = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def dovecot_binary() -> str:
    found = shutil.which("dovecot")
    if found:
        return found
    for candidate in DOVECOT_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError("Dovecot is not installed: run scripts/test (it installs dovecot-imapd) "
                       "or apt-get install dovecot-imapd")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DovecotServer:
    def __init__(self, root: Path, *, user: str = "support@jetbit.ru", password: str = "imap-test-password",
                 port: int | None = None, certificate: tuple[Path, Path] | None = None,
                 idle: bool = True) -> None:
        self.root = root
        self.user = user
        self.password = password
        self.port = port or free_port()
        self.home = root / "home"
        self.maildir = self.home / "Maildir"
        # With a certificate: STARTTLS on ``port`` and implicit TLS on ``tls_port``.
        self.certificate = certificate
        self.tls_port = free_port() if certificate else 0
        # Without IDLE in the capabilities the client must poll.
        self.idle = idle
        self._process: subprocess.Popen[bytes] | None = None
        self._binary = dovecot_binary()
        self._is_root = os.geteuid() == 0

    # -- config ------------------------------------------------------------------------------------

    def _mail_owner(self) -> tuple[int, int, str]:
        if not self._is_root:
            return os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name
        for name in ("nobody", "dovenull"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return entry.pw_uid, entry.pw_gid, name
        raise RuntimeError("no unprivileged user to own the test mail")

    def _write_config(self) -> Path:
        uid, gid, name = self._mail_owner()
        run = self.root / "run"
        for directory in (self.root, run, self.root / "state", self.home, self.maildir):
            directory.mkdir(parents=True, exist_ok=True)
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(exist_ok=True)
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        if self._is_root:
            # Dovecot's unprivileged processes must reach the config, sockets and mail.
            os.chmod(self.root, 0o755)
            for path in (self.home, *self.home.rglob("*")):
                os.chown(path, uid, gid)
            users = ("default_internal_user = dovecot\ndefault_login_user = dovenull\nfirst_valid_uid = 1\n")
            chroot = ""
        else:
            users = f"default_internal_user = {name}\ndefault_login_user = {name}\n"
            chroot = "  chroot =\n"
        if self.certificate:
            tls = f"ssl = yes\nssl_cert = <{self.certificate[0]}\nssl_key = <{self.certificate[1]}"
        else:
            tls = "ssl = no"
        capability = "" if self.idle else (
            "protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ SASL-IR UIDPLUS ENABLE\n}\n")
        config = f"""
protocols = imap
instance_name = dovecot-test-{uuid.uuid4().hex[:8]}
base_dir = {run}
state_dir = {self.root / "state"}
log_path = {self.root / "dovecot.log"}
listen = 127.0.0.1
{tls}
disable_plaintext_auth = no
auth_mechanisms = plain login
{users}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.root / "passwd"}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
{chroot}}}
service anvil {{
{chroot}}}
{capability}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        path = self.root / "dovecot.conf"
        path.write_text(config)
        return path

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> DovecotServer:
        config = self._write_config()
        # Its own process group: a stop must also end the per-connection imap processes it forked.
        self._process = subprocess.Popen([self._binary, "-F", "-c", str(config)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited: {err.strip()} {self.log_tail()}")
            if self._greets():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not greet on port {self.port} in {timeout}s: {self.log_tail()}")

    def _greets(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.settimeout(1)
                return sock.recv(64).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        group = process.pid  # start_new_session: the group id is the master's pid
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        # Client processes (imap, log, stats) outlive the master; a stopped server serves no one.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        # The port must be free for a restart on the same port.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
            except OSError:
                return
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "dovecot.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    # -- mail --------------------------------------------------------------------------------------

    def deliver(self, raw: bytes) -> None:
        """Drop a message into the Maildir the way a local delivery agent does."""
        name = f"{time.time_ns()}.{uuid.uuid4().hex}.test"
        tmp = self.maildir / "tmp" / name
        tmp.write_bytes(raw)
        stat = self.maildir.stat()
        os.chown(tmp, stat.st_uid, stat.st_gid)
        tmp.rename(self.maildir / "new" / name)

    def reset_mailbox(self) -> None:
        """Empty the mailbox between tests (Dovecot notices; UIDs keep growing, UIDVALIDITY stays)."""
        for sub in ("cur", "new", "tmp"):
            for path in (self.maildir / sub).iterdir():
                path.unlink()

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
