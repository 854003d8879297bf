-- A staff member completing a deletion in the staff chat first chooses what was destroyed (categories of
-- personal data, information systems) on a post with a keyboard; the choice so far is kept here, tied to
-- that post, the member who pressed "complete" and an expiry, until it is confirmed or dropped. Retention
-- deletes the rows with the other unfinished staff conversations ([retention] conversations_days).
CREATE TABLE telegram_destruction_drafts (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    message_id      INTEGER,              -- the post with the keyboard (set once it is sent)
    card_message_id INTEGER,              -- the card whose "complete" was pressed, edited when done
    staff_user_id   INTEGER NOT NULL,
    request_id      TEXT NOT NULL,
    step            TEXT NOT NULL DEFAULT 'categories' CHECK (step IN ('categories', 'systems')),
    categories      TEXT NOT NULL DEFAULT '[]',   -- JSON list of [destruction] category ids
    systems         TEXT NOT NULL DEFAULT '[]',   -- JSON list of [destruction] system ids
    state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'used', 'cancelled')),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);
