/**
 * What the programme routes call: the programme list, worklists, registries, a resident's due
 * services across programmes, and indicators with their drill-down. Indicators are evaluated
 * at query time by the engine over the facts kept from the change log, so a new record counts
 * as soon as the processor has seen it.
 */
import type { Patient, Person } from '@medplum/fhirtypes';
import type { FhirRepository } from '../../fhir/repository.js';
import { badRequest, notFound } from '../../platform/errors.js';
import { parsePeriod } from '../indicators/indicators.js';
import type { Sql } from '../services.js';
import type { Indicator, Programme } from './definition.js';
import { countIndicator, evaluateResident, rate, type Counted } from './engine.js';
import type {
  DrillPage,
  DrillQuery,
  GroupBy,
  IndicatorDefinition,
  IndicatorQuery,
  ProgrammeIndicators,
  ProgrammeList,
  RegistryPage,
  RegistryQuery,
  ResidentDue,
  Worklist,
  WorklistQuery,
} from './schemas.js';
import { enrolledCounts, knownResident, programmeResidents, registryPage, residentItems, worklistPage } from './store.js';

export function programmeOf(programmes: Programme[], code: string): Programme {
  const p = programmes.find((x) => x.code === code);
  if (!p) throw notFound(`no programme "${code}" (known: ${programmes.map((x) => x.code).join(', ')})`);
  return p;
}

const definition = (i: Indicator): IndicatorDefinition => ({
  code: i.code,
  name: i.name,
  numerator: i.numerator.text,
  denominator: i.denominator.text,
  source: i.source,
  target: i.target ?? null,
  targetSource: i.targetSource ?? null,
});

export async function listProgrammes(db: Sql, programmes: Programme[], asOf: string): Promise<ProgrammeList> {
  const counts = await enrolledCounts(db, asOf);
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
  }));
  return { asOf, total: rows.length, rows };
}

export async function programmeWorklist(db: Sql, p: Programme, q: WorklistQuery, asOf: string): Promise<Worklist> {
  const page = await worklistPage(db, p.code, q, asOf);
  return { programme: p.code, asOf, ...page } as Worklist;
}

export async function programmeRegistry(db: Sql, p: Programme, q: RegistryQuery, asOf: string): Promise<RegistryPage> {
  const page = await registryPage(db, p.code, q, asOf);
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
  const rows = (await residentItems(deps.db, patients, asOf, aheadDays, overdueWithinDays))
    .filter((r) => names.has(r.programme))
    .map((r) => ({ ...r, programmeName: names.get(r.programme)! }));
  return { residentId: id, asOf, total: rows.length, rows };
}

const groupOf = (by: GroupBy, c: Counted) =>
  by === 'total' ? 'total' : by === 'organization' ? (c.person.organizationId ?? '(none)') : (c.person.areaCode?.slice(0, 9) ?? '(none)');

async function counted(db: Sql, p: Programme, q: IndicatorQuery, today: string, only?: string) {
  const period = parsePeriod(q.period, today);
  const asOf = q.asOf ?? today;
  const indicators = only ? p.indicators.filter((i) => i.code === only) : selectIndicators(p, q.indicator);
  const residents = (await programmeResidents(db, p.code, { area: q.area, organization: q.organization })).map((r) => ({
    person: r.person,
    episodes: evaluateResident(p, r.person, r.facts, asOf, period.from),
  }));
  return { period, asOf, indicators, results: indicators.map((ind) => ({ ind, rows: countIndicator(p, ind, residents, period, asOf) })) };
}

function selectIndicators(p: Programme, list: string | undefined): Indicator[] {
  if (!list) return p.indicators;
  const wanted = list.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !p.indicators.some((i) => i.code === w));
  if (unknown.length) throw badRequest(`indicator: unknown ${unknown.join(', ')} (known: ${p.indicators.map((i) => i.code).join(', ')})`);
  return p.indicators.filter((i) => wanted.includes(i.code));
}

export async function programmeIndicators(db: Sql, p: Programme, q: IndicatorQuery, today: string): Promise<ProgrammeIndicators> {
  const groupBy = q.groupBy ?? 'total';
  const { period, asOf, indicators, results } = await counted(db, p, q, today);
  const values = results.flatMap(({ ind, rows }) => {
    const target = ind.target ?? null;
    if (ind.denominator.estimate !== undefined) {
      const n = rows.filter((r) => r.inNumerator).length;
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
    const groups = new Map<string, { n: number; d: number }>();
    if (groupBy === 'total') groups.set('total', { n: 0, d: 0 });
    for (const r of rows) {
      const g = groups.get(groupOf(groupBy, r)) ?? { n: 0, d: 0 };
      g.d++;
      if (r.inNumerator) g.n++;
      groups.set(groupOf(groupBy, r), g);
    }
    return [...groups]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([group, g]) => {
        const value = rate(ind, g.n, g.d);
        return { indicator: ind.code, group, numerator: g.n, denominator: g.d, value, target, meetsTarget: judge(value, target) };
      });
  });
  return { programme: p.code, period, asOf, groupBy, definitions: indicators.map(definition), values };
}

const judge = (value: number | null, target: number | null) => (value === null || target === null ? null : value >= target);

export async function indicatorDrillDown(db: Sql, p: Programme, code: string, q: DrillQuery, today: string): Promise<DrillPage> {
  if (!p.indicators.some((i) => i.code === code)) throw notFound(`programme ${p.code} has no indicator "${code}"`);
  const { period, results } = await counted(db, p, q, today, code);
  const groupBy = q.groupBy ?? 'total';
  const all = results[0]!.rows
    .filter((r) => !q.group || groupOf(groupBy, r) === q.group)
    .filter((r) => q.numerator === undefined || r.inNumerator === (q.numerator === 'true'))
    .sort((a, b) => a.person.patientId.localeCompare(b.person.patientId) || a.episode.key.localeCompare(b.episode.key));
  const rows = all.slice(q.offset, q.offset + q.limit).map((r) => ({
    patientId: r.person.patientId,
    name: r.person.name,
    group: groupOf(groupBy, r),
    episodeKey: r.episode.key,
    startOn: r.episode.start,
    endEventOn: r.episode.endEvent,
    inNumerator: r.inNumerator,
    delivered: Object.fromEntries(r.episode.items.filter((i) => i.deliveredRef).map((i) => [`${i.code}@${i.from}`, i.deliveredRef!])),
  }));
  return { programme: p.code, indicator: code, period, total: all.length, numerator: all.filter((r) => r.inNumerator).length, rows };
}
