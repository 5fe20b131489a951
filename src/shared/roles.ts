/**
 * The roles and what each may do: routes declare the permission they need (platform/auth.ts
 * guards them); the web app reads the same table to offer only what a user may open.
 */
/** What each role may do. Routes declare the permission they need. */
export const ROLE_PERMISSIONS = {
  admin: [
    'fhir:read',
    'fhir:write',
    'fhir:delete',
    'audit:read',
    'users:manage',
    'import',
    'surveillance:read',
    'surveillance:write',
    'care:read',
    'care:write',
    'export:deidentified',
  ],
  epidemiologist: ['fhir:read', 'fhir:write', 'surveillance:read', 'surveillance:write', 'export:deidentified'],
  clinician: ['fhir:read', 'fhir:write', 'surveillance:read', 'care:read', 'care:write'],
  'family-doctor': ['fhir:read', 'fhir:write', 'care:read', 'care:write'],
  'public-health': ['fhir:read', 'surveillance:read', 'care:read', 'export:deidentified'],
  integration: ['fhir:read', 'fhir:write', 'import'],
  viewer: ['fhir:read'],
  /** Reads the audit trail, nothing else. */
  auditor: ['audit:read'],
  /** A resident signed in to the portal (src/portal): their own record and their wards', nothing else. */
  resident: ['portal:self'],
} as const satisfies Record<string, readonly string[]>;

export type Role = keyof typeof ROLE_PERMISSIONS;
export type Permission = (typeof ROLE_PERMISSIONS)[Role][number];

/** Whether any of these roles carries the permission. */
export function rolesMay(roles: readonly string[], permission: Permission): boolean {
  return roles.some((r) => (ROLE_PERMISSIONS as Record<string, readonly string[]>)[r]?.includes(permission));
}
