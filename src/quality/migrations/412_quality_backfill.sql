-- Timeliness leaves out historical loads (issue #16): a record that reaches the hub more than
-- 30 days after its event is a migration of old data (补录), not a late report; it is counted
-- apart, so onboarding a facility's history does not make its timeliness 0 %. The counts are
-- recomputed once under the new rule.
ALTER TABLE quality_facility_count ADD COLUMN historical bigint NOT NULL DEFAULT 0;
UPDATE quality_facility_count c SET timed = x.timed, late = x.late, historical = x.historical
FROM (
  SELECT facility, resource_type,
         count(*) FILTER (WHERE event_at IS NOT NULL AND received_at <= event_at + interval '30 days') AS timed,
         count(*) FILTER (WHERE received_at > event_at + interval '24 hours' AND received_at <= event_at + interval '30 days') AS late,
         count(*) FILTER (WHERE received_at > event_at + interval '30 days') AS historical
  FROM quality_record WHERE NOT deleted GROUP BY facility, resource_type
) x
WHERE c.facility = x.facility AND c.resource_type = x.resource_type;
