/**
 * Indicator groups in words: the district (全区), a street's name from the registry, a centre's
 * name (registry, else its FHIR Organization), a family-doctor team's name and a doctor's name
 * (their FHIR Practitioner). A group nobody names keeps its code; '(none)' is 未分配.
 */
import { facilityNames, streetNames } from '../../registry/index.js';
import type { Queryable } from '../../platform/db.js';
import type { GroupBy } from './schemas.js';

const NONE = '(none)';

export async function groupNames(db: Queryable, groupBy: GroupBy, groups: readonly string[]): Promise<Map<string, string>> {
  const codes = [...new Set(groups)].filter((g) => g !== NONE && g !== 'all');
  const out = new Map<string, string>([
    ['all', '全区'],
    [NONE, '未分配'],
  ]);
  if (!codes.length) return out;
  if (groupBy === 'street') {
    for (const [k, v] of await streetNames(db, codes)) out.set(k, v);
  } else if (groupBy === 'organization') {
    for (const [k, v] of await facilityNames(db, codes)) out.set(k, v);
  } else if (groupBy === 'team') {
    const r = await db.query<{ team_id: string; name: string | null }>(
      'SELECT team_id, min(team_name) AS name FROM care_team_member WHERE team_id = ANY($1::text[]) GROUP BY team_id',
      [codes],
    );
    for (const x of r.rows) if (x.name) out.set(x.team_id, x.name);
  } else if (groupBy === 'doctor') {
    const r = await db.query<{ id: string; name: string | null }>(
      `SELECT t.id, coalesce(h.content->'name'->0->>'text',
                concat(h.content->'name'->0->>'family', array_to_string(ARRAY(SELECT jsonb_array_elements_text(h.content::jsonb->'name'->0->'given')), ''))) AS name
         FROM r_practitioner t
         JOIN resource_history h ON h.resource_type = 'Practitioner' AND h.id = t.id AND h.version_id = t.version_id
        WHERE t.id = ANY($1::text[])`,
      [codes],
    );
    for (const x of r.rows) if (x.name) out.set(x.id, x.name);
  }
  return out;
}
