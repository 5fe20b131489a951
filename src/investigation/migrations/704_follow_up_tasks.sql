-- Daily monitoring as FHIR Tasks, escalation of missed checks, and investigations opened
-- automatically from report cards (issue #19 items 2 and 4).
--
-- inv_visit: one row per contact and day, the mirror of its FHIR Task (inv-visit-<contact>-<day>),
-- planned a day ahead by the follow-up job; the job finds missed ones by escalate_at (partial
-- index over the visits still due, so each step reads only what has come due).
-- inv_contact.plan_from: the next day whose visit is yet to be planned (NULL: planned to the end
-- of the window), so the job reads only contacts with days to plan (partial index).

ALTER TABLE inv_contact ADD COLUMN plan_from date;
ALTER TABLE inv_contact ADD COLUMN team text;
UPDATE inv_contact SET plan_from = greatest(follow_up_start, (confirmed_at AT TIME ZONE 'Asia/Shanghai')::date)
 WHERE status = 'monitoring' AND patient_id IS NOT NULL;
CREATE INDEX inv_contact_plan ON inv_contact (plan_from) WHERE status = 'monitoring' AND plan_from IS NOT NULL;

CREATE TABLE inv_visit (
  contact_id bigint NOT NULL REFERENCES inv_contact (id),
  day date NOT NULL,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  patient_id text NOT NULL,
  team text,
  team_name text,
  assignee text,
  assignee_name text,
  task_id text NOT NULL,
  status text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'done', 'escalated', 'cancelled')),
  escalate_at timestamptz NOT NULL,
  PRIMARY KEY (contact_id, day)
);
CREATE INDEX inv_visit_escalate ON inv_visit (escalate_at) WHERE status = 'due';
CREATE INDEX inv_visit_team ON inv_visit (team, day);

-- Round-robin turn per team: the next member a visit goes to.
CREATE TABLE inv_team_turn (
  team text PRIMARY KEY,
  turn bigint NOT NULL DEFAULT 0
);

-- Escalation notices: a daily check still missing a day after it was missed goes to the
-- investigation's investigator, the contact's team (its supervisor) and the CDC; acknowledged once.
CREATE TABLE inv_escalation (
  id bigserial PRIMARY KEY,
  contact_id bigint NOT NULL REFERENCES inv_contact (id),
  day date NOT NULL,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  patient_id text NOT NULL,
  organization text,
  team text,
  recipients jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_by text,
  acknowledged_at timestamptz,
  ack_note text,
  UNIQUE (contact_id, day)
);
CREATE INDEX inv_escalation_investigation ON inv_escalation (investigation_id, created_at);
CREATE INDEX inv_escalation_open ON inv_escalation (created_at) WHERE acknowledged_at IS NULL;
CREATE INDEX inv_escalation_organization ON inv_escalation (organization, created_at);
CREATE INDEX inv_escalation_team ON inv_escalation (team, created_at);

-- Investigations opened automatically from report cards: one row per card the rules select (the
-- change-log processor writes it; the main thread opens the investigation), so a card is acted
-- on once however often it is rewritten.
CREATE TABLE inv_auto_open (
  card_id text PRIMARY KEY,
  task_id text NOT NULL,
  disease_key text NOT NULL,
  rule text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'opened', 'skipped', 'failed')),
  investigation_id bigint,
  attempts integer NOT NULL DEFAULT 0,
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz
);
CREATE INDEX inv_auto_open_pending ON inv_auto_open (created_at) WHERE status = 'pending';

ALTER TABLE inv_investigation ADD COLUMN auto_rule text;
CREATE UNIQUE INDEX inv_investigation_auto_card ON inv_investigation (source_ref) WHERE auto_rule IS NOT NULL;
CREATE INDEX inv_contact_team ON inv_contact (team, follow_up_end) WHERE status = 'monitoring';
