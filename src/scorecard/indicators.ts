/**
 * The indicators a scorecard item may read, and how each is fetched per unit (institution or
 * street) for a period — only through other capabilities' index.ts exports:
 *  - primary care's `computeIndicators` (grouped by organization or street) for 规范管理率,
 *    控制率, 签约覆盖率 and 疫苗接种率;
 *  - surveillance's `reportingQualityByFacility` for the reporting-quality rates, per reporting
 *    facility; a street's figure sums the facilities the registry places in it.
 * Institutions are keyed by their registry code (a FHIR id 'org-<code>' is read as <code>);
 * streets by the first 9 digits of the 统计用区划代码.
 */
import type { Database } from '../platform/db.js';
import { computeIndicators, loadChronicConfig, type ChronicConfig } from '../primary-care/index.js';
import { placeAreas } from '../registry/index.js';
import { reportingQualityByFacility, type QualityPeriod, type ReportingQualityCode } from '../surveillance/index.js';
import { todayInChina } from '../shared/dates.js';

export type Level = 'institution' | 'street';

export interface CatalogueEntry {
  name: string;
  better: 'higher' | 'lower';
  provider: 'primary-care' | 'surveillance';
  /** What the provider calls it. */
  code: string;
  /** Where its definition lives. */
  definedBy: string;
}

const pc = (name: string, code: string): CatalogueEntry => ({
  name,
  better: 'higher',
  provider: 'primary-care',
  code,
  definedBy: 'src/primary-care/indicators/indicators.ts (INDICATORS)',
});
const rq = (name: string, code: ReportingQualityCode, better: 'higher' | 'lower'): CatalogueEntry => ({
  name,
  better,
  provider: 'surveillance',
  code,
  definedBy: 'src/surveillance/reporting/quality.ts (REPORTING_QUALITY_DEFINITIONS)',
});

export const INDICATOR_CATALOGUE: Record<string, CatalogueEntry> = {
  'htn-standard-management': pc('高血压患者规范管理率', 'htn-standard-management'),
  'htn-control': pc('高血压患者血压控制率', 'htn-control'),
  'dm-standard-management': pc('2型糖尿病患者规范管理率', 'dm-standard-management'),
  'dm-control': pc('2型糖尿病患者血糖控制率', 'dm-control'),
  'contract-coverage': pc('家庭医生签约覆盖率（全人群）', 'contract-coverage'),
  'vaccine-coverage': pc('国家免疫规划疫苗接种率（全部剂次合计）', 'vaccine-coverage'),
  'timely-reporting': rq('传染病及时报告率', 'timely-reporting', 'higher'),
  'card-completeness': rq('传染病报告卡完整率', 'card-completeness', 'higher'),
  'duplicate-cards': rq('传染病报告重卡率', 'duplicate-cards', 'lower'),
  'timely-review': rq('传染病报告审核及时率', 'timely-review', 'higher'),
  'corrected-cards': rq('传染病报告订正率', 'corrected-cards', 'lower'),
};

/** Numerator and denominator of one indicator for one unit. */
export interface UnitFigure {
  numerator: number;
  denominator: number;
}

/** indicator → unit code → figure. */
export type Figures = Map<string, Map<string, UnitFigure>>;

let chronic: ChronicConfig | undefined;

const orgCode = (key: string) => key.replace(/^Organization\//, '').replace(/^org-/, '');

function addTo(m: Map<string, UnitFigure>, unit: string, n: number, d: number): void {
  const f = m.get(unit) ?? { numerator: 0, denominator: 0 };
  f.numerator += n;
  f.denominator += d;
  m.set(unit, f);
}

/** Fetches the figures of these indicators for every unit of a level in a period. */
export async function fetchFigures(db: Database, indicators: string[], level: Level, period: QualityPeriod): Promise<Figures> {
  const out: Figures = new Map(indicators.map((i) => [i, new Map()]));
  const wanted = indicators.map((i) => ({ id: i, entry: INDICATOR_CATALOGUE[i]! }));
  const care = wanted.filter((w) => w.entry.provider === 'primary-care');
  const surv = wanted.filter((w) => w.entry.provider === 'surveillance');
  // Institutions come keyed as FHIR ids (primary care) or codes (report cards): one registry lookup maps both.
  const placed = new Map<string, { code: string; street: string | null }>();
  const place = async (keys: string[]) => {
    const rest = [...new Set(keys)].filter((k) => !placed.has(k));
    if (!rest.length) return;
    const found = await placeAreas(db.pool, [...rest, ...rest.map(orgCode)]);
    for (const k of rest) {
      const s = found.get(k) ?? found.get(orgCode(k));
      placed.set(k, { code: s?.code ?? orgCode(k), street: s?.streetCode ? s.streetCode.slice(0, 9) : null });
    }
  };
  if (care.length) {
    chronic ??= loadChronicConfig();
    const today = todayInChina();
    const values = await computeIndicators(
      db.pool,
      care.map((w) => w.entry.code),
      {
        period: { from: period.from, to: period.to, label: period.label },
        groupBy: level === 'institution' ? 'organization' : 'street',
        asOf: period.to < today ? period.to : today,
      },
      chronic.sets,
      chronic.schedules,
    );
    if (level === 'institution') await place(values.map((v) => v.group).filter((g) => g !== '(none)'));
    for (const w of care) {
      const m = out.get(w.id)!;
      for (const v of values) {
        if (v.indicator !== w.entry.code || v.group === '(none)') continue;
        // Contract coverage is given per key population: the item reads the whole population.
        if (w.entry.code === 'contract-coverage' && v.population !== 'all') continue;
        const unit = level === 'institution' ? placed.get(v.group)!.code : v.group.slice(0, 9);
        addTo(m, unit, v.numerator, v.denominator);
      }
    }
  }
  if (surv.length) {
    const rq = await reportingQualityByFacility(db.pool, period.label);
    await place(rq.facilities.map((f) => f.facility).filter(Boolean));
    for (const w of surv) {
      const m = out.get(w.id)!;
      for (const f of rq.facilities) {
        if (!f.facility) continue;
        const where = placed.get(f.facility)!;
        const unit = level === 'institution' ? where.code : where.street;
        if (!unit) continue;
        const r = f.rates.find((x) => x.code === w.entry.code)!;
        addTo(m, unit, r.numerator, r.denominator);
      }
    }
  }
  return out;
}
