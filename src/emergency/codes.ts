/** The emergency module's fixed vocabularies, with their Chinese names for screens and reports. */
export const TEAM_KINDS = ['epidemiology', 'testing', 'disinfection', 'medical'] as const;
export type TeamKind = (typeof TEAM_KINDS)[number];
export const TEAM_KIND_ZH: Record<TeamKind, string> = {
  epidemiology: '流调队',
  testing: '检测队',
  disinfection: '消杀队',
  medical: '医疗救治队',
};

export const MEMBER_ROLES = ['leader', 'deputy', 'member'] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const ITEM_CATEGORIES = ['ppe', 'test-kit', 'disinfectant', 'drug', 'other'] as const;
export type ItemCategory = (typeof ITEM_CATEGORIES)[number];

export const MOVEMENT_KINDS = ['receipt', 'issue', 'transfer-out', 'transfer-in'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/** Response levels, most severe first: I 特别重大, II 重大, III 较大, IV 一般. */
export const LEVELS = ['I', 'II', 'III', 'IV'] as const;
export type Level = (typeof LEVELS)[number];
export const levelNumber = (l: Level): number => LEVELS.indexOf(l) + 1;
export const levelOf = (n: number): Level => LEVELS[n - 1]!;
export const LEVEL_ZH: Record<Level, string> = { I: 'Ⅰ级（特别重大）', II: 'Ⅱ级（重大）', III: 'Ⅲ级（较大）', IV: 'Ⅳ级（一般）' };

export const DRILL_STEPS = ['alert', 'mobilise', 'investigation', 'specimen', 'result'] as const;
export type DrillStep = (typeof DRILL_STEPS)[number];
