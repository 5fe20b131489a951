/**
 * English texts of emergency access (紧急访问/破窗, issue #15) on the resident record, keyed like
 * their t('key', '中文') calls; spread into en.ts.
 */
export const enAccess: Record<string, string> = {
  'access.outOfScope.title': 'This resident is outside the residents you manage or serve',
  'access.outOfScope.detail':
    'You can open the records of residents your organisation manages, treats or has a contract with, and of residents living in your areas.',
  'access.outOfScope.breakGlassHint': 'If you must see this record in an emergency, you can open emergency access (break the glass).',
  'access.outOfScope.noBreakGlass': "Your role has no emergency access; ask the resident's managing organisation if you need this record.",
  'access.breakGlass': 'Emergency access (break the glass)',
  'access.confirm': 'Open emergency access',
  'access.notice.title': 'Emergency access is for emergencies and other cases of real need only',
  'access.notice.detail':
    "This access is recorded in full, the resident's managing organisation is notified, and an auditor will review whether it was needed.",
  'access.reason': 'Reason',
  'access.reasonRequired': 'Please state why you need emergency access',
  'access.reasonTooShort': 'At least {n} characters',
  'access.reasonPlaceholder': 'e.g. unconscious in the emergency room; past history and allergies needed',
  'access.duration': 'Duration',
  'access.minutes': '{n} min',
  'access.hours': '{n} h',
  'access.granted': 'Emergency access open until {time}',
  'access.failed': 'Emergency access could not be opened',
  'access.banner': 'Emergency access, ends at {time}',
  'access.banner.detail': "This access is recorded; the resident's managing organisation has been notified and an auditor will review it.",
};
