-- A staff member's typed reason or question is accepted only as a reply to the bot's prompt post for that
-- request, by the staff member who pressed the button, before it expires, and it is shown back for
-- confirmation before it is sent. One row per prompt; retention deletes them once expired.
CREATE TABLE telegram_staff_prompts (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    prompt_message_id INTEGER NOT NULL,
    staff_user_id INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('reject', 'info')),
    -- open -> typed (text set, awaiting the confirm press) -> used | cancelled
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'typed', 'used', 'cancelled')),
    text TEXT,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE UNIQUE INDEX telegram_staff_prompts_post ON telegram_staff_prompts(chat_id, prompt_message_id);
