-- Core schema: privacy requests, their append-only audit trail, the outbox, and a key-value meta table.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One counter per year for human-friendly ids (PR-2026-0001).
CREATE TABLE request_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE requests (
    id                  TEXT PRIMARY KEY,
    type                TEXT NOT NULL CHECK (type IN ('deletion', 'correction', 'access')),
    channel             TEXT NOT NULL CHECK (channel IN ('telegram', 'email', 'manual')),
    lang                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('awaiting_verification', 'pending_review',
                            'needs_info', 'approved', 'rejected', 'completed', 'cancelled', 'expired')),
    tg_user_id          INTEGER,
    tg_chat_id          INTEGER,
    tg_name             TEXT,
    email               TEXT,   -- lower-cased
    phone               TEXT,   -- as given
    phone_digits        TEXT,   -- normalised, for matching
    verification_method TEXT NOT NULL,
    verified_at         TEXT,
    details             TEXT NOT NULL DEFAULT '',
    corrections         TEXT NOT NULL DEFAULT '[]',  -- JSON [{field, current, wanted}]
    received_at         TEXT NOT NULL,               -- ISO 8601 UTC
    due_date            TEXT NOT NULL,               -- YYYY-MM-DD
    extended_due_date   TEXT,
    extension_reason    TEXT,
    decided_by          TEXT,
    decided_at          TEXT,
    decision_reason     TEXT,
    info_question       TEXT,
    completed_at        TEXT,
    duplicate_of        TEXT REFERENCES requests(id),
    flags               TEXT NOT NULL DEFAULT '{}',
    thread_ref          TEXT,
    updated_at          TEXT NOT NULL
);

CREATE INDEX requests_status_due ON requests (status, due_date);
CREATE INDEX requests_tg_user ON requests (tg_user_id) WHERE tg_user_id IS NOT NULL;
CREATE INDEX requests_email ON requests (email) WHERE email IS NOT NULL;
CREATE INDEX requests_phone ON requests (phone_digits) WHERE phone_digits IS NOT NULL;
CREATE INDEX requests_received ON requests (received_at);

CREATE TABLE request_audit (
    id         INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    details    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX request_audit_request ON request_audit (request_id, id);

-- Append-only: the trail is evidence, nothing may rewrite or remove it.
CREATE TRIGGER request_audit_no_update BEFORE UPDATE ON request_audit
BEGIN
    SELECT RAISE(ABORT, 'request_audit is append-only');
END;
CREATE TRIGGER request_audit_no_delete BEFORE DELETE ON request_audit
BEGIN
    SELECT RAISE(ABORT, 'request_audit is append-only');
END;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_id      TEXT REFERENCES requests(id),
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    external_id     TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
