-- What a doctor records by hand about a resident in a programme (the programmes' registry API,
-- chronic care's manual enrolments and statuses): an enrolment without a diagnosis record, and a
-- status (transferred out, died) from a day on. The derivation reads it with the resident's facts
-- (engine.ts `evaluateResident`, `Registration`). Unlike every other prog_* table this one is not
-- derived: it cannot be rebuilt from the FHIR store, and the recompute leaves it alone.
CREATE TABLE prog_registration (
  programme text NOT NULL,
  patient_id text NOT NULL,
  enrolled_on date,                           -- enrolled by hand from this day (NULL: not enrolled by hand)
  status text NOT NULL DEFAULT 'managed',     -- managed, transferred, died
  status_on date,                             -- the day a status other than managed took effect
  status_reason text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (programme, patient_id),
  CHECK (status IN ('managed', 'transferred', 'died')),
  CHECK ((status = 'managed') = (status_on IS NULL))
);
CREATE INDEX prog_registration_patient ON prog_registration (patient_id);
