/**
 * The programmes' SQL: facts kept from the change log (prog_person, prog_fact), enrolments and
 * scheduled items derived by the engine for the residents a batch touches (prog_enrolment,
 * prog_item), and the reads behind the routes. Only this file touches the prog_* tables.
 */
import type { Resource, Patient } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord } from '../../platform/processors.js';
import { copyTextRows, type Database } from '../../platform/db.js';
import type { Sql } from '../services.js';
import { versionOn, type Criterion, type Indicator, type Programme } from './definition.js';
import { addMonths } from '../immunization/schedule.js';
import {
  addDays,
  addOffset,
  evaluateResident,
  HORIZON_DAYS,
  MANUAL_EPISODE,
  matchersOf,
  monthsBetween,
  relevant,
  type Episode,
  type Fact,
  type PersonFacts,
  type Registration,
} from './engine.js';
import { copyOut, copyRows, sqlLiteral } from '../chronic/copy-text.js';
import { factOf, personFacts } from './facts.js';
import { NEXT_FOLLOW_UP } from './next-follow-up.js';
import { atTargetKey, chainLateKey, daysKey, itemDeliveredKey, itemFromKey, measureKey, measureTargetKey, nthKey } from './summary.js';
import {
  blankPerson,
  deriveRows,
  ENROLMENT_COLUMNS,
  ITEM_COLUMNS,
  ITEMS_SINCE,
  rangeQueries,
  type Derived,
  type DerivedRange,
  type ResidentFacts,
} from './recompute-derive.js';

export { ITEMS_SINCE, type ResidentFacts };

const day = (col: string, as = col) => `to_char(${col}, 'YYYY-MM-DD') AS ${as}`;

interface FactRow {
  ref: string;
  patient_id: string;
  resource_type: string;
  codes: string[];
  start_on: string | null;
  end_on: string | null;
  active: boolean;
  value_codes: string[];
  value_num: number | null;
  readings: Record<string, number> | null;
  encounter: string | null;
}

/**
 * Writes the facts of a batch of changes; returns the residents whose facts changed. Only
 * records some programme could use are kept (most observations are not): a matcher added to a
 * programme file later needs the change log replayed (reset the `programmes` cursor).
 */
export async function applyChanges(client: Sql, changes: ChangeRecord[], programmes: Programme[]): Promise<Set<string>> {
  const matchers = matchersOf(programmes);
  const touched = new Set<string>();
  const persons = new Map<string, PersonFacts | null>();
  const facts = new Map<string, FactRow | null>();
  for (const c of changes) {
    if (c.type === 'Patient') {
      persons.set(c.id, c.deleted || !c.resource ? null : personFacts(c.resource as Patient));
      touched.add(c.id);
      continue;
    }
    const read = c.deleted || !c.resource ? null : factOf(c.resource as Resource);
    const f = read && relevant(matchers, read) ? read : null;
    facts.set(
      `${c.type}/${c.id}`,
      f && {
        ref: f.ref,
        patient_id: f.patientId,
        resource_type: f.resourceType,
        codes: f.codes,
        start_on: f.start,
        end_on: f.end,
        active: f.active,
        value_codes: f.valueCodes,
        value_num: f.valueNum,
        readings: f.readings ?? null,
        encounter: f.encounter ?? null,
      },
    );
  }
  const gone = [...persons].filter(([, p]) => !p).map(([id]) => id);
  if (gone.length) await client.query(`DELETE FROM prog_person WHERE patient_id = ANY($1::text[])`, [gone]);
  const kept = [...persons.values()].filter((p): p is PersonFacts => !!p);
  if (kept.length)
    await client.query(
      `INSERT INTO prog_person (patient_id, name, birth_date, gender, area_code, organization_id, deceased, deceased_on)
       SELECT x."patientId", x.name, x."birthDate"::date, x.gender, x."areaCode", x."organizationId", x.deceased, x."deceasedOn"::date
       FROM json_to_recordset($1::json)
         AS x("patientId" text, name text, "birthDate" text, gender text, "areaCode" text, "organizationId" text, deceased boolean, "deceasedOn" text)
       ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, gender = excluded.gender,
         area_code = excluded.area_code, organization_id = excluded.organization_id, deceased = excluded.deceased,
         deceased_on = excluded.deceased_on`,
      [JSON.stringify(kept)],
    );
  if (facts.size) {
    // Old rows first: a resource that now names another patient (or none) leaves its old one.
    const old = await client.query<{ patient_id: string }>(`DELETE FROM prog_fact WHERE ref = ANY($1::text[]) RETURNING patient_id`, [
      [...facts.keys()],
    ]);
    for (const r of old.rows) touched.add(r.patient_id);
    const rows = [...facts.values()].filter((f): f is FactRow => !!f);
    for (const r of rows) touched.add(r.patient_id);
    if (rows.length)
      await client.query(
        `INSERT INTO prog_fact (ref, patient_id, resource_type, codes, start_on, end_on, active, value_codes, value_num, readings, encounter)
         SELECT ref, patient_id, resource_type, codes, start_on, end_on, active, value_codes, value_num, readings, encounter
         FROM json_populate_recordset(NULL::prog_fact, $1::json)`,
        [JSON.stringify(rows)],
      );
  }
  return touched;
}

/** Persons, facts and registrations of residents, by id (a resident with facts but no Patient yet gets an empty person). */
export async function residentFacts(db: Sql, patientIds: string[]): Promise<ResidentFacts[]> {
  if (!patientIds.length) return [];
  // One statement after the other: `db` may be a single connection (pg deprecates overlapping queries on one).
  const people = await db.query<PersonFacts>(
    `SELECT patient_id AS "patientId", name, ${day('birth_date', '"birthDate"')}, gender, area_code AS "areaCode",
              organization_id AS "organizationId", deceased, ${day('deceased_on', '"deceasedOn"')}
       FROM prog_person WHERE patient_id = ANY($1::text[])`,
    [patientIds],
  );
  const facts = await db.query<
    Omit<Fact, 'readings' | 'encounter'> & { patientId: string; readings: Record<string, number> | null; encounter: string | null }
  >(
    `SELECT ref, patient_id AS "patientId", resource_type AS "resourceType", codes, ${day('start_on', 'start')}, ${day('end_on', '"end"')},
              active, value_codes AS "valueCodes", value_num AS "valueNum", readings, encounter
       FROM prog_fact WHERE patient_id = ANY($1::text[]) ORDER BY ref`,
    [patientIds],
  );
  const registrations = await db.query<{ patientId: string; programme: string } & Registration>(
    `SELECT patient_id AS "patientId", programme, ${day('enrolled_on', '"enrolledOn"')}, status, ${day('status_on', '"statusOn"')}
       FROM prog_registration WHERE patient_id = ANY($1::text[])`,
    [patientIds],
  );
  const byId = new Map<string, ResidentFacts>();
  for (const id of patientIds) byId.set(id, { person: blankPerson(id), facts: [] });
  for (const p of people.rows) byId.get(p.patientId)!.person = p;
  for (const { patientId, programme, ...reg } of registrations.rows) {
    const r = byId.get(patientId);
    if (r) (r.registrations ??= new Map()).set(programme, reg);
  }
  for (const f of facts.rows) {
    const { patientId, readings, encounter, ...fact } = f;
    byId.get(patientId)?.facts.push({
      ...fact,
      valueNum: fact.valueNum === null ? null : Number(fact.valueNum),
      ...(readings ? { readings } : {}),
      ...(encounter ? { encounter } : {}),
    });
  }
  return [...byId.values()];
}

/** One lock for every writer of derived rows (the processor, the refresh, the full recompute): their delete-and-insert never interleave. */
export const DERIVE_LOCK = 7262360;

/**
 * Forgets every answer counts.ts keeps, for a writer that rewrites residents without counting
 * what they add (the full recompute, a bulk load of facts); two statements, in its transaction.
 */
const FORGET_COUNTS = 'UPDATE prog_count_gen SET gen = gen + 1; DELETE FROM prog_count_cache';

/** Replaces the derived rows of residents (the processor's and the refresh's path: a few hundred at a time). */
async function writeDerived(client: Sql, patientIds: string[], d: Derived, today: string): Promise<void> {
  await client.query(`DELETE FROM prog_item WHERE patient_id = ANY($1::text[])`, [patientIds]);
  await client.query(`DELETE FROM prog_enrolment WHERE patient_id = ANY($1::text[])`, [patientIds]);
  if (d.enrolments.length)
    await client.query(
      `INSERT INTO prog_enrolment (${ENROLMENT_COLUMNS.join(', ')})
       SELECT ${ENROLMENT_COLUMNS.join(', ')} FROM json_populate_recordset(NULL::prog_enrolment, $1::json)`,
      [JSON.stringify(d.enrolments)],
    );
  if (d.items.length)
    await client.query(
      `INSERT INTO prog_item (${ITEM_COLUMNS.join(', ')})
       SELECT ${ITEM_COLUMNS.join(', ')} FROM json_populate_recordset(NULL::prog_item, $1::json)`,
      [JSON.stringify(d.items)],
    );
  // A resident with neither a person row nor facts (a Patient deleted without records) has no row
  // in prog_derived.
  await client.query(
    `DELETE FROM prog_derived d WHERE d.patient_id = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM prog_person p WHERE p.patient_id = d.patient_id)
       AND NOT EXISTS (SELECT 1 FROM prog_fact f WHERE f.patient_id = d.patient_id)`,
    [patientIds],
  );
  await markDerived(client, patientIds, today);
}

/**
 * Marks residents derived on `today`, keeping the invariant every writer of derived rows relies on:
 * each person row has its row in prog_derived, and a resident known by facts alone gets a blank
 * person row first. Ids with neither a person row nor facts are left out.
 */
async function markDerived(
  client: { query(text: string, params: unknown[]): Promise<unknown> },
  patientIds: string[],
  today: string,
): Promise<void> {
  await client.query(
    `INSERT INTO prog_person (patient_id)
     SELECT id FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM prog_fact f WHERE f.patient_id = id)
     ON CONFLICT (patient_id) DO NOTHING`,
    [patientIds],
  );
  await client.query(
    `INSERT INTO prog_derived (patient_id, derived_on)
     SELECT id, $2::date FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM prog_person p WHERE p.patient_id = id)
     ON CONFLICT (patient_id) DO UPDATE SET derived_on = excluded.derived_on`,
    [patientIds, today],
  );
}

/**
 * Re-derives the enrolments, summaries and items of residents for every programme (as of
 * `today`), keeping the counted answers current. Call it inside a transaction: it takes a
 * transaction-scoped lock shared by every writer of these rows.
 */
export async function refreshResidents(
  client: Sql,
  patientIds: string[],
  programmes: Programme[],
  today: string,
  counts: CountKeeper,
): Promise<void> {
  if (!patientIds.length) return;
  await client.query('SELECT pg_advisory_xact_lock($1)', [DERIVE_LOCK]);
  await counts.before(patientIds);
  const residents = await residentFacts(client, patientIds);
  await writeDerived(client, patientIds, deriveRows(residents, programmes, today), today);
  await counts.after();
}

/**
 * Keeps the indicator answers counts.ts keeps current around a change of residents' rows, in the
 * writer's transaction (keepCounts opens one; every writer of derived rows takes one).
 */
export interface CountKeeper {
  /** Before the rows of these residents change: what they add now is taken away (each resident once). */
  before(patientIds: string[]): Promise<void>;
  /** After the change: what the residents seen by before add now is added. */
  after(): Promise<void>;
}

/**
 * Residents whose rows were derived more than `days` ago (or never): items are listed a year
 * ahead and ages move on, so each resident is derived again at least that often.
 */
export async function staleResidents(db: Sql, today: string, days: number, limit: number): Promise<string[]> {
  const r = await db.query<{ id: string }>(
    `SELECT patient_id AS id FROM prog_derived WHERE derived_on IS NULL OR derived_on < $1::date - $2::int
     ORDER BY derived_on NULLS FIRST, patient_id LIMIT $3`,
    [today, days, limit],
  );
  return r.rows.map((x) => x.id);
}

// ---- the full recompute (recompute.ts): key ranges, read and written with COPY ---------------

/** A key range of residents in the database's ordering: (after, upTo], undefined = open. */
export interface KeyRange {
  after?: string;
  upTo?: string;
}

/** The WHERE condition of a key range on patient_id. */
export const rangeWhere = (r: KeyRange): string =>
  [r.after !== undefined ? `patient_id > ${sqlLiteral(r.after)}` : '', r.upTo !== undefined ? `patient_id <= ${sqlLiteral(r.upTo)}` : '']
    .filter(Boolean)
    .join(' AND ') || 'true';

/**
 * The versions of a range's rows in prog_derived (xmin; every writer of derived rows writes its
 * residents' rows there), as one fingerprint: how many, and a digest of every id with its version
 * in order.
 */
const versionsQuery = (w: string) =>
  `SELECT count(*) || ':' || coalesce(md5(string_agg(patient_id || '/' || xmin::text, ',' ORDER BY patient_id)), '') FROM prog_derived WHERE ${w}`;

/** Every resident with facts or a person row, in the database's ordering (the full recompute walks them in ranges). */
export async function allResidentIds(db: Pick<pg.ClientBase, 'query'>): Promise<string[]> {
  const [text] = await copyOut(db, `COPY (SELECT patient_id FROM prog_person UNION SELECT patient_id FROM prog_fact ORDER BY 1) TO STDOUT`);
  return copyRows(text!).map((r) => r[0]!);
}

/**
 * Reads a range in one round trip (no lock, no transaction needed): its residents' versions,
 * then what `rangeQueries` (recompute-derive.ts) asks, as COPY text. The versions come first: a
 * change that lands in between shows as a new version when the range is written.
 */
export async function readKeyRange(db: Pick<pg.ClientBase, 'query'>, range: KeyRange): Promise<{ versions: string; texts: string[] }> {
  const w = rangeWhere(range);
  const [versions, ...texts] = await copyOut(db, [versionsQuery(w), ...rangeQueries(w)].map((q) => `COPY (${q}) TO STDOUT`).join(';\n'));
  return { versions: versions!, texts };
}

/**
 * Opens the transaction that writes a range and takes the writers' lock; returns the versions of
 * the range's residents now (versionsQuery). Different from those read: another writer (the
 * processor) derived some resident of the range in between, and the range must be read and derived
 * again (under the lock, so nobody else writes its rows meanwhile).
 */
export async function beginRangeWrite(c: Pick<pg.ClientBase, 'query'>, range: KeyRange, postgres: boolean): Promise<string> {
  // Derived rows are rebuilt by running it again: commits need not wait for the WAL.
  const [, , , , , versions] = await copyOut(
    c,
    `BEGIN; ${postgres ? 'SET LOCAL synchronous_commit = off' : 'SELECT 1'}; SELECT pg_advisory_xact_lock(${DERIVE_LOCK});
     ${FORGET_COUNTS}; COPY (${versionsQuery(rangeWhere(range))}) TO STDOUT`,
  );
  return versions!;
}

/**
 * Replaces the derived rows of a range (inside the transaction of beginRangeWrite): deletes the
 * range's rows, COPYs the new ones and marks everyone in it derived today.
 */
export async function replaceKeyRange(
  c: Pick<pg.ClientBase, 'query'>,
  range: KeyRange,
  d: DerivedRange,
  today: string,
  copy: (table: string, columns: readonly string[], text: string) => Promise<void>,
): Promise<void> {
  const w = rangeWhere(range);
  await c.query(`DELETE FROM prog_item WHERE ${w}; DELETE FROM prog_enrolment WHERE ${w}`);
  if (d.enrolments) await copy('prog_enrolment', ENROLMENT_COLUMNS, d.enrolments);
  if (d.items) await copy('prog_item', ITEM_COLUMNS, d.items);
  // Everyone in the range was derived (read with this version, or again under the lock).
  await c.query(`UPDATE prog_derived SET derived_on = $1::date WHERE ${w}`, [today]);
  // Residents known by facts alone have no row to update yet.
  if (d.blank.length) await markDerived(c, d.blank, today);
}

/**
 * The tables a full recompute writes, whose statistics it refreshes at its end: the derived rows,
 * and prog_person, which gains the blank rows of residents known by facts alone.
 */
export const DERIVED_TABLES = ['prog_enrolment', 'prog_item', 'prog_derived', 'prog_person'] as const;

// ---- reads -----------------------------------------------------------------------------------

export interface ResidentFilter {
  area?: string;
  organization?: string;
}

/**
 * Residents enrolled in a programme at any time, with their facts (indicators evaluate them again
 * for the period asked). Enrolled implicitly (entry.implicit), also every resident of an age that
 * can meet the period [from, until]: the engine evaluates them as the summaries count them.
 */
export async function programmeResidents(
  db: Sql,
  p: Programme,
  f: ResidentFilter,
  period?: { from: string; until: string },
): Promise<ResidentFacts[]> {
  const a = new Args();
  const code = a.add(p.code, '::text');
  const area = a.add(f.area ?? null, '::text');
  const org = a.add(f.organization ?? null, '::text');
  const virtual =
    p.entry.implicit && period
      ? `UNION SELECT e.patient_id FROM (${virtualRowsSql(p, a, 'virtual', birthBounds(p, period.from, period.until))}) e
         WHERE (${area} IS NULL OR e.area_code LIKE ${area} || '%') AND (${org} IS NULL OR e.organization_id = ${org})`
      : '';
  const ids = await db.query<{ id: string }>(
    `SELECT DISTINCT e.patient_id AS id FROM prog_enrolment e
     LEFT JOIN prog_person p ON p.patient_id = e.patient_id
     WHERE e.programme = ${code} AND (${area} IS NULL OR p.area_code LIKE ${area} || '%') AND (${org} IS NULL OR p.organization_id = ${org})
     ${virtual}
     ORDER BY 1`,
    a.values,
  );
  return residentFacts(
    db,
    ids.rows.map((r) => r.id),
  );
}

export interface RegistryQuery extends ResidentFilter {
  status?: 'active' | 'ended' | 'all';
  q?: string;
  flag?: string;
  limit: number;
  offset: number;
}

/**
 * A page of a programme's registry with its total. Enrolled implicitly, everyone of the age
 * without stored rows is listed too (virtualRowsSql), with what the engine derives for a resident
 * without records (its version and items: next window, missed ones).
 */
export async function registryPage(db: Sql, p: Programme, q: RegistryQuery, asOf: string) {
  const a = new Args();
  const code = a.add(p.code, '::text');
  const on = a.add(asOf, '::date');
  const status = a.add(q.status ?? 'active', '::text');
  const area = a.add(q.area ?? null, '::text');
  const org = a.add(q.organization ?? null, '::text');
  const text = a.add(q.q ?? null, '::text');
  const flag = a.add(q.flag ?? null, '::text');
  const since = ITEMS_SINCE(asOf);
  const bounds =
    q.status === 'active' || q.status === undefined ? birthBounds(p, asOf, asOf) : birthBounds(p, since, addDays(asOf, HORIZON_DAYS));
  const source = (part: RowSource) =>
    part === 'stored'
      ? `SELECT e.patient_id, e.episode_key, e.start_on, e.end_on, e.end_event_on, e.version, e.flags, e.controlled, e.last_service,
                e.services, p.name, p.gender, p.birth_date, p.area_code, p.organization_id, coalesce(p.deceased, false) AS deceased,
                p.deceased_on, 1 AS sign, true AS stored
         FROM prog_enrolment e LEFT JOIN prog_person p ON p.patient_id = e.patient_id WHERE e.programme = ${code}`
      : // An episode of age is stored only while it ends after ITEMS_SINCE and starts within the horizon (evaluateResident).
        `SELECT e.patient_id, e.episode_key, e.start_on, e.end_on, e.end_event_on, NULL::text AS version, e.flags, NULL::boolean AS controlled,
                NULL::date AS last_service, 0 AS services, e.name, e.gender, e.birth_date, e.area_code, e.organization_id, e.deceased,
                e.deceased_on, ${part === 'virtual-stored' ? -1 : 1} AS sign, false AS stored
         FROM (${virtualRowsSql(p, a, part, bounds)}) e
         WHERE (e.end_on IS NULL OR e.end_on > ${a.add(since, '::date')}) AND e.start_on <= ${on} + ${HORIZON_DAYS}`;
  const rowsOf = (parts: RowSource[]) => parts.map((part) => `(${source(part)})`).join(' UNION ALL ');
  const where = `(${status} = 'all' OR (${status} = 'active') = (r.start_on <= ${on} AND (r.end_on IS NULL OR r.end_on > ${on}) AND NOT r.deceased))
    AND (${area} IS NULL OR r.area_code LIKE ${area} || '%') AND (${org} IS NULL OR r.organization_id = ${org})
    AND (${text} IS NULL OR r.name LIKE '%' || ${text} || '%' OR r.patient_id = ${text})
    AND (${flag} IS NULL OR ${flag} = ANY(r.flags))`;
  const [total, page] = await Promise.all([
    db.query<{ n: number }>(`SELECT coalesce(sum(r.sign), 0)::int AS n FROM (${rowsOf(countedParts(p))}) r WHERE ${where}`, a.values),
    db.query<RegistryRow>(
      `SELECT r.patient_id AS "patientId", r.name, r.gender, ${day('r.birth_date', '"birthDate"')}, r.episode_key AS "episodeKey",
              ${day('r.start_on', '"startOn"')}, ${day('r.end_on', '"endOn"')}, ${day('r.end_event_on', '"endEventOn"')},
              r.version, r.flags, r.controlled, ${day('r.last_service', '"lastService"')}, r.services,
              r.area_code AS "areaCode", r.organization_id AS "organizationId", r.deceased, ${day('r.deceased_on', '"deceasedOn"')},
              CASE WHEN r.episode_key = '${MANUAL_EPISODE}' THEN 'manual' ELSE 'record' END AS source,
              coalesce(g.status, 'managed') AS "registryStatus", ${day('g.status_on', '"statusOn"')}, g.status_reason AS "statusReason",
              (SELECT min(i.window_from) FILTER (WHERE i.window_from > ${on}) FROM prog_item i
                WHERE i.programme = ${code} AND i.patient_id = r.patient_id AND i.episode_key = r.episode_key AND i.delivered_on IS NULL)::text AS "nextItemFrom",
              (SELECT count(*)::int FROM prog_item i
                WHERE i.programme = ${code} AND i.patient_id = r.patient_id AND i.episode_key = r.episode_key
                  AND i.window_to <= ${on} AND (i.delivered_on IS NULL OR i.delivered_on > ${on})) AS missed,
              (SELECT i.window_from FROM prog_item i
                WHERE i.programme = ${code} AND i.patient_id = r.patient_id AND i.episode_key = r.episode_key
                  AND i.item = '${NEXT_FOLLOW_UP}')::text AS "nextDue",
              r.stored
       FROM (SELECT r.* FROM (${rowsOf(p.entry.implicit ? ['stored', 'virtual-unstored'] : ['stored'])}) r WHERE ${where}
             ORDER BY r.start_on DESC, r.patient_id, r.episode_key
             LIMIT ${q.limit} OFFSET ${q.offset}) r
       LEFT JOIN prog_registration g ON g.programme = ${code} AND g.patient_id = r.patient_id
       ORDER BY r.start_on DESC, r.patient_id, r.episode_key`,
      a.values,
    ),
  ]);
  const rows = page.rows.map(({ stored, ...row }) => (stored ? row : implicitRow(p, row, asOf)));
  return { total: total.rows[0]!.n, rows };
}

interface RegistryFields {
  patientId: string;
  name: string | null;
  gender: string | null;
  birthDate: string | null;
  areaCode: string | null;
  organizationId: string | null;
  deceased: boolean;
  deceasedOn: string | null;
  version: string | null;
  nextItemFrom: string | null;
  missed: number;
}
type RegistryRow = RegistryFields & { stored: boolean } & Record<string, unknown>;

/** A registry row of an episode of age without stored rows: its version and items as the engine derives them for a resident without records. */
function implicitRow<T extends RegistryFields>(p: Programme, row: T, asOf: string): T {
  const person: PersonFacts = {
    patientId: row.patientId,
    name: row.name,
    birthDate: row.birthDate,
    gender: row.gender,
    areaCode: row.areaCode,
    organizationId: row.organizationId,
    deceased: row.deceased,
    deceasedOn: row.deceasedOn,
  };
  const ep = evaluateResident(p, person, [], asOf, ITEMS_SINCE(asOf))[0];
  if (!ep) return row;
  const open = ep.items.filter((i) => i.deliveredOn === null);
  const next = open.map((i) => i.from).filter((d) => d > asOf);
  return {
    ...row,
    version: ep.version,
    nextItemFrom: next.length ? next.reduce((x, y) => (y < x ? y : x)) : null,
    missed: open.filter((i) => i.to <= asOf).length,
  };
}

export interface WorklistQuery extends ResidentFilter {
  status?: 'due' | 'overdue' | 'all';
  overdueWithinDays: number;
  limit: number;
  offset: number;
}

/**
 * Which items a list shows (worklist, due services): an item of the chained service (年度随访)
 * gives way to its episode's next follow-up when the episode has one; the next follow-up stays
 * listed while overdue, however long (nothing comes after it). `$superseded` is the placeholder
 * of supersededItems (next-follow-up.ts).
 */
const listedItemSql = (superseded: string) => `(i.programme || '|' || i.item <> ALL(${superseded}::text[])
    OR NOT EXISTS (SELECT 1 FROM prog_item n WHERE n.programme = i.programme AND n.patient_id = i.patient_id
                   AND n.episode_key = i.episode_key AND n.item = '${NEXT_FOLLOW_UP}'))`;
const stillListedSql = (asOf: string, overdueWithinDays: string) =>
  `(i.window_to > (${asOf}::date - ${overdueWithinDays}::int) OR i.item = '${NEXT_FOLLOW_UP}')`;

/**
 * The conditions of a worklist row `i` (columns as storedItemsSql's) on asOf: of its window
 * (listed, status), of its episode (on an alias), both (`item`), and of its person (`person(x)`:
 * the alias holding the person's columns, and how it reads `deceased`).
 */
function worklistWhere(a: Args, q: WorklistQuery, asOf: string) {
  const on = a.add(asOf, '::date');
  const within = a.add(q.overdueWithinDays, '::int');
  const status = a.add(q.status ?? 'all', '::text');
  // Added when used: a statement must use every parameter it is given.
  const area = () => a.add(q.area ?? null, '::text');
  const org = () => a.add(q.organization ?? null, '::text');
  const window = `i.window_from <= ${on} AND ${stillListedSql(on, within)} AND (${status} = 'all' OR (${status} = 'due') = (i.window_to > ${on}))`;
  const episode = (x: string) => `${x}.start_on <= ${on} AND (${x}.end_on IS NULL OR ${x}.end_on > ${on})`;
  return {
    on,
    within,
    window,
    episode,
    item: `${window} AND ${episode('i')}`,
    person: (x = 'i', deceased = `${x}.deceased`) =>
      `NOT ${deceased} AND (${area()} IS NULL OR ${x}.area_code LIKE ${area()} || '%') AND (${org()} IS NULL OR ${x}.organization_id = ${org()})`,
  };
}

/** A worklist page's columns and order (ties, which the order leaves to chance otherwise, by episode and window). */
const worklistColumns = (on: string) =>
  `i.patient_id AS "patientId", i.name, i.gender, ${day('i.birth_date', '"birthDate"')}, i.episode_key AS "episodeKey",
   i.item, i.item_name AS "itemName", ${day('i.window_from', '"windowFrom"')}, ${day('i.window_to - 1', '"windowLast"')},
   i.recommended, CASE WHEN i.window_to > ${on} THEN 'due' ELSE 'overdue' END AS status,
   i.flags, i.area_code AS "areaCode", i.organization_id AS "organizationId"`;
const WORKLIST_ORDER = 'i.window_to, i.patient_id, i.item, i.episode_key, i.window_from';

/** Rows of a page past which the walk (worklistWalk) gives way to the full statement: each ordered source reads this many. */
const WALK_ROWS = 2000;

/**
 * How the walk reads (a test sets them low, so a small district takes every path): `firstRead`,
 * the stored items first read from each part of storedWorklistParts (deeper while a part runs
 * short of the page's rows); `manyStored`, the stored residents from which the population is
 * counted by an anti-join (worklistVirtualCount).
 */
const WALK = { firstRead: 1000, manyStored: 20_000 };

/**
 * Items due or overdue on a day, of residents still enrolled and alive (see listedItemSql for the
 * next follow-up). Enrolled implicitly, also the yearly items of everyone of the age without
 * stored rows (virtualItemsSql). `via: 'sql'`: the one statement that enumerates and sorts them
 * all (the reference the walk is tested against); by default the ordered walk of worklistWalk.
 */
export async function worklistPage(
  db: Sql,
  p: Programme,
  q: WorklistQuery,
  asOf: string,
  superseded: string[] = [],
  o: { via?: 'walk' | 'sql'; tune?: Partial<typeof WALK> } = {},
) {
  if (o.via === 'sql') return worklistBySql(db, p, q, asOf, superseded);
  const tune = { ...WALK, ...o.tune };
  const [page, stored, virtual] = await Promise.all([
    q.offset + q.limit > WALK_ROWS ? worklistBySql(db, p, q, asOf, superseded, 'page') : worklistWalk(db, p, q, asOf, superseded, tune),
    worklistStoredCount(db, p, q, asOf, superseded),
    p.entry.implicit ? worklistVirtualCount(db, p, q, asOf, tune) : { n: 0, due: 0 },
  ]);
  const n = stored.n + virtual.n;
  const due = stored.due + virtual.due;
  return { total: n, counts: { due, overdue: n - due }, rows: page.rows };
}

/** The reference: every row listed enumerated, summed (stored + virtual − virtual-stored: RowSource) and sorted. */
async function worklistBySql(db: Sql, p: Programme, q: WorklistQuery, asOf: string, superseded: string[], only?: 'page') {
  const a = new Args();
  const w = worklistWhere(a, q, asOf);
  const o = {
    asOf,
    superseded: a.add(superseded, '::text[]'),
    bounds: birthBounds(p, asOf, asOf),
    years: listedYears(asOf, q.overdueWithinDays, asOf),
  };
  const where = `${w.item} AND ${w.person()}`;
  const listed = itemSources(p, a, p.entry.implicit ? ['stored', 'virtual-unstored'] : ['stored'], o);
  const pageSql = `SELECT ${worklistColumns(w.on)} FROM (${listed}) i WHERE ${where}
       ORDER BY ${WORKLIST_ORDER} LIMIT ${q.limit} OFFSET ${q.offset}`;
  if (only === 'page') return { total: -1, counts: { due: -1, overdue: -1 }, rows: (await db.query(pageSql, a.values)).rows };
  const counted = itemSources(p, a, countedParts(p), o);
  const [total, rows] = await Promise.all([
    db.query<{ n: number; due: number }>(
      `SELECT coalesce(sum(i.sign), 0)::int AS n, coalesce(sum(i.sign) FILTER (WHERE i.window_to > ${w.on}), 0)::int AS due
       FROM (${counted}) i WHERE ${where}`,
      a.values,
    ),
    db.query(pageSql, a.values),
  ]);
  const t = total.rows[0]!;
  return { total: t.n, counts: { due: t.due, overdue: t.n - t.due }, rows: rows.rows };
}

/**
 * The stored items a worklist can list, in three parts that each read an index in the list's
 * order (migration 368): undelivered items whose window closed within overdueWithinDays or is
 * open; undelivered next follow-ups whose window closed before that (listed however late); items
 * delivered after asOf (none on today unless a record is dated ahead; asOf in the past, all
 * delivered since, sorted). Columns of prog_item as storedItemsSql names them.
 */
function storedWorklistParts(code: string, w: { on: string; within: string }): string[] {
  const cols = 'i.programme, i.patient_id, i.episode_key, i.item, i.name AS item_name, i.window_from, i.window_to, i.recommended';
  const from = `FROM prog_item i WHERE i.programme = ${code} AND i.window_from <= ${w.on}`;
  return [
    `SELECT ${cols} ${from} AND i.delivered_on IS NULL AND i.window_to > ${w.on} - ${w.within}`,
    `SELECT ${cols} ${from} AND i.delivered_on IS NULL AND i.item = '${NEXT_FOLLOW_UP}' AND i.window_to <= ${w.on} - ${w.within}`,
    `SELECT ${cols} ${from} AND i.delivered_on > ${w.on}`,
  ];
}

/** listedItemSql, or true when none of the programme's items give way (a condition the planner cannot estimate, left out). */
const listedOfSql = (p: Programme, a: Args, superseded: string[]) =>
  superseded.some((s) => s.startsWith(`${p.code}|`)) ? listedItemSql(a.add(superseded, '::text[]')) : 'true';

/** listedOfSql for a count: an anti-join, so the episodes with a next follow-up are read once (prog_item_next), hashed. */
const listedCountSql = (p: Programme, a: Args, superseded: string[], code: string) =>
  superseded.some((s) => s.startsWith(`${p.code}|`))
    ? `NOT EXISTS (SELECT 1 FROM prog_item n WHERE n.programme = ${code} AND n.item = '${NEXT_FOLLOW_UP}'
                   AND n.patient_id = i.patient_id AND n.episode_key = i.episode_key
                   AND i.programme || '|' || i.item = ANY(${a.add(superseded, '::text[]')}))`
    : 'true';

/** The stored items a walk reads at most from one part before the page falls back to the full statement. */
const WALK_MOST_READ = 256_000;

/**
 * The first offset + limit rows of each source in the list's order, merged: stored items by the
 * ordered index, read `raw` at a time from each part (an ORDER BY … LIMIT of one table is the
 * index's walk whatever the estimates), their episode and person then looked up and filtered; a
 * part whose read ran out before giving offset + limit rows is read again deeper (its next rows
 * could come first). Residents of the age without stored rows by patient id (the person table's
 * key, beside the stored residents' in the same order), one walk per day their items' windows end
 * on (a cycle's items end on a fixed day unless the episode ends first), and those whose episode
 * ends within an item's window (the upper age's birthday: a year of births) sorted. A death ends
 * the episode too, but the list shows nobody deceased (personRow sets `deceased` with every day of
 * death). Every row is the full statement's; the merge sorts a few thousand at most.
 */
async function worklistWalk(db: Sql, p: Programme, q: WorklistQuery, asOf: string, superseded: string[], tune: typeof WALK) {
  const k = q.offset + q.limit;
  const a = new Args();
  const w = worklistWhere(a, q, asOf);
  const code = a.add(p.code, '::text');
  const where = `${w.item} AND ${w.person()}`;
  const parts = storedWorklistParts(code, w);
  const listed = listedOfSql(p, a, superseded);
  const sources = [
    `SELECT i.* FROM (
       SELECT i.*, e.flags, e.start_on, e.end_on, p.name, p.gender, p.birth_date, p.area_code, p.organization_id,
              coalesce(p.deceased, false) AS deceased
       FROM (${parts.map((_, j) => `SELECT ${j} AS part, s.* FROM s${j} s`).join(' UNION ALL ')}) i
       CROSS JOIN LATERAL (SELECT e.flags, e.start_on, e.end_on FROM prog_enrolment e
                           WHERE e.programme = ${code} AND e.patient_id = i.patient_id AND e.episode_key = i.episode_key OFFSET 0) e
       LEFT JOIN LATERAL (SELECT p.name, p.gender, p.birth_date, p.area_code, p.organization_id, p.deceased
                          FROM prog_person p WHERE p.patient_id = i.patient_id OFFSET 0) p ON true
       WHERE ${listed}) i
     WHERE ${where}`,
  ];
  if (p.entry.implicit) {
    const bounds = birthBounds(p, asOf, asOf);
    const items = cycleItems(p, listedYears(asOf, q.overdueWithinDays, asOf));
    const rowOf = (values: CycleItem[], t = '') =>
      `SELECT -1 AS part, e.programme, e.patient_id, e.episode_key, it.item, it.name AS item_name, greatest(it.f, e.start_on) AS window_from,
              least(it.t, coalesce(e.end_on, it.t)) AS window_to, it.recommended, e.flags, e.start_on, e.end_on,
              e.name, e.gender, e.birth_date, e.area_code, e.organization_id, e.deceased ${t}
       FROM ${cycleValuesSql(values)}
       WHERE (it.lo IS NULL OR e.start_on >= it.lo) AND (it.hi IS NULL OR e.start_on < it.hi)
         AND greatest(it.f, e.start_on) < least(it.t, coalesce(e.end_on, it.t))`;
    for (const t of [...new Set(items.map((x) => x.t))].sort()) {
      const group = items.filter((x) => x.t === t);
      const end = a.add(t, '::date');
      // A resident is walked only when some item of the group is listed for it, so k residents give k rows at least.
      sources.push(`SELECT i.* FROM (
          SELECT e.* FROM (${virtualRowsSql(p, a, 'virtual-unstored', bounds)}) e
          WHERE (e.end_on IS NULL OR e.end_on >= ${end}) AND EXISTS (SELECT 1 FROM (${rowOf(group)}) i WHERE ${where})
          ORDER BY e.patient_id LIMIT ${k}) e
        CROSS JOIN LATERAL (${rowOf(group)}) i`);
    }
    const max = p.entry.ageYears?.max;
    if (max !== undefined && items.length) {
      // Those whose upper age's birthday falls after asOf and before an item's end.
      const last = items.map((x) => x.t).reduce((x, y) => (y > x ? y : x));
      const lo = addDays(addMonths(asOf, -12 * max), -1);
      const hi = addDays(addMonths(last, -12 * max), 1);
      const early = { lo: bounds.lo && bounds.lo > lo ? bounds.lo : lo, hi: bounds.hi && bounds.hi < hi ? bounds.hi : hi };
      sources.push(`SELECT i.* FROM (
          SELECT i.* FROM (${virtualRowsSql(p, a, 'virtual-unstored', early)}) e CROSS JOIN LATERAL (${rowOf(items, ', it.t')}) i) i
        WHERE i.end_on < i.t AND ${where}
        ORDER BY ${WORKLIST_ORDER} LIMIT ${k}`);
    }
  }
  const columns = `i.part, i.programme, i.patient_id, i.episode_key, i.item, i.item_name, i.window_from, i.window_to, i.recommended,
                   i.flags, i.start_on, i.end_on, i.name, i.gender, i.birth_date, i.area_code, i.organization_id, i.deceased`;
  const statement = (raw: number[]) =>
    `WITH ${parts.map((s, j) => `s${j} AS MATERIALIZED (${s} ORDER BY ${WORKLIST_ORDER} LIMIT ${raw[j]})`).join(', ')},
       rows AS MATERIALIZED (${sources.map((s) => `(SELECT ${columns} FROM (${s}) i)`).join(' UNION ALL ')}),
       page AS (SELECT ${worklistColumns(w.on)}, i.window_to AS "_to", i.window_from AS "_from" FROM rows i WHERE ${where}
                ORDER BY ${WORKLIST_ORDER} LIMIT ${q.limit} OFFSET ${q.offset})
     SELECT c.*, page.* FROM (SELECT ${parts
       .map((_, j) => `(SELECT count(*) FROM s${j})::int AS "_read${j}", (SELECT count(*) FROM rows WHERE part = ${j})::int AS "_kept${j}"`)
       .join(', ')}) c
     LEFT JOIN page ON true
     ORDER BY page."_to", page."patientId", page.item, page."episodeKey", page."_from"`;
  const raw = parts.map(() => Math.max(tune.firstRead, 4 * k));
  for (;;) {
    const r = await db.query<Record<string, unknown>>(statement(raw), a.values);
    const first = r.rows[0]!;
    // A part is read far enough when its rows ran out, or it kept offset + limit rows (any later row comes after them).
    const read = parts.map((_, j) => Number(first[`_read${j}`]));
    const kept = parts.map((_, j) => Number(first[`_kept${j}`]));
    const again = parts.map((_, j) => read[j]! >= raw[j]! && kept[j]! < k);
    if (!again.some(Boolean))
      return {
        rows: r.rows
          .filter((x) => x.patientId !== null)
          .map((x) => Object.fromEntries(Object.entries(x).filter(([c]) => !c.startsWith('_')))),
      };
    if (again.some((x, j) => x && raw[j]! >= WALK_MOST_READ)) break;
    // Deeper where short, by the share of rows the part kept (a filter keeping one in ten reads ten times as many).
    parts.forEach((_, j) => {
      if (again[j]) raw[j] = Math.min(WALK_MOST_READ, raw[j]! * Math.min(64, Math.max(4, kept[j] ? Math.ceil((2 * k) / kept[j]!) : 16)));
    });
  }
  // Filters that leave few of the stored items (an area, a centre) past the reads above: the full statement.
  return worklistBySql(db, p, q, asOf, superseded, 'page');
}

/** The worklist's stored items counted (all and due), each part of storedWorklistParts by its index. */
async function worklistStoredCount(db: Sql, p: Programme, q: WorklistQuery, asOf: string, superseded: string[]) {
  const a = new Args();
  const w = worklistWhere(a, q, asOf);
  const code = a.add(p.code, '::text');
  // The episode and the person as semi-joins (each item has one episode; a resident without a
  // person row passes only when neither area nor centre is asked): hashed, not looked up per item.
  const person =
    q.area || q.organization
      ? `EXISTS (SELECT 1 FROM prog_person p WHERE p.patient_id = i.patient_id AND ${w.person('p', 'coalesce(p.deceased, false)')})`
      : `NOT EXISTS (SELECT 1 FROM prog_person p WHERE p.patient_id = i.patient_id AND p.deceased)`;
  const r = await db.query<{ n: number; due: number }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE i.window_to > ${w.on})::int AS due
     FROM (${storedWorklistParts(code, w).join(' UNION ALL ')}) i
     WHERE ${w.window} AND ${listedCountSql(p, a, superseded, code)}
       AND EXISTS (SELECT 1 FROM prog_enrolment e WHERE e.programme = ${code} AND e.patient_id = i.patient_id
                   AND e.episode_key = i.episode_key AND ${w.episode('e')})
       AND ${person}`,
    a.values,
  );
  return r.rows[0]!;
}

/**
 * The worklist's yearly items of residents of the age without stored rows, counted (all and due)
 * without listing them: the residents grouped by birth date and day of death (all their episode of
 * age depends on: a few thousand groups), the span and each cycle's items worked out per group.
 * With few stored residents, everyone of the age (the population's index alone, as
 * implicitCountsSql reads it) less those with stored rows; with many, those without by a hashed
 * anti-join (one pass instead of two).
 */
async function worklistVirtualCount(db: Sql, p: Programme, q: WorklistQuery, asOf: string, tune: typeof WALK) {
  const items = cycleItems(p, listedYears(asOf, q.overdueWithinDays, asOf));
  if (!items.length) return { n: 0, due: 0 };
  const a = new Args();
  const w = worklistWhere(a, q, asOf);
  const bounds = birthBounds(p, asOf, asOf);
  // Grouped by the columns the episode of age is made of (a few thousand groups), its span worked out per group.
  const people = (part: 'virtual' | 'virtual-stored' | 'virtual-unstored', sign: number) =>
    `SELECT e.birth_date, e.deceased_on, ${sign} * count(*) AS n FROM (${virtualRowsSql(p, a, part, bounds)}) e
     WHERE ${w.person('e')} GROUP BY 1, 2`;
  const span = ageSpanSql(p, 'g.birth_date', 'g.deceased_on');
  // Few stored residents: everyone of the age (index only) less them; many: those without, by an anti-join (hashed).
  const stored = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM prog_enrolment WHERE programme = $1 LIMIT ${tune.manyStored}) s`,
    [p.code],
  );
  const groups =
    stored.rows[0]!.n < tune.manyStored
      ? `${people('virtual', 1)} UNION ALL ${people('virtual-stored', -1)}`
      : people('virtual-unstored', 1);
  const r = await db.query<{ n: number; due: number }>(
    `SELECT coalesce(sum(i.n), 0)::int AS n, coalesce(sum(i.n) FILTER (WHERE i.window_to > ${w.on}), 0)::int AS due
     FROM (SELECT it.item, greatest(it.f, e.start_on) AS window_from, least(it.t, coalesce(e.end_on, it.t)) AS window_to,
                  e.start_on, e.end_on, e.n
           FROM (SELECT ${span.start} AS start_on, ${span.end} AS end_on, g.n FROM (${groups}) g) e CROSS JOIN ${cycleValuesSql(items)}
           WHERE (it.lo IS NULL OR e.start_on >= it.lo) AND (it.hi IS NULL OR e.start_on < it.hi)
             AND greatest(it.f, e.start_on) < least(it.t, coalesce(e.end_on, it.t))) i
     WHERE ${w.item}`,
    a.values,
  );
  return r.rows[0]!;
}

/** An item of a yearly cycle as virtualItemsSql lists it: the version's segment of episode starts [lo, hi), the window [f, t). */
interface CycleItem {
  lo: string | null;
  hi: string | null;
  item: string;
  name: string;
  f: string;
  t: string;
  recommended: string | null;
}

/** The items of the cycles of years[0]..years[1] for a resident without records, as virtualItemsSql's VALUES list them. */
function cycleItems(p: Programme, years: [number, number]): CycleItem[] {
  const out: CycleItem[] = [];
  for (let y = years[0]; y <= years[1]; y++) {
    const cycle = `${String(y).padStart(4, '0')}-01-01`;
    const next = `${String(y + 1).padStart(4, '0')}-01-01`;
    // A version taking effect within the year applies to episodes starting from its day (segments [lo, hi) of the start).
    const changes = [...new Set(p.versions.map((v) => v.effectiveFrom).filter((d) => d > cycle && d < next))].sort();
    [null, ...changes].forEach((lo, k) => {
      for (const it of versionOn(p, lo ?? cycle).schedule.items)
        out.push({
          lo,
          hi: changes[k] ?? null,
          item: it.code,
          name: it.name,
          f: addOffset(cycle, it.from),
          t: addOffset(cycle, it.to),
          recommended: it.recommended ?? null,
        });
    });
  }
  return out;
}

const cycleValuesSql = (xs: CycleItem[]) => {
  const lit = (v: string | null, cast: string) => (v === null ? `NULL${cast}` : `${sqlLiteral(v)}${cast}`);
  const rows = xs.map(
    (x) =>
      `(${lit(x.lo, '::date')}, ${lit(x.hi, '::date')}, ${lit(x.item, '::text')}, ${lit(x.name, '::text')}, ` +
      `${lit(x.f, '::date')}, ${lit(x.t, '::date')}, ${lit(x.recommended, '::text')})`,
  );
  // No items: one row of nulls, which a reader drops (virtualItemsSql: it.item IS NOT NULL).
  if (!rows.length) rows.push('(NULL::date, NULL::date, NULL::text, NULL::text, NULL::date, NULL::date, NULL::text)');
  return `(VALUES ${rows.join(', ')}) AS it(lo, hi, item, name, f, t, recommended)`;
};

/** One line of a resident's items (residentItems). */
export interface ResidentItem {
  patientId: string;
  programme: string;
  item: string;
  itemName: string;
  episodeKey: string;
  windowFrom: string;
  windowLast: string;
  recommended: string | null;
  status: 'upcoming' | 'due' | 'overdue';
}

/**
 * A resident's items across programmes: due, overdue (within the window asked; a next follow-up
 * however long ago) and upcoming (next `aheadDays`), earliest window end first. `livingOnly`: none
 * for a resident who has died (the check-in desk's list); `superseded`: supersededItems, which
 * give way to the next follow-up; `implicit`: programmes enrolled implicitly, whose yearly items a
 * resident of the age without stored rows has too.
 *
 * Those are listed by the engine here (evaluateResident without records, as implicitRow does for
 * the registry), not by virtualItemsSql: for a few residents the stored items and the persons are
 * two short statements, where the one statement with a virtual source per screening cost the
 * check-in desk more to plan than to run (PostgreSQL, 1,000,000 residents: 4.4 ms of planning, 1.4
 * ms of execution; on PGlite the desk's whole answer went from 18 to 9 ms at 100,000 residents).
 * `via: 'sql'` lists them with virtualItemsSql instead: the tests' independent reference.
 */
export async function residentItems(
  db: Sql,
  patientIds: string[],
  asOf: string,
  aheadDays: number,
  overdueWithinDays: number,
  options: { livingOnly?: boolean; superseded?: string[]; implicit?: Programme[]; via?: 'engine' | 'sql' } = {},
): Promise<ResidentItem[]> {
  const a = new Args();
  const ids = a.add(patientIds, '::text[]');
  const on = a.add(asOf, '::date');
  const ahead = a.add(aheadDays, '::int');
  const within = a.add(overdueWithinDays, '::int');
  const superseded = a.add(options.superseded ?? [], '::text[]');
  const until = addDays(asOf, aheadDays);
  const years = listedYears(asOf, overdueWithinDays, until);
  const implicit = (options.implicit ?? []).filter((p) => p.entry.implicit);
  const bySql = options.via === 'sql';
  const sources = [
    storedItemsSql(a, null, asOf, superseded, ids),
    ...(bySql ? implicit : []).map((p) => virtualItemsSql(p, a, 'virtual-unstored', birthBounds(p, asOf, until), years, ids)),
  ];
  const [stored, people] = [
    await db.query<ResidentItem & { windowTo: string }>(
      `SELECT i.patient_id AS "patientId", i.programme, i.item, i.item_name AS "itemName", i.episode_key AS "episodeKey", ${day('i.window_from', '"windowFrom"')},
              ${day('i.window_to - 1', '"windowLast"')}, ${day('i.window_to', '"windowTo"')}, i.recommended,
              CASE WHEN i.window_from > ${on} THEN 'upcoming' WHEN i.window_to > ${on} THEN 'due' ELSE 'overdue' END AS status
       FROM (${sources.map((x) => `(${x})`).join(' UNION ALL ')}) i
       WHERE i.window_from <= ${on} + ${ahead} AND ${stillListedSql(on, within)}
         AND i.start_on <= ${on} + ${ahead} AND (i.end_on IS NULL OR i.end_on > ${on})
         ${options.livingOnly ? 'AND NOT i.deceased' : ''}`,
      a.values,
    ),
    // The persons, with the screenings they have stored rows in (those rows are listed above).
    !bySql && implicit.length
      ? await db.query<PersonFacts & { stored: string[] }>(
          `SELECT p.patient_id AS "patientId", p.name, ${day('p.birth_date', '"birthDate"')}, p.gender, p.area_code AS "areaCode",
                  p.organization_id AS "organizationId", coalesce(p.deceased, false) AS deceased, ${day('p.deceased_on', '"deceasedOn"')},
                  ARRAY(SELECT DISTINCT e.programme FROM prog_enrolment e WHERE e.patient_id = p.patient_id AND e.programme = ANY($2::text[])) AS stored
           FROM prog_person p WHERE p.patient_id = ANY($1::text[]) AND p.birth_date IS NOT NULL`,
          [patientIds, implicit.map((p) => p.code)],
        )
      : undefined,
  ];
  const rows = stored.rows;
  const since = `${String(years[0]).padStart(4, '0')}-01-01`;
  const listedFrom = addDays(asOf, -overdueWithinDays);
  for (const { stored: storedIn, ...person } of people?.rows ?? []) {
    if (options.livingOnly && person.deceased) continue;
    for (const p of implicit) {
      if (storedIn.includes(p.code)) continue;
      // The episode of age a resident without records has, and its yearly items (none delivered).
      for (const ep of evaluateResident(p, person, [], asOf, since)) {
        if (ep.start > until || (ep.end !== null && ep.end <= asOf)) continue;
        for (const it of ep.items) {
          if (it.from > until || it.to <= listedFrom) continue;
          rows.push({
            patientId: person.patientId,
            programme: p.code,
            item: it.code,
            itemName: it.name,
            episodeKey: ep.key,
            windowFrom: it.from,
            windowLast: addDays(it.to, -1),
            windowTo: it.to,
            recommended: it.recommended,
            status: it.from > asOf ? 'upcoming' : it.to > asOf ? 'due' : 'overdue',
          });
        }
      }
    }
  }
  // Earliest window end first (code-unit order, whichever path listed them).
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  rows.sort((x, y) => cmp(x.windowTo, y.windowTo) || cmp(x.programme, y.programme) || cmp(x.item, y.item) || cmp(x.patientId, y.patientId));
  return rows.map(({ windowTo: _, ...row }) => row);
}

// ---- what a doctor records by hand (prog_registration) ----------------------------------------

/** Enrols a resident by hand from a day (kept with any status already set); re-derive the resident after. */
export async function upsertManualEnrolment(c: Sql, programme: string, patientId: string, enrolledOn: string): Promise<void> {
  await c.query(
    `INSERT INTO prog_registration (programme, patient_id, enrolled_on) VALUES ($1, $2, $3::date)
     ON CONFLICT (programme, patient_id) DO UPDATE SET enrolled_on = excluded.enrolled_on, updated_at = now()`,
    [programme, patientId, enrolledOn],
  );
}

/** Sets a resident's status in a programme (managed clears the day and reason); re-derive the resident after. */
export async function upsertStatus(
  c: Sql,
  programme: string,
  patientId: string,
  status: Registration['status'],
  statusOn: string | null,
  reason: string | null,
): Promise<void> {
  await c.query(
    `INSERT INTO prog_registration (programme, patient_id, status, status_on, status_reason) VALUES ($1, $2, $3, $4::date, $5)
     ON CONFLICT (programme, patient_id) DO UPDATE SET status = excluded.status, status_on = excluded.status_on,
       status_reason = excluded.status_reason, updated_at = now()`,
    [programme, patientId, status, statusOn, reason],
  );
}

/** A resident's registration in a programme (null when nothing was recorded by hand). */
export async function registrationOf(
  db: Sql,
  programme: string,
  patientId: string,
): Promise<(Registration & { statusReason: string | null }) | null> {
  const r = await db.query<Registration & { statusReason: string | null }>(
    `SELECT ${day('enrolled_on', '"enrolledOn"')}, status, ${day('status_on', '"statusOn"')}, status_reason AS "statusReason"
     FROM prog_registration WHERE programme = $1 AND patient_id = $2`,
    [programme, patientId],
  );
  return r.rows[0] ?? null;
}

/**
 * A resident's episodes of a programme as derived (start, end, manual or by record); enrolled
 * implicitly and without stored rows, the episode of age the engine gives them as of `today`.
 */
export async function residentEpisodes(db: Sql, p: Programme, patientId: string, today: string) {
  const r = await db.query<{ episodeKey: string; startOn: string; endOn: string | null }>(
    `SELECT episode_key AS "episodeKey", ${day('start_on', '"startOn"')}, ${day('end_on', '"endOn"')}
     FROM prog_enrolment WHERE programme = $1 AND patient_id = $2 ORDER BY start_on`,
    [p.code, patientId],
  );
  if (r.rows.length || !p.entry.implicit) return r.rows;
  const [resident] = await residentFacts(db, [patientId]);
  if (!resident) return [];
  return evaluateResident(p, resident.person, resident.facts, today, ITEMS_SINCE(today), today, resident.registrations?.get(p.code)).map(
    (ep) => ({ episodeKey: ep.key, startOn: ep.start, endOn: ep.end }),
  );
}

/** Whether the programmes know a resident (a Patient they have seen). */
export async function knownResident(db: Sql, patientId: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM prog_person WHERE patient_id = $1 UNION ALL SELECT 1 FROM prog_fact WHERE patient_id = $1 LIMIT 1`,
    [patientId],
  );
  return r.rows.length > 0;
}

/**
 * Enrolled residents per programme on a day (for the programme list); enrolled implicitly, with
 * everyone of the age without stored rows (RowSource: one count of the population, less the
 * stored ones'), alive on the day.
 */
export async function enrolledCounts(db: Sql, asOf: string, programmes: Programme[] = []): Promise<Map<string, number>> {
  const r = await db.query<{ programme: string; n: number }>(
    `SELECT e.programme, count(DISTINCT e.patient_id)::int AS n FROM prog_enrolment e LEFT JOIN prog_person p ON p.patient_id = e.patient_id
     WHERE e.start_on <= $1::date AND (e.end_on IS NULL OR e.end_on > $1::date) AND NOT coalesce(p.deceased, false) GROUP BY e.programme`,
    [asOf],
  );
  const out = new Map(r.rows.map((x) => [x.programme, x.n]));
  for (const p of programmes.filter((x) => x.entry.implicit)) {
    const a = new Args();
    const on = a.add(asOf, '::date');
    const count = (part: 'virtual' | 'virtual-stored') =>
      `(SELECT count(*) FROM (${virtualRowsSql(p, a, part, birthBounds(p, asOf, asOf))}) e
        WHERE e.start_on <= ${on} AND (e.end_on IS NULL OR e.end_on > ${on}) AND NOT e.deceased)`;
    const v = await db.query<{ n: number }>(`SELECT (${count('virtual')} - ${count('virtual-stored')})::int AS n`, a.values);
    out.set(p.code, (out.get(p.code) ?? 0) + v.rows[0]!.n);
  }
  return out;
}

export type { Episode };

// ---- indicators from the per-episode summaries ------------------------------------------------

/**
 * How current the derived rows are: the first and last day any resident's rows were derived, and
 * whether some resident's rows await derivation (after migration 361, until the refresh or a
 * recompute has been through). Read off prog_derived's index.
 */
export async function derivedSpan(db: Sql): Promise<{ oldest: string | null; newest: string | null; pending: boolean }> {
  const r = await db.query<{ oldest: string | null; newest: string | null; pending: boolean }>(
    `SELECT to_char((SELECT min(derived_on) FROM prog_derived), 'YYYY-MM-DD') AS oldest,
            to_char((SELECT max(derived_on) FROM prog_derived), 'YYYY-MM-DD') AS newest,
            EXISTS (SELECT 1 FROM prog_derived WHERE derived_on IS NULL) AS pending`,
  );
  return r.rows[0]!;
}

/** Whether the stored summaries answer a period as the engine would (see summary.ts and service.ts). */
export function summariesCover(
  span: { oldest: string | null; newest: string | null; pending: boolean },
  from: string,
  until: string,
): boolean {
  if (span.pending) return false;
  if (!span.oldest || !span.newest) return true; // nothing derived: nothing enrolled either way
  // Every resident's rows start at ITEMS_SINCE of its day and list items a year ahead of it.
  return from >= ITEMS_SINCE(span.newest) && until <= addDaysText(span.oldest, HORIZON_DAYS);
}

const addDaysText = (d: string, n: number) => {
  const t = new Date(`${d}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return t.toISOString().slice(0, 10);
};

export interface SummaryQuery extends ResidentFilter {
  /** The period's first day, its judged end (until) and the day services count up to (asOf). */
  from: string;
  until: string;
  asOf: string;
  groupBy: 'total' | 'organization' | 'area' | 'team';
}

/** Positional parameters of one statement. */
class Args {
  readonly values: unknown[] = [];
  private readonly seen = new Map<string, string>();
  /** A placeholder for a value (one per distinct value and cast). */
  add(v: unknown, cast = ''): string {
    const key = `${typeof v}:${String(v)}${cast}`;
    let ph = this.seen.get(key);
    if (!ph) {
      this.values.push(v);
      ph = `$${this.values.length}${cast}`;
      this.seen.set(key, ph);
    }
    return ph;
  }
  /** A mark of the row: its set of days, looked up by key (null when the row has none). */
  mark(key: string): string {
    return `e.mark_days[array_position(e.mark_keys, ${this.add(key, '::text')})]`;
  }
}

/**
 * The programme's summary rows that some indicator's population can hold, with the group, and
 * each indicator's denominator (d0, d1, …) and numerator (n0, …) worked out once per row: a
 * numerator only for rows in its denominator. OFFSET 0 keeps each level a subquery, so an
 * expression is not copied into every place that reads its result.
 */
function membersSql(
  p: Programme,
  indicators: Indicator[],
  q: SummaryQuery,
  a: Args,
  parts: RowSource[] = ['stored'],
  lean = false,
  ids?: string,
): string {
  const population = indicators.map((ind) => populationSql(p, ind, q, a)).join(' OR ');
  const filter = filterSql(p, q, a, ids);
  const level = (part: RowSource) => {
    const members = indicators.map((ind) => memberSql(p, ind, q, a, part !== 'stored'));
    // No indicator can count a row of this source (a resident without records is in no denominator): nothing to read.
    if (part !== 'stored' && members.every((m) => m.den === 'false')) return null;
    const rows = `SELECT e.patient_id, e.episode_key, e.start_on, e.end_on, e.end_event_on, e.flags, e.birth_date, e.item_ends,
                         e.missed_ends, e.mark_keys, e.mark_days, e.chain_dates, e.deceased_on, ${groupSql(q, a)} AS g, ${part === 'virtual-stored' ? -1 : 1} AS sign
                  FROM ${rowsOf(p, part, a, birthBounds(p, q.from, q.until), lean && q.groupBy !== 'team')}
                  WHERE ${filter} AND (${population})
                  OFFSET 0`;
    const dens = `SELECT e.*, ${members.map((m, k) => `${m.den} AS d${k}`).join(', ')} FROM (${rows}) e OFFSET 0`;
    return `SELECT e.*, ${members.map((m, k) => `CASE WHEN e.d${k} THEN ${m.num} ELSE false END AS n${k}`).join(', ')}
            FROM (${dens}) e WHERE ${members.map((_, k) => `e.d${k}`).join(' OR ')} OFFSET 0`;
  };
  const levels = parts.map(level).filter((x): x is string => x !== null);
  return `(${levels.map((x) => `(${x})`).join(' UNION ALL ')}) x`;
}

/**
 * Where the rows of a programme's episodes come from: `stored`, prog_enrolment; for a programme
 * enrolled implicitly (definition.ts entry.implicit) also the person table, each resident of the
 * age as the episode the engine gives a resident without records (virtualRowsSql): `virtual` for
 * everyone of the age, `virtual-stored` for those with stored rows (their sign is −1: a count adds
 * the three, so the population is read once, without an anti-join), `virtual-unstored` for those
 * without (the rows a page lists beside the stored ones).
 */
type RowSource = 'stored' | 'virtual' | 'virtual-stored' | 'virtual-unstored';

const rowsOf = (p: Programme, part: RowSource, a: Args, bounds: BirthBounds, lean: boolean) =>
  part === 'stored' ? 'prog_enrolment e' : `(${virtualRowsSql(p, a, part, bounds, { lean })}) e`;

/** Birth dates (inclusive; null: open) outside which nobody has an episode of age meeting a period. */
interface BirthBounds {
  lo: string | null;
  hi: string | null;
}

/**
 * The birth dates that can give an episode of age touching [from, until]: it starts by until and
 * ends after from. A day wider each side than the birthdays: the 29th of February's (addMonths,
 * like PostgreSQL's interval, gives the 28th in other years).
 */
function birthBounds(p: Programme, from: string, until: string): BirthBounds {
  const { min = 0, max } = p.entry.ageYears ?? {};
  return {
    lo: max === undefined ? null : addDays(addMonths(from, -12 * max), -1),
    hi: addDays(addMonths(until, -12 * min), 1),
  };
}

/**
 * The episode of age of a birth date (a column): from the birthday at entry.ageYears.min to the one
 * at max (null: open), as the engine's addMonths gives them (PostgreSQL's interval, like it, gives
 * the 28th of February for the 29th in other years); cut at the day of death (a column, null when
 * alive or unknown), as evaluateResident cuts it. `lives`: the episode exists (the death, if any,
 * comes after its start).
 */
function ageSpanSql(p: Programme, birthDate: string, deceasedOn: string): { start: string; end: string; lives: string } {
  const { min = 0, max } = p.entry.ageYears ?? {};
  const birthday = (years: number) => `(${birthDate} + make_interval(years => ${Math.trunc(years)}))::date`;
  const start = birthday(min);
  // least() passes over a null: no death keeps the birthday, no upper age keeps the death.
  return {
    start,
    end: max === undefined ? `${deceasedOn}::date` : `least(${birthday(max)}, ${deceasedOn})`,
    lives: `(${deceasedOn} IS NULL OR ${deceasedOn} > ${start})`,
  };
}

/**
 * Rows shaped like prog_enrolment's for a programme enrolled implicitly, from prog_person: each
 * resident of the age (with a birth date, of the entry's gender) as the episode of age the engine
 * gives a resident without records: key 'age', from the birthday at min to the one at max, no
 * flags, no marks, no chain, items all undelivered (item_ends and missed_ends are left empty: the
 * managed rule's test of them is false either way). Every criterion on such a row is false but
 * age, as the engine's on a resident without records.
 */
function virtualRowsSql(
  p: Programme,
  a: Args,
  part: Exclude<RowSource, 'stored'>,
  bounds: BirthBounds,
  o: { ids?: string; lean?: boolean } = {},
): string {
  const code = a.add(p.code, '::text');
  const where = ['p.birth_date IS NOT NULL'];
  if (p.entry.gender && !(o.lean && part === 'virtual-stored')) where.push(`p.gender = ${a.add(p.entry.gender, '::text')}`);
  if (bounds.lo) where.push(`p.birth_date >= ${a.add(bounds.lo, '::date')}`);
  if (bounds.hi) where.push(`p.birth_date <= ${a.add(bounds.hi, '::date')}`);
  if (o.ids) where.push(`p.patient_id = ANY(${o.ids})`);
  const stored = `SELECT s.patient_id FROM prog_enrolment s WHERE s.programme = ${code}`;
  if (part === 'virtual-stored' && !o.lean) where.push(`p.patient_id IN (${stored})`);
  if (part === 'virtual-unstored') where.push(`NOT EXISTS (${stored} AND s.patient_id = p.patient_id)`);
  // lean (a count by group, no deceased): the stored residents are read off their stored rows, which
  // carry the birth date, area and organisation they were derived with (an episode of age is one row
  // per resident, and only of the entry's gender); the population from the index alone.
  const source =
    o.lean && part === 'virtual-stored'
      ? `(SELECT s.patient_id, s.birth_date, s.area_code, s.organization_id, NULL::text AS name, NULL::text AS gender, NULL::boolean AS deceased,
                 s.deceased_on
          FROM prog_enrolment s WHERE s.programme = ${code}) p`
      : 'prog_person p';
  const person =
    o.lean && part === 'virtual'
      ? 'NULL::text AS patient_id, p.birth_date, p.area_code, p.organization_id, NULL::text AS name, NULL::text AS gender, NULL::boolean AS deceased, p.deceased_on'
      : o.lean
        ? 'p.patient_id, p.birth_date, p.area_code, p.organization_id, p.name, p.gender, p.deceased, p.deceased_on'
        : 'p.patient_id, p.birth_date, p.area_code, p.organization_id, p.name, p.gender, coalesce(p.deceased, false) AS deceased, p.deceased_on';
  const span = ageSpanSql(p, 'p.birth_date', 'p.deceased_on');
  where.push(span.lives);
  return `SELECT ${code} AS programme, 'age'::text AS episode_key, ${span.start} AS start_on,
                 ${span.end} AS end_on, NULL::date AS end_event_on, '{}'::text[] AS flags,
                 '{}'::datemultirange AS item_ends, '{}'::datemultirange AS missed_ends, '{}'::text[] AS mark_keys,
                 '{}'::datemultirange[] AS mark_days, '{}'::date[] AS chain_dates, ${person}
          FROM ${source} WHERE ${where.join(' AND ')}`;
}

/**
 * The yearly items of the episodes of age of virtualRowsSql, in the cycles of years[0]..years[1],
 * as the engine lists them for a resident without records (evaluateResident): each cycle's items
 * from the version in force on its first day, or on the episode's start when that is later; the
 * windows cut to the episode; none delivered. Columns as storedItemsSql's.
 */
function virtualItemsSql(
  p: Programme,
  a: Args,
  part: Exclude<RowSource, 'stored'>,
  bounds: BirthBounds,
  years: [number, number],
  ids?: string,
) {
  return `SELECT e.programme, e.patient_id, e.episode_key, it.item, it.name AS item_name, greatest(it.f, e.start_on) AS window_from,
                 least(it.t, coalesce(e.end_on, it.t)) AS window_to, it.recommended, e.flags, e.start_on, e.end_on,
                 e.name, e.gender, e.birth_date, e.area_code, e.organization_id, e.deceased
          FROM (${virtualRowsSql(p, a, part, bounds, { ids })}) e
          CROSS JOIN ${cycleValuesSql(cycleItems(p, years))}
          WHERE it.item IS NOT NULL AND (it.lo IS NULL OR e.start_on >= it.lo) AND (it.hi IS NULL OR e.start_on < it.hi)
            AND greatest(it.f, e.start_on) < least(it.t, coalesce(e.end_on, it.t))`;
}

/**
 * Stored items not delivered by asOf, with their episode and person, shaped as virtualItemsSql's
 * rows: of one programme, or (null) every one; of some residents (`ids`, a placeholder) or all.
 */
function storedItemsSql(a: Args, programme: string | null, asOf: string, superseded: string, ids?: string) {
  return `SELECT i.programme, i.patient_id, i.episode_key, i.item, i.name AS item_name, i.window_from, i.window_to, i.recommended,
                 e.flags, e.start_on, e.end_on, p.name, p.gender, p.birth_date, p.area_code, p.organization_id,
                 coalesce(p.deceased, false) AS deceased
          FROM prog_item i
          JOIN prog_enrolment e ON e.programme = i.programme AND e.patient_id = i.patient_id AND e.episode_key = i.episode_key
          LEFT JOIN prog_person p ON p.patient_id = i.patient_id
          WHERE ${programme === null ? 'true' : `i.programme = ${a.add(programme, '::text')}`} ${ids ? `AND i.patient_id = ANY(${ids})` : ''}
            AND (i.delivered_on IS NULL OR i.delivered_on > ${a.add(asOf, '::date')}) AND ${listedItemSql(superseded)}`;
}

/**
 * The yearly cycles a list of items on asOf can show (virtualItemsSql): from the year an item still
 * listed as overdue ends in (not before the stored items' ITEMS_SINCE) to that of the last day
 * looked ahead to.
 */
const listedYears = (asOf: string, overdueWithinDays: number, until: string): [number, number] => [
  Math.max(Number(ITEMS_SINCE(asOf).slice(0, 4)), Number(addDays(asOf, -overdueWithinDays).slice(0, 4))),
  Number(until.slice(0, 4)),
];

/** Item rows of a list from its sources (RowSource), each with its sign. */
function itemSources(
  p: Programme,
  a: Args,
  parts: RowSource[],
  o: { asOf: string; superseded: string; bounds: BirthBounds; years: [number, number] },
) {
  return parts
    .map(
      (part) =>
        `(SELECT x.*, ${part === 'virtual-stored' ? -1 : 1} AS sign FROM (${
          part === 'stored' ? storedItemsSql(a, p.code, o.asOf, o.superseded) : virtualItemsSql(p, a, part, o.bounds, o.years)
        }) x)`,
    )
    .join(' UNION ALL ');
}

const mark = (a: Args, key: string) => a.mark(key);

/** One criterion of `meets` (engine.ts) on a summary row `e`, for the period of `q`. */
function criterionSql(p: Programme, c: Criterion, q: SummaryQuery, a: Args): string {
  const until = () => a.add(q.until, '::date');
  const span = () => `daterange(${a.add(q.from, '::date')}, ${until()}, '[]')`;
  // At least n days of the mark in the period (serviceDays in engine.ts): one is an overlap, more a count of the days.
  const daysIn = (key: string, n: number) =>
    n <= 1
      ? `coalesce(${mark(a, key)} && ${span()}, false)`
      : `(SELECT coalesce(sum(upper(r) - lower(r)), 0) FROM unnest(${mark(a, key)} * datemultirange(${span()})) r) >= ${a.add(n, '::int')}`;
  if ('services' in c) {
    const kinds = [c.services].flat();
    return c.in === 'episode'
      ? `coalesce(${mark(a, nthKey(kinds, c.min, c.within))} @> ${c.measuredBy === 'asOf' ? a.add(q.asOf, '::date') : until()}, false)`
      : daysIn(daysKey(kinds), c.min);
  }
  if ('delivered' in c)
    return `coalesce(${mark(a, itemFromKey(c.delivered))} @> ${until()} AND ${mark(a, itemDeliveredKey(c.delivered, c.within))} @> ${a.add(q.asOf, '::date')}, false)`;
  if ('managed' in c) {
    const rule = versionOn(p, q.until).managed;
    const parts: string[] = [];
    if (rule.allItemsDelivered) {
      const r = span();
      parts.push(`(e.item_ends && ${r} AND NOT e.missed_ends && ${r})`);
    }
    if (rule.minServices) parts.push(daysIn(daysKey([rule.minServices.service]), rule.minServices.count));
    if (rule.followUps) {
      // Follow-ups of the chain in [from, until]: those up to until less those before from (width_bucket: how many are <= a day).
      const n = `(width_bucket(${until()}, e.chain_dates) - width_bucket(${a.add(q.from, '::date')} - 1, e.chain_dates))`;
      parts.push(
        `(${n} >= ${a.add(rule.followUps.minCount, '::int')} AND NOT coalesce(${mark(a, chainLateKey(rule.followUps.service))} && ${span()}, false))`,
      );
    }
    return parts.length ? `(${parts.join(' AND ')})` : 'true';
  }
  if ('controlled' in c && p.controlled?.byTargets && p.controlled.atLastService)
    // The latest follow-up up to until met its targets, and it lies in the period.
    return `coalesce(${mark(a, atTargetKey(p.controlled.atLastService))} @> ${until()} AND ${mark(a, daysKey([p.controlled.atLastService]))} && ${span()}, false)`;
  if ('controlled' in c && p.controlled?.byTargets)
    // The latest day measured up to until met the targets of its day.
    return `coalesce(${mark(a, measureTargetKey(p.controlled.measure))} @> ${until()}, false)`;
  if ('controlled' in c)
    return p.controlled?.values
      ? `coalesce(${mark(a, measureKey(p.controlled.measure, p.controlled.values))} @> ${until()}, false)`
      : 'false';
  if ('flag' in c) return `${a.add(c.flag, '::text')} = ANY(e.flags)`;
  if ('survived' in c) return survivalSql(p, c.survived.years, 'alive', q, a);
  if ('survivalKnown' in c) return survivalSql(p, c.survivalKnown.years, 'known', q, a);
  if ('ageMonths' in c) {
    // Age in whole months falls as the birth date moves later: "at least k months" is "born on or before B".
    const min = c.ageMonths.min ?? 0;
    const parts = [`e.birth_date <= ${a.add(latestBirth(q.until, min), '::date')}`];
    if (c.ageMonths.max !== undefined) parts.push(`e.birth_date > ${a.add(latestBirth(q.until, c.ageMonths.max), '::date')}`);
    return `(${parts.join(' AND ')})`;
  }
  // measuredBy asOf: the same set of days, read on asOf (a cohort followed past the period's end).
  return `coalesce(${mark(a, measureKey(c.measure, c.values))} @> ${c.measuredBy === 'asOf' ? a.add(q.asOf, '::date') : until()}, false)`;
}

/**
 * engine.ts `survivalAt` on a stored row: T = start + years (PostgreSQL's interval gives the 28th of
 * February for the 29th, as addMonths does) on or before asOf; the day of death is the row's
 * (the Patient's, as derived) or a status 死亡 set by hand in the programme, the earlier (least()
 * passes over a null); dead without a day is the person's flag. `alive`: a known death on or
 * after T, else no death and enrolled on T; `known`: that, or a known death (before T).
 */
function survivalSql(p: Programme, years: number, outcome: 'alive' | 'known', q: SummaryQuery, a: Args): string {
  const at = `(e.start_on + make_interval(years => ${a.add(years, '::int')}))::date`;
  const died = `least(e.deceased_on, (SELECT g.status_on FROM prog_registration g
                  WHERE g.programme = ${a.add(p.code, '::text')} AND g.patient_id = e.patient_id AND g.status = 'died'))`;
  const followed = `(NOT coalesce((SELECT d.deceased FROM prog_person d WHERE d.patient_id = e.patient_id), false)
                     AND (e.end_on IS NULL OR e.end_on >= ${at}))`;
  const known = outcome === 'alive' ? `coalesce(${died} >= ${at}, ${followed})` : `(${died} IS NOT NULL OR ${followed})`;
  return `(${at} <= ${a.add(q.asOf, '::date')} AND ${known})`;
}

/** The last birth date with at least `months` whole months of age on `day` (monthsBetween is monotone in the birth date). */
function latestBirth(day: string, months: number): string {
  let b = addDaysText(addMonths(day, -months), -3);
  while (monthsBetween(addDaysText(b, 1), day) >= months) b = addDaysText(b, 1);
  return b;
}

/** `inPopulation` (engine.ts) on a summary row. */
function populationSql(p: Programme, ind: Indicator, q: SummaryQuery, a: Args, cols: EpisodeColumns = EPISODE): string {
  const from = a.add(q.from, '::date');
  const until = a.add(q.until, '::date');
  const { start, end, endEvent } = cols;
  const population = ind.denominator.population ?? 'enrolled';
  if (population === 'enrolled') return `(${start} <= ${until} AND (${end} IS NULL OR ${end} > ${from}))`;
  if (population === 'started') return `(${start} >= ${from} AND ${start} <= ${until})`;
  // A pregnancy never seen to end is not a delivery; a course ends on its last enrolled day.
  return p.entry.endEvent ? `(${endEvent} BETWEEN ${from} AND ${until})` : `(${end} - 1 BETWEEN ${from} AND ${until})`;
}

/** The columns of a row's episode span that populationSql reads. */
interface EpisodeColumns {
  start: string;
  end: string;
  endEvent: string;
}
const EPISODE: EpisodeColumns = { start: 'e.start_on', end: 'e.end_on', endEvent: 'e.end_event_on' };
/** On a stored row of a programme enrolled implicitly, the span of age it would have without records (implicitCountsSql). */
const AGE_SPAN: EpisodeColumns = { start: 'e.vstart_on', end: 'e.vend_on', endEvent: 'NULL::date' };

const all = (xs: string[]) => (xs.length ? `(${xs.join(' AND ')})` : 'true');

function memberSql(
  p: Programme,
  ind: Indicator,
  q: SummaryQuery,
  a: Args,
  virtual = false,
  cols: EpisodeColumns = EPISODE,
): { den: string; num: string } {
  const criterion = (c: Criterion) => (virtual ? virtualCriterionSql(p, c, q, a) : criterionSql(p, c, q, a));
  const folded = (parts: string[]) => (parts.includes('false') ? 'false' : all(parts));
  return {
    den: folded([populationSql(p, ind, q, a, cols), ...ind.denominator.where.map(criterion)]),
    num: folded(ind.numerator.where.map(criterion)),
  };
}

/**
 * criterionSql on a row of virtualRowsSql, folded where it is constant: such a row has no marks,
 * flags, services or chain, so every criterion is false there but age (and a managed rule that asks
 * for nothing a resident without records lacks). The population of the age is then a count, not
 * an expression per resident.
 */
function virtualCriterionSql(p: Programme, c: Criterion, q: SummaryQuery, a: Args): string {
  if ('ageMonths' in c) return criterionSql(p, c, q, a);
  // Survival (survived, survivalKnown) is refused on an entry by age (definition.ts): such rows never meet it.
  if ('managed' in c) {
    const rule = versionOn(p, q.until).managed;
    const asks = rule.allItemsDelivered || !!rule.minServices || (rule.followUps?.minCount ?? 0) > 0;
    return asks ? 'false' : criterionSql(p, c, q, a);
  }
  return 'false';
}

const GROUP: Record<Exclude<SummaryQuery['groupBy'], 'team'>, string> = {
  total: `'total'`,
  organization: `coalesce(e.organization_id, '(none)')`,
  area: `coalesce(substr(e.area_code, 1, 9), '(none)')`,
};

/** A row's group: by team, its resident's contract team on the judged end (contractTeamSql). */
const groupSql = (q: SummaryQuery, a: Args) =>
  q.groupBy === 'team' ? `coalesce(${contractTeamSql('e.patient_id', a.add(q.until, '::date'))}, '(none)')` : GROUP[q.groupBy];

/**
 * The family-doctor team (签约团队) of a resident on a day: the team of their contract (care's
 * care_contract, written by chronic care's processor from the contract EpisodeOfCare) in force
 * that day, active or finished, the latest started first; as chronic care's contract coverage picks it.
 */
const contractTeamSql = (patient: string, on: string) =>
  `(SELECT k.team_id FROM care_contract k WHERE k.patient_id = ${patient} AND k.status IN ('active', 'finished')
      AND (k.start_on IS NULL OR k.start_on <= ${on}) AND (k.end_on IS NULL OR k.end_on >= ${on})
    ORDER BY k.start_on DESC NULLS LAST, k.episode_id LIMIT 1)`;

/** Residents' contract teams on a day (contractTeamSql; absent: none), for the engine's groups. */
export async function contractTeams(db: Sql, patientIds: string[], on: string): Promise<Map<string, string>> {
  if (!patientIds.length) return new Map();
  const r = await db.query<{ id: string; team: string | null }>(
    `SELECT x.id, ${contractTeamSql('x.id', '$2::date')} AS team FROM unnest($1::text[]) AS x(id)`,
    [patientIds, on],
  );
  return new Map(r.rows.filter((x) => x.team !== null).map((x) => [x.id, x.team!]));
}

/** The rows of a programme in the query's area and organisation (and, given `ids`, of those residents only). */
function filterSql(p: Programme, q: SummaryQuery, a: Args, ids?: string): string {
  return [
    `e.programme = ${a.add(p.code, '::text')}`,
    ids ? `e.patient_id = ANY(${ids})` : '',
    q.area ? `e.area_code LIKE ${a.add(q.area, '::text')} || '%'` : '',
    q.organization ? `e.organization_id = ${a.add(q.organization, '::text')}` : '',
  ]
    .filter(Boolean)
    .join(' AND ');
}

/**
 * Counts by group of a programme enrolled implicitly, in two reads (`which`; run side by side on
 * two connections, summed by summaryCounts): the stored rows, each counted
 * as itself less the episode of age it would have without records (its birth date's span, the
 * criteria folded as on a row of virtualRowsSql); and everyone of the age, counted flat from the
 * birth-date index (no per-resident row is built; null when no denominator can hold a resident
 * without records). The stored residents are so counted once, as their rows say. Columns g, d0,
 * n0, d1, …
 */
function implicitCountsSql(
  p: Programme,
  indicators: Indicator[],
  q: SummaryQuery,
  a: Args,
  which: 'stored' | 'virtual',
  ids?: string,
): string | null {
  const span = ageSpanSql(p, 'e.birth_date', 'e.deceased_on');
  // Whether a resident without records can be in any denominator (worked out on parameters of its
  // own: each statement must use every parameter it is given).
  const anyVirtual = indicators.some((ind) => memberSql(p, ind, q, new Args(), true).den !== 'false');
  if (which === 'virtual') {
    if (!anyVirtual) return null;
    const virtual = indicators.map((ind) => memberSql(p, ind, q, a, true));
    const people = virtualRowsSql(p, a, 'virtual', birthBounds(p, q.from, q.until), { lean: q.groupBy !== 'team', ids });
    return `SELECT ${groupSql(q, a)} AS g, ${virtual
      .map((m, k) => `count(*) FILTER (WHERE ${m.den}) AS d${k}, count(*) FILTER (WHERE ${m.den} AND ${m.num}) AS n${k}`)
      .join(', ')}
            FROM (${people}) e
            WHERE ${filterSql(p, q, a)} AND (${indicators.map((ind) => populationSql(p, ind, q, a)).join(' OR ')})
            GROUP BY 1`;
  }
  const real = indicators.map((ind) => memberSql(p, ind, q, a));
  const aged = anyVirtual ? indicators.map((ind) => memberSql(p, ind, q, a, true, AGE_SPAN)) : [];
  const filter = filterSql(p, q, a, ids);
  const group = groupSql(q, a);
  const population = indicators.map((ind) => populationSql(p, ind, q, a)).join(' OR ');
  const agedPopulation = anyVirtual ? indicators.map((ind) => populationSql(p, ind, q, a, AGE_SPAN)).join(' OR ') : 'false';
  const storedRows = `SELECT e.* FROM (
                        SELECT e.patient_id, e.start_on, e.end_on, e.end_event_on, e.flags, e.birth_date, e.item_ends, e.missed_ends,
                               e.mark_keys, e.mark_days, e.chain_dates, ${group} AS g,
                               CASE WHEN ${span.lives} THEN ${span.start} END AS vstart_on, CASE WHEN ${span.lives} THEN ${span.end} END AS vend_on
                        FROM prog_enrolment e WHERE ${filter}) e
                      WHERE (${population}) OR (${agedPopulation})
                      OFFSET 0`;
  // A resident who died before the age has no episode of age (vstart_on null): coalesce keeps it out of vd.
  const dens = `SELECT e.*, ${real.map((m, k) => `${m.den} AS d${k}, coalesce(${anyVirtual ? aged[k]!.den : 'false'}, false) AS vd${k}`).join(', ')}
                FROM (${storedRows}) e OFFSET 0`;
  const nums = `SELECT e.g, ${real
    .map(
      (m, k) =>
        `(CASE WHEN e.d${k} THEN ${m.num} ELSE false END)::int - (CASE WHEN e.vd${k} THEN ${anyVirtual ? aged[k]!.num : 'false'} ELSE false END)::int AS n${k}, ` +
        `e.d${k}::int - e.vd${k}::int AS d${k}`,
    )
    .join(', ')}
                FROM (${dens}) e`;
  const stored = `SELECT e.g, ${indicators.map((_, k) => `sum(e.d${k}) AS d${k}, sum(e.n${k}) AS n${k}`).join(', ')} FROM (${nums}) e GROUP BY e.g`;
  return stored;
}

/** The row sources a count adds up (RowSource). */
const countedParts = (p: Programme): RowSource[] => (p.entry.implicit ? ['stored', 'virtual', 'virtual-stored'] : ['stored']);

/**
 * Denominators and numerators of indicators by group (group → d0, n0, d1, n1, …), in one pass over
 * the programme's summary rows (and, enrolled implicitly, the population of the age: RowSource).
 * Given `ids`, what those residents' rows add to them (counts.ts keeps answers current with it).
 */
export async function summarySums(
  db: Sql,
  p: Programme,
  indicators: Indicator[],
  q: SummaryQuery,
  ids?: string[],
): Promise<Map<string, number[]>> {
  const sums = new Map<string, number[]>();
  if (!indicators.length || (ids && !ids.length)) return sums;
  const statements: { sql: string; a: Args }[] = [];
  if (p.entry.implicit)
    for (const which of ['stored', 'virtual'] as const) {
      const a = new Args();
      const sql = implicitCountsSql(p, indicators, q, a, which, ids && a.add(ids, '::text[]'));
      if (sql) statements.push({ sql, a });
    }
  else {
    const a = new Args();
    const restrict = ids && a.add(ids, '::text[]');
    const sql = `SELECT x.g, ${indicators.map((_, k) => `count(*) FILTER (WHERE x.d${k}) AS d${k}, count(*) FILTER (WHERE x.n${k}) AS n${k}`).join(', ')}
       FROM ${membersSql(p, indicators, q, a, countedParts(p), false, restrict)}
       GROUP BY x.g`;
    statements.push({ sql, a });
  }
  const run = (x: { sql: string; a: Args }) => db.query<Record<string, string | number | null>>(x.sql, x.a.values);
  // Given ids, `db` is a writer's one connection: one statement after the other. Otherwise side by side.
  const results = ids ? [] : await Promise.all(statements.map(run));
  if (ids) for (const x of statements) results.push(await run(x));
  // Summed by group: a stored row counts less its episode of age, so a group's parts add up to the figure.
  for (const r of results)
    for (const row of r.rows) {
      const g = String(row.g);
      const acc = sums.get(g) ?? indicators.flatMap(() => [0, 0]);
      indicators.forEach((_, k) => {
        acc[2 * k] += Number(row[`d${k}`] ?? 0);
        acc[2 * k + 1] += Number(row[`n${k}`] ?? 0);
      });
      sums.set(g, acc);
    }
  return sums;
}

/** summarySums as each indicator's groups (a group only where its denominator has someone). */
export function countsOfSums(
  indicators: Indicator[],
  sums: Map<string, number[]>,
): Map<string, { group: string; numerator: number; denominator: number }[]> {
  const out = new Map(indicators.map((i) => [i.code, [] as { group: string; numerator: number; denominator: number }[]]));
  indicators.forEach((ind, k) => {
    for (const [group, acc] of sums) {
      const d = acc[2 * k]!;
      if (d > 0) out.get(ind.code)!.push({ group, numerator: acc[2 * k + 1]!, denominator: d });
    }
  });
  return out;
}

export interface SummaryDrillQuery extends SummaryQuery {
  group?: string;
  numerator?: boolean;
  limit: number;
  offset: number;
  /**
   * The follow-up chain's service (hypertension's and diabetes's `follow-up`): each row also gets
   * what chronic care's drill-down shows, read off the stored summary (FollowUpDetail).
   */
  followUps?: string;
  /** Whether to list what fulfilled each item (one more query; default true). */
  delivered?: boolean;
}

/** What a drill-down row of a follow-up chain says (chronic care's drill-down): all from the episode's summary. */
export interface FollowUpDetail {
  /** Follow-ups of the chain in the period (up to its judged end). */
  followUps: number;
  /** None of them came late. */
  allOnTime: boolean;
  /** The period's last follow-up met the targets of its day. */
  controlled: boolean;
  /** The day of the period's last follow-up (null when none). */
  lastFollowUp: string | null;
}

/**
 * The detail columns of a follow-up chain on a summary row `x` (summary.ts: chain_dates, marks
 * cl:, ct: and s: of the service), for the period of `q`: no engine, no facts read.
 */
function followUpDetailSql(service: string, q: SummaryQuery, a: Args): string {
  const mark = (key: string) => `x.mark_days[array_position(x.mark_keys, ${a.add(key, '::text')})]`;
  const from = a.add(q.from, '::date');
  const until = a.add(q.until, '::date');
  const span = `daterange(${from}, ${until}, '[]')`;
  // How many chain dates are on or before a day (a binary search); none stored: 0.
  const upTo = (d: string) => `CASE WHEN cardinality(x.chain_dates) > 0 THEN width_bucket(${d}, x.chain_dates) ELSE 0 END`;
  return `(${upTo(until)} - ${upTo(`${from} - 1`)})::int AS "followUps",
          NOT coalesce(${mark(chainLateKey(service))} && ${span}, false) AS "allOnTime",
          coalesce(${mark(atTargetKey(service))} @> ${until} AND ${mark(daysKey([service]))} && ${span}, false) AS controlled,
          CASE WHEN ${upTo(until)} > ${upTo(`${from} - 1`)} THEN to_char(x.chain_dates[${upTo(until)}], 'YYYY-MM-DD') END AS "lastFollowUp"`;
}

/**
 * The episodes behind an indicator (ordered by resident, then episode), a page of them, with the
 * total: one statement counts, one reads the page (plus one for what fulfilled the page's items,
 * unless `delivered: false`). Each row's figures come from its stored summary, never the engine.
 */
export async function summaryDrill(db: Sql, p: Programme, ind: Indicator, q: SummaryDrillQuery) {
  const a = new Args();
  const members = membersSql(p, [ind], q, a, countedParts(p), true);
  const where = [
    'x.d0',
    q.group !== undefined ? `x.g = ${a.add(q.group, '::text')}` : '',
    q.numerator !== undefined ? `x.n0 = ${a.add(q.numerator, '::boolean')}` : '',
  ]
    .filter(Boolean)
    .join(' AND ');
  // The count uses the parameters so far; the page may add the detail's (a statement must use every parameter it is given).
  const countArgs = [...a.values];
  const listed = p.entry.implicit ? membersSql(p, [ind], q, a, ['stored', 'virtual-unstored']) : members;
  const detail = q.followUps ? `, ${followUpDetailSql(q.followUps, q, a)}` : '';
  const [counts, page] = await Promise.all([
    db.query<{ total: number; numerator: number }>(
      `SELECT coalesce(sum(x.sign), 0)::int AS total, coalesce(sum(x.sign) FILTER (WHERE x.n0), 0)::int AS numerator FROM ${members} WHERE ${where}`,
      countArgs,
    ),
    db.query<{
      patientId: string;
      name: string | null;
      group: string;
      episodeKey: string;
      startOn: string;
      endEventOn: string | null;
      inNumerator: boolean;
      followUps?: number;
      allOnTime?: boolean;
      controlled?: boolean;
      lastFollowUp?: string | null;
    }>(
      `SELECT x.patient_id AS "patientId", p.name, x.g AS "group", x.episode_key AS "episodeKey", ${day('x.start_on', '"startOn"')},
              ${day('x.end_event_on', '"endEventOn"')}, x.n0 AS "inNumerator"${detail}
       FROM ${listed} LEFT JOIN prog_person p ON p.patient_id = x.patient_id
       WHERE ${where}
       ORDER BY x.patient_id COLLATE "C", x.episode_key COLLATE "C"
       LIMIT ${q.limit} OFFSET ${q.offset}`,
      a.values,
    ),
  ]);
  const rows = page.rows.map(({ followUps, allOnTime, controlled, lastFollowUp, ...r }) => ({
    ...r,
    ...(q.followUps
      ? { detail: { followUps: followUps!, allOnTime: allOnTime!, controlled: controlled!, lastFollowUp: lastFollowUp ?? null } }
      : {}),
  }));
  // What fulfilled each item, as the engine lists items for the period: yearly ones from its year on, a year past asOf at most.
  const delivered = new Map(rows.map((r) => [`${r.patientId}\u0000${r.episodeKey}`, {} as Record<string, string>]));
  if (rows.length && q.delivered !== false) {
    const yearly = p.versions.filter((v) => v.schedule.cycle === 'year').map((v) => v.version);
    const items = await db.query<{ patientId: string; episodeKey: string; item: string; windowFrom: string; ref: string }>(
      `SELECT i.patient_id AS "patientId", i.episode_key AS "episodeKey", i.item, ${day('i.window_from', '"windowFrom"')}, i.delivered_ref AS ref
       FROM prog_item i
       WHERE i.programme = $1 AND i.patient_id = ANY($2::text[]) AND i.delivered_ref IS NOT NULL
         AND i.window_from <= $3::date + ${HORIZON_DAYS} AND (i.version <> ALL($4::text[]) OR i.window_from >= date_trunc('year', $5::date))
       ORDER BY i.window_from, i.item`,
      [p.code, [...new Set(rows.map((r) => r.patientId))], q.asOf, yearly, q.from],
    );
    for (const it of items.rows) {
      const d = delivered.get(`${it.patientId}\u0000${it.episodeKey}`);
      if (d) d[`${it.item}@${it.windowFrom}`] = it.ref;
    }
  }
  return {
    total: counts.rows[0]!.total,
    numerator: counts.rows[0]!.numerator,
    rows: rows.map((r) => ({ ...r, delivered: delivered.get(`${r.patientId}\u0000${r.episodeKey}`)! })),
  };
}

/** The programmes' fact tables, for bulk seeds (benchmarks) through `copyProgrammeFactRows`. */
const FACT_TABLES = new Set(['prog_person', 'prog_fact']);

/** Loads synthetic fact rows (COPY text lines) into the programmes' fact tables; run recomputeProgrammes after. */
export async function copyProgrammeFactRows(
  db: Pick<Database, 'transaction' | 'copyFrom' | 'query'>,
  tables: Record<string, { columns: readonly string[]; lines: string[] }>,
): Promise<void> {
  for (const table of Object.keys(tables)) if (!FACT_TABLES.has(table)) throw new Error(`${table} is not a programmes fact table`);
  await copyTextRows(db, tables);
  // Every person row has its row in prog_derived: never derived until the recompute.
  await db.query('INSERT INTO prog_derived (patient_id) SELECT patient_id FROM prog_person ON CONFLICT (patient_id) DO NOTHING');
  await db.query(FORGET_COUNTS);
}
