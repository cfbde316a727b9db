-- Issue 12: Wanx image generations end to end.
--
-- One image_generations row per request (one DashScope async task); one images row per
-- result item, succeeded or failed. The images table of 0001 (one row per task, never used)
-- is replaced. A generation is "settled" once its api_calls row is written (accounted_at):
-- the background poller resumes every unsettled generation after a restart.
DROP TABLE images;

CREATE TABLE image_generations (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    api_key_id      TEXT,
    endpoint        TEXT NOT NULL,
    model           TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    size            TEXT NOT NULL,
    n               INTEGER NOT NULL CHECK (n BETWEEN 1 AND 4),
    seed            INTEGER,
    prompt_extend   INTEGER NOT NULL DEFAULT 1,
    watermark       INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'canceled')),
    task_id         TEXT NOT NULL DEFAULT '',
    upstream_request_id TEXT NOT NULL DEFAULT '',
    error_code      TEXT NOT NULL DEFAULT '',
    error_message   TEXT NOT NULL DEFAULT '',
    polls           INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    submitted_at    INTEGER,
    started_at      INTEGER,
    finished_at     INTEGER,
    accounted_at    INTEGER
) STRICT;
CREATE INDEX image_generations_user_idx ON image_generations(user_id, created_at DESC, id DESC);
CREATE INDEX image_generations_unsettled_idx ON image_generations(created_at)
    WHERE accounted_at IS NULL;

CREATE TABLE images (
    id            TEXT PRIMARY KEY,
    generation_id TEXT NOT NULL REFERENCES image_generations(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
    file_path     TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL DEFAULT '',
    content_type  TEXT NOT NULL DEFAULT '',
    bytes         INTEGER NOT NULL DEFAULT 0,
    width         INTEGER NOT NULL DEFAULT 0,
    height        INTEGER NOT NULL DEFAULT 0,
    seed          INTEGER,
    actual_prompt TEXT NOT NULL DEFAULT '',
    error_code    TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    UNIQUE (generation_id, idx)
) STRICT;
CREATE INDEX images_file_idx ON images(file_path) WHERE file_path <> '';

-- DashScope's task id beside its request id in the usage history.
ALTER TABLE api_calls ADD COLUMN upstream_task_id TEXT NOT NULL DEFAULT '';
