-- Sequence numbers a processor has passed but not seen yet: a transaction that took its
-- resource_history seq earlier may commit after a later one. Each entry is [from, to, firstSeenMs];
-- the processor looks for them again until they appear or are old enough to be a rollback.
ALTER TABLE processor_cursor ADD COLUMN IF NOT EXISTS gaps jsonb NOT NULL DEFAULT '[]';
