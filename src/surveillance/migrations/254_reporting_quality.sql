-- Reporting-quality indicators (issue #21 item 3): 及时报告率, 报告卡完整率, 重卡率, 审核及时率, 订正率
-- per reporting facility and month (China time). The rules are in reporting/quality.ts.
--
-- surv_report_quality_card: what each reported initial card last contributed (one row per card,
-- written by the same transaction that writes the card, so the counts below can be moved by the
-- difference instead of being recounted). reported_at and first_reviewed_at are set once: a card
-- returned and resubmitted keeps its first report and the CDC's first response.
CREATE TABLE surv_report_quality_card (
  card_id text PRIMARY KEY REFERENCES surv_report_card (id),
  facility text NOT NULL,
  month date NOT NULL,
  patient_id text,
  reported_at timestamptz NOT NULL,
  deadline_at timestamptz,
  timely boolean NOT NULL,
  missing text[] NOT NULL DEFAULT '{}',
  duplicate boolean NOT NULL,
  review_limit_hours integer NOT NULL,
  first_reviewed_at timestamptz,
  review_timely boolean NOT NULL,
  corrected boolean NOT NULL
);
CREATE INDEX surv_report_quality_card_facility ON surv_report_quality_card (facility, month, reported_at, card_id);

-- The figures per facility and month, moved by each card's change (quarters and years are sums
-- of at most 12 rows per facility).
CREATE TABLE surv_report_quality_count (
  facility text NOT NULL,
  month date NOT NULL,
  -- the facility's name as its latest card wrote it (the registry's name wins when it has one)
  name text,
  reported bigint NOT NULL DEFAULT 0,
  timely bigint NOT NULL DEFAULT 0,
  complete bigint NOT NULL DEFAULT 0,
  duplicate bigint NOT NULL DEFAULT 0,
  reviewed bigint NOT NULL DEFAULT 0,
  review_timely bigint NOT NULL DEFAULT 0,
  corrected bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (facility, month)
);

-- Backfill from the cards already stored (same rules as reporting/quality.ts cardQuality: the
-- first review is the earliest 审核/退卡 event, or reviewed_at; the only mandatory field a stored
-- card can lack is the ID number under 证件类型 99, which set `incomplete`).
INSERT INTO surv_report_quality_card (card_id, facility, month, patient_id, reported_at, deadline_at, timely, missing, duplicate,
                                      review_limit_hours, first_reviewed_at, review_timely, corrected)
SELECT c.id, coalesce(c.facility_code, ''),
       date_trunc('month', (c.submitted_at AT TIME ZONE 'UTC') + interval '8 hours')::date,
       c.patient_id, c.submitted_at, c.deadline_at,
       c.deadline_at IS NULL OR c.submitted_at <= c.deadline_at,
       CASE WHEN c.incomplete THEN ARRAY['idNumber'] ELSE '{}'::text[] END,
       c.duplicate_of IS NOT NULL,
       x.limit_hours,
       r.first_at,
       r.first_at IS NOT NULL AND r.first_at <= c.submitted_at + make_interval(hours => x.limit_hours),
       c.status = 'superseded' OR EXISTS (SELECT 1 FROM surv_report_card_event e WHERE e.card_id = c.id AND e.action = 'correct')
FROM surv_report_card c
CROSS JOIN LATERAL (
  SELECT CASE WHEN c.deadline_at IS NOT NULL AND c.diagnosed_at IS NOT NULL AND c.deadline_at - c.diagnosed_at <= interval '2 hours'
              THEN 2 ELSE 24 END AS limit_hours) x
CROSS JOIN LATERAL (
  SELECT nullif(least(coalesce(min(e.at), 'infinity'::timestamptz), coalesce(c.reviewed_at, 'infinity'::timestamptz)), 'infinity'::timestamptz) AS first_at
  FROM surv_report_card_event e WHERE e.card_id = c.id AND e.action IN ('approve', 'return')) r
WHERE c.card_type = 'initial' AND c.status <> 'draft' AND c.submitted_at IS NOT NULL;

INSERT INTO surv_report_quality_count (facility, month, name, reported, timely, complete, duplicate, reviewed, review_timely, corrected)
SELECT q.facility, q.month, max(c.facility_name), count(*), count(*) FILTER (WHERE timely), count(*) FILTER (WHERE cardinality(missing) = 0),
       count(*) FILTER (WHERE duplicate), count(*) FILTER (WHERE first_reviewed_at IS NOT NULL), count(*) FILTER (WHERE review_timely),
       count(*) FILTER (WHERE corrected)
FROM surv_report_quality_card q JOIN surv_report_card c ON c.id = q.card_id GROUP BY q.facility, q.month;
