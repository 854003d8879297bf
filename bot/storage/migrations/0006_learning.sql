-- Learning from staff (bot/learning.py): questions the engine could not place, or whose answer a person said
-- did not help, waiting for staff to name the section that answers them; a decided question is an example
-- the engine learns from (at once, and at every start). The text is masked (emails, phones, links, names)
-- before it is stored; rows fall under [retention] learning_days, counted from the last change.
CREATE TABLE learning_questions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lang        TEXT NOT NULL,
    text        TEXT NOT NULL,
    -- learning_key(text): the same question asked again is the same row while it waits
    text_key    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('abstained', 'unhelpful')),
    -- the sections the engine offered, best first (JSON list of ids)
    offered     TEXT NOT NULL DEFAULT '[]',
    -- a digest of what the channel received (a mail's Message-ID), so reprocessing adds nothing twice
    reference   TEXT UNIQUE,
    asked       INTEGER NOT NULL DEFAULT 1,
    -- pending -> learnt (section_id NULL: the policy does not answer it)
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'learnt')),
    section_id  TEXT,
    decided_by  TEXT,
    decided_at  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX learning_questions_status ON learning_questions(status, id);
CREATE INDEX learning_questions_key ON learning_questions(lang, text_key, status);
CREATE INDEX learning_questions_updated ON learning_questions(updated_at);

-- Staff decisions on those questions: who, when, which section; never the question itself. Append-only,
-- like the request audit trail (migrations 0001 and 0004).
CREATE TABLE learning_audit (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL,
    at          TEXT NOT NULL,
    event       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX learning_audit_question ON learning_audit(question_id, id);
CREATE TRIGGER learning_audit_no_update BEFORE UPDATE ON learning_audit
BEGIN
    SELECT RAISE(ABORT, 'learning_audit is append-only');
END;
CREATE TRIGGER learning_audit_no_delete BEFORE DELETE ON learning_audit
BEGIN
    SELECT RAISE(ABORT, 'learning_audit is append-only');
END;
CREATE TRIGGER learning_audit_no_replace BEFORE INSERT ON learning_audit
WHEN EXISTS (SELECT 1 FROM learning_audit WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'learning_audit is append-only');
END;
CREATE TRIGGER learning_audit_no_backdating AFTER INSERT ON learning_audit
WHEN NEW.id < (SELECT MAX(id) FROM learning_audit)
BEGIN
    SELECT RAISE(ABORT, 'learning_audit is append-only');
END;
