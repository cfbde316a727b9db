-- Bailian Hub schema, version 1 (SQLite). The data model of DESIGN §3.
-- Applied by the migration runner inside one transaction: no BEGIN/COMMIT/PRAGMA here.
-- Times are epoch milliseconds (UTC); ids are UUIDv7 text; JSON columns hold JSON text.
-- Keep src/store/migrations/mysql/0001_init.sql equivalent.

-- ---- RBAC ----

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE permissions (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE role_permissions (
    role       TEXT NOT NULL REFERENCES roles(name) ON DELETE CASCADE ON UPDATE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions(name) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (role, permission)
) STRICT, WITHOUT ROWID;

INSERT INTO roles (name, description) VALUES
    ('user', 'Uses chat, images and their own history and keys'),
    ('auditor', 'Reads every call history and the audit log'),
    ('admin', 'Manages users, upstream keys and everything else');

INSERT INTO permissions (name, description) VALUES
    ('conversations:own', 'Own conversations and messages'),
    ('history:read:own', 'Own call history and statistics'),
    ('history:read:all', 'Call history and statistics of every user'),
    ('users:manage', 'List users, change roles, status and quotas'),
    ('keys:manage', 'Manage upstream DashScope keys'),
    ('audit:read', 'Read the audit log'),
    ('images:own', 'Own image generations'),
    ('api_keys:own', 'Own platform API keys');

INSERT INTO role_permissions (role, permission)
    SELECT 'user', name FROM permissions
    WHERE name IN ('conversations:own', 'history:read:own', 'images:own', 'api_keys:own');
INSERT INTO role_permissions (role, permission)
    SELECT 'auditor', name FROM permissions
    WHERE name IN ('conversations:own', 'history:read:own', 'images:own', 'api_keys:own',
                   'history:read:all', 'audit:read');
INSERT INTO role_permissions (role, permission)
    SELECT 'admin', name FROM permissions;

-- ---- users ----

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL COLLATE NOCASE,
    email          TEXT NOT NULL COLLATE NOCASE,
    password_hash  TEXT NOT NULL,
    display_name   TEXT NOT NULL DEFAULT '',
    role           TEXT NOT NULL DEFAULT 'user' REFERENCES roles(name) ON UPDATE CASCADE,
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    settings       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    mfa_secret_enc BLOB,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
-- Case-insensitive uniqueness through the columns' NOCASE collation (ASCII folding).
CREATE UNIQUE INDEX users_username_uq ON users(username);
CREATE UNIQUE INDEX users_email_uq ON users(email);
CREATE INDEX users_created_idx ON users(created_at DESC, id DESC);
CREATE INDEX users_role_status_idx ON users(role, status);

-- Per-user limits; a missing row or a NULL field means the configured default.
CREATE TABLE user_quotas (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    daily_tokens INTEGER CHECK (daily_tokens >= 0),
    rpm          INTEGER CHECK (rpm >= 0),
    updated_at   INTEGER NOT NULL
) STRICT;

-- ---- sessions (one row per refresh token) ----

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    refresh_hash TEXT NOT NULL,
    family_id    TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE UNIQUE INDEX sessions_refresh_hash_uq ON sessions(refresh_hash);
CREATE INDEX sessions_user_idx ON sessions(user_id, revoked_at);
CREATE INDEX sessions_family_idx ON sessions(family_id);
CREATE INDEX sessions_expires_idx ON sessions(expires_at);

-- ---- conversations and messages ----
-- `seq` is an internal INTEGER PRIMARY KEY (a stable rowid, which VACUUM keeps) so that the
-- FTS5 indexes can point at rows; the public id is `id`.

CREATE TABLE conversations (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title         TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL DEFAULT '',
    pinned        INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    archived      INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    deleted_at    INTEGER
) STRICT;
CREATE INDEX conversations_list_idx
    ON conversations(user_id, pinned DESC, updated_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE messages (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content         TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'complete'
                    CHECK (status IN ('complete', 'streaming', 'interrupted', 'error')),
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    parent_id       TEXT REFERENCES messages(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_conversation_idx ON messages(conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_parent_idx ON messages(parent_id);

-- Full-text search over titles and message text. The trigram tokenizer matches any
-- substring of 3+ characters, which also works for Chinese text (no word boundaries).
-- External-content tables: the text lives once, in the base tables; triggers keep the
-- indexes in step.
CREATE VIRTUAL TABLE conversations_fts USING fts5(
    title, content = 'conversations', content_rowid = 'seq', tokenize = 'trigram');
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content = 'messages', content_rowid = 'seq', tokenize = 'trigram');

CREATE TRIGGER conversations_fts_ai AFTER INSERT ON conversations BEGIN
    INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER conversations_fts_ad AFTER DELETE ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER conversations_fts_au AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO conversations_fts (conversations_fts, rowid, title)
        VALUES ('delete', old.seq, old.title);
    INSERT INTO conversations_fts (rowid, title) VALUES (new.seq, new.title);
END;

CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
END;

-- ---- usage history (a log: no foreign keys, rows outlive what they refer to) ----

CREATE TABLE api_calls (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL,
    api_key_id          TEXT,
    conversation_id     TEXT,
    endpoint            TEXT NOT NULL,
    model               TEXT NOT NULL DEFAULT '',
    status_code         INTEGER NOT NULL,
    error_code          TEXT NOT NULL DEFAULT '',
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    image_count         INTEGER NOT NULL DEFAULT 0,
    latency_ms          INTEGER NOT NULL DEFAULT 0,
    first_token_ms      INTEGER,
    cost_micro_cny      INTEGER NOT NULL DEFAULT 0,
    upstream_request_id TEXT NOT NULL DEFAULT '',
    cache_hit           INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX api_calls_user_time_idx ON api_calls(user_id, created_at DESC, id DESC);
CREATE INDEX api_calls_time_idx ON api_calls(created_at DESC, id DESC);

-- ---- keys ----

CREATE TABLE upstream_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL COLLATE NOCASE,
    secret_enc     BLOB NOT NULL,
    last4          TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'retiring', 'disabled')),
    weight         INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
    cooldown_until INTEGER,
    created_at     INTEGER NOT NULL,
    rotated_at     INTEGER
) STRICT;
CREATE UNIQUE INDEX upstream_keys_name_uq ON upstream_keys(name);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    key_hash     TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(scopes)),
    expires_at   INTEGER,
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE UNIQUE INDEX api_keys_key_hash_uq ON api_keys(key_hash);
CREATE INDEX api_keys_user_idx ON api_keys(user_id, created_at DESC);

-- ---- images ----

CREATE TABLE images (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    task_id    TEXT NOT NULL DEFAULT '',
    prompt     TEXT NOT NULL,
    model      TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
    file_path  TEXT NOT NULL DEFAULT '',
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX images_user_idx ON images(user_id, created_at DESC, id DESC);
CREATE INDEX images_status_idx ON images(status, created_at);

-- ---- audit log (append-only, no foreign keys) ----

CREATE TABLE audit_log (
    id            TEXT PRIMARY KEY,
    actor_user_id TEXT,
    action        TEXT NOT NULL,
    target        TEXT NOT NULL DEFAULT '',
    ip            TEXT NOT NULL DEFAULT '',
    request_id    TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '{}',
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_log_time_idx ON audit_log(created_at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log(actor_user_id, created_at DESC, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log(action, created_at DESC, id DESC);
