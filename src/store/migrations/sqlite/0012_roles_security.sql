-- Version 12 (SQLite): roles as data (model allow-lists, an MFA switch, built-in flag), the
-- per-family model permissions, and security events with the locks they set.
-- Keep src/store/migrations/mysql/0012_roles_security.sql equivalent.

-- ---- roles ----

ALTER TABLE roles ADD COLUMN models TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(models));
ALTER TABLE roles ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0
    CHECK (mfa_required IN (0, 1));
ALTER TABLE roles ADD COLUMN builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1));
UPDATE roles SET builtin = 1 WHERE name IN ('user', 'auditor', 'admin');

INSERT INTO permissions (name, description) VALUES
    ('models:chat', 'Call chat models (web chat, /v1/chat/completions)'),
    ('models:images', 'Call image models (web images, /v1/images/generations)'),
    ('models:passthrough', 'Call models through the DashScope-native pass-through'),
    ('roles:manage', 'Create, edit and delete roles'),
    ('security:read', 'Read security events and lift the locks they set');

-- Nobody loses access: every existing role keeps calling every model family; admin gets all.
INSERT INTO role_permissions (role, permission)
    SELECT r.name, p.name FROM roles r, permissions p
    WHERE p.name IN ('models:chat', 'models:images', 'models:passthrough');
INSERT INTO role_permissions (role, permission)
    SELECT 'admin', name FROM permissions WHERE name IN ('roles:manage', 'security:read');

-- ---- security events ----

CREATE TABLE security_events (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    user_id      TEXT,
    api_key_id   TEXT,
    ip           TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail)),
    action       TEXT NOT NULL DEFAULT 'none',
    locked_until INTEGER,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX security_events_created_idx ON security_events(created_at, id);
CREATE INDEX security_events_kind_idx ON security_events(kind, created_at, id);
CREATE INDEX security_events_user_idx ON security_events(user_id, created_at, id);

-- "user:<id>" (password sign-in refused) or "api_key:<id>" (key suspended) until `until`.
CREATE TABLE security_locks (
    subject    TEXT PRIMARY KEY,
    until      INTEGER NOT NULL,
    event_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
