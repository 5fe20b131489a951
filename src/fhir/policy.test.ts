import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from './definitions.js';
import { decide, loadPolicy, maskResource, parsePolicy, type AccessUser, type ResidentFacts } from './policy.js';

loadDefinitions();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const policy = loadPolicy(path.join(root, 'config/security/policy.json'));

const resident = (over: Partial<ResidentFacts> = {}): ResidentFacts => ({
  patientIds: ['p1'],
  organizations: new Set(['org-a']),
  areas: ['330102001001'],
  breakGlass: false,
  complete: true,
  ...over,
});
const user = (roles: AccessUser['roles'], over: Partial<AccessUser> = {}): AccessUser => ({
  username: 'u',
  roles,
  organization: 'org-a',
  areas: [],
  ...over,
});

describe('access policy file', () => {
  it('loads the shipped policy with its version, rules and every route', () => {
    expect(policy.version).toBeGreaterThanOrEqual(1);
    expect(policy.rules.length).toBeGreaterThan(5);
    expect(policy.routes.get('GET /api/chronic/patients/:id')).toMatchObject({ personal: true, resident: 'params.id' });
  });

  const base = (rules: string, routes = '{}') =>
    `{\n  "version": 1,\n  "purposes": { "TREAT": "治疗" },\n  "defaultPurpose": {},\n  "rules": [\n${rules}\n  ],\n  "routes": ${routes}\n}`;

  it.each([
    [
      'an unknown role',
      `    { "id": "r1", "effect": "allow", "roles": ["nurse"], "actions": ["read"] }`,
      /policy\.json:6: .*unknown role 'nurse'/,
    ],
    [
      'an unknown resource type',
      `    { "id": "r1", "effect": "allow", "roles": ["viewer"], "actions": ["read"],\n      "resourceTypes": ["Patient", "Patiant"] }`,
      /policy\.json:7: .*unknown resource type 'Patiant'/,
    ],
    [
      'an unknown search parameter',
      `    { "id": "r1", "effect": "allow", "roles": ["viewer"], "actions": ["read"],\n\n      "criteria": ["Observation?categry=laboratory"] }`,
      /policy\.json:8: .*unknown search parameter 'categry' for Observation/,
    ],
    [
      'an unknown purpose',
      `    { "id": "r1", "effect": "allow", "roles": ["viewer"], "actions": ["read"], "purposes": ["FUN"] }`,
      /:6: .*purpose 'FUN'/,
    ],
    ['an unknown action', `    { "id": "r1", "effect": "allow", "roles": ["viewer"], "actions": ["peek"] }`, /:6: .*actions/],
    ['an unknown key', `    { "id": "r1", "effect": "allow", "roles": ["viewer"], "actions": ["read"], "scpoe": "area" }`, /:6: .*scpoe/],
  ])('refuses %s, naming the line', (_what, rules, message) => {
    expect(() => parsePolicy(base(rules))).toThrow(message);
  });

  it('refuses a route entry that is not METHOD /api/path', () => {
    expect(() => parsePolicy(base('', `{\n    "GET /fhir/Patient": { "personal": true }\n  }`))).toThrow(/:9: .*METHOD \/api\/path/);
  });

  it('refuses broken JSON with its line', () => {
    expect(() => parsePolicy('{\n  "version": 1,\n  "rules": [\n}')).toThrow(/policy\.json:4: not valid JSON/);
  });
});

describe('access decisions', () => {
  it('lets a family doctor reach residents of their own centre and areas, and no one else', () => {
    const fd = user(['family-doctor'], { areas: ['330102001'] });
    expect(decide(policy, { user: fd, action: 'read', resourceType: 'Patient', resident: resident() })).toMatchObject({
      allowed: true,
      rule: 'family-doctor-own-centre',
    });
    const elsewhere = resident({ organizations: new Set(['org-b']), areas: ['330102001002'] });
    expect(decide(policy, { user: fd, action: 'read', resourceType: 'Patient', resident: elsewhere })).toMatchObject({
      allowed: true,
      rule: 'family-doctor-own-areas',
    });
    const far = resident({ organizations: new Set(['org-b']), areas: ['330106000000'] });
    const d = decide(policy, { user: fd, action: 'read', resourceType: 'Patient', resident: far });
    expect(d.allowed).toBe(false);
    if (!d.allowed) expect(d.reason).toMatch(/break-glass/);
  });

  it('needs a stated purpose for break-glass, and then allows the granted resident only', () => {
    const clin = user(['clinician'], { organization: 'org-h' });
    const granted = resident({ organizations: new Set(['org-b']), breakGlass: true });
    const noPurpose = decide(policy, { user: clin, action: 'read', resourceType: 'Observation', resident: granted });
    expect(noPurpose).toMatchObject({ allowed: false, needsPurpose: true });
    expect(decide(policy, { user: clin, action: 'read', resourceType: 'Observation', resident: granted, purpose: 'BTG' })).toMatchObject({
      allowed: true,
      rule: 'emergency-access',
    });
    expect(
      decide(policy, {
        user: clin,
        action: 'read',
        resourceType: 'Observation',
        resident: { ...granted, breakGlass: false },
        purpose: 'BTG',
      }).allowed,
    ).toBe(false);
  });

  it('lets CDC read the whole district for surveillance but not for research', () => {
    const epi = user(['epidemiologist'], { organization: 'cdc' });
    const anyone = resident({ organizations: new Set(['org-z']) });
    expect(decide(policy, { user: epi, action: 'search', resourceType: 'Condition', resident: anyone }).allowed).toBe(true);
    expect(decide(policy, { user: epi, action: 'search', resourceType: 'Condition', resident: anyone, purpose: 'HRESCH' })).toMatchObject({
      allowed: false,
      rule: 'deny-research-without-export',
    });
  });

  it('masks identifiers for public-health staff reaching residents by area', () => {
    const ph = user(['public-health'], { organization: 'org-q', areas: ['330102'] });
    const d = decide(policy, { user: ph, action: 'read', resourceType: 'Patient', resident: resident() });
    expect(d).toMatchObject({ allowed: true, rule: 'public-health-areas-masked', mask: ['id-number', 'phone'] });
  });

  it('denies very restricted records to roles that do not treat, whatever else allows', () => {
    const ph = user(['public-health'], { organization: 'org-a' });
    const labelled = { resourceType: 'Observation', status: 'final', code: {}, meta: { security: [{ code: 'V' }] } } as const;
    expect(
      decide(policy, { user: ph, action: 'read', resourceType: 'Observation', resource: labelled as never, resident: resident() }),
    ).toMatchObject({ allowed: false, rule: 'deny-very-restricted-outside-care' });
  });

  it('allows records that belong to no resident on type alone; the auditor reaches none', () => {
    expect(decide(policy, { user: user(['viewer']), action: 'read', resourceType: 'Organization', resident: null }).allowed).toBe(true);
    expect(decide(policy, { user: user(['auditor']), action: 'read', resourceType: 'Organization', resident: null }).allowed).toBe(false);
  });
});

describe('masking', () => {
  it('masks the ID number, phones and address lines, and says so in meta.security', () => {
    const p: Patient = {
      resourceType: 'Patient',
      id: 'p1',
      identifier: [
        { system: 'https://yifang.health/fhir/sid/resident-id', value: '330102199001011234' },
        { system: 'https://hosp/mrn', value: 'MRN-1' },
        { system: 'urn:oid:1.2.156.112606.1.2.1', value: '110101199003077777' },
      ],
      telecom: [{ system: 'phone', value: '13812345678' }],
      address: [{ line: ['文一路 1 号'], text: '杭州市文一路 1 号', district: '西湖区' }],
      contact: [{ telecom: [{ system: 'phone', value: '13900001111' }] }],
    };
    const m = maskResource(p, ['id-number', 'phone', 'address-line']);
    expect(m.identifier).toEqual([
      { system: 'https://yifang.health/fhir/sid/resident-id', value: '3301**********1234' },
      { system: 'https://hosp/mrn', value: 'MRN-1' },
      { system: 'urn:oid:1.2.156.112606.1.2.1', value: '1101**********7777' },
    ]);
    expect(m.telecom?.[0]?.value).toBe('138****5678');
    expect(m.contact?.[0]?.telecom?.[0]?.value).toBe('139****1111');
    expect(m.address).toEqual([{ district: '西湖区' }]);
    expect(m.meta?.security?.[0]?.code).toBe('REDACTED');
    expect(p.identifier?.[0]?.value).toBe('330102199001011234');
  });
});
