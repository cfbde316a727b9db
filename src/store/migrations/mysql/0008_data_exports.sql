-- Issue 21: a user's own data export. One row per export job; the archive lives under
-- <data dir>/exports/ until expires_at, then the row and the file are removed. At most one
-- job per user is pending or running at a time: MariaDB has no partial indexes, so a
-- generated column holds the user id only while the job is active and carries the unique key.
CREATE TABLE data_exports (
    id          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status      VARCHAR(16) NOT NULL DEFAULT 'pending',
    progress    INT NOT NULL DEFAULT 0,
    file_path   VARCHAR(512) NOT NULL DEFAULT '',
    bytes       BIGINT NOT NULL DEFAULT 0,
    error_code  VARCHAR(64) NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    finished_at BIGINT NULL,
    expires_at  BIGINT NULL,
    active_user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin AS (IF(status IN ('pending', 'running'), user_id, NULL)) PERSISTENT,
    PRIMARY KEY (id),
    CONSTRAINT data_exports_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT data_exports_status_ck CHECK (status IN ('pending', 'running', 'ready', 'failed')),
    CONSTRAINT data_exports_progress_ck CHECK (progress BETWEEN 0 AND 100),
    UNIQUE KEY data_exports_one_active_uq (active_user_id),
    KEY data_exports_user_idx (user_id, created_at, id),
    KEY data_exports_expiry_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
