-- Code mapping (术语映射, issue #16). The mappings themselves are FHIR ConceptMaps (r_conceptmap,
-- versioned in resource_history); this module keeps only the queue of codes no map knows yet:
-- one row per kind of code, facility, code system ('' = sent without one) and code, counted as
-- records arrive (first versions), with its text and a few example records.
CREATE TABLE tm_unmapped (
  kind text NOT NULL CHECK (kind IN ('lab')),
  facility text NOT NULL,
  system text NOT NULL,
  code text NOT NULL,
  display text,
  records bigint NOT NULL DEFAULT 0,
  examples text[] NOT NULL DEFAULT '{}',
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'mapped', 'ignored')),
  target text,
  PRIMARY KEY (kind, facility, system, code)
);
CREATE INDEX tm_unmapped_status ON tm_unmapped (kind, status, records DESC);
CREATE INDEX tm_unmapped_facility ON tm_unmapped (kind, facility, status);
