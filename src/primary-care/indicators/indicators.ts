/**
 * Public-health indicators with their exact definitions (rules.md §3, §4, contracts), grouped by
 * doctor, team, centre or street, for any period, each figure drillable to the residents behind it.
 * Hypertension's and diabetes's 规范管理率 and 控制率 come from the programme engine (issue #21:
 * programmes/service.ts, the hypertension and diabetes programmes' per-episode summaries), but for
 * the doctor and team groupings, which the programmes do not keep: those, contract and vaccine
 * coverage are set-based SQL over chronic care's tables.
 */
import type pg from 'pg';
import { badRequest, notFound } from '../../platform/errors.js';
import { ruleSetFor, type ChronicRuleSet } from '../chronic/rules.js';
import { childScheduleFor, type Schedules, addMonths } from '../immunization/schedule.js';
import { POPULATION_LABEL, populationsOf } from '../care/key-populations.js';
import { keyPopulationsOnSql } from '../care/store.js';
import type { GroupBy, IndicatorDefinition, IndicatorResident, IndicatorResidentsQuery, IndicatorValue, Period } from './schemas.js';
import { percentOf } from '../../shared/percent.js';
import { parsePeriod } from './period.js';
import { todayInChina } from '../../shared/dates.js';
import { loadProgrammes, type Programme } from '../programmes/definition.js';
import { followUpDrill, indicatorFigures, type FigureQuery, type Via } from '../programmes/service.js';

export type { GroupBy, IndicatorValue, Period };

type Q = Pick<pg.PoolClient, 'query'>;

export const INDICATORS: IndicatorDefinition[] = [
  ...(['htn', 'dm'] as const).flatMap((d) => {
    const n = d === 'htn' ? '高血压' : '2型糖尿病';
    return [
      {
        code: `${d}-standard-management`,
        name: `${n}患者规范管理率`,
        numerator: '期内随访不少于 4 次、且每次随访都按时（不晚于上次约定的下次随访日期，允许少量宽限天数）的患者数',
        denominator: '期内管理的患者数：在登记册中且期内至少随访 1 次',
        source:
          '国家基本公共卫生服务规范（第三版）；随访次数下限与宽限天数见规则集（config/chronic，minFollowUpsPerYear、onTimeToleranceDays）',
        target: 70,
        targetSource: '《中国防治慢性病中长期规划（2017—2025年）》：高血压、糖尿病患者规范管理率 2020 年 60%，2025 年 70%',
      },
      {
        code: `${d}-control`,
        name: d === 'htn' ? '高血压患者血压控制率' : '2型糖尿病患者血糖控制率',
        numerator: `期内最近一次随访${d === 'htn' ? '血压' : '血糖（空腹血糖，无则 HbA1c）'}达标（按随访日有效规则集的年龄/合并症目标）的患者数`,
        denominator: '期内管理的患者数：在登记册中且期内至少随访 1 次',
        source: 'rules.md §3 血压(血糖)控制率',
        target: null,
        targetSource: '无全国统一目标值，由区县卫生健康部门按年度设定',
      },
    ];
  }),
  {
    code: 'contract-coverage',
    name: '家庭医生签约覆盖率',
    numerator: '期末签约有效的在册存活居民数',
    denominator:
      '期末在册存活居民数（分重点人群：65 岁及以上老年人、0–6 岁儿童、慢病患者（在高血压或糖尿病登记册中）、孕产妇（期末处于妊娠或产褥期）、残疾人和特困家庭（由工作人员标记，期末有效））',
    source:
      '家庭医生签约服务；签约记为 FHIR EpisodeOfCare（状态有效、期间覆盖期末），妊娠按 SNOMED CT 77386006 或 ICD-10 Z33–Z35、O00–O48 判定，残疾与特困为 Flag（rules.md §6）',
    target: 30,
    targetSource: '《关于推进家庭医生签约服务的指导意见》（国医改办发〔2016〕1号）：签约服务覆盖率 30% 以上，重点人群 60% 以上',
  },
  {
    code: 'vaccine-coverage',
    name: '国家免疫规划疫苗接种率（按出生队列）',
    numerator: '队列中期末前已接种该剂次（含补种）的儿童数',
    denominator: '期内出生年份队列中，到期末（本年为今天）已到该剂次接种月龄的在册儿童数',
    source: 'rules.md §4; 国家免疫规划疫苗儿童免疫程序（版本随期末）',
    target: 90,
    targetSource: '国家免疫规划：以乡镇（街道）为单位适龄儿童国家免疫规划疫苗接种率保持在 90% 以上（《健康中国行动（2019—2030年）》）',
  },
];

const GROUP_SQL: Record<GroupBy, string> = {
  total: `'all'`,
  doctor: `coalesce(r.doctor_id, '(none)')`,
  team: `coalesce(r.team_id, '(none)')`,
  organization: `coalesce(r.organization_id, '(none)')`,
  street: `coalesce(substr(r.area_code, 1, 9), '(none)')`,
};

const pct = percentOf;

/** Chronic care's codes the programme engine answers: the programme and its indicator. */
export const ON_ENGINE: Record<string, { programme: 'hypertension' | 'diabetes'; indicator: string }> = {
  'htn-standard-management': { programme: 'hypertension', indicator: 'standard-management-rate' },
  'htn-control': { programme: 'hypertension', indicator: 'control-rate' },
  'dm-standard-management': { programme: 'diabetes', indicator: 'standard-management-rate' },
  'dm-control': { programme: 'diabetes', indicator: 'control-rate' },
};

/** The groupings the programmes keep (their name for each); doctor and team stay on chronic care's tables. */
const ENGINE_GROUP: Partial<Record<GroupBy, FigureQuery['groupBy']>> = { total: 'total', organization: 'organization', street: 'area' };
/** The programmes call the district 'total', chronic care 'all'. */
const groupFromEngine = (g: string) => (g === 'total' ? 'all' : g);
const groupToEngine = (by: GroupBy, g: string) => (by === 'total' && g === 'all' ? 'total' : g);

let programmes: Programme[] | undefined;
/** The programme of config/programmes/ behind a code (loaded once). */
function programmeFor(code: string): Programme {
  programmes ??= loadProgrammes();
  const name = ON_ENGINE[code]!.programme;
  const p = programmes.find((x) => x.code === name);
  if (!p) throw new Error(`config/programmes has no ${name} programme (needed by the indicator ${code})`);
  return p;
}

/** Whether the programme engine answers a code in a grouping (else chronic care's tables do). */
export const onEngine = (code: string, groupBy: GroupBy): boolean => !!ON_ENGINE[code] && !!ENGINE_GROUP[groupBy];

/** A filter as the programme engine takes it: judged up to asOf (today while the period runs). */
function figureQuery(f: IndicatorFilter, today: string): FigureQuery {
  return {
    period: f.period,
    asOf: f.asOf ?? (f.period.to < today ? f.period.to : today),
    area: f.area,
    organization: f.organization,
    groupBy: ENGINE_GROUP[f.groupBy]!,
  };
}

export interface IndicatorFilter {
  period: Period;
  groupBy: GroupBy;
  /** Area code prefix (street or community). */
  area?: string;
  organization?: string;
  /** The last day counted: the period's end, or today while the period runs (a dose due tomorrow is not yet missing). */
  asOf?: string;
  /** Tests only: force the programme engine's summaries or its evaluation at query time (default: the summaries when they can answer). */
  via?: Via;
}

function filters(f: IndicatorFilter, params: unknown[], alias = 'r'): string {
  let sql = '';
  if (f.area) {
    params.push(`${f.area}%`);
    sql += ` AND ${alias}.area_code LIKE $${params.length}`;
  }
  if (f.organization) {
    params.push(f.organization);
    sql += ` AND ${alias}.organization_id = $${params.length}`;
  }
  return sql;
}

/**
 * Per-patient rows of a chronic indicator (the drill-down), with the group each belongs to, from
 * chronic care's tables: what /api/indicators answers for the doctor and team groupings, and the
 * reference the programme engine's figures are tested against (chronic-district.test.ts).
 */
export async function chronicIndicatorPatients(client: Q, disease: 'htn' | 'dm', f: IndicatorFilter, sets: ChronicRuleSet[]) {
  const rules = ruleSetFor(sets, f.period.to);
  const params: unknown[] = [disease, f.period.from, f.period.to];
  const res = await client.query<{
    patient_id: string;
    grp: string;
    visits: number;
    all_on_time: boolean;
    latest_controlled: boolean | null;
    last_visit: string;
    name: string | null;
  }>(
    `WITH v AS (
       SELECT patient_id, count(*)::int AS visits, bool_and(on_time) AS all_on_time,
              (array_agg(controlled ORDER BY visit_date DESC, encounter_id DESC))[1] AS latest_controlled,
              to_char(max(visit_date), 'YYYY-MM-DD') AS last_visit
       FROM chronic_visit_eval WHERE disease = $1 AND visit_date BETWEEN $2 AND $3 GROUP BY patient_id)
     SELECT v.patient_id, ${GROUP_SQL[f.groupBy]} AS grp, v.visits, v.all_on_time, v.latest_controlled, v.last_visit, p.name
     FROM v JOIN chronic_registry r ON r.patient_id = v.patient_id AND r.disease = $1
     LEFT JOIN chronic_person p ON p.patient_id = v.patient_id
     WHERE true ${filters(f, params)}
     ORDER BY v.patient_id`,
    params,
  );
  return res.rows.map((r) => ({
    patientId: r.patient_id,
    name: r.name,
    group: r.grp,
    followUps: r.visits,
    allOnTime: r.all_on_time,
    standard: r.visits >= rules.followUp.minFollowUpsPerYear && r.all_on_time,
    controlled: r.latest_controlled === true,
    lastFollowUp: r.last_visit,
  }));
}

export async function contractCoveragePatients(client: Q, f: IndicatorFilter) {
  const params: unknown[] = [f.period.to];
  const group =
    f.groupBy === 'street'
      ? `coalesce(substr(r.area_code, 1, 9), '(none)')`
      : f.groupBy === 'organization'
        ? `coalesce(r.organization_id, '(none)')`
        : f.groupBy === 'team'
          ? `coalesce(c.team_id, '(none)')`
          : `'all'`;
  const res = await client.query<{
    patient_id: string;
    grp: string;
    contracted: boolean;
    age: number | null;
    chronic: boolean;
    name: string | null;
    pregnant: boolean | null;
    disabled: boolean | null;
    hardship: boolean | null;
  }>(
    `WITH kp AS (${keyPopulationsOnSql('$1')})
     SELECT r.patient_id, ${group} AS grp, c.patient_id IS NOT NULL AS contracted, r.name,
            extract(year FROM age($1::date, r.birth_date))::int AS age,
            EXISTS (SELECT 1 FROM chronic_registry g WHERE g.patient_id = r.patient_id) AS chronic,
            kp.pregnant, kp.disabled, kp.hardship
     FROM chronic_person r
     LEFT JOIN LATERAL (SELECT patient_id, team_id FROM care_contract k WHERE k.patient_id = r.patient_id AND k.status IN ('active', 'finished')
                          AND (k.start_on IS NULL OR k.start_on <= $1::date) AND (k.end_on IS NULL OR k.end_on >= $1::date) LIMIT 1) c ON true
     LEFT JOIN kp ON kp.patient_id = r.patient_id
     WHERE NOT r.deceased AND (r.birth_date IS NULL OR r.birth_date <= $1::date) ${filters(f, params)}`,
    params,
  );
  return res.rows.map((r) => ({
    patientId: r.patient_id,
    name: r.name,
    group: r.grp,
    contracted: r.contracted,
    populations: ['all', ...populationsOf(r)] as string[],
  }));
}

export async function vaccineCoveragePatients(client: Q, f: IndicatorFilter, schedules: Schedules) {
  const schedule = childScheduleFor(schedules, f.period.to);
  const params: unknown[] = [f.period.from, f.period.to];
  const group =
    f.groupBy === 'street'
      ? `coalesce(substr(r.area_code, 1, 9), '(none)')`
      : f.groupBy === 'organization'
        ? `coalesce(r.organization_id, '(none)')`
        : `'all'`;
  // Birth cohort: children born in the period's first year.
  const cohort = f.period.from.slice(0, 4);
  params[0] = `${cohort}-01-01`;
  params[1] = `${cohort}-12-31`;
  const until = f.asOf ?? f.period.to;
  params.push(until);
  const res = await client.query<{
    patient_id: string;
    grp: string;
    birth: string;
    name: string | null;
    doses: Record<string, string[]> | null;
  }>(
    `SELECT r.patient_id, ${group} AS grp, to_char(r.birth_date, 'YYYY-MM-DD') AS birth, r.name,
            (SELECT jsonb_object_agg(vaccine, dates) FROM (SELECT vaccine, array_agg(to_char(given_on, 'YYYY-MM-DD') ORDER BY given_on) AS dates FROM imm_dose d
               WHERE d.patient_id = r.patient_id AND d.given_on <= $3::date GROUP BY vaccine) x) AS doses
     FROM chronic_person r WHERE NOT r.deceased AND r.birth_date BETWEEN $1::date AND $2::date ${filters(f, params)}`,
    params,
  );
  const out: { patientId: string; name: string | null; group: string; dose: string; covered: boolean }[] = [];
  for (const r of res.rows) {
    for (const d of schedule.doses) {
      if (addMonths(r.birth, d.ageMonths) > until) continue;
      const counted = [d.vaccine, ...(schedule.vaccines[d.vaccine]?.alsoCounts ?? [])];
      const n = counted.reduce((s, v) => s + (r.doses?.[v]?.length ?? 0), 0);
      out.push({ patientId: r.patient_id, name: r.name, group: r.grp, dose: `${d.vaccine}-${d.dose}`, covered: n >= d.dose });
    }
  }
  return out;
}

/**
 * Values of every requested indicator, grouped: hypertension's and diabetes's from the programme
 * engine (programmes/service.ts indicatorFigures) but by doctor or team, the others from chronic
 * care's tables. The indicators' queries are independent: given a pool they run on separate
 * connections at once (PGlite's single connection serialises them).
 */
export async function computeIndicators(
  client: Q,
  codes: string[],
  f: IndicatorFilter,
  sets: ChronicRuleSet[],
  schedules: Schedules,
): Promise<IndicatorValue[]> {
  const out: IndicatorValue[] = [];
  const today = todayInChina();
  const tally = (indicator: string, rows: { group: string; hit: boolean; population?: string }[]) => {
    const m = new Map<string, { n: number; d: number; population?: string; group: string }>();
    for (const r of rows) {
      const k = `${r.group}\u0001${r.population ?? ''}`;
      const t = m.get(k) ?? { n: 0, d: 0, population: r.population, group: r.group };
      t.d++;
      if (r.hit) t.n++;
      m.set(k, t);
    }
    for (const t of [...m.values()].sort(
      (a, b) => a.group.localeCompare(b.group) || (a.population ?? '').localeCompare(b.population ?? ''),
    ))
      out.push({
        indicator,
        group: t.group,
        ...(t.population ? { population: t.population } : {}),
        numerator: t.n,
        denominator: t.d,
        value: pct(t.n, t.d),
      });
  };
  // Counts are aggregated in SQL (the drill-down functions above list the residents).
  const push = (indicator: string, group: string, n: number, d: number, population?: string) =>
    out.push({ indicator, group, ...(population ? { population } : {}), numerator: n, denominator: d, value: pct(n, d) });
  const chronicRates = async (disease: 'htn' | 'dm') => {
    const wantStd = codes.includes(`${disease}-standard-management`);
    const wantCtl = codes.includes(`${disease}-control`);
    if (!wantStd && !wantCtl) return;
    const wanted = [...(wantStd ? [`${disease}-standard-management`] : []), ...(wantCtl ? [`${disease}-control`] : [])];
    if (onEngine(wanted[0]!, f.groupBy)) {
      // The programme engine: one aggregate over the programme's per-episode summaries.
      const p = programmeFor(wanted[0]!);
      const figures = await indicatorFigures(
        client,
        p,
        wanted.map((c) => ON_ENGINE[c]!.indicator),
        figureQuery(f, today),
        today,
        f.via,
      );
      for (const code of wanted)
        for (const t of figures.get(ON_ENGINE[code]!.indicator) ?? []) push(code, groupFromEngine(t.group), t.numerator, t.denominator);
      return;
    }
    // Doctor and team: chronic care's registry knows them, the programmes do not.
    const rules = ruleSetFor(sets, f.period.to);
    const params: unknown[] = [disease, f.period.from, f.period.to, rules.followUp.minFollowUpsPerYear];
    const res = await client.query<{ grp: string; d: number; std: number; ctl: number }>(
      `WITH v AS (
         SELECT patient_id, count(*)::int AS visits, bool_and(on_time) AS all_on_time,
                (array_agg(controlled ORDER BY visit_date DESC, encounter_id DESC))[1] AS latest_controlled
         FROM chronic_visit_eval WHERE disease = $1 AND visit_date BETWEEN $2 AND $3 GROUP BY patient_id)
       SELECT ${GROUP_SQL[f.groupBy]} AS grp, count(*)::int AS d,
              count(*) FILTER (WHERE v.visits >= $4 AND v.all_on_time)::int AS std,
              count(*) FILTER (WHERE v.latest_controlled)::int AS ctl
       FROM v JOIN chronic_registry r ON r.patient_id = v.patient_id AND r.disease = $1
       WHERE true ${filters(f, params)}
       GROUP BY 1`,
      params,
    );
    for (const r of res.rows) if (wantStd) push(`${disease}-standard-management`, r.grp, r.std, r.d);
    for (const r of res.rows) if (wantCtl) push(`${disease}-control`, r.grp, r.ctl, r.d);
  };
  const contractCoverage = async () => {
    if (!codes.includes('contract-coverage')) return;
    const params: unknown[] = [f.period.to];
    const group =
      f.groupBy === 'street'
        ? `coalesce(substr(r.area_code, 1, 9), '(none)')`
        : f.groupBy === 'organization'
          ? `coalesce(r.organization_id, '(none)')`
          : f.groupBy === 'team'
            ? `coalesce(c.team_id, '(none)')`
            : `'all'`;
    const res = await client.query<Record<string, number> & { grp: string }>(
      `WITH c AS (SELECT DISTINCT ON (patient_id) patient_id, team_id FROM care_contract k
                  WHERE k.status IN ('active', 'finished') AND (k.start_on IS NULL OR k.start_on <= $1::date) AND (k.end_on IS NULL OR k.end_on >= $1::date)
                  ORDER BY patient_id, start_on DESC NULLS LAST),
            g AS (SELECT DISTINCT patient_id FROM chronic_registry),
            kp AS (${keyPopulationsOnSql('$1')}),
            x AS (SELECT ${group} AS grp, c.patient_id IS NOT NULL AS hit, extract(year FROM age($1::date, r.birth_date))::int AS age, g.patient_id IS NOT NULL AS chronic,
                         coalesce(kp.pregnant, false) AS pregnant, coalesce(kp.disabled, false) AS disabled, coalesce(kp.hardship, false) AS hardship
                  FROM chronic_person r LEFT JOIN c ON c.patient_id = r.patient_id LEFT JOIN g ON g.patient_id = r.patient_id LEFT JOIN kp ON kp.patient_id = r.patient_id
                  WHERE NOT r.deceased AND (r.birth_date IS NULL OR r.birth_date <= $1::date) ${filters(f, params)})
       SELECT grp, count(*)::int AS d_all, count(*) FILTER (WHERE hit)::int AS n_all,
              count(*) FILTER (WHERE age >= 65)::int AS d_elderly, count(*) FILTER (WHERE age >= 65 AND hit)::int AS n_elderly,
              count(*) FILTER (WHERE chronic)::int AS d_chronic, count(*) FILTER (WHERE chronic AND hit)::int AS n_chronic,
              count(*) FILTER (WHERE age <= 6)::int AS d_children, count(*) FILTER (WHERE age <= 6 AND hit)::int AS n_children,
              count(*) FILTER (WHERE pregnant)::int AS d_pregnant, count(*) FILTER (WHERE pregnant AND hit)::int AS n_pregnant,
              count(*) FILTER (WHERE disabled)::int AS d_disabled, count(*) FILTER (WHERE disabled AND hit)::int AS n_disabled,
              count(*) FILTER (WHERE hardship)::int AS d_hardship, count(*) FILTER (WHERE hardship AND hit)::int AS n_hardship
       FROM x GROUP BY grp`,
      params,
    );
    for (const r of res.rows)
      for (const population of ['all', 'children', 'chronic', 'disabled', 'elderly', 'hardship', 'pregnant'])
        if (r[`d_${population}`]! > 0) push('contract-coverage', r.grp, r[`n_${population}`]!, r[`d_${population}`]!, population);
  };
  const vaccineCoverage = async () => {
    if (!codes.includes('vaccine-coverage')) return;
    const rows = await vaccineCoveragePatients(client, f, schedules);
    tally(
      'vaccine-coverage',
      rows.map((r) => ({ group: r.group, population: r.dose, hit: r.covered })),
    );
  };
  await Promise.all([chronicRates('htn'), chronicRates('dm'), contractCoverage(), vaccineCoverage()]);
  // Populations in words: key populations, and doses as 卡介苗第1剂 (names from the schedule in force at the period's end).
  const vaccines = childScheduleFor(schedules, f.period.to).vaccines;
  for (const v of out) {
    if (!v.population) continue;
    if (v.indicator === 'contract-coverage') v.populationLabel = POPULATION_LABEL[v.population] ?? v.population;
    else if (v.indicator === 'vaccine-coverage') {
      const m = /^(.+)-(\d+)$/.exec(v.population);
      const name = m ? vaccines[m[1]!]?.name : undefined;
      v.populationLabel = m && name ? `${name}第${m[2]}剂` : v.population;
    }
  }
  // One order for every store and every timing: indicators in definition order, then group and population.
  const rank = (code: string) => INDICATORS.findIndex((i) => i.code === code);
  return out.sort(
    (a, b) =>
      rank(a.indicator) - rank(b.indicator) || a.group.localeCompare(b.group) || (a.population ?? '').localeCompare(b.population ?? ''),
  );
}

/** The filter of a request (period defaults to this year in China, groupBy to the total). */
export function indicatorFilter(
  q: { period?: string; area?: string; organization?: string; groupBy?: GroupBy },
  today: string,
): IndicatorFilter {
  const period = parsePeriod(q.period, today);
  return {
    period,
    groupBy: q.groupBy ?? 'total',
    area: q.area,
    organization: q.organization,
    asOf: period.to < today ? period.to : today,
  };
}

/** Definitions and values of some indicators (a comma list of codes; all when absent). */
export async function indicatorValues(
  client: Q,
  indicator: string | undefined,
  f: IndicatorFilter,
  sets: ChronicRuleSet[],
  schedules: Schedules,
): Promise<{ period: Period; groupBy: GroupBy; definitions: IndicatorDefinition[]; values: IndicatorValue[] }> {
  const codes = indicator ? indicator.split(',') : INDICATORS.map((i) => i.code);
  for (const c of codes)
    if (!INDICATORS.some((i) => i.code === c))
      throw badRequest(`indicator: unknown '${c}'; known: ${INDICATORS.map((i) => i.code).join(', ')}`);
  const values = await computeIndicators(client, codes, f, sets, schedules);
  return { period: f.period, groupBy: f.groupBy, definitions: INDICATORS.filter((i) => codes.includes(i.code)), values };
}

/**
 * Drill-down: the residents behind an indicator figure, a page of them (at most 5000 rows;
 * `total` counts all). Hypertension and diabetes by district, centre or street: the programme
 * engine's episodes with their details read off the stored summaries (followUpDrill: two
 * statements whatever the page's size).
 */
export async function indicatorResidents(
  client: Q,
  code: string,
  q: Pick<IndicatorResidentsQuery, 'group' | 'population' | 'numerator'> & { limit?: number; offset?: number },
  f: IndicatorFilter,
  sets: ChronicRuleSet[],
  schedules: Schedules,
): Promise<{ indicator: string; period: Period; total: number; numerator: number; rows: IndicatorResident[] }> {
  const limit = Math.min(q.limit ?? 5000, 5000);
  const offset = q.offset ?? 0;
  const m = /^(htn|dm)-(standard-management|control)$/.exec(code);
  if (m && onEngine(code, f.groupBy)) {
    const today = todayInChina();
    const page = await followUpDrill(
      client,
      programmeFor(code),
      ON_ENGINE[code]!.indicator,
      {
        ...figureQuery(f, today),
        group: q.group === undefined ? undefined : groupToEngine(f.groupBy, q.group),
        numerator: q.numerator === undefined ? undefined : q.numerator === 'true',
        limit,
        offset,
      },
      today,
      f.via,
    );
    return {
      indicator: code,
      period: f.period,
      total: page.total,
      numerator: page.numerator,
      rows: page.rows.map((r) => ({
        patientId: r.patientId,
        name: r.name,
        group: groupFromEngine(r.group),
        inNumerator: r.inNumerator,
        detail: { ...r.detail },
      })),
    };
  }
  let rows: IndicatorResident[];
  if (m) {
    const list = await chronicIndicatorPatients(client, m[1] as 'htn' | 'dm', f, sets);
    rows = list.map((r) => ({
      patientId: r.patientId,
      name: r.name,
      group: r.group,
      inNumerator: m[2] === 'control' ? r.controlled : r.standard,
      detail: { followUps: r.followUps, allOnTime: r.allOnTime, controlled: r.controlled, lastFollowUp: r.lastFollowUp },
    }));
  } else if (code === 'contract-coverage') {
    const list = await contractCoveragePatients(client, f);
    const pop = q.population ?? 'all';
    rows = list
      .filter((r) => r.populations.includes(pop))
      .map((r) => ({ patientId: r.patientId, name: r.name, group: r.group, inNumerator: r.contracted }));
  } else if (code === 'vaccine-coverage') {
    const list = await vaccineCoveragePatients(client, f, schedules);
    rows = list
      .filter((r) => !q.population || r.dose === q.population)
      .map((r) => ({ patientId: r.patientId, name: r.name, group: r.group, inNumerator: r.covered, detail: { dose: r.dose } }));
  } else throw notFound(`indicator '${code}' is unknown`);
  if (q.group) rows = rows.filter((r) => r.group === q.group);
  if (q.numerator === 'true') rows = rows.filter((r) => r.inNumerator);
  if (q.numerator === 'false') rows = rows.filter((r) => !r.inNumerator);
  return {
    indicator: code,
    period: f.period,
    total: rows.length,
    numerator: rows.filter((r) => r.inNumerator).length,
    rows: rows.slice(offset, offset + limit),
  };
}
