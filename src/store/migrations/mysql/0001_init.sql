-- Bailian Hub schema, version 1 (MySQL 8 / MariaDB 10.6+). Equivalent of
-- src/store/migrations/sqlite/0001_init.sql: same tables, columns, constraints and seed rows.
-- Times are epoch milliseconds (BIGINT); ids are UUIDv7 text; JSON columns hold JSON text.
--
-- Notes for the MySQL store (later issue):
-- - DDL is not transactional in MySQL: the runner cannot roll a failed step back. It should
--   take a named lock (GET_LOCK), apply one step per file, and record a step only after it
--   succeeded; keep each step restartable (one table per statement, no partial ALTERs).
-- - Case-insensitive uniqueness of username, email and upstream key name comes from the
--   utf8mb4_unicode_ci collation (SQLite: COLLATE NOCASE).
-- - Search: FULLTEXT indexes stand in for the SQLite FTS5 tables. MySQL can use
--   WITH PARSER ngram for Chinese text; MariaDB has no ngram parser and would need LIKE.
-- - SQLite's internal `seq` columns (stable rowids for FTS5) are not needed here.

CREATE TABLE roles (
    name        VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE permissions (
    name        VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE role_permissions (
    role       VARCHAR(64) NOT NULL,
    permission VARCHAR(64) NOT NULL,
    PRIMARY KEY (role, permission),
    CONSTRAINT role_permissions_role_fk FOREIGN KEY (role) REFERENCES roles (name)
        ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT role_permissions_permission_fk FOREIGN KEY (permission)
        REFERENCES permissions (name) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

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

CREATE TABLE users (
    id             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    username       VARCHAR(64) NOT NULL,
    email          VARCHAR(254) NOT NULL,
    password_hash  VARCHAR(255) NOT NULL,
    display_name   VARCHAR(255) NOT NULL DEFAULT '',
    role           VARCHAR(64) NOT NULL DEFAULT 'user',
    status         VARCHAR(16) NOT NULL DEFAULT 'active',
    settings       JSON NOT NULL,
    mfa_secret_enc VARBINARY(512) NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_username_uq (username),
    UNIQUE KEY users_email_uq (email),
    KEY users_created_idx (created_at, id),
    KEY users_role_status_idx (role, status),
    CONSTRAINT users_role_fk FOREIGN KEY (role) REFERENCES roles (name) ON UPDATE CASCADE,
    CONSTRAINT users_status_ck CHECK (status IN ('active', 'disabled'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE user_quotas (
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    daily_tokens BIGINT NULL,
    rpm          BIGINT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT user_quotas_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE,
    CONSTRAINT user_quotas_ck CHECK (daily_tokens >= 0 AND rpm >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE sessions (
    id           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    refresh_hash VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    family_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_agent   VARCHAR(512) NOT NULL DEFAULT '',
    ip           VARCHAR(64) NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT NULL,
    revoked_at   BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY sessions_refresh_hash_uq (refresh_hash),
    KEY sessions_user_idx (user_id, revoked_at),
    KEY sessions_family_idx (family_id),
    KEY sessions_expires_idx (expires_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE conversations (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    title         VARCHAR(512) NOT NULL DEFAULT '',
    model         VARCHAR(128) NOT NULL DEFAULT '',
    system_prompt TEXT NOT NULL,
    pinned        TINYINT(1) NOT NULL DEFAULT 0,
    archived      TINYINT(1) NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted_at    BIGINT NULL,
    PRIMARY KEY (id),
    KEY conversations_list_idx (user_id, deleted_at, pinned, updated_at, id),
    FULLTEXT KEY conversations_title_ft (title),
    CONSTRAINT conversations_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE,
    CONSTRAINT conversations_flags_ck CHECK (pinned IN (0, 1) AND archived IN (0, 1))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE messages (
    id              VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    conversation_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    role            VARCHAR(16) NOT NULL,
    content         MEDIUMTEXT NOT NULL,
    model           VARCHAR(128) NOT NULL DEFAULT '',
    status          VARCHAR(16) NOT NULL DEFAULT 'complete',
    input_tokens    BIGINT NOT NULL DEFAULT 0,
    output_tokens   BIGINT NOT NULL DEFAULT 0,
    parent_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY messages_conversation_idx (conversation_id, created_at, id),
    KEY messages_parent_idx (parent_id),
    FULLTEXT KEY messages_content_ft (content),
    CONSTRAINT messages_conversation_fk FOREIGN KEY (conversation_id)
        REFERENCES conversations (id) ON DELETE CASCADE,
    CONSTRAINT messages_parent_fk FOREIGN KEY (parent_id) REFERENCES messages (id)
        ON DELETE SET NULL,
    CONSTRAINT messages_role_ck CHECK (role IN ('system', 'user', 'assistant')),
    CONSTRAINT messages_status_ck
        CHECK (status IN ('complete', 'streaming', 'interrupted', 'error'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- A log: no foreign keys, rows outlive what they refer to.
CREATE TABLE api_calls (
    id                  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    api_key_id          VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    conversation_id     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    endpoint            VARCHAR(255) NOT NULL,
    model               VARCHAR(128) NOT NULL DEFAULT '',
    status_code         INT NOT NULL,
    error_code          VARCHAR(128) NOT NULL DEFAULT '',
    input_tokens        BIGINT NOT NULL DEFAULT 0,
    output_tokens       BIGINT NOT NULL DEFAULT 0,
    image_count         BIGINT NOT NULL DEFAULT 0,
    latency_ms          BIGINT NOT NULL DEFAULT 0,
    first_token_ms      BIGINT NULL,
    cost_micro_cny      BIGINT NOT NULL DEFAULT 0,
    upstream_request_id VARCHAR(128) NOT NULL DEFAULT '',
    cache_hit           TINYINT(1) NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY api_calls_user_time_idx (user_id, created_at, id),
    KEY api_calls_time_idx (created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE upstream_keys (
    id             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name           VARCHAR(128) NOT NULL,
    secret_enc     VARBINARY(1024) NOT NULL,
    last4          VARCHAR(8) NOT NULL,
    status         VARCHAR(16) NOT NULL DEFAULT 'active',
    weight         BIGINT NOT NULL DEFAULT 1,
    cooldown_until BIGINT NULL,
    created_at     BIGINT NOT NULL,
    rotated_at     BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY upstream_keys_name_uq (name),
    CONSTRAINT upstream_keys_status_ck CHECK (status IN ('active', 'retiring', 'disabled')),
    CONSTRAINT upstream_keys_weight_ck CHECK (weight >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE api_keys (
    id           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    name         VARCHAR(128) NOT NULL DEFAULT '',
    key_hash     VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    prefix       VARCHAR(32) NOT NULL,
    scopes       JSON NOT NULL,
    expires_at   BIGINT NULL,
    last_used_at BIGINT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY api_keys_key_hash_uq (key_hash),
    KEY api_keys_user_idx (user_id, created_at),
    CONSTRAINT api_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE images (
    id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    task_id    VARCHAR(128) NOT NULL DEFAULT '',
    prompt     TEXT NOT NULL,
    model      VARCHAR(128) NOT NULL DEFAULT '',
    status     VARCHAR(16) NOT NULL DEFAULT 'pending',
    file_path  VARCHAR(1024) NOT NULL DEFAULT '',
    width      BIGINT NOT NULL DEFAULT 0,
    height     BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY images_user_idx (user_id, created_at, id),
    KEY images_status_idx (status, created_at),
    CONSTRAINT images_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT images_status_ck CHECK (status IN ('pending', 'running', 'succeeded', 'failed'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Append-only, no foreign keys.
CREATE TABLE audit_log (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    actor_user_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    action        VARCHAR(128) NOT NULL,
    target        VARCHAR(255) NOT NULL DEFAULT '',
    ip            VARCHAR(64) NOT NULL DEFAULT '',
    request_id    VARCHAR(128) NOT NULL DEFAULT '',
    detail        MEDIUMTEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY audit_log_time_idx (created_at, id),
    KEY audit_log_actor_idx (actor_user_id, created_at, id),
    KEY audit_log_action_idx (action, created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
