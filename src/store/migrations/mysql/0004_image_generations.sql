-- Issue 12: Wanx image generations end to end (see the sqlite twin).
DROP TABLE images;

CREATE TABLE image_generations (
    id                  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    api_key_id          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    endpoint            VARCHAR(128) NOT NULL,
    model               VARCHAR(128) NOT NULL,
    prompt              TEXT NOT NULL,
    negative_prompt     TEXT NOT NULL,
    size                VARCHAR(32) NOT NULL,
    n                   INT NOT NULL,
    seed                BIGINT NULL,
    prompt_extend       TINYINT(1) NOT NULL DEFAULT 1,
    watermark           TINYINT(1) NOT NULL DEFAULT 0,
    status              VARCHAR(16) NOT NULL DEFAULT 'pending',
    task_id             VARCHAR(128) NOT NULL DEFAULT '',
    upstream_request_id VARCHAR(128) NOT NULL DEFAULT '',
    error_code          VARCHAR(128) NOT NULL DEFAULT '',
    error_message       TEXT NOT NULL,
    polls               INT NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    submitted_at        BIGINT NULL,
    started_at          BIGINT NULL,
    finished_at         BIGINT NULL,
    accounted_at        BIGINT NULL,
    PRIMARY KEY (id),
    KEY image_generations_user_idx (user_id, created_at, id),
    KEY image_generations_unsettled_idx (accounted_at, created_at),
    CONSTRAINT image_generations_n_chk CHECK (n BETWEEN 1 AND 4),
    CONSTRAINT image_generations_status_chk
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'canceled')),
    CONSTRAINT image_generations_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE images (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    generation_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    idx           INT NOT NULL,
    status        VARCHAR(16) NOT NULL,
    file_path     VARCHAR(255) NOT NULL DEFAULT '',
    sha256        CHAR(64) NOT NULL DEFAULT '',
    content_type  VARCHAR(64) NOT NULL DEFAULT '',
    bytes         BIGINT NOT NULL DEFAULT 0,
    width         INT NOT NULL DEFAULT 0,
    height        INT NOT NULL DEFAULT 0,
    seed          BIGINT NULL,
    actual_prompt TEXT NOT NULL,
    error_code    VARCHAR(128) NOT NULL DEFAULT '',
    error_message TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY images_generation_idx_uq (generation_id, idx),
    KEY images_file_idx (file_path),
    CONSTRAINT images_status_chk CHECK (status IN ('succeeded', 'failed')),
    CONSTRAINT images_generation_fk FOREIGN KEY (generation_id) REFERENCES image_generations (id)
        ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

ALTER TABLE api_calls ADD COLUMN upstream_task_id VARCHAR(128) NOT NULL DEFAULT '';
