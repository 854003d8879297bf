"""The email channel's tables (migrations/0200-0299) and how long each may keep personal data."""

from __future__ import annotations

from pathlib import Path

from bot.channels import ChannelTables
from bot.storage.db import FORGOTTEN_PREFIX
from bot.storage.retention_repo import Rule

TABLES = ChannelTables(
    name="email",
    migrations=Path(__file__).resolve().parent / "migrations",
    retention=(
        # Message-IDs can name their writer's machine: kept as a digest (still unique for the dedupe).
        Rule("message_bodies", "email_inbound", "received_at",
             "raw = NULL, from_addr = '', message_id = forgotten(message_id)",
             f"raw IS NOT NULL OR from_addr <> '' OR message_id NOT LIKE '{FORGOTTEN_PREFIX}%'",
             "mail received: its bytes, sender and Message-ID"),
        Rule("message_bodies", "email_outbound", "created_at",
             "recipient = '', subject = '', idempotency_key = forgotten(idempotency_key)",
             f"recipient <> '' OR subject <> '' OR idempotency_key NOT LIKE '{FORGOTTEN_PREFIX}%'",
             "mail sent: recipient, subject, and the Message-ID it answered (in its key)"),
    ),
    redacted_with_request=(
        ("email_inbound", "raw = NULL, from_addr = '', message_id = forgotten(message_id)"),
        ("email_threads", "address = '', subject = '', root_message_id = forgotten(root_message_id),"
                          " last_inbound_message_id = forgotten(last_inbound_message_id)"),
        ("email_outbound", "recipient = '', subject = ''"),
    ),
    no_personal_data={"email_mailbox_state": "the last UID fetched per mailbox"},
)
