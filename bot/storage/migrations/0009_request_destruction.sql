-- What a completed deletion destroyed (Roskomnadzor order 179 of 2022): the categories of personal data and
-- the information systems staff chose from the configured lists ([destruction]), and the method, each kept
-- as the ids and the labels of the day (JSON), so an act printed later says what was chosen then. No
-- personal data: the labels are the operator's own lists. One row per completed deletion, written in the
-- completion's transaction.
CREATE TABLE request_destruction (
    request_id  TEXT PRIMARY KEY REFERENCES requests(id),
    categories  TEXT NOT NULL,   -- JSON [{"id", "ru", "en"}]
    systems     TEXT NOT NULL,   -- JSON [{"id", "ru", "en"}]
    method      TEXT NOT NULL,   -- JSON {"ru", "en"}
    recorded_at TEXT NOT NULL
);
