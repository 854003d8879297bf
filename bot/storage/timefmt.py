"""How times and dates are stored: ISO 8601 text, UTC with microseconds, so text order is time order."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def date_to_db(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def date_from_db(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
