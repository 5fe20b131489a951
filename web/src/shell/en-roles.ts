/** English for the roles in words (roles.ts), shared by the staff app and the resident portal's access log. */
export const enRoles: Record<string, string> = {
  'role.admin': 'Administrator',
  'role.epidemiologist': 'Epidemiologist',
  'role.clinician': 'Clinician',
  'role.family-doctor': 'Family doctor',
  'role.public-health': 'Public health',
  'role.integration': 'Data integration',
  'role.viewer': 'Read only',
  'role.auditor': 'Auditor',
  'role.resident': 'Resident',
};
