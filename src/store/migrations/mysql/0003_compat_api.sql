-- Issue 6: OpenAI-compatible API and DashScope pass-through (see the sqlite twin).

ALTER TABLE api_keys ADD COLUMN models JSON NULL;
UPDATE api_keys SET models = JSON_ARRAY() WHERE models IS NULL;
ALTER TABLE api_keys MODIFY models JSON NOT NULL;

CREATE TABLE upstream_tasks (
    task_id      VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    api_key_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    model        VARCHAR(128) NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    accounted_at BIGINT NULL,
    PRIMARY KEY (task_id),
    KEY upstream_tasks_user_idx (user_id, created_at),
    CONSTRAINT upstream_tasks_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
