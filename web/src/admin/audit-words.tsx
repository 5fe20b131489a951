/**
 * The audit trail in words: actions, operations, purposes of use, flag kinds and the chain
 * verifier's findings, never the codes the server stores (R, everything, ETREAT, …).
 */
import { Tag } from 'antd';
import type { AuditFlag } from '../api/audit.resource.js';
import { t } from '../i18n/i18n.js';

export interface Choice {
  value: string;
  label: string;
}

/** AuditEvent.action: C, R, U, D, E. */
export function actionLabel(action: string | undefined): string {
  switch (action) {
    case 'C':
      return t('audit.action.C', '新建');
    case 'R':
      return t('audit.action.R', '查看');
    case 'U':
      return t('audit.action.U', '修改');
    case 'D':
      return t('audit.action.D', '删除');
    case 'E':
      return t('audit.action.E', '执行');
    default:
      return action ?? '';
  }
}

export function actionColor(action: string | undefined): string {
  return action === 'D' ? 'red' : action === 'U' ? 'orange' : action === 'C' ? 'green' : action === 'R' ? 'blue' : 'default';
}

export const actionChoices = (): Choice[] => ['R', 'C', 'U', 'D', 'E'].map((value) => ({ value, label: actionLabel(value) }));

/** Operation names the server writes as AuditEvent.subtype, in words. */
function subtypeWords(): Record<string, string> {
  return {
    login: t('audit.op.login', '登录'),
    logout: t('audit.op.logout', '退出登录'),
    read: t('audit.op.read', '查看记录'),
    vread: t('audit.op.vread', '查看历史版本'),
    search: t('audit.op.search', '查询'),
    everything: t('audit.op.everything', '调阅完整档案'),
    create: t('audit.op.create', '新建记录'),
    update: t('audit.op.update', '修改记录'),
    delete: t('audit.op.delete', '删除记录'),
    transaction: t('audit.op.transaction', '事务提交'),
    batch: t('audit.op.batch', '批量提交'),
    import: t('audit.op.import', '批量导入'),
    'history-instance': t('audit.op.history', '查看修改历史'),
    'history-type': t('audit.op.history', '查看修改历史'),
    'history-system': t('audit.op.history', '查看修改历史'),
    'password-change': t('audit.op.password-change', '修改密码'),
    'totp-enrol': t('audit.op.totp-enrol', '绑定双因素认证'),
    'user-list': t('audit.op.user-list', '查看用户列表'),
    'user-create': t('audit.op.user-create', '新建用户'),
    'user-update': t('audit.op.user-update', '修改用户'),
    'user-disable': t('audit.op.user-disable', '停用用户'),
    'user-enable': t('audit.op.user-enable', '启用用户'),
    'user-reset-password': t('audit.op.user-reset-password', '重置用户密码'),
    'user-reset-totp': t('audit.op.user-reset-totp', '解除双因素认证'),
    'access-denied': t('audit.op.access-denied', '超出授权范围（已拒绝）'),
    'break-glass': t('audit.op.break-glass', '申请紧急访问（破窗）'),
    'break-glass-review': t('audit.op.break-glass-review', '复核紧急访问'),
    export: t('audit.op.export', '导出数据'),
    'audit-review': t('audit.op.audit-review', '查阅审计记录'),
    'audit-write-refused': t('audit.op.audit-write-refused', '试图改写审计记录（已拒绝）'),
    'report-card-submit': t('audit.op.report-card-submit', '提交传染病报告卡'),
    'report-card-edit': t('audit.op.report-card-edit', '修改传染病报告卡'),
    'report-card-correct': t('audit.op.report-card-correct', '订正传染病报告卡'),
    'report-card-review': t('audit.op.report-card-review', '审核传染病报告卡'),
    'report-card-return': t('audit.op.report-card-return', '退回传染病报告卡'),
    'public-report': t('audit.op.public-report', '生成公开报告'),
    'alert-transition': t('audit.op.alert-transition', '处置预警信号'),
    'alert-comment': t('audit.op.alert-comment', '预警批注'),
    'identity-link': t('audit.op.identity-link', '关联居民身份'),
    'identity-unlink': t('audit.op.identity-unlink', '解除身份关联'),
    'identity-merge': t('audit.op.identity-merge', '合并居民身份'),
    'identity-undo': t('audit.op.identity-undo', '撤销身份操作'),
    'identity-review-reject': t('audit.op.identity-review-reject', '驳回身份核查'),
    'identity-fit-weights': t('audit.op.identity-fit-weights', '调整身份匹配权重'),
    'hl7-dead-letter-reprocess': t('audit.op.hl7-dead-letter-reprocess', '重新处理 HL7 死信'),
    'hl7-dead-letter-correct': t('audit.op.hl7-dead-letter-correct', '修正 HL7 死信'),
    'processor-replay': t('audit.op.processor-replay', '重新处理数据变更'),
    'processor-dead-letters': t('audit.op.processor-dead-letters', '查看数据处理失败记录'),
    'webhook-subscribe': t('audit.op.webhook-subscribe', '订阅数据推送'),
  };
}

export function subtypeLabel(code: string | undefined): string {
  if (!code) return '';
  return subtypeWords()[code] ?? code;
}

/** The operations offered in the filter (the common ones; others can be typed). */
export const subtypeChoices = (): Choice[] =>
  [
    'everything',
    'read',
    'search',
    'create',
    'update',
    'delete',
    'login',
    'import',
    'audit-review',
    'user-create',
    'report-card-submit',
  ].map((value) => ({ value, label: subtypeLabel(value) }));

/** Purposes of use (HL7 v3 ActReason codes), in words. */
function purposeWords(): Record<string, string> {
  return {
    TREAT: t('audit.purpose.TREAT', '治疗'),
    ETREAT: t('audit.purpose.ETREAT', '紧急治疗（破窗）'),
    BTG: t('audit.purpose.BTG', '紧急访问（破窗）'),
    DISASTER: t('audit.purpose.DISASTER', '灾害应急（破窗）'),
    THREAT: t('audit.purpose.THREAT', '公共安全威胁（破窗）'),
    PUBHLTH: t('audit.purpose.PUBHLTH', '公共卫生'),
    EPIINV: t('audit.purpose.EPIINV', '流行病学调查'),
    CAREMGT: t('audit.purpose.CAREMGT', '健康管理'),
    HOPERAT: t('audit.purpose.HOPERAT', '医疗机构运营'),
    HPAYMT: t('audit.purpose.HPAYMT', '医疗费用结算'),
    COVERAGE: t('audit.purpose.COVERAGE', '医保核查'),
    HRESCH: t('audit.purpose.HRESCH', '医学研究'),
    HQUALIMP: t('audit.purpose.HQUALIMP', '质量改进'),
    PATRQT: t('audit.purpose.PATRQT', '居民本人要求'),
    HDIRECT: t('audit.purpose.HDIRECT', '目录查询'),
    HLEGAL: t('audit.purpose.HLEGAL', '法律事务'),
    HSYSADMIN: t('audit.purpose.HSYSADMIN', '系统管理'),
  };
}

/** Emergency access codes (the server's BREAK_GLASS_CODES). */
export const BREAK_GLASS = ['ETREAT', 'BTG', 'DISASTER', 'THREAT'];

/** A purpose in words: by its code, or by a text that is itself a known code (EPIINV is stored as text). */
export function purposeLabel(code: string | undefined, text?: string): string {
  const words = purposeWords();
  const known = (code && words[code.toUpperCase()]) || (text && words[text.trim().toUpperCase()]);
  return known || text || code || '';
}

export const isBreakGlass = (code: string | undefined, text?: string) =>
  [code, text].some((c) => !!c && BREAK_GLASS.includes(c.trim().toUpperCase())) || /break.?glass|emergency|紧急/i.test(text ?? '');

/** Purpose choices of the filter. The value is the code in quotes: the server matches part of the stored purpose, and "TREAT" alone would also match ETREAT. */
export const purposeChoices = (): Choice[] =>
  ['TREAT', 'PUBHLTH', 'EPIINV', 'CAREMGT', 'ETREAT', 'BTG', 'HRESCH', 'HQUALIMP', 'PATRQT', 'HSYSADMIN'].map((code) => ({
    value: `"${code}"`,
    label: purposeLabel(code),
  }));

export function PurposeTag({ code, text }: { code?: string; text?: string }) {
  const label = purposeLabel(code, text);
  if (!label) return null;
  return isBreakGlass(code, text) ? <Tag color="red">{label}</Tag> : <span>{label}</span>;
}

/** FHIR resource types of the objects an event touched, in words. */
function typeWords(): Record<string, string> {
  return {
    Patient: t('audit.type.Patient', '居民档案'),
    Person: t('audit.type.Person', '居民身份'),
    Observation: t('audit.type.Observation', '检查检验'),
    Condition: t('audit.type.Condition', '诊断'),
    Encounter: t('audit.type.Encounter', '就诊'),
    Immunization: t('audit.type.Immunization', '预防接种'),
    MedicationRequest: t('audit.type.MedicationRequest', '处方'),
    MedicationStatement: t('audit.type.MedicationStatement', '用药记录'),
    Procedure: t('audit.type.Procedure', '诊疗操作'),
    CarePlan: t('audit.type.CarePlan', '管理计划'),
    ServiceRequest: t('audit.type.ServiceRequest', '转诊/检查申请'),
    QuestionnaireResponse: t('audit.type.QuestionnaireResponse', '随访/问卷'),
    Practitioner: t('audit.type.Practitioner', '医务人员'),
    Organization: t('audit.type.Organization', '机构'),
    Contract: t('audit.type.Contract', '签约'),
    AuditEvent: t('audit.type.AuditEvent', '审计记录'),
    Communication: t('audit.type.Communication', '通知'),
    EpisodeOfCare: t('audit.type.EpisodeOfCare', '签约服务'),
    DocumentReference: t('audit.type.DocumentReference', '文档'),
  };
}

/** Descriptions the server's own routes give the objects they touch, in words. */
/** The screens' API areas in words, for audit events that name an API request. */
const API_AREAS: Record<string, () => string> = {
  audit: () => t('audit.area.audit', '审计记录'),
  'data-quality': () => t('audit.area.data-quality', '数据质量'),
  terminology: () => t('audit.area.terminology', '术语映射'),
  chronic: () => t('audit.area.chronic', '慢病管理'),
  care: () => t('audit.area.care', '家庭医生服务'),
  alerts: () => t('audit.area.alerts', '预警信号'),
  'report-cards': () => t('audit.area.report-cards', '传染病报告卡'),
  residents: () => t('audit.area.residents', '居民档案'),
  indicators: () => t('audit.area.indicators', '指标'),
  investigations: () => t('audit.area.investigations', '流行病学调查'),
  lab: () => t('audit.area.lab', '检验标本'),
  registry: () => t('audit.area.registry', '机构与地点'),
  'hospital-feeds': () => t('audit.area.hospital-feeds', '医院数据上报'),
  feeds: () => t('audit.area.feeds', '监测数据上报'),
  users: () => t('audit.area.users', '用户管理'),
  identity: () => t('audit.area.identity', '身份核查'),
  surveillance: () => t('audit.area.surveillance', '传染病监测'),
  immunization: () => t('audit.area.immunization', '预防接种'),
  exports: () => t('audit.area.exports', '数据导出'),
  hl7: () => t('audit.area.hl7', 'HL7 消息'),
  'break-glass': () => t('audit.area.break-glass', '紧急访问'),
};

/** "GET /api/data-quality/facilities?…" → "数据质量（查看）"; the request itself stays in the event's details. */
export function apiRequestLabel(text: string): string | undefined {
  const m = /^(?:(GET|POST|PUT|PATCH|DELETE)\s+)?\/api\/([a-z0-9-]+)/.exec(text);
  if (!m) return undefined;
  const area = API_AREAS[m[2]!]?.() ?? t('audit.area.other', '系统功能');
  const verb = !m[1] || m[1] === 'GET' ? t('audit.verb.read', '查看') : t('audit.verb.change', '提交');
  return `${area}（${verb}）`;
}

function describedObject(object: string): string | undefined {
  const fixed: Record<string, () => string> = {
    'audit events': () => t('audit.object.auditEvents', '审计记录列表'),
    'audit events CSV export': () => t('audit.object.auditCsv', '审计记录导出（CSV）'),
    'audit flags': () => t('audit.object.auditFlags', '审计异常'),
    'audit chain verification': () => t('audit.object.auditVerify', '审计链校验'),
    'audit checkpoints export': () => t('audit.object.auditCheckpoints', '审计检查点导出'),
    'report cards': () => t('audit.object.reportCards', '传染病报告卡列表'),
    alerts: () => t('audit.object.alerts', '预警信号列表'),
    'break-glass reviews': () => t('audit.object.breakGlassReviews', '紧急访问复核'),
    'data-quality facilities': () => t('audit.object.dqFacilities', '各机构数据质量'),
    'data-quality issues': () => t('audit.object.dqIssues', '数据质量问题'),
    'data-quality records': () => t('audit.object.dqRecords', '数据质量明细记录'),
    'hospital feed dead letters': () => t('audit.object.feedDeadLetters', '医院上报待处理行'),
    'unmapped codes': () => t('audit.object.unmappedCodes', '未映射编码'),
  };
  if (fixed[object]) return fixed[object]!();
  let m = /^reads of Patient\/(.+)$/.exec(object);
  if (m) return t('audit.object.residentReads', '居民 {id} 的被查阅记录', { id: m[1]! });
  m = /^report card (\S+)$/.exec(object);
  if (m) return t('audit.object.reportCard', '传染病报告卡 {id}', { id: m[1]! });
  m = /^alert (\S+) cases$/.exec(object);
  if (m) return t('audit.object.alertCases', '预警信号 {id} 的病例', { id: m[1]! });
  m = /^alert (\S+)$/.exec(object);
  if (m) return t('audit.object.alert', '预警信号 {id}', { id: m[1]! });
  m = /^user:(.+)$/.exec(object);
  if (m) return t('audit.object.user', '用户 {name}', { name: m[1]! });
  return apiRequestLabel(object);
}

/** One object of an event in words: "检查检验 obs-1", "用户 admin", or the text as written. */
export function objectLabel(object: string): string {
  const ref = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]+)$/.exec(object);
  if (ref) {
    const word = typeWords()[ref[1]!];
    return word ? `${word} ${ref[2]}` : object;
  }
  return describedObject(object) ?? object;
}

/**
 * An event's objects for the list, in words: references grouped by type with their count
 * (机构 3 项), other objects as they are described; the ids stay in the event's details.
 */
export function objectsSummary(objects: string[]): string[] {
  const byType = new Map<string, number>();
  const out: string[] = [];
  for (const o of objects) {
    const ref = /^([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]+$/.exec(o);
    const word = ref ? typeWords()[ref[1]!] : undefined;
    if (word) byType.set(word, (byType.get(word) ?? 0) + 1);
    else out.push(objectLabel(o));
  }
  return [...[...byType].map(([word, n]) => t('audit.objectsOfType', '{type} {n} 项', { type: word, n })), ...out];
}

/** A search's query in words: "Organization?name=…" → 查询 机构; an API request → its area. */
export function queryLabel(query: string): string | undefined {
  const m = /^([A-Z][A-Za-z]+)\?/.exec(query);
  const word = m ? typeWords()[m[1]!] : undefined;
  if (word) return t('audit.searchOf', '查询 {type}', { type: word });
  return apiRequestLabel(query);
}

export function flagKindLabel(kind: AuditFlag['kind'] | string): string {
  switch (kind) {
    case 'many-residents':
      return t('audit.flag.many-residents', '单日调阅居民过多');
    case 'off-hours':
      return t('audit.flag.off-hours', '非工作时间调阅');
    case 'break-glass':
      return t('audit.flag.break-glass', '紧急访问（破窗）');
    default:
      return kind;
  }
}

export const flagKindColor = (kind: string) => (kind === 'break-glass' ? 'red' : kind === 'off-hours' ? 'purple' : 'orange');

/** A flag's explanation in words (the server's `detail` is English). */
export function flagDetail(kind: string, count: number, maxResidents: number, workingHours: string): string {
  switch (kind) {
    case 'many-residents':
      return t('audit.flagDetail.many-residents', '一天内调阅了 {n} 位居民的档案，超过上限 {max} 位', { n: count, max: maxResidents });
    case 'off-hours':
      return t('audit.flagDetail.off-hours', '在工作时间（{hours}）以外调阅居民档案 {n} 次', {
        n: count,
        hours: workingHours.replace(/\s*UTC\+8/, ''),
      });
    case 'break-glass':
      return t('audit.flagDetail.break-glass', '以紧急访问（破窗）方式调阅 {n} 次，须事后说明理由', { n: count });
    default:
      return '';
  }
}

/**
 * A finding of the chain verifier in words. The server states them in English; the known
 * sentences are put in the user's language, anything else is shown as written.
 */
export function problemLabel(problem: string): string {
  const rules: [RegExp, (m: RegExpExecArray) => string][] = [
    [
      /^the event at seq (\d+) was removed from the chain$/,
      (m) => t('audit.problem.removedOne', '序号 {seq} 的记录已从链中删除', { seq: m[1]! }),
    ],
    [
      /^the events at seq (\d+)–(\d+) were removed from the chain$/,
      (m) => t('audit.problem.removedMany', '序号 {from}–{to} 的记录已从链中删除', { from: m[1]!, to: m[2]! }),
    ],
    [/^its link to the previous event is broken/, () => t('audit.problem.prevHash', '与前一条记录的链接断开（前一条的哈希不符）')],
    [
      /^its link was made with another key \(([^,]+), this key is ([^)]+)\)$/,
      (m) => t('audit.problem.otherKey', '链接由另一密钥生成（{a}，当前密钥为 {b}）', { a: m[1]!, b: m[2]! }),
    ],
    [/^its HMAC does not match/, () => t('audit.problem.hmac', '链接校验码不符：链接在无密钥的情况下被改写')],
    [/^the AuditEvent was deleted from the store$/, () => t('audit.problem.deleted', '审计记录已被删除')],
    [
      /^the AuditEvent was changed \(it is at version (\d+)\)$/,
      (m) => t('audit.problem.changed', '审计记录已被修改（现为第 {v} 版）', { v: m[1]! }),
    ],
    [/^the AuditEvent content differs from what was chained$/, () => t('audit.problem.content', '审计记录的内容与入链时不同')],
    [
      /^the chain differs from the checkpoint at seq (\d+)/,
      (m) => t('audit.problem.checkpoint', '链与序号 {seq} 的签名检查点不符', { seq: m[1]! }),
    ],
    [
      /^checkpoint at seq (\d+) .*signature does not verify/,
      (m) => t('audit.problem.signature', '序号 {seq} 的检查点签名无法验证', { seq: m[1]! }),
    ],
    [
      /^checkpoint at seq (\d+) .*differs from the signed statement$/,
      (m) => t('audit.problem.statement', '序号 {seq} 的检查点与其签名内容不符', { seq: m[1]! }),
    ],
    [
      /^the chain ends at seq (\d+) but a checkpoint .* signed seq (\d+)/,
      (m) => t('audit.problem.truncated', '链止于序号 {end}，但检查点已签到序号 {seq}：链尾记录被删除', { end: m[1]!, seq: m[2]! }),
    ],
    [/^the chain head row is missing$/, () => t('audit.problem.noHead', '链头记录缺失')],
    [
      /^the chain head says seq (\d+) but the chain ends at seq (\d+)/,
      (m) => t('audit.problem.head', '链头为序号 {head}，链却止于序号 {end}：链尾记录被删除或链头被改写', { head: m[1]!, end: m[2]! }),
    ],
    [/^the AuditEvent is not in the chain/, () => t('audit.problem.outside', '审计记录不在链中（绕过审计日志写入）')],
    [/^the AuditEvent has a deletion in its history$/, () => t('audit.problem.deletedHistory', '审计记录的历史中有删除')],
    [
      /^the AuditEvent has a version (\d+) in its history$/,
      (m) => t('audit.problem.versionHistory', '审计记录的历史中有第 {v} 版', { v: m[1]! }),
    ],
  ];
  for (const [pattern, say] of rules) {
    const m = pattern.exec(problem);
    if (m) return say(m);
  }
  return problem;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant in the browser's time (China's, for the district) to the second: 2026-05-01 21:03:07. */
export function formatInstant(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
