-- The audit trail is append-only for real: REPLACE INTO deletes the old row without firing the DELETE
-- trigger (recursive triggers are off), and an INSERT with a chosen id could write into the past. Every
-- new row must come after every existing one (an AFTER trigger sees the id actually given).
CREATE TRIGGER request_audit_no_replace BEFORE INSERT ON request_audit
WHEN EXISTS (SELECT 1 FROM request_audit WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'request_audit is append-only');
END;
CREATE TRIGGER request_audit_no_backdating AFTER INSERT ON request_audit
WHEN NEW.id < (SELECT MAX(id) FROM request_audit)
BEGIN
    SELECT RAISE(ABORT, 'request_audit is append-only');
END;

-- Rows written before the trail was kept free of personal data: Telegram ids as actors and in details,
-- staff-typed reasons. Being append-only, the trail could never forget them, so they are scrubbed once
-- here (the texts stay with their requests, which retention redacts).
DROP TRIGGER request_audit_no_update;
UPDATE request_audit SET actor = 'requester' WHERE actor LIKE 'telegram:%';
UPDATE request_audit SET details = json_remove(details, '$.user_id', '$.chat_id', '$.data', '$.question')
 WHERE json_valid(details);
UPDATE request_audit
   SET details = json_set(json_remove(details, '$.reason'), '$.reason_length', length(json_extract(details, '$.reason')))
 WHERE json_valid(details) AND json_type(details, '$.reason') = 'text' AND event IN ('status_changed', 'extended');
CREATE TRIGGER request_audit_no_update BEFORE UPDATE ON request_audit
BEGIN
    SELECT RAISE(ABORT, 'request_audit is append-only');
END;

-- The same for messages kept with a request: their author was a Telegram id.
UPDATE request_messages SET author = 'requester' WHERE author LIKE 'telegram:%';
