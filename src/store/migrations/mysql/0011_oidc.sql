-- Issue 18, item 3: single sign-on with OpenID Connect (same meaning as sqlite/0011_oidc.sql).
-- user_identities: an account's link to a provider's subject (provider = the configured slug).
-- oidc_states: one row per started sign-in (state hashed; nonce and PKCE verifier kept only
-- until the callback uses them, single use, ~10 min).
-- sso_tickets: short single-use handles (hashed): 'ticket' = a finished sign-in the web app
-- exchanges for tokens (60 s); 'link' = a pending link of a provider identity to an existing
-- account, confirmed with the account's password (10 min).
CREATE TABLE user_identities (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    provider      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject       VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
    email         VARCHAR(320) NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT NULL,
    PRIMARY KEY (id),
    CONSTRAINT user_identities_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    UNIQUE KEY user_identities_subject_uq (provider, subject),
    KEY user_identities_user_idx (user_id, created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE oidc_states (
    state_hash    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    provider      VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    nonce         VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_verifier VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT NULL,
    PRIMARY KEY (state_hash),
    KEY oidc_states_expiry_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE sso_tickets (
    token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind       VARCHAR(16) NOT NULL,
    user_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    provider   VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    subject    VARCHAR(255) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    email      VARCHAR(320) NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NULL,
    PRIMARY KEY (token_hash),
    CONSTRAINT sso_tickets_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT sso_tickets_kind_ck CHECK (kind IN ('ticket', 'link')),
    KEY sso_tickets_expiry_idx (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
