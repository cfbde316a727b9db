-- Equivalent of src/store/migrations/sqlite/0002_message_reasoning.sql: reasoning text of
-- thinking models apart from the answer, and the error code a message ended with.
-- One ALTER per column keeps each statement restartable (MySQL DDL is not transactional).

ALTER TABLE messages ADD COLUMN reasoning MEDIUMTEXT NOT NULL;
ALTER TABLE messages ADD COLUMN error_code VARCHAR(64) NOT NULL DEFAULT '';
