-- The contract list is read a page at a time, newest first, in one status (and often one team):
-- these indexes give the page without sorting every contract of a million-resident district.
CREATE INDEX IF NOT EXISTS care_contract_status_start ON care_contract (status, start_on DESC, patient_id, episode_id);
CREATE INDEX IF NOT EXISTS care_contract_team_status_start ON care_contract (team_id, status, start_on DESC, patient_id, episode_id);
-- The team index above begins with team_id, so the one on team_id alone is only extra writes.
DROP INDEX IF EXISTS care_contract_team;
