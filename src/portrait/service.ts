/**
 * The street health portrait: per-street figures of one indicator (crude, age-standardised,
 * empirical-Bayes smoothed, the district's), a street's profile, and the residents behind a
 * cell — suppressed for roles outside the CDC by one rule (rates.ts).
 *
 * Every figure comes through another capability's public entry or the portrait's own table:
 *  - primary care's `computeIndicators` grouped by street (规范管理率, 控制率, 签约覆盖率, 疫苗接种率);
 *  - surveillance's `countedCardsPage` (counted report cards: disease, home area, birth date);
 *  - the registry's `areaFeatures` / `areaNames` (street boundaries and names);
 *  - the de-identified exports' `ageAt`, `streetOf`, `suppressSmallCells` (pure helpers);
 *  - portrait_resident (store.ts), the population by street, sex and age.
 */
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import { forbidden } from '../platform/errors.js';
import { computeIndicators, loadChronicConfig, type ChronicConfig } from '../primary-care/index.js';
import { areaFeatures, areaNames } from '../registry/index.js';
import { ageAt, streetOf, suppressSmallCells } from '../exports/index.js';
import { countedCardsPage, parseQualityPeriod, type CountedCard, type QualityPeriod } from '../surveillance/index.js';
import { addDays, chinaDateOf, todayInChina } from '../shared/dates.js';
import type { PortraitConfig } from './config.js';
import { bandOf, directStandardised, isSmall, marshallGlobalEb, rounded, suppressCells, type Stratum, type Suppression } from './rates.js';
import type {
  Cell,
  CellResidents,
  Figure,
  IndicatorInfo,
  PeriodView,
  PortraitIndicator,
  PortraitMap,
  ResidentsQuery,
  StreetCell,
  StreetProfile,
} from './schemas.js';
import { populationCounts, type PopulationCount } from './store.js';

const PER_100K = 100_000;

const NOT_AGE_SPECIFIC =
  'Crude and smoothed only: primary care exports per-street totals (computeIndicators), not counts by age, so a street cannot be age-standardised; ' +
  'and for a 管理率 or 控制率 among managed patients the usual practice is to compare crude rates.';

export const INDICATOR_INFO: Record<PortraitIndicator, IndicatorInfo> = {
  'infectious-incidence': {
    code: 'infectious-incidence',
    name: '法定传染病报告发病率（每10万人口）',
    unit: 'per-100000',
    provider: 'surveillance countedCardsPage; population: portrait_resident',
    standardised: true,
    note:
      'Counted report cards (submitted or reviewed, not duplicates) diagnosed in the period, by the home street on the card, per 100 000 living residents of the street at the period’s end; ' +
      'not annualised (a month is a month’s incidence). Age-standardised directly to the standard population; a case whose age is unknown leaves the standardised rate empty.',
  },
  'htn-standard-management': careInfo('htn-standard-management', '高血压患者规范管理率'),
  'htn-control': careInfo('htn-control', '高血压患者血压控制率'),
  'dm-standard-management': careInfo('dm-standard-management', '2型糖尿病患者规范管理率'),
  'dm-control': careInfo('dm-control', '2型糖尿病患者血糖控制率'),
  'contract-coverage': careInfo('contract-coverage', '家庭医生签约覆盖率（全人群）'),
  'vaccine-coverage': {
    ...careInfo('vaccine-coverage', '国家免疫规划疫苗接种率（全部剂次合计）'),
    note: 'Every dose of the birth cohort due by the period’s end, summed over doses (as the scorecard reads it); by birth cohort already, so not standardised.',
  },
};

function careInfo(code: PortraitIndicator, name: string): IndicatorInfo {
  return {
    code,
    name,
    unit: 'percent',
    provider: 'primary-care computeIndicators (groupBy street)',
    standardised: false,
    note: NOT_AGE_SPECIFIC,
  };
}

export function isCdc(user: Pick<AuthUser, 'roles'>, config: PortraitConfig): boolean {
  return user.roles.some((r) => config.cdcRoles.includes(r));
}

/** The period of a request: YYYY, YYYY-Qn or YYYY-MM; this year when absent. */
export function portraitPeriod(label: string | undefined, today = todayInChina()): QualityPeriod {
  return parseQualityPeriod(label ?? today.slice(0, 4), today);
}

const periodView = (p: QualityPeriod): PeriodView => ({ label: p.label, kind: p.kind, from: p.from, to: p.to });

let chronic: ChronicConfig | undefined;

/** Street (12 digits, …000) → numerator and denominator of a primary-care indicator. */
async function careFigures(
  db: Database,
  code: Exclude<PortraitIndicator, 'infectious-incidence'>,
  period: QualityPeriod,
  area?: string,
): Promise<Map<string, { numerator: number; denominator: number }>> {
  chronic ??= loadChronicConfig();
  const today = todayInChina();
  const values = await computeIndicators(
    db.pool,
    [code],
    {
      period: { from: period.from, to: period.to, label: period.label },
      groupBy: 'street',
      area,
      asOf: period.to < today ? period.to : today,
    },
    chronic.sets,
    chronic.schedules,
  );
  const out = new Map<string, { numerator: number; denominator: number }>();
  for (const v of values) {
    if (v.indicator !== code || v.group === '(none)') continue;
    if (code === 'contract-coverage' && v.population !== 'all') continue;
    const street = `${v.group.slice(0, 9)}000`;
    const f = out.get(street) ?? { numerator: 0, denominator: 0 };
    f.numerator += v.numerator;
    f.denominator += v.denominator;
    out.set(street, f);
  }
  return out;
}

/** A counted card as the portrait uses it. */
interface CaseRow {
  card: CountedCard;
  street: string;
  age: number | undefined;
  day: string;
}

/** Every counted card diagnosed from `from` to `to` (optionally one disease), with its street and age. */
async function cases(db: Database, from: string, to: string, disease?: string): Promise<CaseRow[]> {
  const out: CaseRow[] = [];
  let after: { diagnosedAt: string; id: string } | undefined;
  for (;;) {
    const page = await countedCardsPage(db.pool, { from, to, disease, after, limit: 5000 });
    for (const c of page) {
      const day = chinaDateOf(c.diagnosedAt);
      const street = streetOf(c.areaCode ?? c.card.address?.areaCode);
      const stated = c.card.age as { value: number; unit: string } | null | undefined;
      out.push({ card: c, street, day, age: ageAt(day, c.card.birthDate ?? null, stated) });
    }
    if (page.length < 5000) break;
    const last = page[page.length - 1]!;
    after = { diagnosedAt: last.diagnosedAt, id: last.id };
  }
  return out;
}

/** Living residents per street and standard age band at a date; index bands.length holds unknown ages. */
function populationStrata(counts: PopulationCount[], config: PortraitConfig): Map<string, number[]> {
  const bands = config.standardPopulation.bands;
  const out = new Map<string, number[]>();
  for (const c of counts) {
    const row = out.get(c.street) ?? new Array<number>(bands.length + 1).fill(0);
    const j = bandOf(c.age, bands);
    row[j < 0 ? bands.length : j]! += c.count;
    out.set(c.street, row);
  }
  return out;
}

interface RawCell {
  code: string;
  numerator: number;
  denominator: number;
  /** Age strata (events, population) for standardisation; null when the indicator has none. */
  strata: Stratum[] | null;
  /** Events whose age is unknown (the standardised rate is then not given). */
  unknownAgeEvents: number;
}

interface ComputedMap {
  info: IndicatorInfo;
  period: QualityPeriod;
  diseases: { key: string; name: string }[];
  raw: RawCell[];
  district: RawCell;
  suppression: { cells: Map<string, Suppression>; total: Suppression };
  smoothed: Map<string, number | null>;
  names: Map<string, string>;
  geography: PortraitMap['geography'];
  cases?: CaseRow[];
}

async function streetsOfRegistry(
  db: Database,
): Promise<{ codes: string[]; names: Map<string, string>; geography: PortraitMap['geography'] }> {
  const features = await areaFeatures(db.pool, 'street');
  const names = await areaNames(db.pool);
  return {
    codes: features.map((f) => f.code),
    names,
    geography: {
      type: 'FeatureCollection',
      features: features
        .filter((f) => f.boundary)
        .map((f) => ({ type: 'Feature' as const, properties: { code: f.code, name: f.name }, geometry: f.boundary! })),
    },
  };
}

/** Computes one indicator for every street (no masking: the caller masks by role). */
export async function computeMap(
  db: Database,
  config: PortraitConfig,
  q: { indicator: PortraitIndicator; period?: string; disease?: string },
): Promise<ComputedMap> {
  const period = portraitPeriod(q.period);
  const info = INDICATOR_INFO[q.indicator];
  const reg = await streetsOfRegistry(db);
  const streets = new Set(reg.codes);
  let raw: RawCell[];
  let diseases: { key: string; name: string }[] = [];
  let caseRows: CaseRow[] | undefined;
  const nBands = config.standardPopulation.bands.length;
  if (q.indicator === 'infectious-incidence') {
    const today = todayInChina();
    const on = period.to < today ? period.to : today;
    const [pop, all] = await Promise.all([populationCounts(db.pool, on), cases(db, period.from, period.to)]);
    const strata = populationStrata(pop, config);
    for (const s of strata.keys()) streets.add(s);
    const seen = new Map<string, string>();
    for (const c of all) seen.set(c.card.diseaseKey, c.card.diseaseName);
    diseases = [...seen].map(([key, name]) => ({ key, name })).sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    caseRows = all.filter((c) => (!q.disease || c.card.diseaseKey === q.disease) && c.street && streets.has(c.street));
    const events = new Map<string, number[]>();
    for (const c of caseRows) {
      const row = events.get(c.street) ?? new Array<number>(nBands + 1).fill(0);
      const j = bandOf(c.age, config.standardPopulation.bands);
      row[j < 0 ? nBands : j]! += 1;
      events.set(c.street, row);
    }
    raw = [...streets].sort().map((code) => {
      const p = strata.get(code) ?? new Array<number>(nBands + 1).fill(0);
      const e = events.get(code) ?? new Array<number>(nBands + 1).fill(0);
      return {
        code,
        numerator: e.reduce((a, b) => a + b, 0),
        denominator: p.reduce((a, b) => a + b, 0),
        strata: Array.from({ length: nBands }, (_, j) => ({ events: e[j]!, population: p[j]! })),
        unknownAgeEvents: e[nBands]!,
      };
    });
  } else {
    const figures = await careFigures(db, q.indicator, period);
    for (const s of figures.keys()) streets.add(s);
    raw = [...streets].sort().map((code) => {
      const f = figures.get(code) ?? { numerator: 0, denominator: 0 };
      return { code, numerator: f.numerator, denominator: f.denominator, strata: null, unknownAgeEvents: 0 };
    });
  }
  const district: RawCell = {
    code: 'district',
    numerator: raw.reduce((s, c) => s + c.numerator, 0),
    denominator: raw.reduce((s, c) => s + c.denominator, 0),
    strata: raw[0]?.strata
      ? Array.from({ length: nBands }, (_, j) => ({
          events: raw.reduce((s, c) => s + c.strata![j]!.events, 0),
          population: raw.reduce((s, c) => s + c.strata![j]!.population, 0),
        }))
      : null,
    unknownAgeEvents: raw.reduce((s, c) => s + c.unknownAgeEvents, 0),
  };
  const eb = marshallGlobalEb(raw.map((c) => ({ events: c.numerator, population: c.denominator })));
  const smoothed = new Map(raw.map((c, i) => [c.code, eb.smoothed[i] ?? null]));
  const suppression = suppressCells(
    raw.map((c) => ({ key: c.code, numerator: c.numerator, denominator: c.denominator })),
    config.minCell,
  );
  return { info, period, diseases, raw, district, suppression, smoothed, names: reg.names, geography: reg.geography, cases: caseRows };
}

function cellOf(c: RawCell, info: IndicatorInfo, config: PortraitConfig, smoothed: number | null, why: Suppression, cdc: boolean): Cell {
  const scale = info.unit === 'percent' ? 100 : PER_100K;
  const digits = info.unit === 'percent' ? 1 : 2;
  const hidden = !!why && !cdc;
  if (hidden)
    return { numerator: null, denominator: null, crude: null, standardised: null, smoothed: null, suppressed: true, suppression: why };
  const weights = config.standardPopulation.bands.map((b) => b.weight);
  const std = c.strata && c.unknownAgeEvents === 0 ? directStandardised(c.strata, weights, scale).rate : null;
  return {
    numerator: c.numerator,
    denominator: c.denominator,
    crude: c.denominator ? rounded((scale * c.numerator) / c.denominator, digits) : null,
    standardised: rounded(std, digits),
    smoothed: smoothed === null ? null : rounded(scale * smoothed, digits),
    // CDC roles see every value; the flag still says the cell would be hidden outside the CDC.
    suppressed: !!why,
    suppression: why,
  };
}

/** GET /api/portrait/map: one indicator per street, masked for the user's role. */
export async function portraitMap(
  db: Database,
  config: PortraitConfig,
  user: AuthUser,
  q: { indicator: PortraitIndicator; period?: string; disease?: string },
): Promise<PortraitMap> {
  const cdc = isCdc(user, config);
  const m = await computeMap(db, config, q);
  const streets: StreetCell[] = m.raw.map((c) => ({
    code: c.code,
    name: m.names.get(c.code) ?? null,
    ...cellOf(c, m.info, config, m.smoothed.get(c.code) ?? null, m.suppression.cells.get(c.code) ?? null, cdc),
  }));
  return {
    indicator: m.info,
    indicators: Object.values(INDICATOR_INFO),
    period: periodView(m.period),
    disease: q.indicator === 'infectious-incidence' ? (q.disease ?? null) : null,
    diseases: m.diseases,
    viewer: { cdc },
    minCell: config.minCell,
    standardPopulation: m.info.standardised ? { name: config.standardPopulation.name, source: config.standardPopulation.source } : null,
    district: cellOf(m.district, m.info, config, null, m.suppression.total, cdc),
    streets,
    geography: m.geography,
  };
}

/** The 12-digit street code of a request (9 digits are read as the street's …000). */
export const streetCode = (code: string) => (code.length === 9 ? `${code}000` : code);

/** GET /api/portrait/residents: the people behind one street's cell — CDC roles only. */
export async function cellResidents(db: Database, config: PortraitConfig, user: AuthUser, q: ResidentsQuery): Promise<CellResidents> {
  const cdc = isCdc(user, config);
  const street = streetCode(q.street);
  const m = await computeMap(db, config, q);
  const why = m.raw.some((c) => c.code === street) ? (m.suppression.cells.get(street) ?? null) : null;
  const base = { indicator: q.indicator, street, period: periodView(m.period) };
  if (!cdc) {
    // Outside the CDC a suppressed cell answers with its suppression and nobody in it.
    if (why)
      return {
        ...base,
        suppressed: true,
        total: null,
        residents: null,
        via: null,
        note: `少于 ${config.minCell} 人的单元格已抑制（${why}）`,
      };
    throw forbidden(`the residents behind a portrait cell are for the CDC's roles only (${config.cdcRoles.join(', ')})`);
  }
  if (q.indicator === 'infectious-incidence') {
    const rows = (m.cases ?? []).filter((c) => c.street === street);
    return {
      ...base,
      suppressed: false,
      total: rows.length,
      residents: rows.map((c) => ({
        patientId: c.card.patientId,
        name: (c.card.card.name as string | undefined) ?? null,
        sex: (c.card.card.sex as string | undefined) ?? null,
        age: c.age ?? null,
        disease: c.card.diseaseName,
        diagnosedOn: c.day,
      })),
      via: null,
      note: null,
    };
  }
  const p = m.period;
  const period = p.kind === 'year' ? p.label : `${p.from}/${p.to}`;
  return {
    ...base,
    suppressed: false,
    total: null,
    residents: null,
    via: `/api/indicators/${q.indicator}/residents?groupBy=street&group=${street.slice(0, 9)}&period=${encodeURIComponent(period)}${q.indicator === 'contract-coverage' ? '&population=all' : ''}`,
    note: 'Primary care does not export its drill-down (indicatorResidents) to other capabilities; its own route lists these residents under its own access rules.',
  };
}

const figure = (n: number, d: number, scale: number, digits: number, hide: boolean, small: boolean): Figure => ({
  numerator: hide ? null : n,
  denominator: hide ? null : d,
  value: hide || !d ? null : rounded((scale * n) / d, digits),
  suppressed: small,
});

const PROFILE_BANDS = [
  { from: 0, to: 6, label: '0-6' },
  { from: 7, to: 17, label: '7-17' },
  { from: 18, to: 34, label: '18-34' },
  { from: 35, to: 44, label: '35-44' },
  { from: 45, to: 54, label: '45-54' },
  { from: 55, to: 64, label: '55-64' },
  { from: 65, to: 74, label: '65-74' },
  { from: 75, to: null, label: '75+' },
];

const POPULATION_LABELS: Record<string, string> = {
  all: '全人群',
  elderly: '65岁及以上老年人',
  children: '0-6岁儿童',
  chronic: '慢病患者',
  pregnant: '孕产妇',
  disabled: '残疾人',
  hardship: '特困家庭',
};

/** GET /api/portrait/streets/:code: one street's population, programmes, burden and services. */
export async function streetProfile(
  db: Database,
  config: PortraitConfig,
  user: AuthUser,
  code: string,
  periodLabel: string | undefined,
): Promise<StreetProfile> {
  const cdc = isCdc(user, config);
  const street = streetCode(code);
  const period = portraitPeriod(periodLabel);
  const today = todayInChina();
  const on = period.to < today ? period.to : today;
  const hideIf = (small: boolean) => small && !cdc;
  const min = config.minCell;

  // Population: sex × age band with totals; small cells and their complements hidden together.
  const pop = await populationCounts(db.pool, on, street);
  const sexes = ['male', 'female', 'unknown'] as const;
  const grid = sexes.map(() => new Array<number>(PROFILE_BANDS.length).fill(0));
  let ageUnknown = 0;
  for (const c of pop) {
    const i = c.gender === 'male' ? 0 : c.gender === 'female' ? 1 : 2;
    const j = bandOf(c.age, PROFILE_BANDS);
    if (j < 0) ageUnknown += c.count;
    else grid[i]![j]! += c.count;
  }
  const table = suppressSmallCells({ counts: grid, rowTotals: true, columnTotals: true, grandTotal: true }, min);
  const onMap = await computeMap(db, config, { indicator: 'infectious-incidence', period: period.label });
  const streetHidden = !!onMap.suppression.cells.get(street) && !cdc;
  const hidePop = (v: number, s: boolean) => ((s && !cdc) || streetHidden ? null : v);
  const rowSums = grid.map((r) => r.reduce((a, b) => a + b, 0));
  const colSums = PROFILE_BANDS.map((_, j) => grid.reduce((a, r) => a + r[j]!, 0));
  const grand = rowSums.reduce((a, b) => a + b, 0);
  const popTotal = grand + ageUnknown;
  const population: StreetProfile['population'] = {
    on,
    bands: PROFILE_BANDS.map((b) => b.label),
    rows: sexes
      .map((sex, i) => ({
        sex,
        counts: grid[i]!.map((v, j) => hidePop(v, table.cells[i]![j]!)),
        total: hidePop(rowSums[i]!, table.rowTotals[i]!),
      }))
      .filter((r, i) => r.sex !== 'unknown' || rowSums[i]! > 0),
    totals: colSums.map((v, j) => hidePop(v, table.columnTotals[j]!)),
    total: hidePop(popTotal, table.grandTotal || isSmall(popTotal, min)),
    ageUnknown: hidePop(ageUnknown, isSmall(ageUnknown, min)),
    suppressed: table.primary + table.complementary > 0 || isSmall(ageUnknown, min) || !!onMap.suppression.cells.get(street),
  };

  // Programmes and services from primary care, for this street only.
  chronic ??= loadChronicConfig();
  const values = await computeIndicators(
    db.pool,
    ['htn-standard-management', 'htn-control', 'dm-standard-management', 'dm-control', 'contract-coverage', 'vaccine-coverage'],
    { period: { from: period.from, to: period.to, label: period.label }, groupBy: 'street', asOf: on },
    chronic.sets,
    chronic.schedules,
  );
  const mine = values.filter((v) => v.group === street.slice(0, 9));
  // A figure is hidden wherever the map of the same indicator hides the street (small, or the
  // complement of a small one): otherwise the profile and the map's district total together
  // would give the hidden cell back.
  const hiddenOnMap = (code: string, population?: string): boolean => {
    const per = new Map<string, { numerator: number; denominator: number }>();
    for (const v of values) {
      if (v.indicator !== code || v.group === '(none)') continue;
      if (population !== undefined && v.population !== population) continue;
      const f = per.get(v.group) ?? { numerator: 0, denominator: 0 };
      f.numerator += v.numerator;
      f.denominator += v.denominator;
      per.set(v.group, f);
    }
    return !!suppressCells(
      [...per].map(([key, f]) => ({ key, ...f })),
      min,
    ).cells.get(street.slice(0, 9));
  };
  const one = (code: string) => mine.find((v) => v.indicator === code) ?? { numerator: 0, denominator: 0 };
  const programmes = (['htn', 'dm'] as const).map((d) => {
    const std = one(`${d}-standard-management`);
    const ctl = one(`${d}-control`);
    const small = hiddenOnMap(`${d}-standard-management`) || hiddenOnMap(`${d}-control`);
    const hide = hideIf(small);
    return {
      disease: d,
      name: d === 'htn' ? '高血压' : '2型糖尿病',
      managed: hide ? null : std.denominator,
      standardManagement: figure(std.numerator, std.denominator, 100, 1, hide, small),
      control: figure(ctl.numerator, ctl.denominator, 100, 1, hide, small),
      suppressed: small,
    };
  });
  const contracts = mine
    .filter((v) => v.indicator === 'contract-coverage' && v.population)
    .map((v) => {
      const small = hiddenOnMap('contract-coverage', v.population);
      return {
        population: v.population!,
        label: POPULATION_LABELS[v.population!] ?? v.populationLabel ?? v.population!,
        ...figure(v.numerator, v.denominator, 100, 1, hideIf(small), small),
      };
    });
  const doses = mine.filter((v) => v.indicator === 'vaccine-coverage');
  const dn = doses.reduce((s, v) => s + v.numerator, 0);
  const dd = doses.reduce((s, v) => s + v.denominator, 0);
  const dosesSmall = hiddenOnMap('vaccine-coverage');

  // Infectious-disease burden: the last 12 months to the day, per 100 000 residents today.
  const to = today;
  const from = addDays(to, -364);
  const [burdenCases, allPop] = await Promise.all([cases(db, from, to), populationCounts(db.pool, to)]);
  const nowPop = allPop.filter((c) => c.street === street);
  const inStreet = burdenCases.filter((c) => c.street === street);
  const window = new Map<string, { numerator: number; denominator: number }>();
  for (const c of allPop) {
    const f = window.get(c.street) ?? { numerator: 0, denominator: 0 };
    f.denominator += c.count;
    window.set(c.street, f);
  }
  for (const c of burdenCases) {
    const f = window.get(c.street);
    if (f) f.numerator++;
  }
  const burdenHidden = !!suppressCells(
    [...window].map(([key, f]) => ({ key, ...f })),
    min,
  ).cells.get(street);
  const byDisease = new Map<string, { name: string; n: number }>();
  for (const c of inStreet) {
    const e = byDisease.get(c.card.diseaseKey) ?? { name: c.card.diseaseName, n: 0 };
    e.n++;
    byDisease.set(c.card.diseaseKey, e);
  }
  const diseaseList = [...byDisease].sort((a, b) => b[1].n - a[1].n || a[0].localeCompare(b[0]));
  const residents = nowPop.reduce((s, c) => s + c.count, 0);
  const col = diseaseList.length
    ? suppressSmallCells({ counts: diseaseList.map(([, e]) => [e.n]), rowTotals: false, columnTotals: true, grandTotal: false }, min)
    : null;
  const popSmall = isSmall(residents, min) || burdenHidden;
  const per = (n: number) => (residents ? rounded((PER_100K * n) / residents, 2) : null);
  const totalCases = inStreet.length;
  const totalSmall = (col ? col.columnTotals[0]! : false) || popSmall;
  const burden: StreetProfile['burden'] = {
    from,
    to,
    population: hideIf(popSmall) ? null : residents,
    diseases: diseaseList.map(([key, e], i) => {
      const small = col!.cells[i]![0]! || popSmall;
      return { key, name: e.name, cases: hideIf(small) ? null : e.n, per100k: hideIf(small) ? null : per(e.n), suppressed: small };
    }),
    total: figure(totalCases, residents, PER_100K, 2, hideIf(totalSmall), totalSmall),
  };

  const names = await areaNames(db.pool);
  return {
    code: street,
    name: names.get(street) ?? null,
    period: periodView(period),
    viewer: { cdc },
    minCell: min,
    population,
    programmes,
    burden,
    services: { contracts, vaccineDoses: figure(dn, dd, 100, 1, hideIf(dosesSmall), dosesSmall) },
    notExported: [
      'Registered (在册) patient counts per street: primary care exports only the managed count (the denominator of 规范管理率, at least one follow-up in the period).',
      'Follow-up counts per street: primary care exports no service counts; 期内管理 stands in.',
      'Rates by age band for primary-care indicators: computeIndicators returns per-street totals, so they are not age-standardised.',
    ],
  };
}
