-- Issue 20: chat with images.
--
-- One uploads row per picture a user uploaded (POST /api/v1/files): the stored file is the
-- hub's re-encoded copy (no metadata), kept content-addressed under the file store like the
-- generated images. A message names its pictures in `attachments`, a JSON array of upload ids
-- in the order they were sent ('[]' = none). api_calls keeps the image tokens of a vision call
-- (part of input_tokens, which is what is priced) apart.
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    file_path     TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    original_name TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX uploads_user_idx ON uploads(user_id, created_at DESC, id DESC);
CREATE INDEX uploads_file_idx ON uploads(file_path);

ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_calls ADD COLUMN image_tokens INTEGER NOT NULL DEFAULT 0;
