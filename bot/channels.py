"""The channels this installation has, and what each declares about the data it keeps.

A channel package (``handlers/<name>/``) owns its tables: it ships their migrations and says how long each
may hold personal data, in a ``tables`` module with a ``TABLES: ChannelTables``. The core creates the tables
and runs their retention without knowing what they are. A new channel adds its package to ``PACKAGES``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bot.storage.retention_repo import Rule

PACKAGES: tuple[str, ...] = ("handlers.telegram", "handlers.email")


@dataclass(frozen=True)
class ChannelTables:
    name: str
    # NNNN_name.sql files; each channel has its own range of version numbers (Telegram 0100-0199, ...)
    migrations: Path
    # time-based rules for its tables with personal data (``[retention]`` periods)
    retention: tuple[Rule, ...] = ()
    # (table, SET clause): its copies of a request's personal data, cleared when the request is redacted
    redacted_with_request: tuple[tuple[str, str], ...] = ()
    # its tables without personal data, each with the reason
    no_personal_data: dict[str, str] = field(default_factory=dict)


@cache
def installed() -> tuple[ChannelTables, ...]:
    return tuple(importlib.import_module(f"{package}.tables").TABLES for package in PACKAGES)
