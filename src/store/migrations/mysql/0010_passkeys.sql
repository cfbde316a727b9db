-- Issue 18, item 2: passkeys (WebAuthn); see the sqlite twin for the meaning of each column.
-- credential_id is at most 1023 bytes (WebAuthn L3); a unique key on a VARBINARY that long
-- exceeds InnoDB's 3072-byte index limit only past 3072 bytes, so it fits.
CREATE TABLE passkeys (
    id            VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_id       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    credential_id VARBINARY(1023) NOT NULL,
    public_key    VARBINARY(2048) NOT NULL,
    alg           INT NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    name          VARCHAR(255) NOT NULL,
    transports    VARCHAR(255) CHARACTER SET ascii NOT NULL DEFAULT '[]',
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY passkeys_credential_uq (credential_id),
    KEY passkeys_user_idx (user_id, created_at),
    CONSTRAINT passkeys_alg_ck CHECK (alg IN (-7, -257, -8)),
    CONSTRAINT passkeys_sign_count_ck CHECK (sign_count >= 0),
    CONSTRAINT passkeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE webauthn_challenges (
    challenge_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    purpose        VARCHAR(16) CHARACTER SET ascii NOT NULL,
    user_id        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT NULL,
    PRIMARY KEY (challenge_hash),
    KEY webauthn_challenges_expiry_idx (expires_at),
    CONSTRAINT webauthn_challenges_purpose_ck CHECK (purpose IN ('register', 'login', 'second_factor')),
    CONSTRAINT webauthn_challenges_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
