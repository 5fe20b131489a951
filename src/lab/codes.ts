/** The lab loop's words: modes, legs, specimen states and scan steps, with their Chinese labels. */
export const MODES = ['routine', 'emergency'] as const;
export type Mode = (typeof MODES)[number];
export const LEGS = ['collection-receipt', 'receipt-result', 'result-report'] as const;
export type Leg = (typeof LEGS)[number];
export const STATES = ['collected', 'in-transit', 'received', 'rejected', 'testing', 'resulted', 'verified', 'reported'] as const;
export type State = (typeof STATES)[number];
export const STEPS = ['collect', 'ship', 'receive', 'test', 'result', 'verify', 'report', 'refer'] as const;
export type Step = (typeof STEPS)[number];

export const STATE_ZH: Record<State, string> = {
  collected: '已采样',
  'in-transit': '转运中',
  received: '已接收',
  rejected: '已拒收',
  testing: '检测中',
  resulted: '已出结果',
  verified: '已审核',
  reported: '已报告',
};
export const LEG_ZH: Record<Leg, string> = {
  'collection-receipt': '采样→接收',
  'receipt-result': '接收→结果',
  'result-report': '结果→报告',
};
