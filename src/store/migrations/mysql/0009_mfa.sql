-- Issue 18: TOTP multi-factor sign-in. The confirmed secret stays in users.mfa_secret_enc
-- (AEAD under the master key, associated data "mfa:<user id>"), so "MFA on" is that column
-- being set. user_mfa holds the rest: a pending (unconfirmed) secret, when TOTP was enrolled,
-- and the last time step accepted (a code is accepted once: any step <= it is refused).
CREATE TABLE user_mfa (
    user_id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    pending_secret_enc VARBINARY(512) NULL,
    pending_created_at BIGINT NULL,
    enrolled_at        BIGINT NULL,
    last_step          BIGINT NOT NULL DEFAULT -1,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (user_id),
    CONSTRAINT user_mfa_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One-time recovery codes, stored as SHA-256 (hex) of the high-entropy code; used_at is set
-- when one is spent.
CREATE TABLE mfa_recovery_codes (
    id         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    code_hash  CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY mfa_recovery_codes_user_hash_uq (user_id, code_hash),
    CONSTRAINT mfa_recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Second-step sign-in tokens (purpose 'login': the password was right, a code is due;
-- 'enroll': the user's role requires MFA and they must enroll first). Stored as SHA-256
-- (hex) of the token; single use (used_at), bound to one user, short-lived (expires_at), and
-- burnt after too many wrong codes (failures).
CREATE TABLE mfa_tokens (
    token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id    VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    purpose    VARCHAR(16) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NULL,
    failures   INT NOT NULL DEFAULT 0,
    PRIMARY KEY (token_hash),
    KEY mfa_tokens_user_idx (user_id),
    KEY mfa_tokens_expiry_idx (expires_at),
    CONSTRAINT mfa_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT mfa_tokens_purpose_ck CHECK (purpose IN ('login', 'enroll'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
