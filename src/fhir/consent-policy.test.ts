/**
 * The resident's consent choices and the `self` scope in the access policy (issue #22): the
 * shipped rules decide as the portal's README says — a hospital loses the shared record, the
 * family doctor the home readings, research the residents who have not opted in — emergency
 * purposes set a withdrawn choice aside (and say so), and a resident reaches only their own
 * records. The facts (choices, where a record comes from) are derived as access.ts reads them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Consent, Encounter, Observation, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { recordOrganizations, withdrawnChoices } from './access.js';
import { loadDefinitions } from './definitions.js';
import {
  CONSENT_CHOICE_SYSTEM,
  consentRulesFor,
  decide,
  loadPolicy,
  parsePolicy,
  residentConsentId,
  type AccessUser,
  type ConsentChoice,
  type ResidentFacts,
} from './policy.js';

loadDefinitions();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const policy = loadPolicy(path.join(root, 'config/security/policy.json'));

const facts = (over: Partial<ResidentFacts> = {}): ResidentFacts => ({
  patientIds: ['p1'],
  organizations: new Set(['org-a', 'org-h']),
  areas: ['330102001001'],
  breakGlass: false,
  complete: true,
  withdrawn: new Set<ConsentChoice>(['share-for-research']),
  ...over,
});
const user = (roles: AccessUser['roles'], organization: string | null): AccessUser => ({ username: 'u', roles, organization, areas: [] });
const clinician = user(['clinician'], 'org-h');
const familyDoctor = user(['family-doctor'], 'org-a');

const visitAt = (org: string): Encounter => ({
  resourceType: 'Encounter',
  id: `e-${org}`,
  status: 'finished',
  class: { code: 'AMB' },
  subject: { reference: 'Patient/p1' },
  serviceProvider: { reference: `Organization/${org}` },
});
const homeReading: Observation = {
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  meta: { tag: [{ system: 'https://yifang.health/fhir/CodeSystem/record-source', code: 'resident-portal' }] },
  code: { text: '血压' },
  subject: { reference: 'Patient/p1' },
  performer: [{ reference: 'Patient/p1' }],
};
const labResult: Observation = { ...homeReading, id: 'o2', meta: {}, performer: [{ reference: 'Organization/org-a' }] };
const read = (u: AccessUser, resource: Resource, resident: ResidentFacts, purpose?: string) =>
  decide(policy, { user: u, action: 'read', resourceType: resource.resourceType, resource, resident, purpose });

describe('consent choices in the shipped policy', () => {
  it('is a newer version than the one that only recorded them', () => {
    expect(policy.version).toBeGreaterThanOrEqual(8);
  });

  it('refuses a hospital the records other organisations made once share-with-hospitals is withdrawn, not its own', () => {
    const shared = facts();
    const withdrawn = facts({ withdrawn: new Set(['share-with-hospitals', 'share-for-research']), recordOrigins: new Set(['org-a']) });
    expect(read(clinician, visitAt('org-a'), shared)).toMatchObject({ allowed: true, rule: 'clinician-treating' });
    const d = read(clinician, visitAt('org-a'), withdrawn);
    expect(d).toMatchObject({ allowed: false, rule: 'consent-hospitals-withdrawn' });
    if (!d.allowed) expect(d.reason).toMatch(/share-with-hospitals/);
    // Its own visit, and the Patient (demographics) stay readable.
    expect(read(clinician, visitAt('org-h'), { ...withdrawn, recordOrigins: new Set(['org-h']) }).allowed).toBe(true);
    expect(decide(policy, { user: clinician, action: 'read', resourceType: 'Patient', resident: withdrawn }).allowed).toBe(true);
    // A record whose origin is unknown is not the hospital's own.
    expect(read(clinician, visitAt('org-a'), { ...withdrawn, recordOrigins: new Set() }).allowed).toBe(false);
    // An /api route names a resident, not a record: decided on the resident alone.
    expect(decide(policy, { user: clinician, action: 'read', resourceType: 'Encounter', resident: withdrawn }).allowed).toBe(true);
  });

  it('lets emergency care and break-glass override a withdrawn choice, reporting the override', () => {
    const withdrawn = facts({ withdrawn: new Set(['share-with-hospitals']), recordOrigins: new Set(['org-a']) });
    expect(read(clinician, visitAt('org-a'), withdrawn, 'ETREAT')).toMatchObject({
      allowed: true,
      rule: 'clinician-treating',
      overrides: ['share-with-hospitals'],
    });
    const granted = { ...withdrawn, organizations: new Set(['org-a']), breakGlass: true };
    expect(read(clinician, visitAt('org-a'), granted, 'BTG')).toMatchObject({
      allowed: true,
      rule: 'emergency-access',
      overrides: ['share-with-hospitals'],
    });
    // No override is reported when nothing was withdrawn.
    expect(read(clinician, visitAt('org-a'), facts(), 'ETREAT')).not.toHaveProperty('overrides');
  });

  it("hides the resident's home readings from the family doctor once share-with-family-doctor is withdrawn, not the centre's results", () => {
    const withdrawn = facts({ withdrawn: new Set(['share-with-family-doctor']) });
    expect(read(familyDoctor, homeReading, facts()).allowed).toBe(true);
    expect(read(familyDoctor, homeReading, withdrawn)).toMatchObject({ allowed: false, rule: 'consent-family-doctor-withdrawn' });
    expect(read(familyDoctor, labResult, withdrawn).allowed).toBe(true);
    expect(read(familyDoctor, homeReading, withdrawn, 'ETREAT')).toMatchObject({ allowed: true, overrides: ['share-with-family-doctor'] });
  });

  it('leaves residents who have not opted in out of research exports, not out of mandatory public-health ones', () => {
    const admin = user(['admin'], null);
    const exp = (withdrawn: ConsentChoice[], purpose: string) =>
      decide(policy, {
        user: admin,
        action: 'export',
        resourceType: 'Patient',
        resident: facts({ withdrawn: new Set(withdrawn) }),
        purpose,
      });
    expect(exp(['share-for-research'], 'HRESCH')).toMatchObject({ allowed: false, rule: 'consent-research-not-given' });
    expect(exp([], 'HRESCH').allowed).toBe(true);
    expect(exp(['share-for-research'], 'PUBHLTH').allowed).toBe(true);
  });

  it('reads the choices only for requests a consent rule could refuse', () => {
    expect(consentRulesFor(policy, clinician, 'read', 'Encounter').map((r) => r.id)).toEqual(['consent-hospitals-withdrawn']);
    expect(consentRulesFor(policy, clinician, 'read', 'Encounter', 'ETREAT').length).toBe(1);
    expect(consentRulesFor(policy, clinician, 'read', 'Patient')).toEqual([]);
    expect(consentRulesFor(policy, user(['epidemiologist'], 'cdc'), 'search', 'Condition')).toEqual([]);
    expect(consentRulesFor(policy, user(['epidemiologist'], 'cdc'), 'export', 'Patient', 'PUBHLTH')).toEqual([]);
    expect(consentRulesFor(policy, user(['epidemiologist'], 'cdc'), 'export', 'Patient', 'HRESCH').length).toBe(1);
  });

  it('refuses an unknown choice, and a consent condition on an allow rule, naming the line', () => {
    const base = (rule: string) =>
      `{\n  "version": 1,\n  "purposes": { "TREAT": "治疗" },\n  "defaultPurpose": {},\n  "rules": [\n${rule}\n  ],\n  "routes": {}\n}`;
    expect(() =>
      parsePolicy(
        base(
          `    { "id": "r1", "effect": "deny", "roles": ["clinician"], "actions": ["read"],\n      "consentWithdrawn": ["share-with-everyone"] }`,
        ),
      ),
    ).toThrow(/policy\.json:7: .*unknown consent choice 'share-with-everyone'/);
    expect(() =>
      parsePolicy(
        base(
          `    { "id": "r1", "effect": "allow", "roles": ["clinician"], "actions": ["read"], "consentWithdrawn": ["share-for-research"] }`,
        ),
      ),
    ).toThrow(/:6: .*deny rules only/);
    expect(() =>
      parsePolicy(base(`    { "id": "r1", "effect": "allow", "roles": ["clinician"], "actions": ["read"], "scope": "self" }`)),
    ).toThrow(/scope 'self' is for the resident role only/);
    expect(() =>
      parsePolicy(base(`    { "id": "r1", "effect": "deny", "roles": ["clinician"], "actions": ["read"], "tags": ["resident-portal"] }`)),
    ).toThrow(/system\|code/);
  });
});

describe('the self scope', () => {
  const resident = user(['resident'], null);
  it("lets a resident read and write their own (or ward's) record only, and only for themselves (PATRQT)", () => {
    expect(decide(policy, { user: resident, action: 'read', resourceType: 'Patient', resident: facts({ self: true }) })).toMatchObject({
      allowed: true,
      rule: 'resident-own-record-via-portal',
    });
    expect(decide(policy, { user: resident, action: 'write', resourceType: 'Consent', resident: facts({ self: true }) })).toMatchObject({
      allowed: true,
      rule: 'resident-own-entries-via-portal',
    });
    expect(decide(policy, { user: resident, action: 'read', resourceType: 'Patient', resident: facts() }).allowed).toBe(false);
    expect(decide(policy, { user: resident, action: 'read', resourceType: 'Patient', resident: facts({ self: false }) }).allowed).toBe(
      false,
    );
    expect(decide(policy, { user: resident, action: 'write', resourceType: 'Encounter', resident: facts({ self: true }) }).allowed).toBe(
      false,
    );
    // Another role is never "self", whatever the fact says.
    expect(
      decide(policy, { user: user(['viewer'], null), action: 'read', resourceType: 'Patient', resident: facts({ self: true }) }).allowed,
    ).toBe(false);
  });
});

describe('the facts', () => {
  const consent = (dateTime: string, choices: Partial<Record<ConsentChoice, boolean>>, status: Consent['status'] = 'active'): Consent => ({
    resourceType: 'Consent',
    status,
    scope: { text: 'privacy' },
    category: [{ text: 'consent' }],
    dateTime,
    provision: {
      type: 'permit',
      provision: Object.entries(choices).map(([code, allow]) => ({
        type: allow ? ('permit' as const) : ('deny' as const),
        code: [{ coding: [{ system: CONSENT_CHOICE_SYSTEM, code }] }],
      })),
    },
  });

  it('takes each choice from the latest active Consent stating it, and the default otherwise', () => {
    expect([...withdrawnChoices([])]).toEqual(['share-for-research']);
    const older = consent('2026-01-01T00:00:00Z', { 'share-with-hospitals': false, 'share-for-research': true });
    const newer = consent('2026-02-01T00:00:00Z', { 'share-with-hospitals': true });
    expect([...withdrawnChoices([older])].sort()).toEqual(['share-with-hospitals']);
    expect([...withdrawnChoices([newer, older])]).toEqual([]);
    expect([...withdrawnChoices([consent('2026-03-01T00:00:00Z', { 'share-with-family-doctor': false }, 'inactive')])]).toEqual([
      'share-for-research',
    ]);
  });

  it('finds where a record comes from: its provider, performer or recorder, else its encounter', () => {
    expect(recordOrganizations(visitAt('org-h'))).toEqual({ organizations: ['org-h'] });
    expect(recordOrganizations(labResult)).toEqual({ organizations: ['org-a'] });
    expect(recordOrganizations(homeReading)).toEqual({ organizations: [] });
    expect(
      recordOrganizations({
        resourceType: 'Condition',
        subject: { reference: 'Patient/p1' },
        encounter: { reference: 'Encounter/e9' },
      } as Resource),
    ).toEqual({ organizations: [], encounter: 'e9' });
  });

  it("names the portal's Consent of a Patient by a hash of its id", () => {
    expect(residentConsentId('pa')).toMatch(/^pc-[0-9a-f]{40}$/);
    expect(residentConsentId('pa')).not.toBe(residentConsentId('pb'));
  });
});
