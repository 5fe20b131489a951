/**
 * The record in plain words (pure, no I/O): each clinical resource becomes one line a resident
 * can read — what, when, where — without codes. Codes are kept only as the reference.
 */
import type { CodeableConcept, Resource } from '@medplum/fhirtypes';
import type { RecordItem } from './schemas.js';

type Json = Record<string, unknown>;

export function conceptWords(c: CodeableConcept | undefined): string {
  if (!c) return '';
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code ?? '';
}

const dateOf = (v: unknown): string | null => (typeof v === 'string' && v.length >= 10 ? v.slice(0, 10) : null);
const display = (ref: unknown): string | null => {
  const r = ref as { display?: string } | undefined;
  return r?.display ?? null;
};

const ENCOUNTER_CLASS: Record<string, string> = {
  AMB: '门诊',
  IMP: '住院',
  EMER: '急诊',
  HH: '上门服务',
  VR: '线上问诊',
};

const STATUS_WORDS: Record<string, string> = {
  active: '进行中',
  completed: '已完成',
  finished: '已结束',
  resolved: '已好转',
  inactive: '已结束',
  'in-progress': '进行中',
  planned: '已计划',
  draft: '草稿',
};

function quantityWords(q: { value?: number; unit?: string; code?: string } | undefined): string {
  if (!q || q.value === undefined) return '';
  return `${q.value}${q.unit ? ` ${q.unit}` : q.code ? ` ${q.code}` : ''}`;
}

/** Whether an Observation was entered by the resident (performer is a Patient). */
export function isHomeReading(r: Resource): boolean {
  const perf = ((r as unknown as Json).performer as { reference?: string }[] | undefined) ?? [];
  return r.resourceType === 'Observation' && perf.some((p) => p.reference?.startsWith('Patient/'));
}

const FOLLOW_UP = /chronic-follow-up/;

/** One resource in words, or null for a type the portal does not show. */
export function describeForResident(r: Resource, place: (r: Resource) => string | null): RecordItem | null {
  const j = r as unknown as Json;
  const reference = `${r.resourceType}/${r.id}`;
  switch (r.resourceType) {
    case 'Encounter': {
      const cls = (j.class as { code?: string } | undefined)?.code ?? '';
      const type = conceptWords((j.type as CodeableConcept[] | undefined)?.[0]);
      const reason = conceptWords((j.reasonCode as CodeableConcept[] | undefined)?.[0]);
      const followUp = ((j.extension as { url?: string }[] | undefined) ?? []).some((e) => FOLLOW_UP.test(e.url ?? ''));
      const period = j.period as { start?: string } | undefined;
      return {
        kind: followUp || /随访|follow/i.test(type) ? 'follow-up' : 'visit',
        date: dateOf(period?.start),
        title: followUp ? '慢病随访' : `${ENCOUNTER_CLASS[cls] ?? '就诊'}${type ? `：${type}` : ''}`,
        detail: reason ? `就诊原因：${reason}` : '',
        place: place(r),
        reference,
      };
    }
    case 'Condition': {
      const status = conceptWords(j.clinicalStatus as CodeableConcept | undefined).toLowerCase();
      return {
        kind: 'diagnosis',
        date: dateOf(j.onsetDateTime) ?? dateOf(j.recordedDate),
        title: `诊断：${conceptWords(j.code as CodeableConcept) || '未注明'}`,
        detail: status ? `状态：${STATUS_WORDS[status] ?? status}` : '',
        place: place(r),
        reference,
      };
    }
    case 'Observation': {
      const name = conceptWords(j.code as CodeableConcept) || '检查结果';
      const comps = ((j.component as Json[] | undefined) ?? [])
        .map((c) => `${conceptWords(c.code as CodeableConcept)} ${quantityWords(c.valueQuantity as never)}`.trim())
        .filter(Boolean);
      const value =
        quantityWords(j.valueQuantity as never) ||
        conceptWords(j.valueCodeableConcept as CodeableConcept | undefined) ||
        (typeof j.valueString === 'string' ? j.valueString : '') ||
        comps.join('，');
      const flag = conceptWords((j.interpretation as CodeableConcept[] | undefined)?.[0]);
      const home = isHomeReading(r);
      return {
        kind: home ? 'home-reading' : 'result',
        date: dateOf(j.effectiveDateTime) ?? dateOf((j.effectivePeriod as Json | undefined)?.start) ?? dateOf(j.issued),
        title: home ? `自测：${name}` : `检查检验：${name}`,
        detail: [value, flag ? `（${flag}）` : ''].join(''),
        place: home ? null : place(r),
        reference,
      };
    }
    case 'DiagnosticReport':
      return {
        kind: 'result',
        date: dateOf(j.effectiveDateTime) ?? dateOf(j.issued),
        title: `检查报告：${conceptWords(j.code as CodeableConcept) || '报告'}`,
        detail: typeof j.conclusion === 'string' ? j.conclusion : '',
        place: place(r),
        reference,
      };
    case 'Immunization': {
      const lot = typeof j.lotNumber === 'string' ? `批号 ${j.lotNumber}` : '';
      const dose = (j.protocolApplied as { doseNumberPositiveInt?: number }[] | undefined)?.[0]?.doseNumberPositiveInt;
      return {
        kind: 'immunization',
        date: dateOf(j.occurrenceDateTime),
        title: `接种：${conceptWords(j.vaccineCode as CodeableConcept) || '疫苗'}${dose ? ` 第${dose}剂` : ''}`,
        detail: [j.status === 'completed' ? '已接种' : (STATUS_WORDS[String(j.status)] ?? ''), lot].filter(Boolean).join('，'),
        place: place(r),
        reference,
      };
    }
    case 'CarePlan': {
      const acts = ((j.activity as Json[] | undefined) ?? [])
        .map((a) => conceptWords((a.detail as Json | undefined)?.code as CodeableConcept | undefined))
        .filter(Boolean);
      return {
        kind: 'care-plan',
        date: dateOf((j.period as Json | undefined)?.start) ?? dateOf(j.created),
        title: `健康管理计划：${typeof j.title === 'string' ? j.title : conceptWords((j.category as CodeableConcept[] | undefined)?.[0]) || '计划'}`,
        detail: [STATUS_WORDS[String(j.status)] ?? '', acts.slice(0, 5).join('、')].filter(Boolean).join('；'),
        place: display(j.author) ?? place(r),
        reference,
      };
    }
    default:
      return null;
  }
}

/** The ISO week of a China-time date (YYYY-Www): one reminder per resident per week. */
export function isoWeek(date: string): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  const day = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - day + 3);
  const firstThursday = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  const week = 1 + Math.round(((d.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

export interface DueThing {
  key: string;
  residentName: string;
  title: string;
  dueDate: string | null;
  overdue: boolean;
}

/** One message for the week's due things (short enough for two SMS segments when it can be). */
export function reminderText(items: DueThing[]): string {
  const shown = items
    .slice(0, 4)
    .map((i) => `${i.residentName}${i.title}${i.dueDate ? `(${i.overdue ? '已逾期' : i.dueDate.slice(5)})` : ''}`);
  const more = items.length > shown.length ? `等${items.length}项` : '';
  return `【医防】您本周有${items.length}项健康服务待办：${shown.join('；')}${more}。请联系您的家庭医生预约。登录居民健康门户查看详情，可在门户中关闭提醒。`;
}
