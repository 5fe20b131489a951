-- Finding residents by name, pinyin initials, ID number or phone (GET /api/residents/search).
-- One row per Patient, written by the identity-search processor (search-index.ts) as Patients
-- arrive; the Person is joined from mpi_record at query time. Columns compared by prefix use the
-- "C" collation, so a plain btree serves both `LIKE 'x%'` and the ORDER BY; suffix search (the
-- last digits of an ID number or phone) uses the reversed value the same way.
CREATE TABLE mpi_search (
  patient_id text PRIMARY KEY,
  name text COLLATE "C" NOT NULL DEFAULT '',          -- as written, no spaces (hanzi) or lower-case Latin
  pinyin text COLLATE "C" NOT NULL DEFAULT '',        -- toneless pinyin, syllables joined ('zhangsanfeng')
  initials text COLLATE "C" NOT NULL DEFAULT '',      -- pinyin initials ('zsf')
  id_number text COLLATE "C",                         -- upper-case, also one that fails the check
  id_rev text COLLATE "C",
  phone text COLLATE "C",                             -- digits only
  phone_rev text COLLATE "C",
  gender text,
  birth_date text,
  facility text NOT NULL DEFAULT '',                  -- managing organisation id
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mpi_search_name ON mpi_search (name, patient_id);
CREATE INDEX mpi_search_pinyin ON mpi_search (pinyin, patient_id);
CREATE INDEX mpi_search_initials ON mpi_search (initials, patient_id);
CREATE INDEX mpi_search_id ON mpi_search (id_number) WHERE id_number IS NOT NULL;
CREATE INDEX mpi_search_id_rev ON mpi_search (id_rev) WHERE id_rev IS NOT NULL;
CREATE INDEX mpi_search_phone ON mpi_search (phone) WHERE phone IS NOT NULL;
CREATE INDEX mpi_search_phone_rev ON mpi_search (phone_rev) WHERE phone_rev IS NOT NULL;
