-- A partition of prog_enrolment for each programme added after migration 362 (the screening and
-- focus-group programmes, #21): an indicator then reads its own programme's rows, not the default
-- partition that held them all (the 40-and-over screenings alone are about half the residents
-- each). Rows a store already derived into the default partition are moved first, since a list
-- partition cannot be attached while the default holds rows of its value.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT * FROM (VALUES
      ('dyslipidaemia', 'prog_enrolment_dyslipidaemia'),
      ('screening-stroke', 'prog_enrolment_screening_stroke'),
      ('screening-copd', 'prog_enrolment_screening_copd'),
      ('screening-cancer', 'prog_enrolment_screening_cancer'),
      ('disabled-elderly', 'prog_enrolment_disabled_elderly'),
      ('child-development', 'prog_enrolment_child_development'),
      ('cancer-patients', 'prog_enrolment_cancer_patients'),
      ('screening-lung', 'prog_enrolment_screening_lung'),
      ('screening-upper-gi', 'prog_enrolment_screening_upper_gi')) AS v(code, tab)
  LOOP
    EXECUTE format('CREATE TABLE %I (LIKE prog_enrolment INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', p.tab);
    EXECUTE format('INSERT INTO %I SELECT * FROM prog_enrolment_other WHERE programme = %L', p.tab, p.code);
    EXECUTE format('DELETE FROM prog_enrolment_other WHERE programme = %L', p.code);
    EXECUTE format('ALTER TABLE prog_enrolment ATTACH PARTITION %I FOR VALUES IN (%L)', p.tab, p.code);
  END LOOP;
END $$;
