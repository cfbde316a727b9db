-- Issue 20: chat with images (see the sqlite twin): uploaded pictures, the upload ids a
-- message carries (a JSON array as text), and the image tokens of a vision call.
CREATE TABLE uploads (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    file_path     VARCHAR(255) NOT NULL,
    sha256        CHAR(64) CHARACTER SET ascii NOT NULL,
    content_type  VARCHAR(64) NOT NULL,
    bytes         BIGINT NOT NULL,
    width         INT NOT NULL,
    height        INT NOT NULL,
    original_name VARCHAR(255) NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY uploads_user_idx (user_id, created_at, id),
    KEY uploads_file_idx (file_path),
    CONSTRAINT uploads_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One ALTER per column keeps each statement restartable (MySQL DDL is not transactional).
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL;
ALTER TABLE api_calls ADD COLUMN image_tokens BIGINT NOT NULL DEFAULT 0;
