-- Version 13 (MySQL 8 / MariaDB 10.6+). Equivalent of src/store/migrations/sqlite/0013_leases.sql.
-- expires_at is in the database server's clock (every hub sees the same one).
CREATE TABLE leases (
    name        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder      VARCHAR(191) NOT NULL DEFAULT '',
    expires_at  BIGINT NOT NULL DEFAULT 0,
    generation  BIGINT NOT NULL DEFAULT 0,
    acquired_at BIGINT NOT NULL DEFAULT 0,
    renewed_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE job_runs (
    job        VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    slot       VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    holder     VARCHAR(191) NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (job, slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE image_generations ADD COLUMN submit_started_at BIGINT NULL;
