-- The day each resident's derived rows were last derived moves from prog_person to a narrow table
-- of its own, with one row per person row. A full recompute marks every resident derived: on
-- prog_person that update rewrote each wide row and, the day being indexed, added an entry to
-- every index of the table, the birth-date index with its INCLUDE columns among them (15 s of the
-- 1,000,000-resident recompute's writes); here it is a narrow row and two small indexes (1,000,000
-- rows updated in ranges of 2,000 on PostgreSQL 15: 10.7 s on prog_person, 4.5 s here). The
-- recompute's check that nobody derived a range between its read and its write reads these rows'
-- versions, and every writer of derived rows writes its residents' rows here.
CREATE TABLE prog_derived (
  patient_id text PRIMARY KEY,
  derived_on date                       -- NULL: never derived (the refresh derives these first)
);
INSERT INTO prog_derived (patient_id, derived_on) SELECT patient_id, derived_on FROM prog_person;
CREATE INDEX prog_derived_on ON prog_derived (derived_on);
ALTER TABLE prog_person DROP COLUMN derived_on;
