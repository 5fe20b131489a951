/**
 * De-identified exports of notifiable-disease report cards: the policy check, the data (counted
 * cards from surveillance, the Patient behind each from the FHIR store) and the release built
 * from them with the pure functions of deidentify.ts.
 */
import { createHash } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import type { AccessControl } from '../fhir/access.js';
import { search } from '../fhir/search.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import { badRequest, HttpError } from '../platform/errors.js';
import { addDays, chinaDateOf, daysBetween } from '../shared/dates.js';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { OCCUPATION_CLASSES } from '../shared/occupations.js';
import { areaNames, countedCardsPage, type CountedCard } from '../surveillance/index.js';
import { csvText } from '../shared/csv.js';
import {
  ageAt,
  ageBand,
  isoWeek,
  pseudonymise,
  residentIdentity,
  scopeKey,
  sexLabel,
  shiftDate,
  streetOf,
  suppressSmallCells,
} from './deidentify.js';
import type { ExportKey } from './keys.js';
import {
  profileRefusal,
  type CountsProfile,
  type ExportProfile,
  type ExportProfiles,
  type LineListProfile,
  type PolicyRefusal,
} from './profiles.js';
import type { CountRow, CountsExport, LineListExport, LineListField, LineListRow } from './schemas.js';
import { homeAreaCode } from '../shared/home-area.js';

export interface ExportDeps {
  db: Database;
  profiles: ExportProfiles;
  key: ExportKey;
  /**
   * The access policy's consent rules (issue #22): line lists leave out the residents they refuse
   * for action `export` and the export's purpose (research, HRESCH: those who have not opted in).
   */
  access: Pick<AccessControl, 'refusedByConsent' | 'refusedWithoutRecord'>;
}

export interface ExportRequest {
  user: AuthUser;
  profile: string;
  from: string;
  to: string;
  disease?: string;
  purpose?: string;
  approval?: string;
}

/** A 403 that names the profile rule it enforces (the route audits it as a refused export). */
export class ExportRefusal extends HttpError {
  constructor(readonly refusal: PolicyRefusal) {
    super(403, refusal.message, 'forbidden');
  }
}

/** The profile, checked against the request: unknown → 400; does not fit → ExportRefusal (403). */
export function profileFor<K extends ExportProfile['kind']>(
  deps: ExportDeps,
  req: ExportRequest,
  kind: K,
): Extract<ExportProfile, { kind: K }> {
  const profile = deps.profiles.profiles.get(req.profile);
  if (!profile) throw badRequest(`profile: no export profile '${req.profile}'; there are ${[...deps.profiles.profiles.keys()].join(', ')}`);
  const refusal = profileRefusal(profile, { user: req.user, kind, purpose: req.purpose, approval: req.approval });
  if (refusal) throw new ExportRefusal(refusal);
  if (req.to < req.from) throw badRequest(`to: ${req.to} is before from ${req.from}`);
  const days = daysBetween(req.from, req.to) + 1;
  if (days > profile.maxDays)
    throw badRequest(`from/to: ${days} days; export profile '${profile.name}' covers at most ${profile.maxDays} days per export`);
  return profile as Extract<ExportProfile, { kind: K }>;
}

/** The purpose recorded for an export: the one stated, else the profile's default. */
export function purposeOf(profile: ExportProfile, stated: string | undefined): string | undefined {
  return stated?.trim().toUpperCase() || profile.defaultPurpose;
}

const tooMany = (what: string) => new HttpError(422, what, 'too-costly');

/** Every counted card of the period (and disease), page by page, refusing past `max`. */
async function cardsOf(db: Database, q: { from: string; to: string; disease?: string }, max: number, refuse: (n: number) => string) {
  const out: CountedCard[] = [];
  let after: { diagnosedAt: string; id: string } | undefined;
  for (;;) {
    // One more than the cap is asked for, so that a period over the cap is refused, never cut short.
    const limit = Math.min(2000, max + 1 - out.length);
    const page = await countedCardsPage(db.pool, { ...q, after, limit });
    out.push(...page);
    if (out.length > max) throw tooMany(refuse(max));
    if (page.length < limit) return out;
    const last = page[page.length - 1]!;
    after = { diagnosedAt: last.diagnosedAt, id: last.id };
  }
}

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The current Patient resources behind the cards (those still stored), 100 ids per search. */
async function patientsOf(db: Database, ids: Iterable<string>): Promise<Map<string, Patient>> {
  const wanted = [...new Set(ids)].filter((id) => FHIR_ID.test(id));
  const out = new Map<string, Patient>();
  for (let i = 0; i < wanted.length; i += 100) {
    const chunk = wanted.slice(i, i + 100);
    const r = await search(
      db.pool,
      'Patient',
      {
        params: [
          ['_id', chunk.join(',')],
          ['_count', '100'],
        ],
      },
      'urn:yifang:exports',
    );
    for (const e of r.bundle.entry ?? []) if (e.resource?.resourceType === 'Patient' && e.resource.id) out.set(e.resource.id, e.resource);
  }
  return out;
}

/** The Patients on file under some resident ID numbers (cards that name no Patient), 100 numbers per search. */
async function patientsByIdNumber(db: Database, idNumbers: Iterable<string>): Promise<Map<string, string[]>> {
  const wanted = [...new Set(idNumbers)].filter((n) => /^[0-9]{17}[0-9X]$/.test(n));
  const out = new Map<string, string[]>();
  for (let i = 0; i < wanted.length; i += 100) {
    const chunk = wanted.slice(i, i + 100);
    for (let offset = 0; ; offset += 1000) {
      const r = await search(
        db.pool,
        'Patient',
        {
          params: [
            ['identifier', chunk.map((n) => `${RESIDENT_ID_SYSTEM}|${n}`).join(',')],
            ['_sort', '_id'],
            ['_count', '1000'],
            ['_offset', String(offset)],
          ],
        },
        'urn:yifang:exports',
      );
      const page = (r.bundle.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'Patient' && e.resource.id ? [e.resource] : []));
      for (const p of page)
        for (const n of new Set(p.identifier?.filter((x) => x.system === RESIDENT_ID_SYSTEM && x.value).map((x) => x.value!) ?? []))
          if (chunk.includes(n)) out.set(n, [...(out.get(n) ?? []), p.id!]);
      if (page.length < 1000) break;
    }
  }
  return out;
}

/**
 * The cards whose resident the access policy's consent rules refuse for this export (research:
 * not opted in to share-for-research). A card's resident is its Patient, else the Patients on
 * file under its ID number; a card whose resident cannot be found has no choice on file, so its
 * defaults decide (share-for-research is off: left out of research).
 */
async function cardsRefusedByConsent(
  deps: ExportDeps,
  user: AuthUser,
  purpose: string | undefined,
  cards: CountedCard[],
): Promise<Set<string>> {
  const byNumber = await patientsByIdNumber(
    deps.db,
    cards.flatMap((c) =>
      !c.patientId && (c.card.idType === undefined || c.card.idType === '01') && c.card.idNumber ? [c.card.idNumber] : [],
    ),
  );
  const residentsOf = (c: CountedCard): string[] =>
    c.patientId
      ? [c.patientId]
      : c.card.idNumber && (c.card.idType === undefined || c.card.idType === '01')
        ? (byNumber.get(c.card.idNumber) ?? [])
        : [];
  const refused = await deps.access.refusedByConsent(user, [...new Set(cards.flatMap(residentsOf))], 'export', purpose);
  const unknownRefused = deps.access.refusedWithoutRecord(user, 'export', purpose);
  const out = new Set<string>();
  for (const c of cards) {
    const ids = residentsOf(c);
    if (ids.length ? ids.some((id) => refused.has(id)) : unknownRefused) out.add(c.id);
  }
  return out;
}

const patientAreaCode = (p: Patient | undefined): string | undefined => homeAreaCode(p) ?? undefined;

function occupationOf(card: CountedCard['card']): string {
  const occ = card.occupationClass;
  const list: readonly string[] = OCCUPATION_CLASSES;
  if (occ?.name && list.includes(occ.name)) return occ.name;
  const byCode = occ?.code && /^\d{1,2}$/.test(occ.code) ? list[Number(occ.code) - 1] : undefined;
  return byCode ?? '不详';
}

const CARD_STATUS: Record<string, string> = { submitted: '待审核', reviewed: '已审核' };

/** The research line list: one de-identified row per counted card, sorted by pseudonym and shifted date. */
export async function lineList(deps: ExportDeps, req: ExportRequest): Promise<LineListExport & { profileUsed: LineListProfile }> {
  const profile = profileFor(deps, req, 'line-list');
  const cards = await cardsOf(
    deps.db,
    { from: req.from, to: req.to, disease: req.disease },
    profile.maxRows,
    (max) =>
      `More than ${max} report cards match; export profile '${profile.name}' releases at most ${max} rows at once: narrow the period (from/to) or name a disease`,
  );
  const [patients, names, refused] = await Promise.all([
    patientsOf(
      deps.db,
      cards.flatMap((c) => (c.patientId ? [c.patientId] : [])),
    ),
    areaNames(deps.db),
    cardsRefusedByConsent(deps, req.user, purposeOf(profile, req.purpose), cards),
  ]);
  const key = scopeKey(
    deps.key.key,
    profile.pseudonym.scope === 'approval' ? `approval:${req.approval!.trim()}` : `profile:${profile.name}`,
  );
  const options = { prefix: profile.pseudonym.prefix, length: profile.pseudonym.length, maxShiftDays: profile.dateShiftDays };
  const rows: LineListRow[] = [];
  // Residents left out for their consent choices: counted (once per person), never named.
  const leftOut = new Set<string>();
  for (const c of cards) {
    const card = c.card;
    const patient = c.patientId ? patients.get(c.patientId) : undefined;
    const patientIdNumber = patient?.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value;
    const cardIdNumber = card.idType === undefined || card.idType === '01' ? card.idNumber : null;
    const identity =
      residentIdentity({
        idNumbers: [cardIdNumber, patientIdNumber],
        patientId: c.patientId,
        fallback: card.name ? `${card.name}|${card.birthDate ?? ''}|${card.sex ?? ''}` : null,
      }) ?? `card:${c.id}`;
    if (refused.has(c.id)) {
      leftOut.add(identity);
      continue;
    }
    const { pseudonym, shiftDays } = pseudonymise(key, identity, options);
    const validId = [cardIdNumber, patientIdNumber].map((n) => (n ? parseIdNumber(n) : undefined)).find((p) => p?.ok);
    const birthDate = card.birthDate ?? patient?.birthDate ?? (validId?.ok ? validId.value.birthDate : null);
    const diagnosisDay = chinaDateOf(c.diagnosedAt);
    const street = streetOf(c.areaCode ?? card.address?.areaCode ?? patientAreaCode(patient));
    const deathDate = card.deathDate ?? (patient?.deceasedDateTime ? chinaDateOf(patient.deceasedDateTime) : null);
    const died = !!deathDate || patient?.deceasedBoolean === true;
    const full: Record<LineListField, string | null> = {
      pseudonym,
      sex: sexLabel(card.sex ?? patient?.gender),
      ageBand: ageBand(ageAt(diagnosisDay, birthDate, card.age), profile.ageBand.width, profile.ageBand.top),
      street: street || null,
      streetName: (street && names.get(street)) || null,
      occupationClass: occupationOf(card),
      disease: c.diseaseName,
      diseaseClass: c.diseaseClass,
      diagnosisStatus: c.caseClassification,
      onsetDate: shiftDate(c.onsetDate, shiftDays),
      diagnosisDate: shiftDate(diagnosisDay, shiftDays),
      outcome: died ? '死亡' : '未报告死亡',
      outcomeDate: shiftDate(deathDate, shiftDays),
      cardStatus: CARD_STATUS[c.status] ?? null,
    };
    rows.push(Object.fromEntries(profile.fields.map((f) => [f, full[f]])) as LineListRow);
  }
  // Not in real date order (that would undo part of the shift): by person, then shifted date.
  const sortKey = (r: LineListRow) => `${r.pseudonym ?? ''}\u0000${r.diagnosisDate ?? ''}\u0000${r.disease ?? ''}`;
  rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  return {
    profile: profile.name,
    profileUsed: profile,
    from: req.from,
    to: req.to,
    disease: req.disease ?? null,
    keyId: deps.key.keyId,
    generatedAt: new Date().toISOString(),
    columns: [...profile.fields],
    dateShiftDays: profile.dateShiftDays,
    leftOutForConsent: leftOut.size,
    rows,
  };
}

const LINE_LIST_HEADERS: Record<LineListField, string> = {
  pseudonym: '假名编号 pseudonym',
  sex: '性别 sex',
  ageBand: '年龄组 age band',
  street: '街道编码 street code',
  streetName: '街道 street',
  occupationClass: '人群分类 occupation class',
  disease: '疾病 disease',
  diseaseClass: '类别 class',
  diagnosisStatus: '病例分类 diagnosis status',
  onsetDate: '发病日期(已偏移) onset date (shifted)',
  diagnosisDate: '诊断日期(已偏移) diagnosis date (shifted)',
  outcome: '转归 outcome',
  outcomeDate: '死亡日期(已偏移) death date (shifted)',
  cardStatus: '审核状态 review status',
};

export function lineListCsv(x: LineListExport): string {
  return csvText(
    x.columns.map((c) => LINE_LIST_HEADERS[c]),
    x.rows.map((r) => x.columns.map((c) => r[c] ?? '')),
  );
}

/** The street code of counts whose card has no coded address. */
export const UNKNOWN_STREET = 'unknown';

/** Monday of a date's ISO week. */
const mondayOf = (date: string) => addDays(date, -((new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7));

/**
 * Public counts: per disease, a street × ISO-week table of counted cards (by diagnosis day),
 * with week totals (and street and period totals when the profile publishes them), small
 * values and their complements suppressed. The period is widened to whole weeks.
 */
export async function counts(deps: ExportDeps, req: ExportRequest): Promise<CountsExport & { profileUsed: CountsProfile }> {
  const profile = profileFor(deps, req, 'counts');
  const from = mondayOf(req.from);
  const to = addDays(mondayOf(req.to), 6);
  const cards = await cardsOf(
    deps.db,
    { from, to, disease: req.disease },
    profile.maxCards,
    (max) =>
      `More than ${max} report cards in the period; export profile '${profile.name}' reads at most ${max}: narrow the period or name a disease`,
  );
  const names = await areaNames(deps.db);
  const weeks: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 7)) weeks.push(isoWeek(d));
  const weekIndex = new Map(weeks.map((w, i) => [w, i]));
  const districtStreets = [...names.keys()].filter((code) => /^\d{9}000$/.test(code) && !code.endsWith('000000')).sort();

  const byDisease = new Map<string, { name: string; cards: { street: string; week: number }[] }>();
  for (const c of cards) {
    const d = byDisease.get(c.diseaseKey) ?? { name: c.diseaseName, cards: [] };
    byDisease.set(c.diseaseKey, d);
    d.cards.push({ street: streetOf(c.areaCode ?? c.card.address?.areaCode), week: weekIndex.get(isoWeek(chinaDateOf(c.diagnosedAt)))! });
  }
  const streetsPerTable = Math.max(districtStreets.length, 1);
  const cellCount = byDisease.size * (streetsPerTable + 1) * (weeks.length + 1);
  if (cellCount > profile.maxCells)
    throw tooMany(
      `This table would have about ${cellCount} cells; export profile '${profile.name}' answers at most ${profile.maxCells}: narrow the period or name a disease`,
    );

  const { threshold, mark } = profile.suppression;
  const rows: CountRow[] = [];
  let primary = 0;
  let complementary = 0;
  for (const [disease, d] of [...byDisease].sort(([a], [b]) => a.localeCompare(b))) {
    const streets = [...new Set([...districtStreets, ...d.cards.map((c) => c.street)])].sort((a, b) =>
      a === '' ? 1 : b === '' ? -1 : a.localeCompare(b),
    );
    const streetIndex = new Map(streets.map((s, i) => [s, i]));
    const table = streets.map(() => weeks.map(() => 0));
    for (const c of d.cards) table[streetIndex.get(c.street)!]![c.week]!++;
    const s = suppressSmallCells(
      { counts: table, rowTotals: profile.streetTotals, columnTotals: profile.weekTotals, grandTotal: profile.streetTotals },
      threshold,
    );
    primary += s.primary;
    complementary += s.complementary;
    const row = (street: string, week: string, n: number, hidden: boolean): CountRow => ({
      disease,
      diseaseName: d.name,
      street: street === '' ? UNKNOWN_STREET : street,
      streetName: street === '' ? '不详 unknown' : (names.get(street) ?? ''),
      week,
      count: hidden ? null : n,
      shown: hidden ? mark : String(n),
    });
    const districtRow = (week: string, n: number, hidden: boolean): CountRow => ({
      ...row('', week, n, hidden),
      street: '',
      streetName: '全区 district',
    });
    streets.forEach((street, i) => {
      weeks.forEach((w, j) => rows.push(row(street, w, table[i]![j]!, s.cells[i]![j]!)));
      if (profile.streetTotals)
        rows.push(
          row(
            street,
            '',
            table[i]!.reduce((a, b) => a + b, 0),
            s.rowTotals[i]!,
          ),
        );
    });
    if (profile.weekTotals)
      weeks.forEach((w, j) =>
        rows.push(
          districtRow(
            w,
            table.reduce((a, r) => a + r[j]!, 0),
            s.columnTotals[j]!,
          ),
        ),
      );
    if (profile.streetTotals) rows.push(districtRow('', d.cards.length, s.grandTotal));
  }
  return {
    profile: profile.name,
    profileUsed: profile,
    from,
    to,
    disease: req.disease ?? null,
    keyId: deps.key.keyId,
    generatedAt: new Date().toISOString(),
    weeks,
    threshold,
    mark,
    suppressed: { primary, complementary },
    note: `Counted report cards by diagnosis week (ISO, Monday–Sunday, China time). Counts from 1 to ${threshold - 1}, and the values suppressed so that those cannot be worked out from a total, all show '${mark}'.`,
    rows,
  };
}

export function countsCsv(x: CountsExport): string {
  return csvText(
    ['疾病 disease', '疾病名称 disease name', '街道编码 street code', '街道 street', '周 ISO week', '病例数 cases'],
    x.rows.map((r) => [r.disease, r.diseaseName, r.street, r.streetName, r.week || '合计 total', r.shown]),
  );
}

/** SHA-256 of a released file, hex: recorded in the audit event so the file can be matched later. */
export const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** Whether the user's roles fit a profile (for the profile list). */
export function mayUse(profile: ExportProfile, user: AuthUser): boolean {
  return user.roles.some((r) => profile.roles.includes(r));
}
