-- The JWT signing key ring, shared by every hub of this database (same meaning as
-- sqlite/0014_signing_keys.sql). One row: the ring's JSON sealed under the master key, and a
-- version that grows with each rotation.
CREATE TABLE signing_keys (
    id          TINYINT NOT NULL,
    ring_sealed MEDIUMTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT signing_keys_one_row CHECK (id = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
