/**
 * Finding residents (GET /api/residents/search?q=…) by name, pinyin initials or full pinyin, ID
 * number (whole, its start or its last digits) or phone (whole or its last digits), over the
 * search index (search-index.ts, table mpi_search). Every reading of the query is a prefix
 * match on one btree index, never a scan; the matches are capped at 2,000 (unordered, so a
 * one-letter query stops early instead of sorting every match) before grouping by Person and ordering by name, and a page reads only its own Patients (through the FHIR search, screened by the
 * access policy, which may withhold or mask them).
 */
import type { Patient } from '@medplum/fhirtypes';
import { search } from '../fhir/search.js';
import type { Queryable } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { demographicsOf, organizationNames, type Screen } from './merged-record.js';
import type { ResidentHit, ResidentSearchQuery, ResidentSearchResult } from './search-schemas.js';

const CAP = 2_000;

type Kind = ResidentSearchResult['kind'];

export interface ParsedQuery {
  kind: Kind;
  /** SQL condition on mpi_search s, with $1 the pattern(s). */
  where: string;
  args: string[];
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);
const reverse = (s: string) => [...s].reverse().join('');

/** How a query is read (pure). Too short to be selective is a 400. */
export function parseQuery(raw: string): ParsedQuery {
  const q = raw.trim();
  const compact = q.replace(/[\s-]+/g, '');
  if (/^\+?\d+[xX]?$/.test(compact)) {
    const digits = compact
      .replace(/^\+86(?=1\d{10}$)/, '')
      .replace(/^\+/, '')
      .toUpperCase();
    if (digits.length < 4) throw badRequest('Give at least 4 digits of an ID number or phone / 请至少输入4位号码');
    if (digits.length >= 15 || digits.endsWith('X'))
      return { kind: 'idNumber', where: `s.id_number LIKE $1`, args: [`${escapeLike(digits)}%`] };
    if (digits.length === 11 && digits.startsWith('1'))
      return { kind: 'phone', where: `(s.phone = $1 OR s.id_number LIKE $2)`, args: [digits, `${escapeLike(digits)}%`] };
    const p = `${escapeLike(digits)}%`;
    const r = `${escapeLike(reverse(digits))}%`;
    return {
      kind: 'digits',
      where: `(s.id_number LIKE $1 OR s.id_rev LIKE $2 OR s.phone LIKE $1 OR s.phone_rev LIKE $2)`,
      args: [p, r],
    };
  }
  if (/^[A-Za-z][A-Za-z\s']*$/.test(q)) {
    const letters = q.toLowerCase().replace(/[^a-z]/g, '');
    // Latin names are kept lower-case with their spaces: 'frankie jast' is found by 'frankie' too.
    const latin = q.toLowerCase().replace(/\s+/g, ' ');
    return {
      kind: 'pinyin',
      where: `(s.initials LIKE $1 OR s.pinyin LIKE $1 OR s.name LIKE $2)`,
      args: [`${escapeLike(letters)}%`, `${escapeLike(latin)}%`],
    };
  }
  const name = /[A-Za-z]/.test(q) && !/[\u3400-\u9fff]/.test(q) ? q.toLowerCase().replace(/\s+/g, ' ') : q.replace(/\s+/g, '');
  if (!name) throw badRequest('Empty query / 请输入查询内容');
  return { kind: 'name', where: `s.name LIKE $1`, args: [`${escapeLike(name)}%`] };
}

export interface SearchDeps {
  db: { pool: Queryable };
}

/** Persons (and Patients not linked yet) matching a query, one row per Person, paged with a total. */
export async function searchResidents({ db }: SearchDeps, query: ResidentSearchQuery, screen: Screen): Promise<ResidentSearchResult> {
  const parsed = parseQuery(query.q);
  const n = parsed.args.length;
  const { rows } = await db.pool.query<{ pk: string; person_id: string | null; total: number; matched: number }>(
    `WITH m AS (
       SELECT s.patient_id, s.name FROM mpi_search s WHERE ${parsed.where} LIMIT ${CAP + 1}
     ), g AS (
       SELECT coalesce(r.person_id, 'patient:' || m.patient_id) AS pk, min(r.person_id) AS person_id, min(m.name) AS k
       FROM m LEFT JOIN mpi_record r ON r.patient_id = m.patient_id GROUP BY 1
     )
     SELECT pk, person_id, (SELECT count(*)::int FROM g) AS total, (SELECT count(*)::int FROM m) AS matched
     FROM g ORDER BY k, pk LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...parsed.args, query.limit, query.offset],
  );
  let total = rows[0]?.total ?? 0;
  const capped = (rows[0]?.matched ?? 0) > CAP;
  if (!rows.length && query.offset > 0) {
    const c = await db.pool.query<{ total: number }>(
      `SELECT count(DISTINCT coalesce(r.person_id, 'patient:' || m.patient_id))::int AS total
       FROM (SELECT s.patient_id FROM mpi_search s WHERE ${parsed.where} LIMIT ${CAP + 1}) m LEFT JOIN mpi_record r ON r.patient_id = m.patient_id`,
      parsed.args,
    );
    total = c.rows[0]?.total ?? 0;
  }
  if (!rows.length)
    return { q: query.q, kind: parsed.kind, rows: [], total, capped, offset: query.offset, limit: query.limit, withheld: 0 };

  // The page's Patients: every Patient of each Person (a Person is shown through any Patient the user may see).
  const personIds = rows.flatMap((r) => (r.person_id ? [r.person_id] : []));
  const members = personIds.length
    ? (
        await db.pool.query<{ person_id: string; patient_id: string }>(
          'SELECT person_id, patient_id FROM mpi_record WHERE person_id = ANY($1::text[]) ORDER BY person_id, patient_id',
          [personIds],
        )
      ).rows
    : [];
  const patientsOf = new Map<string, string[]>();
  for (const r of rows) patientsOf.set(r.pk, r.person_id ? [] : [r.pk.slice('patient:'.length)]);
  for (const m of members) patientsOf.get(m.person_id)?.push(m.patient_id);
  const allIds = [...new Set([...patientsOf.values()].flat())].slice(0, 1000);
  const stored: Patient[] = [];
  for (let i = 0; i < allIds.length; i += 100) {
    const { bundle } = await search(
      db.pool,
      'Patient',
      {
        params: [
          ['_id', allIds.slice(i, i + 100).join(',')],
          ['_count', '100'],
        ],
      },
      '',
    );
    for (const e of bundle.entry ?? []) if (e.search?.mode === 'match') stored.push(e.resource as Patient);
  }
  stored.sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''));
  const screened = await screen(stored);
  const visible = new Map<string, Patient>();
  screened.forEach((r) => r?.id && visible.set(r.id, r as Patient));
  const orgOf = (p: Patient) => p.managingOrganization?.reference?.replace(/^Organization\//, '') ?? '';
  const names = await organizationNames(db.pool, [...visible.values()].map(orgOf));

  const hits: ResidentHit[] = [];
  let withheld = 0;
  for (const r of rows) {
    const ids = patientsOf.get(r.pk) ?? [];
    const seen = stored.filter((p) => ids.includes(p.id!) && visible.has(p.id!)).map((p) => visible.get(p.id!)!);
    if (!seen.length) {
      withheld++;
      continue;
    }
    const first = <K extends keyof ReturnType<typeof demographicsOf>>(k: K) => seen.map((p) => demographicsOf(p)[k]).find((v) => v) ?? null;
    const facilities = [...new Set(seen.map(orgOf).filter(Boolean))].map((id) => ({ id, name: names.get(id) ?? null }));
    hits.push({
      patientId: seen[0]!.id!,
      personId: r.person_id,
      // A Patient id is stable (a Person id changes with a merge or unlink) and opens the same merged record.
      recordId: seen[0]!.id!,
      patientIds: seen.map((p) => p.id!),
      name: first('name'),
      gender: first('gender'),
      birthDate: first('birthDate'),
      idNumber: first('idNumber'),
      phone: first('phone'),
      address: first('address'),
      facilities,
      matchedBy: parsed.kind,
    });
  }
  return {
    q: query.q,
    kind: parsed.kind,
    rows: hits,
    total: Math.max(0, total - withheld),
    capped,
    offset: query.offset,
    limit: query.limit,
    withheld,
  };
}
