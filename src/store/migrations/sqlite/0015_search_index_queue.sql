-- Message search is indexed off the request path. Feeding messages_fts row by row from a
-- trigger cost a chat turn about a quarter of the hub's CPU (the trigram tokenizer, and a new
-- FTS5 segment for every commit). Now a new or edited message only queues its seq in
-- messages_fts_pending; the hub indexes the queue in batches in the background
-- (Store::IndexSearch), and a search reads the queued messages' text directly, so that what was
-- just written is found at once. An existing database keeps its index: only what is written
-- from now on goes through the queue.
CREATE TABLE messages_fts_pending (
    seq INTEGER PRIMARY KEY  -- messages.seq of a message not (or no longer) in messages_fts
) STRICT;

DROP TRIGGER messages_fts_ai;
DROP TRIGGER messages_fts_ad;
DROP TRIGGER messages_fts_au;

CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts_pending (seq) VALUES (new.seq);
END;
-- An external-content FTS5 table must be told exactly what it indexed: only a message that is
-- in the index (not queued) is deleted from it.
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE seq = old.seq);
    DELETE FROM messages_fts_pending WHERE seq = old.seq;
END;
-- An update that leaves the text as it was (a status change) leaves the index alone.
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages
    WHEN old.content IS NOT new.content BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.seq, old.content
        WHERE NOT EXISTS (SELECT 1 FROM messages_fts_pending WHERE seq = old.seq);
    INSERT OR IGNORE INTO messages_fts_pending (seq) VALUES (new.seq);
END;
