-- Changes a processor failed on (a poison record, a bug): retried with backoff a few times, then
-- parked here with the error so the processor moves on; a fixed or deleted record can be
-- replayed. Status: retrying → resolved | superseded (a later version was processed) | parked;
-- parked → retrying on replay.
CREATE TABLE IF NOT EXISTS processor_dead_letter (
  processor text NOT NULL,
  seq bigint NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  version_id integer NOT NULL,
  status text NOT NULL DEFAULT 'retrying' CHECK (status IN ('retrying', 'parked', 'resolved', 'superseded')),
  attempts integer NOT NULL DEFAULT 1,
  error text NOT NULL,
  first_failed_at timestamptz NOT NULL DEFAULT now(),
  last_failed_at timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz,
  replayed_by text,
  PRIMARY KEY (processor, seq)
);
CREATE INDEX IF NOT EXISTS processor_dead_letter_due ON processor_dead_letter (processor, next_attempt_at) WHERE status = 'retrying';
CREATE INDEX IF NOT EXISTS processor_dead_letter_status ON processor_dead_letter (status, last_failed_at DESC);
