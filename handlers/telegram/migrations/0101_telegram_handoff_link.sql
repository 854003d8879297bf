-- A Telegram "talk to a person" message is also a core handoff (bot/handoffs.py), so staff see it in the
-- staff chat through the outbox and with `privacy-bot handoffs`; this links the two.
ALTER TABLE telegram_handoffs ADD COLUMN handoff_id INTEGER;
CREATE INDEX telegram_handoffs_handoff ON telegram_handoffs(handoff_id);
