-- 医防融合月报 for the district health bureau (issue #21 item 6): one report per month, generated
-- on the 1st for the month before (or by hand), kept as the files that were handed over.
CREATE TABLE monthly_report (
  -- YYYY-MM (China time)
  month text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  generated_at timestamptz NOT NULL DEFAULT now(),
  -- 'schedule' or the user name of whoever generated it
  generated_by text NOT NULL,
  xlsx bytea NOT NULL,
  -- null when the server could not draw it (no Chinese font): pdf_error says why
  pdf bytea,
  pdf_error text,
  -- section headings with their row counts, whether the month was over when generated
  summary jsonb NOT NULL,
  CHECK (pdf IS NOT NULL OR pdf_error IS NOT NULL)
);
