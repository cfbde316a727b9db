-- Issue 18: TOTP multi-factor sign-in. The confirmed secret stays in users.mfa_secret_enc
-- (AEAD under the master key, associated data "mfa:<user id>"), so "MFA on" is that column
-- being set. user_mfa holds the rest: a pending (unconfirmed) secret, when TOTP was enrolled,
-- and the last time step accepted (a code is accepted once: any step <= it is refused).
CREATE TABLE user_mfa (
    user_id            TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    pending_secret_enc BLOB,
    pending_created_at INTEGER,
    enrolled_at        INTEGER,
    last_step          INTEGER NOT NULL DEFAULT -1,
    updated_at         INTEGER NOT NULL
) STRICT;

-- One-time recovery codes, stored as SHA-256 (hex) of the high-entropy code; used_at is set
-- when one is spent.
CREATE TABLE mfa_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE UNIQUE INDEX mfa_recovery_codes_user_hash_uq ON mfa_recovery_codes(user_id, code_hash);

-- Second-step sign-in tokens (purpose 'login': the password was right, a code is due;
-- 'enroll': the user's role requires MFA and they must enroll first). Stored as SHA-256
-- (hex) of the token; single use (used_at), bound to one user, short-lived (expires_at), and
-- burnt after too many wrong codes (failures).
CREATE TABLE mfa_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('login', 'enroll')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    failures   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX mfa_tokens_user_idx ON mfa_tokens(user_id);
CREATE INDEX mfa_tokens_expiry_idx ON mfa_tokens(expires_at);
