/**
 * The programmes' SQL: facts kept from the change log (prog_person, prog_fact), enrolments and
 * scheduled items derived by the engine for the residents a batch touches (prog_enrolment,
 * prog_item), and the reads behind the routes. Only this file touches the prog_* tables.
 */
import type { Resource, Patient } from '@medplum/fhirtypes';
import type { ChangeRecord } from '../../platform/processors.js';
import type { Sql } from '../services.js';
import type { Programme } from './definition.js';
import { controlledOn, evaluateResident, matchersOf, relevant, type Episode, type Fact, type PersonFacts } from './engine.js';
import { factOf, personFacts } from './facts.js';

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
      },
    );
  }
  const gone = [...persons].filter(([, p]) => !p).map(([id]) => id);
  if (gone.length) await client.query(`DELETE FROM prog_person WHERE patient_id = ANY($1::text[])`, [gone]);
  const kept = [...persons.values()].filter((p): p is PersonFacts => !!p);
  if (kept.length)
    await client.query(
      `INSERT INTO prog_person (patient_id, name, birth_date, gender, area_code, organization_id, deceased)
       SELECT x."patientId", x.name, x."birthDate"::date, x.gender, x."areaCode", x."organizationId", x.deceased
       FROM json_to_recordset($1::json) AS x("patientId" text, name text, "birthDate" text, gender text, "areaCode" text, "organizationId" text, deceased boolean)
       ON CONFLICT (patient_id) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, gender = excluded.gender,
         area_code = excluded.area_code, organization_id = excluded.organization_id, deceased = excluded.deceased`,
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
        `INSERT INTO prog_fact (ref, patient_id, resource_type, codes, start_on, end_on, active, value_codes, value_num)
         SELECT ref, patient_id, resource_type, codes, start_on, end_on, active, value_codes, value_num
         FROM json_populate_recordset(NULL::prog_fact, $1::json)`,
        [JSON.stringify(rows)],
      );
  }
  return touched;
}

export interface ResidentFacts {
  person: PersonFacts;
  facts: Fact[];
}

/** Persons and facts of residents, by id (a resident with facts but no Patient yet gets an empty person). */
export async function residentFacts(db: Sql, patientIds: string[]): Promise<ResidentFacts[]> {
  if (!patientIds.length) return [];
  const [people, facts] = await Promise.all([
    db.query<PersonFacts>(
      `SELECT patient_id AS "patientId", name, ${day('birth_date', '"birthDate"')}, gender, area_code AS "areaCode",
              organization_id AS "organizationId", deceased
       FROM prog_person WHERE patient_id = ANY($1::text[])`,
      [patientIds],
    ),
    db.query<Fact & { patientId: string }>(
      `SELECT ref, patient_id AS "patientId", resource_type AS "resourceType", codes, ${day('start_on', 'start')}, ${day('end_on', '"end"')},
              active, value_codes AS "valueCodes", value_num AS "valueNum"
       FROM prog_fact WHERE patient_id = ANY($1::text[]) ORDER BY ref`,
      [patientIds],
    ),
  ]);
  const byId = new Map<string, ResidentFacts>();
  const blank = (id: string): PersonFacts => ({
    patientId: id,
    name: null,
    birthDate: null,
    gender: null,
    areaCode: null,
    organizationId: null,
    deceased: false,
  });
  for (const id of patientIds) byId.set(id, { person: blank(id), facts: [] });
  for (const p of people.rows) byId.get(p.patientId)!.person = p;
  for (const f of facts.rows) {
    const { patientId, ...fact } = f;
    byId.get(patientId)?.facts.push({ ...fact, valueNum: fact.valueNum === null ? null : Number(fact.valueNum) });
  }
  return [...byId.values()];
}

/** Stored yearly items start two calendar years back: worklists look a year back at most. */
const ITEMS_SINCE = (today: string) => `${Number(today.slice(0, 4)) - 2}-01-01`;

/** One lock for every writer of derived rows (the processor, the refresh): their delete-and-insert never interleave. */
const DERIVE_LOCK = 7262360;

/**
 * Re-derives the enrolments and items of residents for every programme (as of `today`). Call it
 * inside a transaction: it takes a transaction-scoped lock shared by every writer of these rows.
 */
export async function refreshResidents(client: Sql, patientIds: string[], programmes: Programme[], today: string): Promise<void> {
  if (!patientIds.length) return;
  await client.query('SELECT pg_advisory_xact_lock($1)', [DERIVE_LOCK]);
  const residents = await residentFacts(client, patientIds);
  const enrolments: Record<string, unknown>[] = [];
  const items: Record<string, unknown>[] = [];
  for (const r of residents)
    for (const p of programmes)
      for (const ep of evaluateResident(p, r.person, r.facts, today, ITEMS_SINCE(today))) {
        enrolments.push({
          programme: p.code,
          patient_id: r.person.patientId,
          episode_key: ep.key,
          start_on: ep.start,
          end_on: ep.end,
          end_event_on: ep.endEvent,
          version: ep.version,
          flags: ep.flags,
          controlled: controlledOn(p, ep, today),
          last_service: ep.services.filter((s) => s.date <= today).at(-1)?.date ?? null,
          services: ep.services.length,
          area_code: r.person.areaCode,
          organization_id: r.person.organizationId,
        });
        for (const it of ep.items)
          items.push({
            programme: p.code,
            patient_id: r.person.patientId,
            episode_key: ep.key,
            item: it.code,
            name: it.name,
            window_from: it.from,
            window_to: it.to,
            recommended: it.recommended,
            delivered_on: it.deliveredOn,
            delivered_ref: it.deliveredRef,
            version: it.version,
          });
      }
  await client.query(`DELETE FROM prog_item WHERE patient_id = ANY($1::text[])`, [patientIds]);
  await client.query(`DELETE FROM prog_enrolment WHERE patient_id = ANY($1::text[])`, [patientIds]);
  if (enrolments.length)
    await client.query(
      `INSERT INTO prog_enrolment (programme, patient_id, episode_key, start_on, end_on, end_event_on, version, flags, controlled,
                                   last_service, services, area_code, organization_id)
       SELECT programme, patient_id, episode_key, start_on, end_on, end_event_on, version, flags, controlled,
              last_service, services, area_code, organization_id
       FROM json_populate_recordset(NULL::prog_enrolment, $1::json)`,
      [JSON.stringify(enrolments)],
    );
  if (items.length)
    await client.query(`INSERT INTO prog_item SELECT * FROM json_populate_recordset(NULL::prog_item, $1::json)`, [JSON.stringify(items)]);
  await client.query(`UPDATE prog_person SET derived_on = $2::date WHERE patient_id = ANY($1::text[])`, [patientIds, today]);
}

/**
 * Residents whose rows were derived more than `days` ago (or never): items are listed a year
 * ahead and ages move on, so each resident is derived again at least that often.
 */
export async function staleResidents(db: Sql, today: string, days: number, limit: number): Promise<string[]> {
  const r = await db.query<{ id: string }>(
    `SELECT patient_id AS id FROM prog_person WHERE derived_on IS NULL OR derived_on < $1::date - $2::int
     ORDER BY derived_on NULLS FIRST, patient_id LIMIT $3`,
    [today, days, limit],
  );
  return r.rows.map((x) => x.id);
}

/** Every resident with facts or a person row (the full recompute walks them). */
export async function allResidentIds(db: Sql): Promise<string[]> {
  const r = await db.query<{ id: string }>(`SELECT patient_id AS id FROM prog_person UNION SELECT patient_id FROM prog_fact ORDER BY 1`);
  return r.rows.map((x) => x.id);
}

// ---- reads -----------------------------------------------------------------------------------

export interface ResidentFilter {
  area?: string;
  organization?: string;
}

/** Residents enrolled in a programme at any time, with their facts (indicators evaluate them again for the period asked). */
export async function programmeResidents(db: Sql, programme: string, f: ResidentFilter): Promise<ResidentFacts[]> {
  const ids = await db.query<{ id: string }>(
    `SELECT DISTINCT e.patient_id AS id FROM prog_enrolment e
     LEFT JOIN prog_person p ON p.patient_id = e.patient_id
     WHERE e.programme = $1 AND ($2::text IS NULL OR p.area_code LIKE $2 || '%') AND ($3::text IS NULL OR p.organization_id = $3)
     ORDER BY 1`,
    [programme, f.area ?? null, f.organization ?? null],
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

export async function registryPage(db: Sql, programme: string, q: RegistryQuery, asOf: string) {
  const where = `e.programme = $1
    AND ($2::text = 'all' OR ($2 = 'active') = (e.start_on <= $3::date AND (e.end_on IS NULL OR e.end_on > $3::date) AND NOT coalesce(p.deceased, false)))
    AND ($4::text IS NULL OR p.area_code LIKE $4 || '%') AND ($5::text IS NULL OR p.organization_id = $5)
    AND ($6::text IS NULL OR p.name LIKE '%' || $6 || '%' OR e.patient_id = $6)
    AND ($7::text IS NULL OR $7 = ANY(e.flags))`;
  const args = [programme, q.status ?? 'active', asOf, q.area ?? null, q.organization ?? null, q.q ?? null, q.flag ?? null];
  const [total, rows] = await Promise.all([
    db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM prog_enrolment e LEFT JOIN prog_person p ON p.patient_id = e.patient_id WHERE ${where}`,
      args,
    ),
    db.query(
      `SELECT e.patient_id AS "patientId", p.name, p.gender, ${day('p.birth_date', '"birthDate"')}, e.episode_key AS "episodeKey",
              ${day('e.start_on', '"startOn"')}, ${day('e.end_on', '"endOn"')}, ${day('e.end_event_on', '"endEventOn"')},
              e.version, e.flags, e.controlled, ${day('e.last_service', '"lastService"')}, e.services,
              p.area_code AS "areaCode", p.organization_id AS "organizationId", coalesce(p.deceased, false) AS deceased,
              (SELECT min(i.window_from) FILTER (WHERE i.window_from > $3::date) FROM prog_item i
                WHERE i.programme = e.programme AND i.patient_id = e.patient_id AND i.episode_key = e.episode_key AND i.delivered_on IS NULL)::text AS "nextItemFrom",
              (SELECT count(*)::int FROM prog_item i
                WHERE i.programme = e.programme AND i.patient_id = e.patient_id AND i.episode_key = e.episode_key
                  AND i.window_to <= $3::date AND (i.delivered_on IS NULL OR i.delivered_on > $3::date)) AS missed
       FROM prog_enrolment e LEFT JOIN prog_person p ON p.patient_id = e.patient_id
       WHERE ${where}
       ORDER BY e.start_on DESC, e.patient_id, e.episode_key
       LIMIT ${q.limit} OFFSET ${q.offset}`,
      args,
    ),
  ]);
  return { total: total.rows[0]!.n, rows: rows.rows };
}

export interface WorklistQuery extends ResidentFilter {
  status?: 'due' | 'overdue' | 'all';
  overdueWithinDays: number;
  limit: number;
  offset: number;
}

/** Items due or overdue on a day, of residents still enrolled and alive. */
export async function worklistPage(db: Sql, programme: string, q: WorklistQuery, asOf: string) {
  const where = `i.programme = $1 AND i.window_from <= $2::date AND i.window_to > ($2::date - $3::int)
    AND (i.delivered_on IS NULL OR i.delivered_on > $2::date)
    AND e.start_on <= $2::date AND (e.end_on IS NULL OR e.end_on > $2::date) AND NOT coalesce(p.deceased, false)
    AND ($4::text = 'all' OR ($4 = 'due') = (i.window_to > $2::date))
    AND ($5::text IS NULL OR p.area_code LIKE $5 || '%') AND ($6::text IS NULL OR p.organization_id = $6)`;
  const from = `FROM prog_item i
    JOIN prog_enrolment e ON e.programme = i.programme AND e.patient_id = i.patient_id AND e.episode_key = i.episode_key
    LEFT JOIN prog_person p ON p.patient_id = i.patient_id`;
  const args = [programme, asOf, q.overdueWithinDays, q.status ?? 'all', q.area ?? null, q.organization ?? null];
  const [total, rows] = await Promise.all([
    db.query<{ n: number; due: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE i.window_to > $2::date)::int AS due ${from} WHERE ${where}`,
      args,
    ),
    db.query(
      `SELECT i.patient_id AS "patientId", p.name, p.gender, ${day('p.birth_date', '"birthDate"')}, i.episode_key AS "episodeKey",
              i.item, i.name AS "itemName", ${day('i.window_from', '"windowFrom"')}, ${day('i.window_to - 1', '"windowLast"')},
              i.recommended, CASE WHEN i.window_to > $2::date THEN 'due' ELSE 'overdue' END AS status,
              e.flags, p.area_code AS "areaCode", p.organization_id AS "organizationId"
       ${from} WHERE ${where}
       ORDER BY i.window_to, i.patient_id, i.item
       LIMIT ${q.limit} OFFSET ${q.offset}`,
      args,
    ),
  ]);
  const t = total.rows[0]!;
  return { total: t.n, counts: { due: t.due, overdue: t.n - t.due }, rows: rows.rows };
}

/**
 * A resident's items across programmes: due, overdue (within the window asked) and upcoming (next
 * `aheadDays`). `livingOnly`: none for a resident who has died (the check-in desk's list).
 */
export async function residentItems(
  db: Sql,
  patientIds: string[],
  asOf: string,
  aheadDays: number,
  overdueWithinDays: number,
  options: { livingOnly?: boolean } = {},
) {
  const r = await db.query(
    `SELECT i.patient_id AS "patientId", i.programme, i.item, i.name AS "itemName", i.episode_key AS "episodeKey", ${day('i.window_from', '"windowFrom"')},
            ${day('i.window_to - 1', '"windowLast"')}, i.recommended,
            CASE WHEN i.window_from > $2::date THEN 'upcoming' WHEN i.window_to > $2::date THEN 'due' ELSE 'overdue' END AS status
     FROM prog_item i
     JOIN prog_enrolment e ON e.programme = i.programme AND e.patient_id = i.patient_id AND e.episode_key = i.episode_key
     ${options.livingOnly ? 'LEFT JOIN prog_person p ON p.patient_id = i.patient_id' : ''}
     WHERE i.patient_id = ANY($1::text[]) AND (i.delivered_on IS NULL OR i.delivered_on > $2::date)
       AND i.window_from <= $2::date + $3::int AND i.window_to > $2::date - $4::int
       AND e.start_on <= $2::date + $3::int AND (e.end_on IS NULL OR e.end_on > $2::date)
       ${options.livingOnly ? 'AND NOT coalesce(p.deceased, false)' : ''}
     ORDER BY i.window_to, i.programme, i.item, i.patient_id`,
    [patientIds, asOf, aheadDays, overdueWithinDays],
  );
  return r.rows as {
    patientId: string;
    programme: string;
    item: string;
    itemName: string;
    episodeKey: string;
    windowFrom: string;
    windowLast: string;
    recommended: string | null;
    status: 'upcoming' | 'due' | 'overdue';
  }[];
}

/** Whether the programmes know a resident (a Patient they have seen). */
export async function knownResident(db: Sql, patientId: string): Promise<boolean> {
  const r = await db.query(
    `SELECT 1 FROM prog_person WHERE patient_id = $1 UNION ALL SELECT 1 FROM prog_fact WHERE patient_id = $1 LIMIT 1`,
    [patientId],
  );
  return r.rows.length > 0;
}

/** Enrolled residents per programme on a day (for the programme list). */
export async function enrolledCounts(db: Sql, asOf: string): Promise<Map<string, number>> {
  const r = await db.query<{ programme: string; n: number }>(
    `SELECT e.programme, count(DISTINCT e.patient_id)::int AS n FROM prog_enrolment e LEFT JOIN prog_person p ON p.patient_id = e.patient_id
     WHERE e.start_on <= $1::date AND (e.end_on IS NULL OR e.end_on > $1::date) AND NOT coalesce(p.deceased, false) GROUP BY e.programme`,
    [asOf],
  );
  return new Map(r.rows.map((x) => [x.programme, x.n]));
}

export type { Episode };
