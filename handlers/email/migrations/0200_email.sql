-- Email channel (handlers/email). Inbound mail is stored before it is flagged on the server and
-- processed from the stored copy; outbound mail is recorded before SMTP so a crash can be detected.

CREATE TABLE email_inbound (
    id INTEGER PRIMARY KEY,
    mailbox TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    -- the Message-ID header, or a digest of the raw bytes when the mail has none
    message_id TEXT NOT NULL UNIQUE,
    -- raw bytes capped at [email] max_message_bytes; NULL after retention
    raw BLOB,
    raw_size INTEGER NOT NULL,
    truncated INTEGER NOT NULL DEFAULT 0,
    from_addr TEXT NOT NULL DEFAULT '',
    -- received -> processed
    state TEXT NOT NULL DEFAULT 'received',
    -- what processing did: answered, auto_ignored, rate_limited, handoff, request_created, confirmed...
    outcome TEXT NOT NULL DEFAULT '',
    replied INTEGER NOT NULL DEFAULT 0,
    request_id TEXT,
    received_at TEXT NOT NULL,
    processed_at TEXT,
    -- \Seen set on the server (best effort; the dedupe covers a lost flag)
    flagged INTEGER NOT NULL DEFAULT 0,
    UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX email_inbound_state ON email_inbound(state);
CREATE INDEX email_inbound_from ON email_inbound(from_addr, processed_at);
CREATE INDEX email_inbound_request ON email_inbound(request_id);

-- Last UID seen per mailbox and UIDVALIDITY (where the next fetch starts).
CREATE TABLE email_mailbox_state (
    mailbox TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL DEFAULT 0
);

-- Every message the EmailSender got accepted by the SMTP server (threading of later replies).
CREATE TABLE email_outbound (
    idempotency_key TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    request_id TEXT,
    subject TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX email_outbound_request ON email_outbound(request_id);

-- Thread of each request made by email: the mail that started it and the subject it had.
CREATE TABLE email_threads (
    request_id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    root_message_id TEXT NOT NULL,
    last_inbound_message_id TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL,
    -- confirmation by reply: awaiting -> confirmed | expired; one reminder
    confirmation TEXT NOT NULL DEFAULT 'awaiting',
    created_at TEXT NOT NULL,
    reminded_at TEXT
);
