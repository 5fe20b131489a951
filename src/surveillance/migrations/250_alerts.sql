-- Detector verdicts per signal, area and day (the evidence fusion works from).
CREATE TABLE surv_detection (
  signal text NOT NULL,
  area_code text NOT NULL,
  day date NOT NULL,
  method text NOT NULL,
  source text NOT NULL,
  observed double precision,
  threshold double precision,
  expected double precision,
  p_value double precision,
  alarm boolean NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (signal, area_code, day)
);
CREATE INDEX surv_detection_alarm ON surv_detection (area_code, day) WHERE alarm;

-- Alerts from fusion; version is the optimistic-concurrency check for workflow steps.
CREATE TABLE surv_alert (
  id bigserial PRIMARY KEY,
  status text NOT NULL,
  level text NOT NULL,
  area_code text NOT NULL,
  title text NOT NULL,
  disease_key text,
  sources text[] NOT NULL DEFAULT '{}',
  score double precision NOT NULL DEFAULT 0,
  joint_p double precision,
  first_evidence_day date NOT NULL,
  trigger_day date NOT NULL,
  last_evidence_day date NOT NULL,
  assignee text,
  due_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  version integer NOT NULL DEFAULT 1
);
CREATE INDEX surv_alert_open ON surv_alert (area_code, status);
CREATE INDEX surv_alert_created ON surv_alert (created_at DESC);

CREATE TABLE surv_alert_evidence (
  alert_id bigint NOT NULL REFERENCES surv_alert (id),
  signal text NOT NULL,
  area_code text NOT NULL,
  day date NOT NULL,
  method text NOT NULL,
  source text NOT NULL,
  observed double precision,
  threshold double precision,
  expected double precision,
  p_value double precision,
  added_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (alert_id, signal, area_code, day)
);

-- Every step of the workflow: who, when, why.
CREATE TABLE surv_alert_event (
  id bigserial PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES surv_alert (id),
  action text NOT NULL,
  from_status text,
  to_status text,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  reason text,
  detail jsonb
);
CREATE INDEX surv_alert_event_alert ON surv_alert_event (alert_id, at);

-- 研判会商 discussion thread.
CREATE TABLE surv_alert_comment (
  id bigserial PRIMARY KEY,
  alert_id bigint NOT NULL REFERENCES surv_alert (id),
  author text NOT NULL,
  organization text,
  body text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX surv_alert_comment_alert ON surv_alert_comment (alert_id, at);

-- Webhook subscriptions and deliveries (retried with exponential backoff).
CREATE TABLE surv_webhook (
  id bigserial PRIMARY KEY,
  url text NOT NULL,
  secret text,
  active boolean NOT NULL DEFAULT true,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE surv_webhook_delivery (
  id bigserial PRIMARY KEY,
  webhook_id bigint NOT NULL REFERENCES surv_webhook (id),
  alert_id bigint,
  event text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX surv_webhook_delivery_due ON surv_webhook_delivery (next_attempt_at) WHERE status = 'pending';
