/**
 * What the programme routes call: the programme list, worklists, registries, a resident's due
 * services across programmes, and indicators with their drill-down. Indicators are SQL
 * aggregates over the per-episode summaries the processor keeps with each enrolment (summary.ts),
 * so a new record counts as soon as the processor has seen it; a period the summaries cannot
 * answer (before the stored range, or with rows still to be derived) is evaluated by the engine
 * over the enrolled residents' facts, as the summaries would if they could.
 */
import type { Patient, Person } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import type { Database, Queryable } from '../../platform/db.js';
import { badRequest, notFound } from '../../platform/errors.js';
import { groupNames } from '../indicators/group-names.js';
import { parsePeriod } from '../indicators/period.js';
import type { AuditIn, Sql } from '../services.js';
import { keepCounts, summaryCounts } from './counts.js';
import { indicatorOn, indicatorsOn, type Indicator, type Programme } from './definition.js';
import { countIndicator, evaluateResident, followUpChain, judgedUntil, rate, type Counted, type Period } from './engine.js';
import type {
  DrillPage,
  DrillQuery,
  GroupBy,
  IndicatorDefinition,
  IndicatorQuery,
  ManualEnrolmentBody,
  ProgrammeIndicators,
  ProgrammeList,
  Registration,
  RegistryPage,
  RegistryQuery,
  RegistryStatusBody,
  ResidentDue,
  Worklist,
  WorklistQuery,
} from './schemas.js';
import {
  derivedSpan,
  contractTeams,
  enrolledCounts,
  knownResident,
  programmeResidents,
  refreshResidents,
  registrationOf,
  registryPage,
  residentEpisodes,
  residentItems,
  summariesCover,
  summaryDrill,
  type FollowUpDetail,
  upsertManualEnrolment,
  upsertStatus,
  worklistPage,
} from './store.js';
import { supersededItems } from './next-follow-up.js';
import { chainService, programmeMarks } from './summary.js';

export function programmeOf(programmes: Programme[], code: string): Programme {
  const p = programmes.find((x) => x.code === code);
  if (!p) throw notFound(`no programme "${code}" (known: ${programmes.map((x) => x.code).join(', ')})`);
  return p;
}

/** An indicator version as the API shows it: which definition (version, dates, source) produced a figure. */
const definition = (i: Indicator): IndicatorDefinition => ({
  code: i.code,
  version: i.version,
  effectiveFrom: i.effectiveFrom,
  effectiveTo: i.effectiveTo ?? null,
  name: i.name,
  numerator: i.numerator.text,
  denominator: i.denominator.text,
  source: i.source,
  target: i.target ?? null,
  targetSource: i.targetSource ?? null,
});

export async function listProgrammes(db: Sql, programmes: Programme[], asOf: string): Promise<ProgrammeList> {
  const counts = await enrolledCounts(db, asOf, programmes);
  const rows = programmes.map((p) => ({
    code: p.code,
    name: p.name,
    source: p.source,
    enrolled: counts.get(p.code) ?? 0,
    versions: p.versions.map((v) => ({
      version: v.version,
      effectiveFrom: v.effectiveFrom,
      effectiveTo: v.effectiveTo ?? null,
      source: v.source,
      cycle: v.schedule.cycle,
      managed: v.managed.name,
      items: v.schedule.items.map((it) => ({
        code: it.code,
        name: it.name,
        service: it.service,
        relativeTo: it.relativeTo,
        from: it.from,
        to: it.to,
        recommended: it.recommended ?? null,
      })),
    })),
    indicators: p.indicators.map(definition),
    flags: Object.entries(p.flags).map(([flag, f]) => ({ code: flag, name: f.name })),
  }));
  return { asOf, total: rows.length, rows };
}

export async function programmeWorklist(db: Sql, p: Programme, q: WorklistQuery, asOf: string): Promise<Worklist> {
  const page = await worklistPage(db, p, q, asOf, supersededItems([p]));
  return { programme: p.code, asOf, ...page } as Worklist;
}

export async function programmeRegistry(db: Sql, p: Programme, q: RegistryQuery, asOf: string): Promise<RegistryPage> {
  const page = await registryPage(db, p, q, asOf);
  return { programme: p.code, asOf, ...page } as RegistryPage;
}

/** The Patient ids behind a resident id: a Patient the programmes know, else a Patient or a Person (its linked Patients) in the store. */
async function patientsOf(db: Sql, repo: FhirRepository, id: string): Promise<string[]> {
  if (await knownResident(db, id)) return [id];
  try {
    return [((await repo.read('Patient', id)) as Patient).id!];
  } catch {
    try {
      const person = (await repo.read('Person', id)) as Person;
      const ids = (person.link ?? []).map((l) => l.target.reference ?? '').filter((r) => r.startsWith('Patient/'));
      if (ids.length) return ids.map((r) => r.slice('Patient/'.length));
    } catch {
      /* not a Person either */
    }
  }
  throw notFound(`resident '${id}' is neither a Patient nor a Person with linked Patients`);
}

/** A resident's items across programmes (a Person id gathers the items of each of its Patient records). */
export async function residentDueServices(
  deps: { db: Sql; repo: FhirRepository },
  programmes: Programme[],
  id: string,
  asOf: string,
  aheadDays: number,
  overdueWithinDays: number,
): Promise<ResidentDue> {
  const names = new Map(programmes.map((p) => [p.code, p.name]));
  const patients = await patientsOf(deps.db, deps.repo, id);
  const rows = (
    await residentItems(deps.db, patients, asOf, aheadDays, overdueWithinDays, {
      superseded: supersededItems(programmes),
      implicit: programmes,
    })
  )
    .filter((r) => names.has(r.programme))
    .map((r) => ({ ...r, programmeName: names.get(r.programme)! }));
  return { residentId: id, asOf, total: rows.length, rows };
}

/** node-postgres's call shape over the programmes' Sql, for the shared group names (they only run text with parameters). */
const asQueryable = (db: Sql): Queryable => ({
  query: ((text: string, params?: unknown[]) => db.query(text, params)) as Queryable['query'],
});

/** By team, the contract teams of everyone counted, on the judged end (store.ts contractTeams). */
async function teamsOf(db: Sql, groupBy: GroupBy, results: { rows: Counted[] }[], until: string): Promise<Map<string, string>> {
  if (groupBy !== 'team') return new Map();
  return contractTeams(db, [...new Set(results.flatMap((x) => x.rows.map((r) => r.person.patientId)))], until);
}

/** A counted resident's group; by team, from their contract team on the judged end (teams: contractTeams). */
const groupOf = (by: GroupBy, c: Counted, teams: Map<string, string>) =>
  by === 'total'
    ? 'total'
    : by === 'organization'
      ? (c.person.organizationId ?? '(none)')
      : by === 'team'
        ? (teams.get(c.person.patientId) ?? '(none)')
        : (c.person.areaCode?.slice(0, 9) ?? '(none)');

/** The area and organization a figure is limited to. */
type Filter = Pick<IndicatorQuery, 'area' | 'organization'>;

/** Force one way of evaluating (tests compare them); by default the summaries when they can answer. */
export type Via = 'summaries' | 'engine';

interface Tally {
  group: string;
  numerator: number;
  denominator: number;
}

/**
 * Whether the per-episode summaries answer a period (summary.ts): every resident derived with
 * them, the period inside the range the stored rows cover, and every criterion of the programme
 * expressible as a set of days. Otherwise the engine evaluates the enrolled residents' facts.
 */
async function summariesAnswer(db: Sql, p: Programme, from: string, until: string, via?: Via): Promise<boolean> {
  if (via) return via === 'summaries';
  if (!programmeMarks(p)) return false;
  return summariesCover(await derivedSpan(db), from, until);
}

/**
 * The engine at query time: every enrolled resident's facts read and evaluated for the period.
 * An entry age is judged on `today`, the day the stored rows are derived on, whatever asOf is asked.
 */
async function counted(db: Sql, p: Programme, q: Filter, indicators: Indicator[], period: Period, asOf: string, today: string) {
  const span = { from: period.from, until: period.to > asOf ? period.to : asOf };
  const residents = (await programmeResidents(db, p, { area: q.area, organization: q.organization }, span)).map((r) => ({
    person: r.person,
    episodes: evaluateResident(p, r.person, r.facts, asOf, period.from, today, r.registrations?.get(p.code)),
  }));
  return indicators.map((ind) => ({ ind, rows: countIndicator(p, ind, residents, period, asOf) }));
}

/** The indicators asked for, each in the version in force on the period's judged end (indicatorOn). */
function selectIndicators(p: Programme, list: string | undefined, until: string): Indicator[] {
  const all = indicatorsOn(p, until);
  if (!list) return all;
  const wanted = list.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.some((i) => i.code === w));
  if (unknown.length) throw badRequest(`indicator: unknown ${unknown.join(', ')} (known: ${all.map((i) => i.code).join(', ')})`);
  return all.filter((i) => wanted.includes(i.code));
}

/** Numerators and denominators by group: SQL aggregates over the summaries, or the engine when they cannot answer. */
async function tallies(
  db: Sql,
  p: Programme,
  q: Filter,
  indicators: Indicator[],
  period: Period,
  asOf: string,
  groupBy: GroupBy,
  today: string,
  via?: Via,
) {
  const until = judgedUntil(period, asOf);
  if (await summariesAnswer(db, p, period.from, until, via))
    return summaryCounts(db, p, indicators, { from: period.from, until, asOf, area: q.area, organization: q.organization, groupBy });
  const out = new Map<string, Tally[]>();
  const results = await counted(db, p, q, indicators, period, asOf, today);
  const teams = await teamsOf(db, groupBy, results, until);
  for (const { ind, rows } of results) {
    const groups = new Map<string, Tally>();
    for (const r of rows) {
      const key = groupOf(groupBy, r, teams);
      const g = groups.get(key) ?? { group: key, numerator: 0, denominator: 0 };
      g.denominator++;
      if (r.inNumerator) g.numerator++;
      groups.set(key, g);
    }
    out.set(ind.code, [...groups.values()]);
  }
  return out;
}

export async function programmeIndicators(
  db: Sql,
  p: Programme,
  q: IndicatorQuery,
  today: string,
  via?: Via,
): Promise<ProgrammeIndicators> {
  const groupBy = q.groupBy ?? 'total';
  const period = parsePeriod(q.period, today);
  const asOf = q.asOf ?? today;
  const indicators = selectIndicators(p, q.indicator, judgedUntil(period, asOf));
  const counts = await tallies(db, p, q, indicators, period, asOf, groupBy, today, via);
  const values = indicators.flatMap((ind) => {
    const target = ind.target ?? null;
    const groups = counts.get(ind.code) ?? [];
    if (ind.denominator.estimate !== undefined) {
      const n = groups.reduce((sum, g) => sum + g.numerator, 0);
      const value = rate(ind, n, ind.denominator.estimate);
      return [
        {
          indicator: ind.code,
          group: 'total',
          numerator: n,
          denominator: ind.denominator.estimate,
          value,
          target,
          meetsTarget: judge(value, target),
        },
      ];
    }
    const rows = groupBy === 'total' && !groups.length ? [{ group: 'total', numerator: 0, denominator: 0 }] : groups;
    return [...rows]
      .sort((a, b) => a.group.localeCompare(b.group))
      .map((g) => {
        const value = rate(ind, g.numerator, g.denominator);
        return {
          indicator: ind.code,
          group: g.group,
          numerator: g.numerator,
          denominator: g.denominator,
          value,
          target,
          meetsTarget: judge(value, target),
        };
      });
  });
  // Groups in words (a centre's, street's or team's name; 未分配 for none), as /api/indicators gives them.
  const names = await groupNames(
    asQueryable(db),
    groupBy === 'area' ? 'street' : groupBy,
    values.map((v) => v.group),
  );
  const named = values.map((v) => ({ ...v, groupName: v.group === 'total' ? '全区' : (names.get(v.group) ?? v.group) }));
  return { programme: p.code, period, asOf, groupBy, definitions: indicators.map(definition), values: named };
}

const judge = (value: number | null, target: number | null) => (value === null || target === null ? null : value >= target);

export async function indicatorDrillDown(db: Sql, p: Programme, code: string, q: DrillQuery, today: string, via?: Via): Promise<DrillPage> {
  const period = parsePeriod(q.period, today);
  const asOf = q.asOf ?? today;
  const until = judgedUntil(period, asOf);
  const ind = indicatorOn(p, code, until);
  if (!ind) throw notFound(`programme ${p.code} has no indicator "${code}"`);
  const used = { version: ind.version, source: ind.source };
  const groupBy = q.groupBy ?? 'total';
  if (await summariesAnswer(db, p, period.from, until, via)) {
    const page = await summaryDrill(db, p, ind, {
      from: period.from,
      until,
      asOf,
      area: q.area,
      organization: q.organization,
      groupBy,
      group: q.group,
      numerator: q.numerator === undefined ? undefined : q.numerator === 'true',
      limit: q.limit,
      offset: q.offset,
    });
    return { programme: p.code, indicator: code, ...used, period, ...page };
  }
  const results = await counted(db, p, q, [ind], period, asOf, today);
  const teams = await teamsOf(db, groupBy, results, until);
  const all = results[0]!.rows
    .filter((r) => !q.group || groupOf(groupBy, r, teams) === q.group)
    .filter((r) => q.numerator === undefined || r.inNumerator === (q.numerator === 'true'))
    .sort((a, b) => byCode(a.person.patientId, b.person.patientId) || byCode(a.episode.key, b.episode.key));
  const rows = all.slice(q.offset, q.offset + q.limit).map((r) => ({
    patientId: r.person.patientId,
    name: r.person.name,
    group: groupOf(groupBy, r, teams),
    episodeKey: r.episode.key,
    startOn: r.episode.start,
    endEventOn: r.episode.endEvent,
    inNumerator: r.inNumerator,
    delivered: Object.fromEntries(r.episode.items.filter((i) => i.deliveredRef).map((i) => [`${i.code}@${i.from}`, i.deliveredRef!])),
  }));
  return {
    programme: p.code,
    indicator: code,
    ...used,
    period,
    total: all.length,
    numerator: all.filter((r) => r.inNumerator).length,
    rows,
  };
}

/** Code-unit order, as the summaries' drill-down orders (COLLATE "C"). */
const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// ---- the same figures for chronic care's /api/indicators (indicators.ts) ------------------------

/** What /api/indicators asks of a programme: a period judged up to asOf, filters and a grouping. */
export interface FigureQuery {
  period: Period;
  asOf: string;
  area?: string;
  organization?: string;
  groupBy: GroupBy;
}

/**
 * Numerators and denominators of some of a programme's indicators by group (a group only where
 * the denominator has someone): the summaries' SQL aggregates, or the engine when they cannot
 * answer, exactly as the programme's own /indicators route counts them.
 */
export async function indicatorFigures(
  db: Sql,
  p: Programme,
  codes: string[],
  q: FigureQuery,
  today: string,
  via?: Via,
): Promise<Map<string, Tally[]>> {
  const indicators = selectIndicators(p, codes.join(','), judgedUntil(q.period, q.asOf));
  return tallies(db, p, { area: q.area, organization: q.organization }, indicators, q.period, q.asOf, q.groupBy, today, via);
}

export type { FollowUpDetail };

export interface FollowUpDrillQuery extends FigureQuery {
  group?: string;
  numerator?: boolean;
  limit: number;
  offset: number;
}

/** A drill-down row of a follow-up chain: the episode, whether it is in the numerator, and what chronic care's drill-down shows of it. */
export interface FollowUpDrillRow {
  patientId: string;
  name: string | null;
  group: string;
  episodeKey: string;
  inNumerator: boolean;
  detail: FollowUpDetail;
}

/** FollowUpDetail of an episode evaluated by the engine (the fallback: the same as the summaries give). */
function chainDetail(p: Programme, r: Counted, service: string, from: string, until: string): FollowUpDetail {
  const chain = followUpChain(p, r.episode, r.person.birthDate, service).filter((g) => g.date >= from && g.date <= until);
  const last = chain.at(-1);
  return {
    followUps: chain.length,
    allOnTime: chain.every((g) => g.onTime),
    controlled: last?.atTarget === true,
    lastFollowUp: last?.date ?? null,
  };
}

/**
 * The episodes behind a figure of a programme whose 规范管理 is a follow-up chain (hypertension,
 * diabetes), a page of them with the total and numerator, each with its follow-ups in the period,
 * whether all came on time, whether the last met its targets and its day. From the stored
 * summaries: two statements whatever the page's size, no engine run per resident; the engine only
 * when the summaries cannot answer the period (as for the figures).
 */
export async function followUpDrill(
  db: Sql,
  p: Programme,
  code: string,
  q: FollowUpDrillQuery,
  today: string,
  via?: Via,
): Promise<{ total: number; numerator: number; rows: FollowUpDrillRow[] }> {
  const service = chainService(p);
  if (!service) throw badRequest(`programme ${p.code} has no chain of follow-ups`);
  const { period, asOf, groupBy } = q;
  const until = judgedUntil(period, asOf);
  const ind = indicatorOn(p, code, until);
  if (!ind) throw notFound(`programme ${p.code} has no indicator "${code}"`);
  if (await summariesAnswer(db, p, period.from, until, via)) {
    const page = await summaryDrill(db, p, ind, { ...q, from: period.from, until, followUps: service, delivered: false });
    return {
      total: page.total,
      numerator: page.numerator,
      rows: page.rows.map((r) => ({
        patientId: r.patientId,
        name: r.name,
        group: r.group,
        episodeKey: r.episodeKey,
        inNumerator: r.inNumerator,
        detail: r.detail!,
      })),
    };
  }
  const results = await counted(db, p, { area: q.area, organization: q.organization }, [ind], period, asOf, today);
  const teams = await teamsOf(db, groupBy, results, until);
  const all = results[0]!.rows
    .filter((r) => q.group === undefined || groupOf(groupBy, r, teams) === q.group)
    .filter((r) => q.numerator === undefined || r.inNumerator === q.numerator)
    .sort((a, b) => byCode(a.person.patientId, b.person.patientId) || byCode(a.episode.key, b.episode.key));
  return {
    total: all.length,
    numerator: all.filter((r) => r.inNumerator).length,
    rows: all.slice(q.offset, q.offset + q.limit).map((r) => ({
      patientId: r.person.patientId,
      name: r.person.name,
      group: groupOf(groupBy, r, teams),
      episodeKey: r.episode.key,
      inNumerator: r.inNumerator,
      detail: chainDetail(p, r, service, period.from, until),
    })),
  };
}

// ---- what a doctor records by hand ---------------------------------------------------------------

interface RegistrationDeps {
  db: Pick<Database, 'query' | 'transaction'>;
  repo: FhirRepository;
}
/* Each write is audited in its own transaction (AuditIn: the route's user, subtype programme-enrolment or programme-status). */

const notAfterToday = (field: string, day: string, today: string) => {
  if (day > today) throw badRequest(`${field}: ${day} is in the future (today is ${today})`);
};

async function registrationAnswer(db: Sql, p: Programme, patientId: string, today: string): Promise<Registration> {
  const [reg, episodes] = [await registrationOf(db, p.code, patientId), await residentEpisodes(db, p, patientId, today)];
  return {
    programme: p.code,
    patientId,
    enrolledOn: reg?.enrolledOn ?? null,
    status: reg?.status ?? 'managed',
    statusOn: reg?.statusOn ?? null,
    statusReason: reg?.statusReason ?? null,
    episodes,
  };
}

/**
 * Enrols a resident in a programme by hand (chronic care's manual enrolment: no diagnosis record
 * needed), from `enrolledOn` (default today); an episode opened by a record takes precedence, as in
 * chronic care. Only a programme entered by a record (not by age) takes one. The resident's rows are
 * derived again at once.
 */
export async function enrolByHand(
  deps: RegistrationDeps,
  programmes: Programme[],
  p: Programme,
  b: ManualEnrolmentBody,
  today: string,
  audit: AuditIn,
): Promise<Registration> {
  if (p.entry.anchor !== 'fact') throw badRequest(`${p.code}: everyone of the age is enrolled (${p.name}); no enrolment by hand`);
  const enrolledOn = b.enrolledOn ?? today;
  notAfterToday('enrolledOn', enrolledOn, today);
  const patient = (await deps.repo.read('Patient', b.patientId)) as Patient;
  if (p.entry.gender && patient.gender !== p.entry.gender)
    throw badRequest(
      `${p.code} enrols ${p.entry.gender} residents only; Patient/${b.patientId} is ${patient.gender ?? 'of unknown gender'}`,
    );
  await deps.db.transaction(async (c) => {
    await upsertManualEnrolment(c, p.code, b.patientId, enrolledOn);
    await refreshResidents(c, [b.patientId], programmes, today, await keepCounts(c, programmes));
    await audit(c, [`Patient/${b.patientId}`, `programme/${p.code}?enrolledOn=${enrolledOn}`]);
  });
  return registrationAnswer(deps.db, p, b.patientId, today);
}

/**
 * Sets a resident's status in a programme: transferred (转出) or died (死亡) from `on` (default today)
 * ends the episode that day (out of every denominator from then on; the resident leaves the
 * worklist and the due services), managed undoes it. 404 when the resident is in neither the
 * programme's registry nor enrolled by hand.
 */
export async function setStatus(
  deps: RegistrationDeps,
  programmes: Programme[],
  p: Programme,
  patientId: string,
  b: RegistryStatusBody,
  today: string,
  audit: AuditIn,
): Promise<Registration> {
  const managed = b.status === 'managed';
  const on = managed ? null : (b.on ?? today);
  if (on) notAfterToday('on', on, today);
  if (managed && b.on) throw badRequest('on: a day goes with transferred or died, not with managed');
  const [reg, episodes] = [await registrationOf(deps.db, p.code, patientId), await residentEpisodes(deps.db, p, patientId, today)];
  if (!reg && !episodes.length) throw notFound(`${patientId} is not in the ${p.code} registry`);
  await deps.db.transaction(async (c) => {
    await upsertStatus(c, p.code, patientId, b.status, on, managed ? null : (b.reason ?? null));
    await refreshResidents(c, [patientId], programmes, today, await keepCounts(c, programmes));
    await audit(c, [`Patient/${patientId}`, `programme/${p.code}?status=${b.status}${on ? `&on=${on}` : ''}`]);
  });
  return registrationAnswer(deps.db, p, patientId, today);
}
