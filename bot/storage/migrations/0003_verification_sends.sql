-- Every verification code sent, so the resend pause and the hourly cap hold across flows (a /cancel and a
-- new flow reset nothing), per person (subject) and per address (a keyed digest: no address is logged).
-- Kept as long as codes are ([retention] verification_codes_days).
CREATE TABLE verification_sends (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    address_key TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE INDEX verification_sends_subject ON verification_sends(subject, sent_at);
CREATE INDEX verification_sends_address ON verification_sends(address_key, sent_at);
