/**
 * The 应急管理 screens' words: team kinds, member roles, certificate states, acknowledgement
 * states, response levels, reserve warnings, movements, drill steps; China time; and the
 * server's refusals put into words (its own text kept beside them).
 */
import { chinaDateTimeOf } from '../../../src/shared/dates.js';
import { ApiError } from '../api/http.js';
import { getSession, userMay } from '../api/session.js';
import { getLang, t } from '../i18n/i18n.js';
import type { ModeLevel, MobilisedMember } from './emergency.resource.js';

export const TEAM_KINDS = ['epidemiology', 'testing', 'disinfection', 'medical'] as const;
export const teamKindLabel = (kind: string): string =>
  ({
    epidemiology: t('em.kind.epidemiology', '流调队'),
    testing: t('em.kind.testing', '检测队'),
    disinfection: t('em.kind.disinfection', '消杀队'),
    medical: t('em.kind.medical', '医疗救治队'),
  })[kind] ?? kind;

export const roleLabel = (role: string): string =>
  ({
    leader: t('em.role.leader', '队长'),
    deputy: t('em.role.deputy', '副队长'),
    member: t('em.role.member', '队员'),
  })[role] ?? role;

export const certStateLabel = (state: string): string =>
  ({
    expired: t('em.cert.expired', '已过期'),
    expiring: t('em.cert.expiring', '即将到期'),
    valid: t('em.cert.valid', '有效'),
  })[state] ?? state;
export const CERT_COLOURS: Record<string, string> = { expired: 'red', expiring: 'orange', valid: 'green' };

export const trainingKindLabel = (kind: string): string =>
  ({ training: t('em.training.training', '培训'), certificate: t('em.training.certificate', '证书') })[kind] ?? kind;

/** A notified member's acknowledgement in words, with its colour. */
export function ackState(m: Pick<MobilisedMember, 'acknowledgedAt' | 'late' | 'overdue'>): { text: string; colour: string; key: string } {
  if (m.acknowledgedAt)
    return m.late
      ? { key: 'late', text: t('em.ack.late', '已确认（超时）'), colour: 'orange' }
      : { key: 'done', text: t('em.ack.done', '已确认'), colour: 'green' };
  return m.overdue
    ? { key: 'overdue', text: t('em.ack.overdue', '超时未确认'), colour: 'red' }
    : { key: 'pending', text: t('em.ack.pending', '待确认'), colour: 'processing' };
}

export const sourceKindLabel = (kind: string): string =>
  ({
    alert: t('em.source.alert', '预警信号'),
    investigation: t('em.source.investigation', '流行病学调查'),
    drill: t('em.source.drill', '演练'),
  })[kind] ?? kind;

export const LEVELS: ModeLevel[] = ['I', 'II', 'III', 'IV'];
export const levelLabel = (level: string | null | undefined): string =>
  level
    ? ((
        {
          I: t('em.level.I', 'Ⅰ级（特别重大）'),
          II: t('em.level.II', 'Ⅱ级（重大）'),
          III: t('em.level.III', 'Ⅲ级（较大）'),
          IV: t('em.level.IV', 'Ⅳ级（一般）'),
        } as Record<string, string>
      )[level] ?? level)
    : t('em.level.routine', '常态（平时）');
export const LEVEL_COLOURS: Record<string, string> = { I: 'red', II: 'orange', III: 'gold', IV: 'blue' };

/** Where a mode applies: the whole district, or an area code prefix in words. */
export const scopeLabel = (areaCode: string | null | undefined): string =>
  areaCode
    ? areaCode.length <= 6
      ? t('em.scope.district6', '区县 {code}', { code: areaCode })
      : areaCode.length <= 9
        ? t('em.scope.street', '街道 {code}', { code: areaCode })
        : t('em.scope.area', '区划 {code}', { code: areaCode })
    : t('em.scope.all', '全区');

export const categoryLabel = (category: string): string =>
  ({
    ppe: t('em.category.ppe', '防护用品'),
    'test-kit': t('em.category.testKit', '检测试剂'),
    disinfectant: t('em.category.disinfectant', '消杀药械'),
    drug: t('em.category.drug', '药品'),
    other: t('em.category.other', '其他'),
  })[category] ?? category;

export const movementLabel = (kind: string): string =>
  ({
    receipt: t('em.movement.receipt', '入库'),
    issue: t('em.movement.issue', '出库'),
    'transfer-out': t('em.movement.transferOut', '调出'),
    'transfer-in': t('em.movement.transferIn', '调入'),
  })[kind] ?? kind;

export const expiryLabel = (cls: string | null): string =>
  cls === 'expired'
    ? t('em.expiry.expired', '已过期')
    : cls === 'within-30'
      ? t('em.expiry.within30', '30 天内到期')
      : cls === 'within-90'
        ? t('em.expiry.within90', '90 天内到期')
        : t('em.expiry.ok', '有效');
export const EXPIRY_COLOURS: Record<string, string> = { expired: 'red', 'within-30': 'volcano', 'within-90': 'orange' };

export const warningKindLabel = (kind: string, window?: number | null): string =>
  kind === 'below-standard'
    ? t('em.warning.below', '低于储备标准')
    : kind === 'expired'
      ? t('em.warning.expired', '已过期')
      : window
        ? t('em.warning.nearN', '{n} 天内到期', { n: window })
        : t('em.warning.near', '临近到期');

export const stepLabel = (step: string): string =>
  ({
    alert: t('em.step.alert', '预警生成'),
    mobilise: t('em.step.mobilise', '队伍调动'),
    investigation: t('em.step.investigation', '流行病学调查'),
    specimen: t('em.step.specimen', '标本采集与送检'),
    result: t('em.step.result', '检测结果'),
  })[step] ?? step;

export const stepStatusLabel = (status: string): string =>
  ({
    done: t('em.stepStatus.done', '完成'),
    skipped: t('em.stepStatus.skipped', '跳过'),
    failed: t('em.stepStatus.failed', '失败'),
  })[status] ?? status;
export const STEP_COLOURS: Record<string, string> = { done: 'green', skipped: 'default', failed: 'red' };

export const drillStatusLabel = (status: string): string =>
  ({
    planned: t('em.drill.planned', '计划中'),
    running: t('em.drill.running', '进行中'),
    done: t('em.drill.done', '已完成'),
    failed: t('em.drill.failed', '未完成（有失败步骤）'),
  })[status] ?? status;
export const DRILL_COLOURS: Record<string, string> = { planned: 'blue', running: 'processing', done: 'green', failed: 'red' };

/**
 * Why a drill step was skipped or failed, in words: the server's reasons are English sentences,
 * the known ones are said in Chinese (the server's text stays for English and as a tooltip).
 */
export function stepReason(detail: string): string {
  if (getLang() === 'en') return detail;
  const module = /src\/(\w+)\/index\.ts exports no function/.exec(detail)?.[1];
  if (module)
    return t('em.reason.notDriven', '未执行：{module}模块尚未提供可供演练调用的功能（目前只能在其界面中操作）', {
      module: moduleLabel(module),
    });
  if (/surveillance module is not running/.test(detail)) return t('em.reason.noSurveillance', '本服务器未运行监测预警模块');
  if (/names no team/.test(detail)) return t('em.reason.noTeam', '演练未指定要调动的队伍');
  if (/no alert to mobilise/.test(detail)) return t('em.reason.noAlert', '预警步骤未产生预警，无从调动');
  return t('em.reason.other', '原因：{detail}', { detail });
}
const moduleLabel = (m: string): string =>
  ({ investigation: t('em.module.investigation', '流行病学调查'), lab: t('em.module.lab', '检验（采送检报）') })[m] ?? m;

/** An instant in China time, 'YYYY-MM-DD HH:mm'. */
export const chinaTime = (iso: string | null | undefined): string => (iso ? chinaDateTimeOf(iso) : '—');

/** An instant's clock time in China with seconds, 'HH:mm:ss' (drill steps last seconds). */
export const chinaClock = (iso: string | null | undefined): string =>
  iso ? new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(11, 19) : '—';

/** A duration in words: 850 毫秒, 12.3 秒, 4 分 5 秒, 2 小时 3 分. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return t('em.dur.ms', '{n} 毫秒', { n: Math.round(ms) });
  const s = ms / 1000;
  if (s < 60) return t('em.dur.s', '{n} 秒', { n: Math.round(s * 10) / 10 });
  const m = Math.floor(s / 60);
  if (m < 60) return t('em.dur.ms2', '{m} 分 {s} 秒', { m, s: Math.round(s - m * 60) });
  return t('em.dur.hm', '{h} 小时 {m} 分', { h: Math.floor(m / 60), m: m % 60 });
}

/** A quantity without float noise: up to 3 decimals, none when whole. */
export const qty = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : String(Math.round(n * 1000) / 1000));

/** Whether the signed-in user may change things here (surveillance:write). */
export const mayWrite = (): boolean => userMay(getSession()?.user, 'surveillance:write');

/** The signed-in user's username (the practitioner id a member is known by). */
export const myUsername = (): string | undefined => getSession()?.user.username;

/**
 * The server's refusal in words: a leading sentence for the status, then the server's own
 * reason. `what` names what was refused, for 409/422 the words of the caller.
 */
export function refusal(e: unknown, words: Partial<Record<number, string>> = {}): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  const lead =
    words[e.status] ??
    {
      400: t('em.err.400', '填写有误'),
      403: t('em.err.403', '没有权限'),
      404: t('em.err.404', '未找到'),
      409: t('em.err.409', '与当前状态冲突'),
      422: t('em.err.422', '无法处理'),
    }[e.status] ??
    t('em.err.other', '操作失败');
  return `${lead}：${e.message}`;
}

/**
 * An issue or transfer refused for short stock (409): what the server says is available, in words.
 * The server's sentence: "… refused: only 40 in unexpired stock (10 more expired, not issued); nothing was written".
 */
export function shortStock(e: unknown, uom = ''): string | undefined {
  if (!(e instanceof ApiError) || e.status !== 409) return undefined;
  const m = /only ([\d.]+) in unexpired stock(?: \(([\d.]+) more expired)?/.exec(e.message);
  if (!m) return undefined;
  return m[2]
    ? t('em.err.shortExpired', '库存不足：未过期库存仅 {available}{uom}（另有 {expired}{uom} 已过期，不能出库），未做任何变动', {
        available: m[1]!,
        expired: m[2],
        uom,
      })
    : t('em.err.short', '库存不足：未过期库存仅 {available}{uom}，未做任何变动', { available: m[1]!, uom });
}
