-- Issue 21: a user's own data export. One row per export job; the archive lives under
-- <data dir>/exports/ until expires_at, then the row and the file are removed. At most one
-- job per user is pending or running at a time (the partial unique index).
CREATE TABLE data_exports (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    status      TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'ready', 'failed')),
    progress    INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    file_path   TEXT NOT NULL DEFAULT '',
    bytes       INTEGER NOT NULL DEFAULT 0,
    error_code  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    finished_at INTEGER,
    expires_at  INTEGER
) STRICT;
CREATE INDEX data_exports_user_idx ON data_exports(user_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX data_exports_one_active_uq ON data_exports(user_id)
    WHERE status IN ('pending', 'running');
CREATE INDEX data_exports_expiry_idx ON data_exports(expires_at) WHERE expires_at IS NOT NULL;
