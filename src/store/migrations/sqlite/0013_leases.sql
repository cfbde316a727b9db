-- Version 13 (SQLite): work that must run on exactly one hub at a time.
-- Keep src/store/migrations/mysql/0013_leases.sql equivalent.
--
-- leases: one row per job name ("images", "backups"). The holder is the hub's instance id
-- (core::InstanceId); expires_at is in the database's clock (on SQLite: the hub's, there is only
-- one); generation is the fencing token, raised on every change of holder.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL DEFAULT 0,
    generation  INTEGER NOT NULL DEFAULT 0,
    acquired_at INTEGER NOT NULL DEFAULT 0,
    renewed_at  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- job_runs: one row per run of a scheduled job and slot ("backups", "1733500800000"): the
-- first hub to insert it runs that slot, so a slot runs once even across a lease takeover.
CREATE TABLE job_runs (
    job        TEXT NOT NULL,
    slot       TEXT NOT NULL,
    holder     TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (job, slot)
) STRICT;

-- The intent to submit a generation upstream, recorded before the submit: a generation with
-- it and without a task id was interrupted between the submit and recording the task id, and
-- is never submitted a second time (see docs/architecture.md, "Work that runs once").
ALTER TABLE image_generations ADD COLUMN submit_started_at INTEGER;
