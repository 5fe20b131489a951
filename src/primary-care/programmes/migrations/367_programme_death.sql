-- The day of death (Patient.deceasedDateTime) ends every programme episode on it, as a status of
-- 死亡 set by hand does (engine.ts evaluateResident). It is kept with the person, and with each
-- stored episode as derived (like its birth date), so a programme enrolled implicitly cuts the
-- episode of age of the population at the same day whether it reads the person or the stored row
-- (store.ts ageSpanSql). The population's index carries it, so a count still reads the index alone.
-- Rows stored before this have no day: replay the change log (reset the `programmes` processor's
-- cursor), then run `yifang programmes recompute`.
ALTER TABLE prog_person ADD COLUMN deceased_on date;
ALTER TABLE prog_enrolment ADD COLUMN deceased_on date;
DROP INDEX prog_person_birth;
CREATE INDEX prog_person_birth ON prog_person (birth_date) INCLUDE (gender, area_code, organization_id, deceased, deceased_on);
