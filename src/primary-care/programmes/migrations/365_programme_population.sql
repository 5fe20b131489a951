-- Programmes enrolled implicitly (definition.ts entry.implicit: the screenings of everyone of an
-- age) count, list and show due the residents of the age from prog_person (store.ts
-- virtualRowsSql): a range of birth dates, with the columns a count groups and filters by, read
-- from the index alone.
CREATE INDEX prog_person_birth ON prog_person (birth_date) INCLUDE (gender, area_code, organization_id, deceased);
