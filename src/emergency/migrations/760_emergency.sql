-- The emergency side of issue #20: teams (members, training and certificates, on-call rota,
-- mobilisations with acknowledgements), reserves (units, batches, append-only movements,
-- per-unit emergency-scenario daily use), the emergency mode (平急转换) and daily zero reports,
-- and drills with their after-action reports.

-- Units taking part (a CDC, a hospital, a health centre): reserves, zero reports and teams name them.
CREATE TABLE em_unit (
  code text PRIMARY KEY,
  name text NOT NULL,
  area_code text,                            -- 统计用区划代码 (or a prefix of one)
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);

CREATE TABLE em_team (
  id bigserial PRIMARY KEY,
  unit text NOT NULL REFERENCES em_unit (code),
  kind text NOT NULL CHECK (kind IN ('epidemiology', 'testing', 'disinfection', 'medical')),
  name text NOT NULL,
  exercise boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  UNIQUE (unit, name)
);

CREATE TABLE em_member (
  team_id bigint NOT NULL REFERENCES em_team (id),
  practitioner_id text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('leader', 'deputy', 'member')),
  phone text,
  active boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (team_id, practitioner_id)
);
CREATE INDEX em_member_practitioner ON em_member (practitioner_id);

-- Training attended and certificates held, per practitioner (a certificate may expire).
CREATE TABLE em_training (
  id bigserial PRIMARY KEY,
  practitioner_id text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('training', 'certificate')),
  title text NOT NULL,
  issuer text,
  completed_on date NOT NULL,
  expires_on date,
  hours numeric(6, 1),
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL,
  CHECK (expires_on IS NULL OR expires_on >= completed_on)
);
CREATE INDEX em_training_practitioner ON em_training (practitioner_id);
CREATE INDEX em_training_expiry ON em_training (expires_on) WHERE expires_on IS NOT NULL;

-- Who of a team is on call on a day.
CREATE TABLE em_rota (
  team_id bigint NOT NULL REFERENCES em_team (id),
  day date NOT NULL,
  practitioner_id text NOT NULL,
  PRIMARY KEY (team_id, day, practitioner_id)
);
CREATE INDEX em_rota_day ON em_rota (day);

CREATE TABLE em_mobilisation (
  id bigserial PRIMARY KEY,
  source_kind text NOT NULL CHECK (source_kind IN ('alert', 'investigation', 'drill')),
  source_id text NOT NULL,
  reason text,
  team_ids bigint[] NOT NULL,
  on_call_only boolean NOT NULL,
  ack_limit_minutes integer NOT NULL CHECK (ack_limit_minutes > 0),
  exercise boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
CREATE INDEX em_mobilisation_source ON em_mobilisation (source_kind, source_id);

-- One row per person notified (once per mobilisation, under the first team naming them).
CREATE TABLE em_mobilisation_member (
  mobilisation_id bigint NOT NULL REFERENCES em_mobilisation (id),
  practitioner_id text NOT NULL,
  team_id bigint NOT NULL,
  name text NOT NULL,
  role text NOT NULL,
  notified_at timestamptz NOT NULL,
  due_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  PRIMARY KEY (mobilisation_id, practitioner_id)
);
CREATE INDEX em_mobilisation_pending ON em_mobilisation_member (due_at) WHERE acknowledged_at IS NULL;

-- Reserves: stock per unit, item and batch; every change is an append-only movement.
CREATE TABLE em_batch (
  id bigserial PRIMARY KEY,
  unit text NOT NULL REFERENCES em_unit (code),
  item text NOT NULL,
  batch_no text NOT NULL,
  expires_on date,
  quantity numeric(14, 3) NOT NULL CHECK (quantity >= 0),
  UNIQUE (unit, item, batch_no)
);
CREATE INDEX em_batch_expiry ON em_batch (expires_on) WHERE quantity > 0;

CREATE TABLE em_movement (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('receipt', 'issue', 'transfer-out', 'transfer-in')),
  unit text NOT NULL,
  item text NOT NULL,
  batch_no text NOT NULL,
  expires_on date,
  quantity numeric(14, 3) NOT NULL CHECK (quantity > 0),
  counterpart text,                          -- the other unit of a transfer, the recipient of an issue
  transfer_id text,                          -- the two sides of one transfer share it
  note text,
  exercise boolean NOT NULL DEFAULT false,
  at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  by_user text NOT NULL
);
CREATE INDEX em_movement_unit ON em_movement (unit, item, at);
CREATE INDEX em_movement_issue ON em_movement (unit, item, at) WHERE kind = 'issue';

CREATE FUNCTION em_movement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'em_movement is append-only: a stock movement is never changed or removed';
END;
$$;
CREATE TRIGGER em_movement_append_only BEFORE UPDATE OR DELETE ON em_movement
  FOR EACH ROW EXECUTE FUNCTION em_movement_append_only();

-- Emergency-scenario daily use of an item at a unit (overrides the item's default in config).
CREATE TABLE em_scenario_use (
  unit text NOT NULL REFERENCES em_unit (code),
  item text NOT NULL,
  daily_use numeric(14, 3) NOT NULL CHECK (daily_use >= 0),
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL,
  PRIMARY KEY (unit, item)
);

-- The emergency mode (平急转换 / 应急分级响应): district-wide (area_code NULL) or for an area prefix.
CREATE TABLE em_mode (
  id bigserial PRIMARY KEY,
  area_code text,
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 4),   -- I (特别重大) … IV (一般)
  reason text NOT NULL,
  exercise boolean NOT NULL DEFAULT false,
  started_at timestamptz NOT NULL,
  started_by text NOT NULL,
  ended_at timestamptz,
  ended_by text,
  end_reason text,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX em_mode_open ON em_mode (started_at) WHERE ended_at IS NULL;

-- Daily zero reporting (零报告) by unit while in emergency mode.
CREATE TABLE em_zero_report (
  unit text NOT NULL REFERENCES em_unit (code),
  day date NOT NULL,
  counts jsonb NOT NULL,
  zero boolean NOT NULL,
  note text,
  reported_at timestamptz NOT NULL,
  reported_by text NOT NULL,
  PRIMARY KEY (unit, day)
);

CREATE TABLE em_drill (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  exercise boolean NOT NULL DEFAULT true CHECK (exercise),
  scenario jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('planned', 'running', 'done', 'failed')),
  planned_for timestamptz,
  started_at timestamptz,
  ended_at timestamptz,
  report jsonb,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL
);
