-- The audit trail's hash chain, one for the whole store (issue #15). Every AuditEvent gets the
-- next position (seq, gapless) and the previous link's hash from audit_chain_head, read under
-- its row lock in the transaction that stores the event, so two processes (the server and the
-- CLI, two servers on one PostgreSQL) append to one chain and never fork it. Each link is an
-- HMAC-SHA256 under a key kept outside the database (src/fhir/audit-keys.ts): without the key
-- an edited, removed or re-hashed event cannot be made to verify again.
CREATE TABLE audit_chain (
  seq bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  recorded timestamptz NOT NULL,
  -- SHA-256 of the stored AuditEvent (canonical JSON: keys sorted)
  content_hash text NOT NULL,
  prev_hash text NOT NULL,
  -- HMAC-SHA256(key, seq | event_id | recorded | content_hash | prev_hash)
  hash text NOT NULL,
  -- which HMAC key (first 16 hex digits of its SHA-256), so a wrong key is named as such
  key_id text NOT NULL
);

-- One row: the chain head (last seq and hash) and the last checkpoint's position.
CREATE TABLE audit_chain_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL,
  checkpoint_seq bigint NOT NULL DEFAULT 0,
  checkpoint_at timestamptz
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '');

-- Signed chain heads (Ed25519): every N events or M minutes; exported for a second party to hold.
CREATE TABLE audit_checkpoint (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  signed_at timestamptz NOT NULL,
  public_key_id text NOT NULL,
  -- the exact JSON text that was signed, and its signature (base64)
  statement text NOT NULL,
  signature text NOT NULL
);
