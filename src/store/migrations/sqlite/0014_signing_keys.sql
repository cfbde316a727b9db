-- The JWT signing key ring, shared by every hub of this database (it was a file in each hub's
-- data directory, jwt-keys.json, which hubs on different machines could not share). One row:
-- the ring's JSON sealed under the master key, and a version that grows with each rotation.
CREATE TABLE signing_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    ring_sealed TEXT NOT NULL,
    version     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
