-- Thinking models stream their reasoning apart from the answer: it is kept in its own column
-- (shown folded in the UI, never sent back upstream as context). A message that ended in an
-- error keeps the error code it ended with (e.g. upstream_rate_limited), '' otherwise.

ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN error_code TEXT NOT NULL DEFAULT '';
