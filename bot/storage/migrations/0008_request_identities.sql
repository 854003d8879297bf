-- rebuilds tables
-- A requester's identities become rows (channel-neutral): which Telegram account, email address or phone,
-- where messages reach them, and how and when each was proven. The per-channel columns of requests
-- (tg_user_id, tg_chat_id, tg_name, email, phone, phone_digits) go, and the channel names are no longer
-- fixed by a CHECK: a channel is whatever the core was given.

CREATE TABLE request_identities (
    request_id  TEXT NOT NULL REFERENCES requests(id),
    kind        TEXT NOT NULL,   -- 'telegram', 'email', 'phone'
    address     TEXT NOT NULL,   -- a Telegram user id, a lower-cased address, a phone's digits
    shown       TEXT,            -- as given (a phone as typed)
    route       TEXT,            -- where messages reach them on the channel named by kind; NULL: none
    name        TEXT,            -- what the channel called them
    verified_by TEXT,            -- 'channel' or a verification method; NULL: typed, proves nothing
    verified_at TEXT,
    PRIMARY KEY (request_id, kind)
);
CREATE INDEX request_identities_address ON request_identities (kind, address);

-- Today's data, with the same proof rules the core applied to the columns (bot/requests/models.py).
INSERT INTO request_identities (request_id, kind, address, route, verified_by, verified_at)
SELECT id, 'email', email, email,
       CASE WHEN verification_method IN ('email_code', 'email_reply', 'staff') THEN verification_method END,
       CASE WHEN verification_method IN ('email_code', 'email_reply', 'staff') THEN verified_at END
  FROM requests WHERE email IS NOT NULL AND email <> '';
INSERT INTO request_identities (request_id, kind, address, route, name, verified_by, verified_at)
SELECT id, 'telegram', CAST(tg_user_id AS TEXT), CAST(COALESCE(tg_chat_id, tg_user_id) AS TEXT), tg_name,
       CASE channel WHEN 'telegram' THEN 'channel' WHEN 'manual' THEN 'staff' END,
       CASE WHEN channel IN ('telegram', 'manual') THEN received_at END
  FROM requests WHERE tg_user_id IS NOT NULL;
INSERT INTO request_identities (request_id, kind, address, shown, verified_by, verified_at)
SELECT id, 'phone', phone_digits, phone,
       CASE WHEN verification_method = 'staff' THEN 'staff' END,
       CASE WHEN verification_method = 'staff' THEN verified_at END
  FROM requests WHERE phone_digits IS NOT NULL AND phone_digits <> '';

-- The requests table without those columns (SQLite rebuilds a table to drop a CHECK). The trail,
-- outbox and messages refer to requests(id): checked before this migration commits (bot/storage/db.py).
CREATE TABLE requests_rebuilt (
    id                  TEXT PRIMARY KEY,
    type                TEXT NOT NULL CHECK (type IN ('deletion', 'correction', 'access')),
    channel             TEXT NOT NULL,
    lang                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('awaiting_verification', 'pending_review',
                            'needs_info', 'approved', 'rejected', 'completed', 'cancelled', 'expired')),
    verification_method TEXT NOT NULL,
    verified_at         TEXT,
    details             TEXT NOT NULL DEFAULT '',
    corrections         TEXT NOT NULL DEFAULT '[]',
    received_at         TEXT NOT NULL,
    due_date            TEXT NOT NULL,
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
    updated_at          TEXT NOT NULL,
    closed_at           TEXT,
    redacted_at         TEXT,
    requester_pseudonym TEXT,
    last_reminder_on    TEXT
);
INSERT INTO requests_rebuilt
SELECT id, type, channel, lang, status, verification_method, verified_at, details, corrections, received_at,
       due_date, extended_due_date, extension_reason, decided_by, decided_at, decision_reason, info_question,
       completed_at, duplicate_of, flags, thread_ref, updated_at, closed_at, redacted_at, requester_pseudonym,
       last_reminder_on
  FROM requests;
DROP TABLE requests;
ALTER TABLE requests_rebuilt RENAME TO requests;

CREATE INDEX requests_status_due ON requests (status, due_date);
CREATE INDEX requests_received ON requests (received_at);
CREATE INDEX requests_open_queue ON requests (COALESCE(extended_due_date, due_date), id)
 WHERE status IN ('awaiting_verification', 'pending_review', 'needs_info', 'approved');
CREATE INDEX requests_closed ON requests (closed_at) WHERE closed_at IS NOT NULL AND redacted_at IS NULL;
