-- The normalised record is kept as json (the text as written) rather than jsonb: the index only
-- ever stores a record whole and reads it back whole (the candidate query returns it as text, to
-- be parsed once in the processor), so building jsonb on every insert and printing it again on
-- every read was work for nothing.
ALTER TABLE mpi_record ALTER COLUMN data TYPE json USING data::json;
