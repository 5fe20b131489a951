-- Master patient index. Persons are FHIR Person resources (link.target = source Patients); these
-- tables are the matcher's own index so that matching never scans all persons.
CREATE TABLE mpi_record (
  patient_id text PRIMARY KEY,
  person_id text NOT NULL,
  assurance text NOT NULL,            -- level4 ID number / level3 score or manual / level2 awaiting review
  score double precision,
  data jsonb NOT NULL,                -- the normalised IdentityRecord
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mpi_record_person ON mpi_record (person_id);

-- Blocking keys (id:, ph:, bd:, nb:, sy:, nm:) → records.
CREATE TABLE mpi_block (
  key text NOT NULL,
  patient_id text NOT NULL,
  PRIMARY KEY (key, patient_id)
);
CREATE INDEX mpi_block_patient ON mpi_block (patient_id);

-- Pairs between the thresholds, waiting for a person to decide.
CREATE TABLE mpi_review (
  id bigserial PRIMARY KEY,
  patient_id text NOT NULL,
  candidate_person_id text NOT NULL,
  candidate_patient_id text NOT NULL,
  score double precision NOT NULL,
  comparison jsonb NOT NULL,
  status text NOT NULL DEFAULT 'open', -- open | linked | rejected
  created_at timestamptz NOT NULL DEFAULT now(),
  resolved_by text,
  resolved_at timestamptz
);
CREATE INDEX mpi_review_open ON mpi_review (status, score DESC);
CREATE UNIQUE INDEX mpi_review_pair ON mpi_review (patient_id, candidate_person_id);

-- Every manual link, unlink and merge, with what it changed, so it can be undone.
CREATE TABLE mpi_event (
  id bigserial PRIMARY KEY,
  action text NOT NULL,               -- link | unlink | merge | undo
  username text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  reason text,
  -- [{patient, from, to, fromAssurance}] moves done by this event
  moves jsonb NOT NULL,
  undone_by bigint
);

-- EM-fitted m/u parameters; the newest row is used (else config/identity/linkage.json).
CREATE TABLE mpi_weights (
  id bigserial PRIMARY KEY,
  fitted_at timestamptz NOT NULL DEFAULT now(),
  pairs integer NOT NULL,
  match_share double precision NOT NULL,
  parameters jsonb NOT NULL
);

-- Households: residents (persons) at one normalised address.
CREATE TABLE mpi_household (
  address_key text NOT NULL,
  person_id text NOT NULL,
  PRIMARY KEY (address_key, person_id)
);
CREATE INDEX mpi_household_person ON mpi_household (person_id);
