-- Key populations of family-doctor contracts that come from the record or from staff, beyond
-- what age and the registries give (elderly ≥ 65, children 0–6, chronic): pregnant women (from
-- pregnancy Conditions and pregnancy EpisodeOfCare), disabled residents and special-hardship
-- families (staff flags, FHIR Flag). One row per source resource; membership on a day is
-- start_on <= day <= end_on (open ends allowed).
CREATE TABLE care_key_population (
  source text PRIMARY KEY,          -- 'Flag/<id>', 'Condition/<id>', 'EpisodeOfCare/<id>'
  patient_id text NOT NULL,
  population text NOT NULL,         -- pregnant, disabled, hardship
  start_on date,
  end_on date,
  note text
);
CREATE INDEX care_key_population_patient ON care_key_population (patient_id);
CREATE INDEX care_key_population_population ON care_key_population (population, patient_id);

-- The check-in list asks for one resident's open report cards (table of the surveillance
-- module, read-only here); without this index that is a scan of every card.
CREATE INDEX IF NOT EXISTS care_due_surv_report_card_patient ON surv_report_card (patient_id) WHERE patient_id IS NOT NULL;
