-- Per-episode summaries for the programme indicators (summary.ts): what each indicator asks of
-- an episode, as sets of days, kept with its enrolment by the processor and the full recompute,
-- so an indicator is a SQL aggregate over one row per episode. Rows derived before this have no
-- summaries: their residents are marked never derived (the periodic refresh, or
-- `yifang programmes recompute`, derives them again; until then indicators are evaluated by the
-- engine at query time, as before).
ALTER TABLE prog_enrolment
  ADD COLUMN birth_date date,
  ADD COLUMN item_ends datemultirange NOT NULL DEFAULT '{}',      -- the last day of each scheduled item
  ADD COLUMN missed_ends datemultirange NOT NULL DEFAULT '{}',    -- the last day of each item never delivered
  ADD COLUMN mark_keys text[] NOT NULL DEFAULT '{}',              -- what each mark answers (summary.ts)
  ADD COLUMN mark_days datemultirange[] NOT NULL DEFAULT '{}';    -- the days on which it holds

-- Every resident the programmes derive has a person row (a blank one when only facts are known),
-- so derived_on says how current each resident's rows are.
INSERT INTO prog_person (patient_id) SELECT DISTINCT patient_id FROM prog_fact ON CONFLICT (patient_id) DO NOTHING;
UPDATE prog_person SET derived_on = NULL;
