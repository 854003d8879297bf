"""The Telegram channel's tables (migrations/0100-0199) and how long each may keep personal data."""

from __future__ import annotations

from pathlib import Path

from bot.channels import ChannelTables
from bot.storage.retention_repo import Rule

TABLES = ChannelTables(
    name="telegram",
    migrations=Path(__file__).resolve().parent / "migrations",
    retention=(
        Rule("transcripts", "telegram_handoffs", "created_at", None, what="talk-to-a-person messages and replies"),
        Rule("conversations", "telegram_fsm", "updated_at", None, what="a flow in progress or abandoned"),
        Rule("conversations", "telegram_staff_prompts", "created_at", None, what="reasons typed by staff"),
        Rule("profiles", "telegram_users", "last_seen", None, what="a person's language and blocked mark"),
        Rule("security_events", "telegram_security_events", "at", None, what="refused presses and commands"),
    ),
    no_personal_data={"telegram_cards": "which staff-chat message shows which request"},
)
