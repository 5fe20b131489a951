-- Households per Patient (the Group members are Patients) and a leaner blocking index.

-- Blocking rows are removed by their keys (recomputed from the record), so the second index on
-- mpi_block, which every insert had to maintain, is no longer needed.
DROP INDEX IF EXISTS mpi_block_patient;

-- One row per Patient at a household address (was: per person), so the household Group can list
-- its member Patients and a Patient's move updates exactly its own membership.
DROP TABLE IF EXISTS mpi_household;
CREATE TABLE mpi_household (
  address_key text NOT NULL,
  patient_id text NOT NULL PRIMARY KEY,
  person_id text NOT NULL
);
CREATE INDEX mpi_household_key ON mpi_household (address_key);
CREATE INDEX mpi_household_person ON mpi_household (person_id);
INSERT INTO mpi_household (address_key, patient_id, person_id)
SELECT coalesce(data->>'areaCode', '') || '|' || (data->>'address'), patient_id, person_id
FROM mpi_record WHERE data->>'address' ~ '[0-9]';
ANALYZE mpi_household;
