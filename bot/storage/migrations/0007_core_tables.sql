-- Core tables a channel's migration used to create (verification codes came with Telegram, handoffs with
-- email): every channel uses them. A database that has them already keeps them as they are.

-- Email ownership codes (bot/verification.py). Only a salted hash of the code is stored.
CREATE TABLE IF NOT EXISTS verification_codes (
    subject TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    salt BLOB NOT NULL,
    code_hash BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    reminded_at TEXT,
    verified_at TEXT
);

-- Mail (and other messages) that need a person: bot/handoffs.py.
CREATE TABLE IF NOT EXISTS handoffs (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    reference TEXT,
    created_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT
);
CREATE INDEX IF NOT EXISTS handoffs_open ON handoffs(closed_at);
