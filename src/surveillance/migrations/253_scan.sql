-- Space-time permutation scan (alerts/scan.ts): one row per cluster with p ≤ the scan's alpha per
-- signal and run day (the cluster's last day); a re-run of a (signal, run day) replaces its rows.
CREATE TABLE surv_scan_cluster (
  id bigserial PRIMARY KEY,
  signal text NOT NULL,
  run_day date NOT NULL,
  -- 1 = the most likely cluster of that run; secondaries share no area with a more likely one.
  rank integer NOT NULL,
  source text NOT NULL,
  area_level text NOT NULL,
  center_code text NOT NULL,
  -- Nearest to the centre first; area_observed / area_expected are aligned with area_codes.
  area_codes text[] NOT NULL,
  area_observed double precision[] NOT NULL,
  area_expected double precision[] NOT NULL,
  start_day date NOT NULL,
  end_day date NOT NULL,
  observed double precision NOT NULL,
  expected double precision NOT NULL,
  relative_risk double precision,
  llr double precision NOT NULL,
  p_value double precision NOT NULL,
  -- p ≤ the scan's evidenceAlpha: fusion reads the cluster as evidence (alerts/fusion.ts).
  evidence boolean NOT NULL,
  replications integer NOT NULL,
  seed bigint NOT NULL,
  total_cases integer NOT NULL,
  study_days integer NOT NULL,
  computed_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (signal, run_day, rank)
);
CREATE INDEX surv_scan_cluster_day ON surv_scan_cluster (run_day);
CREATE INDEX surv_scan_cluster_evidence ON surv_scan_cluster (run_day) WHERE evidence;

-- Every scan run, with or without clusters: what it looked at and what it said (areas skipped
-- for want of a centroid, too few cases, ...).
CREATE TABLE surv_scan_run (
  signal text NOT NULL,
  run_day date NOT NULL,
  area_level text NOT NULL,
  areas integer NOT NULL,
  total_cases integer NOT NULL,
  clusters integer NOT NULL,
  messages text[] NOT NULL DEFAULT '{}',
  duration_ms double precision NOT NULL,
  ran_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (signal, run_day)
);
