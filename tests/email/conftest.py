"""Fixtures of the email tests: the loopback SMTP server (and, session-wide, a private Dovecot)."""

from __future__ import annotations

from tests.servers.smtp import smtp_server

__all__ = ["smtp_server"]
