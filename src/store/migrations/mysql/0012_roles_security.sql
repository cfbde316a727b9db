-- Version 12 (MySQL 8 / MariaDB 10.6+). Equivalent of
-- src/store/migrations/sqlite/0012_roles_security.sql.

ALTER TABLE roles ADD COLUMN models JSON NULL;
UPDATE roles SET models = JSON_ARRAY() WHERE models IS NULL;
ALTER TABLE roles MODIFY COLUMN models JSON NOT NULL;
ALTER TABLE roles ADD COLUMN mfa_required TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE roles ADD COLUMN builtin TINYINT(1) NOT NULL DEFAULT 0;
UPDATE roles SET builtin = 1 WHERE name IN ('user', 'auditor', 'admin');

INSERT INTO permissions (name, description) VALUES
    ('models:chat', 'Call chat models (web chat, /v1/chat/completions)'),
    ('models:images', 'Call image models (web images, /v1/images/generations)'),
    ('models:passthrough', 'Call models through the DashScope-native pass-through'),
    ('roles:manage', 'Create, edit and delete roles'),
    ('security:read', 'Read security events and lift the locks they set');

INSERT INTO role_permissions (role, permission)
    SELECT r.name, p.name FROM roles r CROSS JOIN permissions p
    WHERE p.name IN ('models:chat', 'models:images', 'models:passthrough');
INSERT INTO role_permissions (role, permission)
    SELECT 'admin', name FROM permissions WHERE name IN ('roles:manage', 'security:read');

CREATE TABLE security_events (
    id           VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind         VARCHAR(64) NOT NULL,
    severity     VARCHAR(16) NOT NULL,
    user_id      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    api_key_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ip           VARCHAR(64) NOT NULL DEFAULT '',
    detail       JSON NOT NULL,
    action       VARCHAR(32) NOT NULL DEFAULT 'none',
    locked_until BIGINT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY security_events_created_idx (created_at, id),
    KEY security_events_kind_idx (kind, created_at, id),
    KEY security_events_user_idx (user_id, created_at, id),
    CONSTRAINT security_events_severity_ck CHECK (severity IN ('low', 'medium', 'high'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE security_locks (
    subject    VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    until      BIGINT NOT NULL,
    event_id   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subject)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
