-- Issue 18, item 3: single sign-on with OpenID Connect.
-- user_identities: an account's link to a provider's subject (provider = the configured slug).
-- oidc_states: one row per started sign-in (state hashed; nonce and PKCE verifier kept only
-- until the callback uses them, single use, ~10 min).
-- sso_tickets: short single-use handles (hashed): 'ticket' = a finished sign-in the web app
-- exchanges for tokens (60 s); 'link' = a pending link of a provider identity to an existing
-- account, confirmed with the account's password (10 min).
CREATE TABLE user_identities (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER
) STRICT;
CREATE UNIQUE INDEX user_identities_subject_uq ON user_identities(provider, subject);
CREATE INDEX user_identities_user_idx ON user_identities(user_id, created_at);

CREATE TABLE oidc_states (
    state_hash    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER
) STRICT;
CREATE INDEX oidc_states_expiry_idx ON oidc_states(expires_at);

CREATE TABLE sso_tickets (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('ticket', 'link')),
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX sso_tickets_expiry_idx ON sso_tickets(expires_at);
