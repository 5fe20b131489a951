/**
 * Indicators as people read them: each value's group in words (group-names.ts), and the same
 * figures as a file (xlsx, CSV or PDF) — one section per indicator with numerator, denominator,
 * rate and whether it meets the target, then the definitions with their sources.
 */
import type { Queryable } from '../../platform/db.js';
import { reportFile, type AnySection, type ReportFile, type ReportFormat, type ReportSection } from '../../shared/report-file.js';
import type { ChronicRuleSet } from '../chronic/rules.js';
import type { Schedules } from '../immunization/schedule.js';
import { groupNames } from './group-names.js';
import { indicatorValues, type IndicatorFilter } from './indicators.js';
import type { IndicatorDefinition, Indicators, IndicatorValue } from './schemas.js';

const GROUP_WORD: Record<IndicatorFilter['groupBy'], string> = {
  total: '全区',
  street: '街道',
  organization: '机构',
  team: '团队',
  doctor: '医生',
};

/** indicatorValues with every value's group named. */
export async function indicatorsInWords(
  db: Queryable,
  indicator: string | undefined,
  f: IndicatorFilter,
  sets: ChronicRuleSet[],
  schedules: Schedules,
): Promise<Indicators> {
  const r = await indicatorValues(db, indicator, f, sets, schedules);
  const names = await groupNames(
    db,
    f.groupBy,
    r.values.map((v) => v.group),
  );
  return { ...r, values: r.values.map((v) => ({ ...v, groupName: names.get(v.group) ?? v.group })) };
}

const MET_FILL = '#D9F7BE';
const BELOW_FILL = '#FFE7BA';

/** The indicators of a filter as a file: a section per indicator, then the definitions. */
export async function indicatorsFile(
  db: Queryable,
  indicator: string | undefined,
  f: IndicatorFilter,
  sets: ChronicRuleSet[],
  schedules: Schedules,
  format: ReportFormat,
): Promise<ReportFile> {
  const data = await indicatorsInWords(db, indicator, f, sets, schedules);
  const sections: AnySection[] = data.definitions.map((def) => valuesSection(def, data.values, f.groupBy));
  sections.push(definitionsSection(data.definitions));
  const scope = [f.area ? `地区 ${f.area}` : '', f.organization ? `机构 ${f.organization}` : ''].filter(Boolean).join('，');
  return reportFile(format, `医防指标（${data.period.label}，按${GROUP_WORD[f.groupBy]}）`, sections, {
    subtitle: [`统计期：${data.period.from} 至 ${data.period.to}`, ...(scope ? [scope] : [])],
  });
}

function valuesSection(
  def: IndicatorDefinition,
  all: IndicatorValue[],
  groupBy: IndicatorFilter['groupBy'],
): ReportSection<IndicatorValue> {
  const values = all.filter((v) => v.indicator === def.code);
  const meets = (v: IndicatorValue) => (v.value === null || def.target === null || v.population ? undefined : v.value >= def.target);
  return {
    heading: def.name,
    columns: [
      { header: GROUP_WORD[groupBy], value: (v) => v.groupName ?? v.group, width: 22 },
      ...(values.some((v) => v.population)
        ? [{ header: '人群/剂次', value: (v: IndicatorValue) => v.populationLabel ?? v.population, width: 18 }]
        : []),
      { header: '分子', value: (v) => v.numerator, width: 8 },
      { header: '分母', value: (v) => v.denominator, width: 8 },
      {
        header: '率（%）',
        value: (v) => v.value,
        width: 8,
        fill: (v) => {
          const m = meets(v);
          return m === undefined ? undefined : m ? MET_FILL : BELOW_FILL;
        },
      },
      {
        header: '是否达标',
        value: (v) => {
          const m = meets(v);
          return m === undefined ? '' : m ? '达标' : '未达标';
        },
        width: 8,
      },
    ],
    rows: values,
    note: `分子：${def.numerator}；分母：${def.denominator}；目标：${def.target === null ? '无全国统一目标值' : `≥ ${def.target}%`}。分母为 0 时率不计算。`,
  };
}

function definitionsSection(defs: IndicatorDefinition[]): ReportSection<IndicatorDefinition> {
  return {
    heading: '指标定义',
    columns: [
      { header: '指标', value: (d) => d.name, width: 18 },
      { header: '分子', value: (d) => d.numerator, width: 28 },
      { header: '分母', value: (d) => d.denominator, width: 28 },
      { header: '目标', value: (d) => (d.target === null ? '无全国统一目标值' : `≥ ${d.target}%`), width: 10 },
      { header: '目标来源', value: (d) => d.targetSource ?? '', width: 24 },
      { header: '依据', value: (d) => d.source, width: 24 },
    ],
    rows: defs,
  };
}
