/**
 * The 检测送检 screens' words: specimen states, clocked legs, scan steps (and which steps each
 * state allows, as the server's state machine does), results, results-back statuses, custody
 * flags; China time; and the server's refusals put into words (its own text kept beside them).
 */
import { chinaDateTimeOf } from '../../../src/shared/dates.js';
import { ApiError } from '../api/http.js';
import { getSession, userMay } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import type { SpecimenState, ScanStep } from './lab.resource.js';

export const STATES: SpecimenState[] = ['collected', 'in-transit', 'received', 'rejected', 'testing', 'resulted', 'verified', 'reported'];
export const stateLabel = (state: string): string =>
  ({
    collected: t('lab.state.collected', '已采样'),
    'in-transit': t('lab.state.inTransit', '转运中'),
    received: t('lab.state.received', '已接收'),
    rejected: t('lab.state.rejected', '已拒收'),
    testing: t('lab.state.testing', '检测中'),
    resulted: t('lab.state.resulted', '已出结果'),
    verified: t('lab.state.verified', '已审核'),
    reported: t('lab.state.reported', '已报告'),
  })[state] ?? t('lab.state.unknown', '未知状态');
export const STATE_COLOURS: Record<string, string> = {
  collected: 'blue',
  'in-transit': 'processing',
  received: 'cyan',
  rejected: 'red',
  testing: 'purple',
  resulted: 'gold',
  verified: 'green',
  reported: 'default',
};

export const legLabel = (leg: string | null | undefined): string =>
  leg
    ? ({
        'collection-receipt': t('lab.leg.collectionReceipt', '采样→接收'),
        'receipt-result': t('lab.leg.receiptResult', '接收→结果'),
        'result-report': t('lab.leg.resultReport', '结果→报告'),
      }[leg] ?? t('lab.leg.unknown', '未知环节'))
    : t('lab.leg.none', '无（不计时）');

export const stepLabel = (step: string): string =>
  ({
    collect: t('lab.step.collect', '采样'),
    ship: t('lab.step.ship', '送出（装箱转运）'),
    refer: t('lab.step.refer', '转送上级实验室'),
    receive: t('lab.step.receive', '接收'),
    test: t('lab.step.test', '开始检测'),
    result: t('lab.step.result', '录入结果'),
    verify: t('lab.step.verify', '审核结果'),
    report: t('lab.step.report', '报告送达'),
  })[step] ?? t('lab.step.unknown', '其他步骤');

/** The steps a specimen in a state may take next (the server's state machine, src/lab/machine.ts). */
export const NEXT_STEPS: Record<SpecimenState, ScanStep[]> = {
  collected: ['ship'],
  'in-transit': ['receive'],
  received: ['test', 'refer'],
  rejected: [],
  testing: ['result', 'refer'],
  resulted: ['verify'],
  verified: ['report'],
  reported: [],
};

export const interpretationLabel = (i: string | null | undefined): string =>
  i
    ? ({
        positive: t('lab.interp.positive', '阳性'),
        negative: t('lab.interp.negative', '阴性'),
        indeterminate: t('lab.interp.indeterminate', '不确定'),
      }[i] ?? t('lab.interp.other', '其他'))
    : '—';

export const modeLabel = (mode: string): string => (mode === 'emergency' ? t('lab.mode.emergency', '应急') : t('lab.mode.routine', '常态'));

export const outboxStatusLabel = (status: string): string =>
  ({
    pending: t('lab.outbox.pending', '待发送'),
    sending: t('lab.outbox.sending', '发送中'),
    delivered: t('lab.outbox.delivered', '已送达'),
    parked: t('lab.outbox.parked', '已搁置（需处理）'),
  })[status] ?? t('lab.outbox.unknown', '未知');
export const OUTBOX_COLOURS: Record<string, string> = { pending: 'blue', sending: 'processing', delivered: 'green', parked: 'red' };

export const flagLabel = (kind: string): string =>
  ({
    'no-receipt': t('lab.flag.noReceipt', '超时未接收'),
    'received-twice': t('lab.flag.receivedTwice', '重复接收'),
    temperature: t('lab.flag.temperature', '温度超范围'),
  })[kind] ?? t('lab.flag.other', '其他异常');

/** An instant in China time, 'YYYY-MM-DD HH:mm'. */
export const chinaTime = (iso: string | null | undefined): string => (iso ? chinaDateTimeOf(iso) : '—');

/** Hours in words: 1.5 小时, or — when not known. */
export const hours = (h: number | null | undefined): string => (h === null || h === undefined ? '—' : t('lab.hours', '{n} 小时', { n: h }));

/** How far a clock is from its deadline, in words: 剩余 2 小时 5 分 / 超时 40 分. */
export function clock(deadline: string | null | undefined, now = Date.now()): { text: string; late: boolean } {
  if (!deadline) return { text: '—', late: false };
  const ms = Date.parse(deadline) - now;
  const mins = Math.round(Math.abs(ms) / 60_000);
  const span =
    mins >= 60 ? t('lab.span.hm', '{h} 小时 {m} 分', { h: Math.floor(mins / 60), m: mins % 60 }) : t('lab.span.m', '{m} 分', { m: mins });
  return ms >= 0
    ? { text: t('lab.clock.left', '剩余 {span}', { span }), late: false }
    : { text: t('lab.clock.late', '超时 {span}', { span }), late: true };
}

/** A rate as a percentage, one decimal. */
export const percent = (r: number): string => `${Math.round(r * 1000) / 10}%`;

/** Whether the signed-in user may scan (fhir:write, as POST /api/lab/scan requires). */
export const mayScan = (): boolean => userMay(getSession()?.user, 'fhir:write');

/** The server's known refusals, said in words (its own sentence is kept beside). */
const KNOWN: [RegExp, () => string][] = [
  [/unknown barcode/, () => t('lab.why.unknownBarcode', '没有用这个条码采集过标本（请先“采样”）')],
  [/duplicate barcode/, () => t('lab.why.duplicate', '这个条码已用于另一份标本，请换新条码')],
  [/receipt before shipment/, () => t('lab.why.beforeShipment', '标本尚未送出，不能接收（请先“送出”）')],
  [/received twice/, () => t('lab.why.twice', '该标本已接收过，不能重复接收（已记录异常）')],
  [/was rejected at receipt/, () => t('lab.why.rejected', '标本已被拒收，不能再做任何步骤（请重新采样）')],
  [/^cannot \w+ specimen/, () => t('lab.why.notNow', '标本当前状态不允许这一步')],
  [/is in the future/, () => t('lab.why.future', '时间晚于当前时间')],
  [/last step/, () => t('lab.why.beforeLast', '时间早于该标本的上一步')],
  [/needs the reason/, () => t('lab.why.reason', '拒收必须填写原因')],
  [/no shipment \d/, () => t('lab.why.noShipment', '没有这个转运箱/批次')],
  [/is held by|is at lab|goes to|goes back to/, () => t('lab.why.unit', '扫码单位与标本当前所在单位或目的实验室不符')],
];

/**
 * The server's refusal in words: a leading sentence for the status, the reason in Chinese when
 * it is a known one, then the server's own text.
 */
export function refusal(e: unknown, words: Partial<Record<number, string>> = {}): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  const lead =
    words[e.status] ??
    {
      400: t('lab.err.400', '填写有误'),
      403: t('lab.err.403', '没有权限（该居民不在您的管理范围内，或角色不允许）'),
      404: t('lab.err.404', '未找到'),
      409: t('lab.err.409', '当前状态不允许这一步'),
      422: t('lab.err.422', '无法处理'),
    }[e.status] ??
    t('lab.err.other', '操作失败');
  const known = KNOWN.find(([re]) => re.test(e.message))?.[1]();
  return known ? `${lead}：${known}（${e.message}）` : `${lead}：${e.message}`;
}
