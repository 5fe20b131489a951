-- Completeness and timeliness beside validity (issue #16, 数据质量: 完整性、规范性、及时性).
-- Every tracked record keeps: the resident it is about (for the access policy on drill-downs),
-- the mandatory fields its newest version lacks, when the event it records happened, and when the
-- hub first received it (set once, by its first version).
ALTER TABLE quality_record ADD COLUMN patient_id text;
ALTER TABLE quality_record ADD COLUMN missing text[] NOT NULL DEFAULT '{}';
ALTER TABLE quality_record ADD COLUMN event_at timestamptz;
ALTER TABLE quality_record ADD COLUMN received_at timestamptz;
UPDATE quality_record SET patient_id = resource_id WHERE resource_type = 'Patient';
CREATE INDEX quality_record_facility_type ON quality_record (facility, resource_type) WHERE NOT deleted;

-- The figures per facility and record type, kept as records arrive (the processor adds each
-- record's change: a record that becomes complete moves from one count to the other), so the
-- rates are read without counting the records.
CREATE TABLE quality_facility_count (
  facility text NOT NULL,
  resource_type text NOT NULL,
  records bigint NOT NULL DEFAULT 0,
  flagged bigint NOT NULL DEFAULT 0,
  open_issues bigint NOT NULL DEFAULT 0,
  incomplete bigint NOT NULL DEFAULT 0,
  timed bigint NOT NULL DEFAULT 0,
  late bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (facility, resource_type)
);
INSERT INTO quality_facility_count (facility, resource_type, records, flagged, open_issues)
SELECT facility, resource_type, count(*), count(*) FILTER (WHERE open_issues > 0), coalesce(sum(open_issues), 0)
FROM quality_record WHERE NOT deleted GROUP BY facility, resource_type;
