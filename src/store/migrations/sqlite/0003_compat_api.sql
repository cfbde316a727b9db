-- Issue 6: OpenAI-compatible API and DashScope pass-through.

-- A platform key may be limited to some models: a JSON array of catalog ids, [] = any model.
ALTER TABLE api_keys ADD COLUMN models TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(models));

-- DashScope async tasks submitted through the pass-through: who may see them.
-- accounted_at is set once, when a poll first saw the task finished and its images were billed.
CREATE TABLE upstream_tasks (
    task_id      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    api_key_id   TEXT,
    model        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    accounted_at INTEGER
) STRICT;
CREATE INDEX upstream_tasks_user_idx ON upstream_tasks(user_id, created_at DESC);
