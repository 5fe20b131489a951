-- Scorecards (医防融合评估, issue #21 item 4). The definitions are data (config/scorecard/); these
-- tables keep what a computation found and the tasks red cells opened.

-- The latest computation of a scorecard for one level (institution | street) and period: every
-- unit's cells, total and rank (the screen and the trend read these by key).
CREATE TABLE scorecard_run (
  scorecard_id text NOT NULL,
  level text NOT NULL CHECK (level IN ('institution', 'street')),
  period text NOT NULL,
  period_to date NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  result jsonb NOT NULL,
  PRIMARY KEY (scorecard_id, level, period)
);

-- A red cell's task for its owner (the institution, or the street): opened by the computation that
-- found it red, closed by a later computation (same or later period) that finds it green.
CREATE TABLE scorecard_task (
  id bigserial PRIMARY KEY,
  scorecard_id text NOT NULL,
  level text NOT NULL,
  owner_code text NOT NULL,
  owner_name text,
  item_key text NOT NULL,
  item_name text NOT NULL,
  period text NOT NULL,
  period_to date NOT NULL,
  opened_value numeric,
  opened_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz,
  closed_period text,
  closed_value numeric
);
CREATE UNIQUE INDEX scorecard_task_open ON scorecard_task (scorecard_id, level, owner_code, item_key) WHERE closed_at IS NULL;
CREATE INDEX scorecard_task_recent ON scorecard_task (scorecard_id, opened_at DESC, id DESC);
