/**
 * The terminology module's SQL: the unmapped-code queue (tm_unmapped), the current ConceptMaps,
 * and the stored Observations that carry one code (for re-deriving signals after a mapping).
 */
import type { Condition, ConceptMap, Observation } from '@medplum/fhirtypes';
import { currentContentSql } from '../fhir/schema.js';
import type { Queryable } from '../platform/db.js';
import type { Mapping } from './concept-map.js';
import { kindOfTargetSystem, type MappingKind } from './kinds.js';
import type { FacilityQueue, UnmappedList, UnmappedQuery } from './schemas.js';

const EXAMPLES = 5;

/** A record whose code no map knows: counted once per record (its first version). */
export interface UnmappedSighting {
  /** What the code is: a lab test (default), a specimen type, a unit or a diagnosis. */
  kind?: MappingKind;
  facility: string;
  system: string;
  code: string;
  display?: string;
  /** The record's id (an Observation; a Specimen for specimen types; a Condition for diagnoses). */
  observationId: string;
  /** The record's first version (later versions of one record are not counted again). */
  first: boolean;
}

/** Counts sightings into the queue, one statement per batch; a code seen again after its map was removed opens again. */
export async function noteUnmapped(client: Queryable, sightings: readonly UnmappedSighting[]): Promise<void> {
  if (!sightings.length) return;
  const byKey = new Map<string, { s: UnmappedSighting; n: number; examples: string[] }>();
  for (const s of sightings) {
    const k = `${s.kind ?? 'lab'}\u0000${s.facility}\u0000${s.system}\u0000${s.code}`;
    const row = byKey.get(k) ?? { s, n: 0, examples: [] };
    if (s.first) row.n++;
    if (row.examples.length < EXAMPLES && !row.examples.includes(s.observationId)) row.examples.push(s.observationId);
    if (s.display) row.s = { ...row.s, display: s.display };
    byKey.set(k, row);
  }
  const rows = [...byKey.values()];
  await client.query(
    `INSERT INTO tm_unmapped (kind, facility, system, code, display, records, examples)
     SELECT x.k, x.f, x.s, x.c, x.d, x.n, string_to_array(x.e, ',')
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[]) AS x(f, s, c, d, n, e, k)
     ON CONFLICT (kind, facility, system, code) DO UPDATE SET
       records = tm_unmapped.records + EXCLUDED.records,
       display = coalesce(EXCLUDED.display, tm_unmapped.display),
       examples = (SELECT coalesce(array_agg(z.e ORDER BY z.o), '{}') FROM (
                     SELECT u.e, min(u.o) AS o FROM unnest(tm_unmapped.examples || EXCLUDED.examples) WITH ORDINALITY AS u(e, o)
                     GROUP BY u.e ORDER BY min(u.o) LIMIT ${EXAMPLES}) z),
       last_seen = now(),
       status = 'open',
       target = NULL`,
    [
      rows.map((r) => r.s.facility),
      rows.map((r) => r.s.system),
      rows.map((r) => r.s.code),
      rows.map((r) => r.s.display ?? null),
      rows.map((r) => r.n),
      rows.map((r) => r.examples.join(',')),
      rows.map((r) => r.s.kind ?? 'lab'),
    ],
  );
}

/** Marks queued codes that a map now answers (mapped, or reviewed and deliberately left unmapped). A map for any facility ('') settles every facility's code. */
export async function settleQueue(client: Queryable, all: readonly Mapping[]): Promise<number> {
  const mappings = all.filter((m) => kindOfTargetSystem(m.targetSystem));
  if (!mappings.length) return 0;
  const r = await client.query(
    `UPDATE tm_unmapped u SET status = CASE WHEN x.t IS NULL THEN 'ignored' ELSE 'mapped' END, target = x.t
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(f, s, c, t, k)
     WHERE u.kind = x.k AND (x.f = '' OR u.facility = x.f) AND u.system = x.s AND u.code = x.c`,
    [
      mappings.map((m) => m.facility),
      mappings.map((m) => m.system),
      mappings.map((m) => m.code),
      mappings.map((m) => m.target),
      mappings.map((m) => kindOfTargetSystem(m.targetSystem)!),
    ],
  );
  return r.rowCount ?? 0;
}

interface UnmappedRow {
  kind: MappingKind;
  facility: string;
  system: string;
  code: string;
  display: string | null;
  records: string;
  examples: string[];
  first_seen: Date;
  last_seen: Date;
  status: 'open' | 'mapped' | 'ignored';
  target: string | null;
}

export async function listUnmapped(db: Queryable, q: UnmappedQuery): Promise<UnmappedList> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.kind !== 'all') {
    params.push(q.kind);
    where.push(`kind = $${params.length}`);
  }
  if (q.status !== 'all') {
    params.push(q.status);
    where.push(`status = $${params.length}`);
  }
  if (q.facility !== undefined) {
    params.push(q.facility);
    where.push(`facility = $${params.length}`);
  }
  if (q.q) {
    params.push(`%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
    where.push(`(code ILIKE $${params.length} OR display ILIKE $${params.length})`);
  }
  const w = where.length ? where.join(' AND ') : 'true';
  const total = await db.query<{ n: string }>(`SELECT count(*) AS n FROM tm_unmapped WHERE ${w}`, params);
  const rows = await db.query<UnmappedRow>(
    `SELECT kind, facility, system, code, display, records, examples, first_seen, last_seen, status, target FROM tm_unmapped WHERE ${w}
     ORDER BY records DESC, kind, facility, system, code LIMIT ${q.limit} OFFSET ${q.offset}`,
    params,
  );
  return {
    total: Number(total.rows[0]!.n),
    limit: q.limit,
    offset: q.offset,
    items: rows.rows.map((r) => ({
      kind: r.kind,
      facility: r.facility,
      system: r.system,
      code: r.code,
      display: r.display,
      records: Number(r.records),
      examples: r.examples,
      firstSeen: new Date(r.first_seen).toISOString(),
      lastSeen: new Date(r.last_seen).toISOString(),
      status: r.status,
      target: r.target,
    })),
  };
}

/** Per facility: open codes, the records carrying them, codes ever queued; of one kind, or of every kind ('all'). */
export async function queueByFacility(db: Queryable, kind: MappingKind | 'all' = 'all'): Promise<FacilityQueue[]> {
  const r = await db.query<{ facility: string; open_codes: string; open_records: string; codes: string }>(
    `SELECT facility, count(*) FILTER (WHERE status = 'open') AS open_codes, coalesce(sum(records) FILTER (WHERE status = 'open'), 0) AS open_records,
            count(*) AS codes
     FROM tm_unmapped WHERE ($1 = 'all' OR kind = $1) GROUP BY facility ORDER BY 3 DESC, facility LIMIT 1000`,
    [kind],
  );
  return r.rows.map((x) => ({
    facility: x.facility,
    openCodes: Number(x.open_codes),
    openRecords: Number(x.open_records),
    codes: Number(x.codes),
  }));
}

/** Every current ConceptMap (a district has one per facility and code system: tens to hundreds). */
export async function currentConceptMaps(client: Queryable): Promise<ConceptMap[]> {
  const r = await client.query<{ content: ConceptMap | string }>(
    `SELECT ${currentContentSql('c', 'ConceptMap')} AS content FROM r_conceptmap c`,
  );
  return r.rows.map((x) => (typeof x.content === 'string' ? (JSON.parse(x.content) as ConceptMap) : x.content));
}

/** A page of current ConceptMaps, newest first, with the total. */
export async function pageConceptMaps(db: Queryable, limit: number, offset: number): Promise<{ total: number; maps: ConceptMap[] }> {
  const total = await db.query<{ n: string }>('SELECT count(*) AS n FROM r_conceptmap');
  const r = await db.query<{ content: ConceptMap | string }>(
    `SELECT ${currentContentSql('c', 'ConceptMap')} AS content FROM r_conceptmap c ORDER BY c.id LIMIT $1 OFFSET $2`,
    [limit, offset],
  );
  return {
    total: Number(total.rows[0]!.n),
    maps: r.rows.map((x) => (typeof x.content === 'string' ? (JSON.parse(x.content) as ConceptMap) : x.content)),
  };
}

/**
 * A page of the stored Observations coded `system|code` (system '' = sent without one), in id
 * order after `after`: by the GIN index on the code token column, content by one probe each.
 */
export async function observationsWithCode(
  client: Queryable,
  system: string,
  code: string,
  after: string,
  limit = 500,
): Promise<Observation[]> {
  const r = await client.query<{ content: Observation | string }>(
    `SELECT ${currentContentSql('o', 'Observation')} AS content FROM r_observation o
     WHERE o.p_code @> ARRAY[$1::text] AND o.id > $2 ORDER BY o.id LIMIT $3`,
    [`${system}|${code}`, after, limit],
  );
  return r.rows.map((x) => (typeof x.content === 'string' ? (JSON.parse(x.content) as Observation) : x.content));
}

const contentOf = <T>(x: { content: T | string }): T => (typeof x.content === 'string' ? (JSON.parse(x.content) as T) : x.content);

/** A page of the stored Conditions coded `system|code` (system '' = sent without one), in id order after `after`, by the code token index. */
export async function conditionsWithCode(
  client: Queryable,
  system: string,
  code: string,
  after: string,
  limit = 500,
): Promise<Condition[]> {
  const r = await client.query<{ content: Condition | string }>(
    `SELECT ${currentContentSql('c', 'Condition')} AS content FROM r_condition c
     WHERE c.p_code @> ARRAY[$1::text] AND c.id > $2 ORDER BY c.id LIMIT $3`,
    [`${system}|${code}`, after, limit],
  );
  return r.rows.map(contentOf);
}

/** The current Conditions of these encounters (by the encounter reference index). */
export async function conditionsOfEncounters(client: Queryable, encounterIds: readonly string[]): Promise<Condition[]> {
  if (!encounterIds.length) return [];
  const r = await client.query<{ content: Condition | string }>(
    `SELECT ${currentContentSql('c', 'Condition')} AS content FROM r_condition c WHERE c.p_encounter && $1::text[]`,
    [encounterIds.map((id) => `Encounter/${id}`)],
  );
  return r.rows.map(contentOf);
}

/** One stored version of a ConceptMap (undefined for a deletion or a version never stored). */
export async function conceptMapVersion(client: Queryable, id: string, version: number): Promise<ConceptMap | undefined> {
  const r = await client.query<{ content: ConceptMap | string | null }>(
    `SELECT content FROM resource_history WHERE resource_type = 'ConceptMap' AND id = $1 AND version_id = $2`,
    [id, version],
  );
  const row = r.rows[0];
  return row?.content ? contentOf({ content: row.content }) : undefined;
}
