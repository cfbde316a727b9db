-- A CHECK written `x IN ('a', 'b', 'c')` (three values or more) is evaluated by filling a
-- temporary B-tree with the values, on every INSERT and UPDATE of a row: a quarter of the CPU
-- of a message insert (bench/README.md). The same checks written as comparisons build nothing.
-- SQLite cannot change a constraint in place, so messages is rebuilt as its documentation
-- describes (a new table, the rows copied, the old one dropped, the new one renamed; its
-- indexes and triggers made again). Rows keep their seq, which the search index points at.
-- parent_id names messages_new while the old table exists (the implicit DELETE of its DROP
-- must not reach the copy); RENAME makes it name messages again. Foreign keys are checked at
-- COMMIT, once everything is in place.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE messages_new (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role            TEXT NOT NULL
                    CHECK (role = 'system' OR role = 'user' OR role = 'assistant'),
    content         TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'complete'
                    CHECK (status = 'complete' OR status = 'streaming' OR status = 'interrupted'
                           OR status = 'error'),
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    parent_id       TEXT REFERENCES messages_new(id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    reasoning       TEXT NOT NULL DEFAULT '',
    error_code      TEXT NOT NULL DEFAULT '',
    attachments     TEXT NOT NULL DEFAULT '[]'
) STRICT;

INSERT INTO messages_new (seq, id, conversation_id, role, content, model, status, input_tokens,
                          output_tokens, parent_id, created_at, reasoning, error_code, attachments)
    SELECT seq, id, conversation_id, role, content, model, status, input_tokens, output_tokens,
           parent_id, created_at, reasoning, error_code, attachments
    FROM messages ORDER BY seq;

DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;

CREATE INDEX messages_conversation_idx ON messages(conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_parent_idx ON messages(parent_id);

-- As in 0015.
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts_pending (seq) VALUES (new.seq);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE seq = old.seq);
    DELETE FROM messages_fts_pending WHERE seq = old.seq;
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages
    WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE seq = old.seq);
    INSERT OR IGNORE INTO messages_fts_pending (seq) VALUES (new.seq);
END;
