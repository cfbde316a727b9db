-- Issue 18, item 2: passkeys (WebAuthn).
--
-- passkeys: one row per registered credential. credential_id is the authenticator's raw
-- credential id (unique across the hub: a credential names exactly one user), public_key the
-- COSE_Key bytes as the authenticator sent them, alg its COSE algorithm (-7 ES256, -257
-- RS256, -8 EdDSA), sign_count the last counter seen (0 = the authenticator keeps none),
-- transports a JSON array of the hints the browser gave ('[]' = none).
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id BLOB NOT NULL UNIQUE,
    public_key    BLOB NOT NULL,
    alg           INTEGER NOT NULL CHECK (alg IN (-7, -257, -8)),
    sign_count    INTEGER NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
    name          TEXT NOT NULL,
    transports    TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
) STRICT;
CREATE INDEX passkeys_user_idx ON passkeys(user_id, created_at);

-- webauthn_challenges: every challenge the hub issued, by its SHA-256 (hex), so that one is
-- accepted once only, within its lifetime, for its purpose (register, login, second_factor)
-- and, when it names one, for its user - across restarts and hubs sharing the database.
CREATE TABLE webauthn_challenges (
    challenge_hash TEXT PRIMARY KEY,
    purpose        TEXT NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
    user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
) STRICT;
CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges(expires_at);
