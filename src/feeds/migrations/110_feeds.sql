-- Non-clinical surveillance feeds. Each upload is kept raw (feed_upload) with its outcome; good
-- lines become rows keyed by their natural key, so re-sending a file replaces its figures instead
-- of doubling them.
CREATE TABLE feed_upload (
  id bigserial PRIMARY KEY,
  feed text NOT NULL,                 -- 'school-absenteeism' | 'pharmacy-sales'
  source text,                        -- file name or 'http'
  content_type text NOT NULL,         -- 'csv' | 'json'
  received_at timestamptz NOT NULL DEFAULT now(),
  lines integer NOT NULL,
  accepted integer NOT NULL,
  rejected integer NOT NULL,
  errors jsonb NOT NULL,              -- [{"line": n, "field": "...", "message": "..."}]
  payload bytea NOT NULL
);

-- 学校因病缺勤: one row per class, day, reason and symptom (zero reports have reason = symptom = '').
CREATE TABLE feed_school_absence (
  school_code text NOT NULL,
  school_name text NOT NULL,
  class_code text NOT NULL,
  date date NOT NULL,
  enrolled integer NOT NULL CHECK (enrolled >= 0),
  absent integer NOT NULL CHECK (absent >= 0),
  reason text NOT NULL DEFAULT '',
  symptom text NOT NULL DEFAULT '',
  upload_id bigint NOT NULL REFERENCES feed_upload (id),
  PRIMARY KEY (class_code, date, reason, symptom)
);
CREATE INDEX feed_school_absence_date ON feed_school_absence (date, school_code);

-- Pharmacy OTC sales: units per pharmacy, day and category.
CREATE TABLE feed_pharmacy_sales (
  pharmacy_code text NOT NULL,
  pharmacy_name text NOT NULL,
  date date NOT NULL,
  category text NOT NULL,
  units integer NOT NULL CHECK (units >= 0),
  upload_id bigint NOT NULL REFERENCES feed_upload (id),
  PRIMARY KEY (pharmacy_code, date, category)
);
CREATE INDEX feed_pharmacy_sales_date ON feed_pharmacy_sales (date, category);
