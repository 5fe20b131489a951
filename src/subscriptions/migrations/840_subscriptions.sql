-- FHIR Subscription delivery (issue #20 item 4: results back "as a FHIR resource to a subscribed
-- endpoint (FHIR Subscription, REST-hook)"). The Subscription resources live in the FHIR store;
-- this module keeps what is owed to each: one row per matching resource version, and every attempt.
CREATE TABLE sub_delivery (
  id bigserial PRIMARY KEY,
  subscription_id text NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  version_id integer NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,       -- every attempt, over all rounds
  round_attempts integer NOT NULL DEFAULT 0, -- attempts since queued or last resent
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,                   -- a 'sending' row whose lease ran out is taken again (a crash mid-send)
  last_http_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  resent_count integer NOT NULL DEFAULT 0,
  resent_by text,
  UNIQUE (subscription_id, resource_type, resource_id, version_id)
);
-- The delivery loop reads only rows still to send.
CREATE INDEX sub_delivery_due ON sub_delivery (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX sub_delivery_by_subscription ON sub_delivery (subscription_id, id DESC);
CREATE INDEX sub_delivery_by_status ON sub_delivery (status, id DESC);

CREATE TABLE sub_attempt (
  id bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES sub_delivery (id),
  attempt integer NOT NULL,
  method text NOT NULL,
  url text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  http_status integer,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'http-error', 'timeout', 'refused', 'error')),
  detail text,
  UNIQUE (delivery_id, attempt)
);
