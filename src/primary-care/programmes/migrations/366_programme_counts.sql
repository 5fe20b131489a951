-- Counts kept as records arrive (counts.ts): each indicator query asked of the summaries keeps its
-- answer here, its numerators and denominators by group, and every writer of derived rows adds to
-- it what its residents' rows add and takes away what they took (in its own transaction). A query
-- asked again reads one row. `gen` is bumped by every writer (its row lock orders a query's first
-- answer after a write in flight: counts.ts).
CREATE TABLE prog_count_cache (
  key text PRIMARY KEY,
  programme text NOT NULL,
  definition text NOT NULL,
  query jsonb NOT NULL,
  counts jsonb NOT NULL,
  used_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE prog_count_gen (
  id int PRIMARY KEY CHECK (id = 1),
  gen bigint NOT NULL
);
INSERT INTO prog_count_gen VALUES (1, 0);
