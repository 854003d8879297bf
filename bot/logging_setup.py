"""Logging with personal data masked: emails, phone numbers and long digit runs never reach a log."""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.masking import mask_personal_data
from bot.storage.db import DatabaseUnusable

__all__ = ["DatabaseFailureFilter", "MaskingFormatter", "mask_personal_data", "setup_logging"]

class MaskingFormatter(logging.Formatter):
    """Masks the message and any traceback; the timestamp and level are left alone."""

    def format(self, record: logging.LogRecord) -> str:
        masked = logging.makeLogRecord(record.__dict__)
        masked.msg, masked.args = mask_personal_data(record.getMessage()), None
        return super().format(masked)

    def formatException(self, ei: Any) -> str:
        return mask_personal_data(super().formatException(ei))


class DatabaseFailureFilter(logging.Filter):
    """Drops records of errors caused by an unusable database file. The process stops on the first one
    and reports it in one line as it exits; until then every part that touches the file (each update in
    flight, the outbox, the mail receiver) would log its own traceback of the same fact."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            if isinstance(error, DatabaseUnusable):
                return False
            seen.add(id(error))
            error = error.__cause__ or error.__context__
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(DatabaseFailureFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiogram.event", "aiosqlite", "aioimaplib", "mail.log"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
