/** Role names in words (系统管理员, 家庭医生, …), never the codes the server uses. */
import type { Role } from '../../../src/platform/auth.js';
import { t } from '../i18n/i18n-core.js';

/** Every role, in the order an administrator thinks of them. */
export const ROLE_ORDER: Role[] = [
  'admin',
  'epidemiologist',
  'clinician',
  'family-doctor',
  'public-health',
  'integration',
  'viewer',
  'auditor',
];

export function roleLabel(role: string): string {
  const labels: Record<string, () => string> = {
    admin: () => t('role.admin', '系统管理员'),
    epidemiologist: () => t('role.epidemiologist', '流行病学调查员'),
    clinician: () => t('role.clinician', '临床医生'),
    'family-doctor': () => t('role.family-doctor', '家庭医生'),
    'public-health': () => t('role.public-health', '公共卫生'),
    integration: () => t('role.integration', '数据接入'),
    viewer: () => t('role.viewer', '只读'),
    auditor: () => t('role.auditor', '审计员'),
    resident: () => t('role.resident', '居民'),
  };
  return labels[role]?.() ?? role;
}
