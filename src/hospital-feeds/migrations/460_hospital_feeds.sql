-- Hospital CSV feeds (医院 CSV 上报): uploads kept raw with their progress, per-facility column
-- mappings, rows that could not be stored (dead letters), and the digest of what each row last
-- wrote to each resource (so an unchanged re-upload writes no new version).
CREATE TABLE hf_mapping (
  facility text NOT NULL,
  template text NOT NULL,
  columns jsonb NOT NULL,             -- {"template column key": "the facility's header name"}
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text,
  PRIMARY KEY (facility, template)
);

CREATE TABLE hf_upload (
  id bigserial PRIMARY KEY,
  facility text NOT NULL,
  template text NOT NULL,
  file_name text,
  encoding text,                      -- the encoding used (named or detected); NULL when none decoded
  status text NOT NULL,               -- queued | running | done | refused | failed
  error text,                         -- why refused or failed (line and bytes or column named)
  received_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  received_by text,
  bytes integer NOT NULL,
  header jsonb,                       -- the file's header cells
  column_index jsonb,                 -- template column key -> header position, as matched at upload
  rows_total integer NOT NULL DEFAULT 0,
  rows_read integer NOT NULL DEFAULT 0,      -- data rows done (a resumed upload goes on after them)
  rows_stored integer NOT NULL DEFAULT 0,    -- rows stored (written or already as sent)
  rows_unchanged integer NOT NULL DEFAULT 0, -- of those, rows that wrote nothing new
  rows_dead integer NOT NULL DEFAULT 0,      -- rows sent to the dead letters
  rows_flagged integer NOT NULL DEFAULT 0,   -- rows stored with a data-quality mark
  resources_written integer NOT NULL DEFAULT 0,
  problems jsonb NOT NULL DEFAULT '[]',      -- first problems: [{line, column, message, kind}]
  payload bytea NOT NULL
);
CREATE INDEX hf_upload_facility ON hf_upload (facility, id DESC);
CREATE INDEX hf_upload_pending ON hf_upload (id) WHERE status IN ('queued', 'running');

CREATE TABLE hf_dead_letter (
  id bigserial PRIMARY KEY,
  upload_id bigint NOT NULL REFERENCES hf_upload (id),
  facility text NOT NULL,
  template text NOT NULL,
  line integer NOT NULL,
  line_text text NOT NULL,
  column_name text,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'open',   -- open | resolved | dismissed
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  closed_by text,
  corrected_text text,
  UNIQUE (upload_id, line)
);
CREATE INDEX hf_dead_letter_status ON hf_dead_letter (status, id DESC);
CREATE INDEX hf_dead_letter_facility ON hf_dead_letter (facility, status, id DESC);
-- A re-upload does not open a second dead letter for a line already waiting to be corrected.
CREATE INDEX hf_dead_letter_open_line ON hf_dead_letter (facility, template, md5(line_text)) WHERE status = 'open';

CREATE TABLE hf_written (
  resource_type text NOT NULL,
  id text NOT NULL,
  digest text NOT NULL,
  PRIMARY KEY (resource_type, id)
);
