-- Investigation reports (流调报告, issue #19 item 6): each generated PDF is archived with its
-- investigation, with who made it and its hash, so a report handed on can be matched later.
CREATE TABLE inv_report (
  id bigserial PRIMARY KEY,
  investigation_id bigint NOT NULL REFERENCES inv_investigation (id),
  generated_by text NOT NULL,
  generated_at timestamptz NOT NULL DEFAULT now(),
  sha256 text NOT NULL,
  bytes integer NOT NULL,
  pdf bytea NOT NULL
);
CREATE INDEX inv_report_investigation ON inv_report (investigation_id, generated_at DESC);
