-- The Telegram channel's own tables (range 0100-0199).

-- FSM state and data of conversations, so flows survive a restart.
CREATE TABLE telegram_fsm (
    bot_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL DEFAULT 0,
    destiny TEXT NOT NULL DEFAULT 'default',
    state TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (bot_id, chat_id, user_id, thread_id, destiny)
);

-- People who wrote to the bot: chosen language, and whether they blocked the bot. Nothing more.
CREATE TABLE telegram_users (
    user_id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    lang TEXT,
    blocked_at TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

-- "Talk to a person": a message forwarded to the staff chat, so a staff reply to it reaches the person
-- as a reply to their own message. The text is kept with the person's record and falls under retention.
CREATE TABLE telegram_handoffs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    staff_chat_id INTEGER NOT NULL,
    staff_message_id INTEGER,
    user_id INTEGER NOT NULL,
    user_chat_id INTEGER NOT NULL,
    user_message_id INTEGER NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('user', 'staff')),
    text TEXT,
    staff_user_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX telegram_handoffs_staff_message ON telegram_handoffs(staff_chat_id, staff_message_id);
CREATE INDEX telegram_handoffs_user ON telegram_handoffs(user_id);

-- Staff-chat cards: which Telegram message shows which request, so it is edited in place.
CREATE TABLE telegram_cards (
    request_id TEXT PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- Refused actions (forged callback data, non-staff presses) that do not belong to an existing request.
CREATE TABLE telegram_security_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    user_id INTEGER,
    chat_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}'
);
