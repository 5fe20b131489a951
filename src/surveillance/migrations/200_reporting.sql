-- Notifiable case report cards (传染病报告卡): the FHIR Task holding each card is the record;
-- this table indexes the fields the hub queries (status, person+disease for duplicates,
-- facility for timeliness, area and day for counts) and keeps the card JSON as received.
CREATE TABLE surv_report_card (
  id text PRIMARY KEY,
  task_id text,
  condition_id text UNIQUE,
  status text NOT NULL CHECK (status IN ('draft', 'submitted', 'reviewed', 'returned', 'superseded')),
  card_type text NOT NULL CHECK (card_type IN ('initial', 'correction')),
  corrects_card_id text,
  patient_id text,
  person_key text,
  disease_key text NOT NULL,
  disease_name text NOT NULL,
  disease_class text,
  icd10 text,
  fixed_threshold boolean NOT NULL DEFAULT false,
  case_classification text,
  area_code text,
  facility_code text,
  facility_name text,
  onset_date date,
  diagnosed_at timestamptz,
  deadline_at timestamptz,
  submitted_at timestamptz,
  reviewed_at timestamptz,
  reviewed_by text,
  return_reason text,
  late boolean NOT NULL DEFAULT false,
  incomplete boolean NOT NULL DEFAULT false,
  duplicate_of text,
  counted_day date,
  card jsonb NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX surv_report_card_person ON surv_report_card (person_key, disease_key);
CREATE INDEX surv_report_card_status ON surv_report_card (status, deadline_at);
CREATE INDEX surv_report_card_facility ON surv_report_card (facility_code);
CREATE INDEX surv_report_card_area_day ON surv_report_card (area_code, diagnosed_at);

-- Cards refused at the door (missing mandatory field, invalid ID number): counted per facility
-- as incomplete reporting; the raw card is kept.
CREATE TABLE surv_report_card_rejection (
  id bigserial PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  card_id text,
  facility_code text,
  field text NOT NULL,
  message text NOT NULL,
  raw jsonb
);
CREATE INDEX surv_report_card_rejection_facility ON surv_report_card_rejection (facility_code);

-- Who did what to a card, when and why (submit, 审核, 订正, 退卡).
CREATE TABLE surv_report_card_event (
  id bigserial PRIMARY KEY,
  card_id text NOT NULL REFERENCES surv_report_card (id),
  action text NOT NULL,
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  reason text,
  detail jsonb
);
CREATE INDEX surv_report_card_event_card ON surv_report_card_event (card_id, at);
