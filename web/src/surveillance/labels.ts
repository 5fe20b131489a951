/** Display names and colours for alert levels, statuses and sources. */
import { t } from '../i18n/i18n.js';

export const LEVEL_COLOURS: Record<string, string> = { red: '#cf1322', orange: '#fa8c16', yellow: '#fadb14', blue: '#1677ff' };
export const levelLabel = (level: string) =>
  ({
    red: t('surv.level.red', '红色'),
    orange: t('surv.level.orange', '橙色'),
    yellow: t('surv.level.yellow', '黄色'),
    blue: t('surv.level.blue', '蓝色'),
  })[level] ?? level;
export const statusLabel = (status: string) =>
  ({
    new: t('surv.status.new', '新预警'),
    triage: t('surv.status.triage', '研判中'),
    dismissed: t('surv.status.dismissed', '已排除'),
    suspected: t('surv.status.suspected', '疑似事件'),
    confirmed: t('surv.status.confirmed', '确认事件'),
    response: t('surv.status.response', '响应处置'),
    closed: t('surv.status.closed', '已关闭'),
  })[status] ?? status;
export const sourceLabel = (source: string) =>
  ({
    'case-report': t('surv.source.caseReport', '传染病报告'),
    'clinic-syndrome': t('surv.source.clinic', '门急诊症候群'),
    lab: t('surv.source.lab', '实验室'),
    school: t('surv.source.school', '学校缺课'),
    pharmacy: t('surv.source.pharmacy', '药店销售'),
    public: t('surv.source.public', '舆情/群众报告'),
  })[source] ?? source;
export const cardStatusLabel = (status: string) =>
  ({
    draft: t('surv.card.draft', '草稿'),
    submitted: t('surv.card.submitted', '待审核'),
    reviewed: t('surv.card.reviewed', '已审核'),
    returned: t('surv.card.returned', '已退卡'),
    superseded: t('surv.card.superseded', '已订正'),
  })[status] ?? status;
export const cardActionLabel = (action: string) =>
  ({
    draft: t('surv.card.action.draft', '生成草稿'),
    edit: t('surv.card.action.edit', '保存草稿'),
    submit: t('surv.card.action.submit', '提交'),
    approve: t('surv.card.action.approve', '审核通过'),
    return: t('surv.card.action.return', '退卡'),
    correct: t('surv.card.action.correct', '订正'),
    superseded: t('surv.card.action.superseded', '被订正卡替代'),
  })[action] ?? action;
export const formatDateTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false }) : '—');

/** Who did it, in words: the engine's own steps are the system's. */
export const actorLabel = (actor: string): string => (actor === 'system' ? t('surv.actor.system', '系统') : actor);
