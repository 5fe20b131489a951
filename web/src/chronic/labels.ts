import { t } from '../i18n/i18n.js';

export const diseaseLabel = (d: string) => (d === 'htn' ? t('chronic.htn', '高血压') : d === 'dm' ? t('chronic.dm', '2型糖尿病') : d);
export const decisionLabel = (d: string | null) =>
  ({
    routine: t('chronic.decision.routine', '常规随访'),
    adjust: t('chronic.decision.adjust', '调整治疗，2周内随访'),
    refer: t('chronic.decision.refer', '转诊，2周内随访'),
    'urgent-referral': t('chronic.decision.urgent', '紧急转诊'),
  })[d ?? ''] ?? '—';
export const statusLabel = (s: string) =>
  ({
    managed: t('chronic.status.managed', '管理中'),
    transferred: t('chronic.status.transferred', '已转出'),
    died: t('chronic.status.died', '死亡'),
    'lost-to-follow-up': t('chronic.status.lost', '失访'),
  })[s] ?? s;

/** Key populations of family-doctor contracts (codes from /api/care/contracts and the coverage indicator). */
export const populationLabel = (p: string) =>
  ({
    all: t('care.pop.all', '全人群'),
    elderly: t('care.pop.elderly', '65岁及以上'),
    children: t('care.pop.children', '0–6岁儿童'),
    chronic: t('care.pop.chronic', '慢病患者'),
    pregnant: t('care.pop.pregnant', '孕产妇'),
    disabled: t('care.pop.disabled', '残疾人'),
    hardship: t('care.pop.hardship', '特困家庭'),
  })[p] ?? p;
