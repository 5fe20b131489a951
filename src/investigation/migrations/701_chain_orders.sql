-- Transmission chains, the epi curve and quarantine orders (issue #19 items 4 and 5).
-- A case's classification (疑似/临床诊断/确诊/排除) is kept on its investigation, so the epi
-- curve can stack by it; a chain is walked from contact to the investigation it became, and back.

ALTER TABLE inv_investigation
  ADD COLUMN classification text NOT NULL DEFAULT 'suspected'
    CHECK (classification IN ('suspected', 'clinical', 'confirmed', 'excluded'));

CREATE INDEX inv_contact_case ON inv_contact (case_investigation_id) WHERE case_investigation_id IS NOT NULL;
CREATE INDEX inv_investigation_from_contact ON inv_investigation (from_contact_id) WHERE from_contact_id IS NOT NULL;
CREATE INDEX inv_investigation_onset ON inv_investigation (disease_key, onset_date);

-- 隔离/居家医学观察 orders: for a case (isolation) or a contact (quarantine), with a place and a
-- period; revoked rather than deleted, so a printed notice can always be traced.
CREATE TABLE inv_order (
  id bigserial PRIMARY KEY,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  contact_id bigint REFERENCES inv_contact (id),
  patient_id text,
  person_name text,
  kind text NOT NULL CHECK (kind IN ('isolation', 'quarantine', 'home-observation')),
  place text NOT NULL,
  start_date date NOT NULL,
  end_date date NOT NULL CHECK (end_date >= start_date),
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
  issued_by text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  revoked_by text,
  revoked_at timestamptz,
  revoke_reason text
);
CREATE INDEX inv_order_investigation ON inv_order (investigation_id);
CREATE INDEX inv_order_contact ON inv_order (contact_id) WHERE contact_id IS NOT NULL;
