-- Every HL7 v2 message received (MLLP or HTTP), raw bytes kept with its status. A message is
-- identified by its sending facility (MSH-4) and control id (MSH-10): a resend finds its row and
-- creates nothing new. Rejected messages stay here as the dead-letter list until corrected.
CREATE TABLE hl7_message (
  id bigserial PRIMARY KEY,
  -- 'facility|control id'; null when the header could not be read at all
  dedup_key text UNIQUE,
  facility text,
  control_id text,
  message_type text,
  channel text NOT NULL,              -- 'mllp' | 'http' | 'reprocess'
  status text NOT NULL,               -- 'stored' | 'rejected' | 'resolved' (dead letter fixed by a later resend/reprocess)
  ack_code text NOT NULL,             -- AA | AE | AR as sent back
  error text,                         -- readable reason for AE/AR
  payload bytea NOT NULL,             -- the bytes as received (never changed)
  corrected bytea,                    -- a corrected version entered in the dead-letter screen
  resources text[],                   -- references written by the message (Patient/.., Encounter/..)
  received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 1
);
CREATE INDEX hl7_message_status ON hl7_message (status, received_at DESC);
