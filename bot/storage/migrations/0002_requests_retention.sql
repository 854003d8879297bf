-- Retention and reminders: redaction marks, pseudonymised proof, closing time, the daily reminder mark,
-- the requester's own messages (bodies kept for a limited time), and an index for the staff queue.

ALTER TABLE requests ADD COLUMN closed_at TEXT;
ALTER TABLE requests ADD COLUMN redacted_at TEXT;
ALTER TABLE requests ADD COLUMN requester_pseudonym TEXT;
ALTER TABLE requests ADD COLUMN last_reminder_on TEXT;

-- Rows made under 0001 that are already closed get their best-known closing time.
UPDATE requests SET closed_at = COALESCE(completed_at, decided_at, updated_at)
 WHERE status IN ('rejected', 'completed', 'cancelled', 'expired');

-- The staff queue: open requests by effective due date.
CREATE INDEX requests_open_queue ON requests (COALESCE(extended_due_date, due_date), id)
 WHERE status IN ('awaiting_verification', 'pending_review', 'needs_info', 'approved');
CREATE INDEX requests_closed ON requests (closed_at) WHERE closed_at IS NOT NULL AND redacted_at IS NULL;

CREATE TABLE request_messages (
    id         INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    at         TEXT NOT NULL,
    author     TEXT NOT NULL,   -- requester or a staff id
    body       TEXT             -- NULL once retention removed it
);
CREATE INDEX request_messages_request ON request_messages (request_id, id);
CREATE INDEX request_messages_at ON request_messages (at) WHERE body IS NOT NULL;
