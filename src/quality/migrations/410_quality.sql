-- The data-quality queue (issue #16). Values that fail a check are stored as sent and marked
-- (extension https://yifang.health/fhir/StructureDefinition/data-quality-issue); the quality
-- processor keeps, from the change log:

-- one row per stored record: its facility (managing organisation, or the facility of its MRN),
-- the version last seen and how many marks that version carries (the per-facility rates);
CREATE TABLE quality_record (
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  facility text NOT NULL,
  version_id integer NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  open_issues integer NOT NULL DEFAULT 0,
  PRIMARY KEY (resource_type, resource_id)
);
CREATE INDEX quality_record_facility ON quality_record (facility) WHERE NOT deleted;

-- one row per record, field and problem: open while the newest version carries the mark,
-- resolved by the first version that no longer does (reopened if the mark comes back).
CREATE TABLE quality_issue (
  id bigserial PRIMARY KEY,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  field text NOT NULL,
  problem text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'resolved')),
  opened_version integer NOT NULL,
  opened_at timestamptz NOT NULL,
  -- the newest version that carried the mark
  seen_version integer NOT NULL,
  resolved_version integer,
  resolved_at timestamptz,
  UNIQUE (resource_type, resource_id, field, problem)
);
CREATE INDEX quality_issue_status ON quality_issue (status, opened_at DESC, id DESC);
