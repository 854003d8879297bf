"""Personal data never reaches a log line unmasked."""

from __future__ import annotations

import logging

from bot.logging_setup import MaskingFormatter, mask_personal_data


def test_emails_and_phones_are_masked() -> None:
    text = mask_personal_data("from ivan.petrov@example.ru, call +7 981 989-53-11 or 89161234567")
    assert "ivan.petrov" not in text and "989-53" not in text and "89161234567" not in text
    assert "i***@example.ru" in text
    assert text.count("***") == 3


def test_formatter_masks_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "mail from %s", ("anna@mail.ru",), None)
    assert "anna@" not in MaskingFormatter("%(message)s").format(record)


def test_request_ids_and_dates_survive() -> None:
    assert mask_personal_data("PR-2026-0001 due 2026-01-23") == "PR-2026-0001 due 2026-01-23"


def test_timestamps_are_not_taken_for_phone_numbers() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.created = 1_764_000_000.0
    line = MaskingFormatter("%(asctime)s %(message)s").format(record)
    assert "***" not in line


def test_tracebacks_are_masked() -> None:
    try:
        raise ValueError("bad address boris@example.org")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "boris@" not in MaskingFormatter("%(message)s").format(record)
