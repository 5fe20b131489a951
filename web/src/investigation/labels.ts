/** The investigation screens' words: statuses, contact kinds, sources, diseases, China time and time left. */
import { t } from '../i18n/i18n.js';

export const statusLabel = (status: string): string =>
  ({
    open: t('inv.status.open', '待调查'),
    'in-progress': t('inv.status.inProgress', '调查中'),
    closed: t('inv.status.closed', '已结案'),
  })[status] ?? status;

export const STATUS_COLOURS: Record<string, string> = { open: 'gold', 'in-progress': 'processing', closed: 'default' };

export const kindLabel = (kind: string): string =>
  ({
    household: t('inv.kind.household', '同住'),
    room: t('inv.kind.room', '同病房'),
    ward: t('inv.kind.ward', '同病区'),
    department: t('inv.kind.department', '同科室'),
    'school-class': t('inv.kind.schoolClass', '同班级'),
    'care-home': t('inv.kind.careHome', '同机构'),
  })[kind] ?? kind;

export const sourceLabel = (source: string): string =>
  ({
    alert: t('inv.source.alert', '预警信号'),
    'report-card': t('inv.source.reportCard', '传染病报告卡'),
    manual: t('inv.source.manual', '手工新建'),
    contact: t('inv.source.contact', '密接转疑似'),
  })[source] ?? source;

export const classLabel = (cls: string): string =>
  ({
    A: t('inv.class.A', '甲类'),
    B: t('inv.class.B', '乙类'),
    C: t('inv.class.C', '丙类'),
    outbreak: t('inv.class.outbreak', '暴发疫情'),
  })[cls] ?? cls;

export const classificationLabel = (c: string): string =>
  ({
    suspected: t('inv.classification.suspected', '疑似病例'),
    clinical: t('inv.classification.clinical', '临床诊断病例'),
    confirmed: t('inv.classification.confirmed', '确诊病例'),
    excluded: t('inv.classification.excluded', '排除'),
  })[c] ?? c;

export const contactStatusLabel = (status: string): string =>
  ({
    monitoring: t('inv.contact.monitoring', '医学观察中'),
    ended: t('inv.contact.ended', '观察期满'),
    'became-case': t('inv.contact.becameCase', '已转为疑似病例'),
  })[status] ?? status;

export const candidateStatusLabel = (status: string): string =>
  ({
    proposed: t('inv.cand.proposed', '待确认'),
    confirmed: t('inv.cand.confirmed', '已确认为密接'),
    rejected: t('inv.cand.rejected', '已排除'),
  })[status] ?? status;

export const checkStatusLabel = (status: string): string =>
  ({
    overdue: t('inv.check.overdue', '逾期未查'),
    due: t('inv.check.due', '今日待查'),
    done: t('inv.check.done', '已完成'),
  })[status] ?? status;

/**
 * The diseases of config/investigation/rules.json (the server does not list its rules): the
 * key sent as diseaseCode and the name in words.
 */
export const DISEASES: { key: string; name: () => string; cls: string }[] = [
  { key: 'plague', name: () => t('inv.disease.plague', '鼠疫'), cls: 'A' },
  { key: 'cholera', name: () => t('inv.disease.cholera', '霍乱'), cls: 'A' },
  { key: 'covid19', name: () => t('inv.disease.covid19', '新型冠状病毒感染'), cls: 'B' },
  { key: 'measles', name: () => t('inv.disease.measles', '麻疹'), cls: 'B' },
  { key: 'dengue', name: () => t('inv.disease.dengue', '登革热'), cls: 'B' },
  { key: 'tuberculosis', name: () => t('inv.disease.tuberculosis', '肺结核'), cls: 'B' },
  { key: 'hfmd', name: () => t('inv.disease.hfmd', '手足口病'), cls: 'C' },
  { key: 'norovirus', name: () => t('inv.disease.norovirus', '诺如病毒感染性腹泻'), cls: 'C' },
  { key: 'ili-outbreak', name: () => t('inv.disease.iliOutbreak', '流感样病例暴发'), cls: 'outbreak' },
];

/** The disease in words: its name from the rules in the current language, else what the server sent. */
export function diseaseLabel(key: string, name: string): string {
  return DISEASES.find((d) => d.key === key)?.name() ?? name;
}

const CHINA_MS = 8 * 3600_000;

/** An instant in China time (UTC+8), 'YYYY-MM-DD HH:mm'; a plain date is shown as written. */
export function chinaTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms + CHINA_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The day in China (UTC+8) of an instant, 'YYYY-MM-DD'. */
export function chinaDay(iso: string | null | undefined): string {
  if (!iso) return '—';
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms + CHINA_MS).toISOString().slice(0, 10);
}

function span(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 60) return t('inv.span.minutes', '{n} 分钟', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest ? t('inv.span.hoursMinutes', '{h} 小时 {m} 分钟', { h: hours, m: rest }) : t('inv.span.hours', '{n} 小时', { n: hours });
  }
  return t('inv.span.days', '{n} 天', { n: Math.floor(hours / 24) });
}

/** Time left before a deadline, or how long it is overdue, in words. */
export function timeLeft(deadlineAt: string, closed: boolean, now: number = Date.now()): { text: string; overdue: boolean } {
  if (closed) return { text: t('inv.deadline.closed', '已结案'), overdue: false };
  const ms = Date.parse(deadlineAt) - now;
  return ms >= 0
    ? { text: t('inv.deadline.left', '剩余 {span}', { span: span(ms) }), overdue: false }
    : { text: t('inv.deadline.overdue', '已超时 {span}', { span: span(-ms) }), overdue: true };
}

/** Whole days from one YYYY-MM-DD to another. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}
