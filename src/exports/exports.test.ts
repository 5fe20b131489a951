/**
 * De-identified exports over HTTP: a research line list carries no direct identifier, keeps one
 * pseudonym and one date shift per person; the public counts suppress small cells; roles,
 * purpose and approval outside the profile are refused (403 naming the rule); every export and
 * every refusal is audited.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { daysBetween } from '../shared/dates.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { loadDistrictGeographyJson } from '../surveillance/index.js';
import { AccessControl } from '../fhir/access.js';
import { CONSENT_CHOICE_SYSTEM, loadPolicy } from '../fhir/policy.js';
import { repoRoot } from '../app/testing.js';
import path from 'node:path';
import { parseExportProfiles, PROFILES_FILE } from './profiles.js';
import type { CountsExport, LineListExport } from './schemas.js';
import { counts, lineList, type ExportDeps } from './service.js';

const S1 = '339902001000';
const S2 = '339902002000';
const S3 = '339902003000';
const community = (street: string) => street.replace(/000$/, '001');

const ID1 = makeIdNumber('339902', '1990-07-15', 101);
const NAME1 = '王小明';
const PHONE1 = '13911112222';
const HOUSE1 = '龙潭路88号';

/** A resident's choice on research use, as the portal writes it (a FHIR Consent with one provision). */
const researchConsent = (patient: string, allow: boolean) => ({
  resourceType: 'Consent',
  id: `c-${patient}`,
  status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
  patient: { reference: `Patient/${patient}` },
  dateTime: '2025-02-01T08:00:00Z',
  policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
  provision: {
    type: 'permit',
    provision: [{ type: allow ? 'permit' : 'deny', code: [{ coding: [{ system: CONSENT_CHOICE_SYSTEM, code: 'share-for-research' }] }] }],
  },
});

let seq = 0;
function card(over: Record<string, unknown> & { street?: string } = {}): Record<string, unknown> {
  const n = ++seq;
  const { street = S1, ...rest } = over;
  return {
    cardId: `EXP-${String(n).padStart(4, '0')}`,
    cardType: 'initial',
    correctsCardId: null,
    name: `居民${n}号`,
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber('339902', '1985-01-20', 200 + n),
    sex: n % 2 ? '1' : '2',
    birthDate: '1985-01-20',
    age: null,
    workUnit: null,
    phone: `1380000${String(n).padStart(4, '0')}`,
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '某街道',
      village: '某社区',
      houseNumber: `幸福路${n}号`,
      areaCode: community(street),
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '临床诊断病例',
    chronicity: null,
    onsetDate: '2025-03-03',
    diagnosisDateTime: '2025-03-05T09:00:00+08:00',
    deathDate: null,
    disease: { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' },
    correctedDiseaseName: null,
    reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    reportingDoctor: '李医生',
    reportDate: '2025-03-05T12:00:00+08:00',
    patientRef: null,
    facilityPatientId: null,
    remarks: null,
    ...rest,
  };
}

describeEachStore('de-identified exports', (server) => {
  const tokens: Record<string, string> = {};
  const as = (who: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${server().url}${path}`, { headers: { authorization: `Bearer ${tokens[who]}`, ...headers } });
  const research = (approval = 'IRB-2025-017', extra = '') =>
    `/api/exports/line-list?profile=research&from=2025-03-01&to=2025-03-31&approval=${encodeURIComponent(approval)}${extra}`;
  const hresch = { 'x-purpose-of-use': 'HRESCH' };

  beforeAll(async () => {
    await loadDistrictGeographyJson(server().db, {
      district: { code: '339902', name: '望川区' },
      streets: [
        { code: S1, name: '临江街道' },
        { code: S2, name: '湖滨街道' },
        { code: S3, name: '望山镇' },
      ],
      communities: [S1, S2, S3].map((s) => ({ code: community(s), name: `${s}社区`, streetCode: s })),
    });
    for (const [username, role] of [
      ['epi.zhou', 'epidemiologist'],
      ['ph.wu', 'public-health'],
      ['clin.zheng', 'clinician'],
    ] as const) {
      await server().auth.addUser({ username, password: `${username}-password-1`, roles: [role] });
      const res = await fetch(`${server().url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-password-1` }),
      });
      tokens[username] = ((await res.json()) as { access_token: string }).access_token;
    }
    const patient = await server().api('/fhir/Patient/p-exp-1', {
      method: 'PUT',
      body: JSON.stringify({
        resourceType: 'Patient',
        id: 'p-exp-1',
        identifier: [{ system: RESIDENT_ID_SYSTEM, value: ID1 }],
        name: [{ text: NAME1 }],
        gender: 'male',
        birthDate: '1990-07-15',
        telecom: [{ system: 'phone', value: PHONE1 }],
        deceasedDateTime: '2025-03-20T08:00:00+08:00',
      }),
    });
    expect(patient.status).toBeLessThan(300);
    const person1 = {
      name: NAME1,
      idNumber: ID1,
      sex: '1',
      birthDate: '1990-07-15',
      phone: PHONE1,
      patientRef: 'Patient/p-exp-1',
      address: {
        province: '浙江省',
        city: '安澜市',
        county: '望川区',
        township: '临江街道',
        village: '湖滨社区',
        houseNumber: HOUSE1,
        areaCode: community(S1),
      },
    };
    const cards = [
      // The same resident twice (influenza, then mumps): one pseudonym, one shift.
      card({
        ...person1,
        onsetDate: '2025-03-02',
        diagnosisDateTime: '2025-03-04T10:00:00+08:00',
        reportDate: '2025-03-04T11:00:00+08:00',
      }),
      card({
        ...person1,
        disease: { name: '流行性腮腺炎', icd10: 'B26.9', subtype: null, class: '丙' },
        onsetDate: '2025-03-05',
        diagnosisDateTime: '2025-03-06T10:00:00+08:00',
        reportDate: '2025-03-06T11:00:00+08:00',
      }),
      // Influenza in ISO week 2025-W10: street 1 has 7 cases, street 2 has 2 (small), street 3 has 5.
      ...Array.from({ length: 6 }, () => card({ street: S1 })),
      card({ street: S2, idType: '99', idNumber: null, birthDate: null, age: { value: 30, unit: '岁' } }),
      card({ street: S2 }),
      ...Array.from({ length: 5 }, () => card({ street: S3 })),
    ];
    const res = await server().api('/api/report-cards', {
      method: 'POST',
      body: JSON.stringify(cards),
      headers: { 'content-type': 'application/json' },
    });
    const results = (await res.json()) as { results: { status: string; errors?: unknown }[] };
    expect(results.results.map((r) => r.status)).toEqual(cards.map(() => 'accepted'));

    // Research use needs the resident's opt-in (share-for-research, off by default). The cards
    // other than person 1's name no Patient: their residents are found by ID number. Opted in:
    // person 1, street 1's six, four of street 3's five. Left out: street 3's fifth (a record,
    // no choice stated), street 2's card with an ID number (research refused), street 2's card
    // without one (nobody to ask).
    const withId = cards.slice(2).filter((c) => c.idType === '01');
    const entry = (resource: Record<string, unknown>) => ({
      resource,
      request: { method: 'PUT', url: `${String(resource.resourceType)}/${String(resource.id)}` },
    });
    const entries = [entry(researchConsent('p-exp-1', true))];
    withId.forEach((c, i) => {
      const id = `p-exp-r${i}`;
      entries.push(
        entry({
          resourceType: 'Patient',
          id,
          identifier: [{ system: RESIDENT_ID_SYSTEM, value: c.idNumber }],
          name: [{ text: c.name }],
          birthDate: '1985-01-20',
        }),
      );
      const street = (c.address as { areaCode: string }).areaCode;
      if (street === community(S2)) entries.push(entry(researchConsent(id, false)));
      else if (!(street === community(S3) && i === withId.length - 1)) entries.push(entry(researchConsent(id, true)));
    });
    const bundle = await server().api('/fhir', {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
    });
    expect(bundle.status, await bundle.clone().text()).toBe(200);
  });

  it('releases a research line list without name, ID number, phone, address or birth date', async () => {
    const csvRes = await as('epi.zhou', research().replace('/line-list?', '/line-list.csv?'), hresch);
    expect(csvRes.status).toBe(200);
    expect(csvRes.headers.get('content-type')).toMatch(/^text\/csv/);
    const csv = await csvRes.text();
    for (const secret of [NAME1, ID1, PHONE1, HOUSE1, '1990-07-15', '1985-01-20', '居民', '13800000', '幸福路', 'EXP-0', 'p-exp-1'])
      expect(csv, secret).not.toContain(secret);
    expect(csv.split('\r\n')[0]).toContain('假名编号 pseudonym');
    expect(csv.trim().split('\r\n')).toHaveLength(1 + 12);
    expect(csvRes.headers.get('x-left-out-for-consent')).toBe('3');

    const res = await as('epi.zhou', research(), hresch);
    expect(res.status).toBe(200);
    const x = (await res.json()) as LineListExport;
    // 15 cards; 3 residents have not opted in to research and are only counted.
    expect(x.rows).toHaveLength(12);
    expect(x.leftOutForConsent).toBe(3);
    expect(x.columns).not.toContain('cardStatus');
    for (const r of x.rows) {
      expect(r.pseudonym).toMatch(/^R-[0-9A-F]{16}$/);
      expect(Object.keys(r).sort()).toEqual([...x.columns].sort());
    }
    // The resident behind two cards: same pseudonym, same shift (real 2025-03-04 and 03-06, onsets two and one day before).
    const mumps = x.rows.find((r) => r.disease === '流行性腮腺炎')!;
    const flu = x.rows.find((r) => r.disease === '流行性感冒' && r.pseudonym === mumps.pseudonym)!;
    expect(flu).toBeDefined();
    expect(daysBetween(flu.diagnosisDate!, mumps.diagnosisDate!)).toBe(2);
    expect(daysBetween(flu.onsetDate!, flu.diagnosisDate!)).toBe(2);
    expect(daysBetween(mumps.onsetDate!, mumps.diagnosisDate!)).toBe(1);
    const shift = daysBetween('2025-03-04', flu.diagnosisDate!);
    expect(shift).not.toBe(0);
    expect(Math.abs(shift)).toBeLessThanOrEqual(30);
    expect(flu).toMatchObject({
      sex: '男',
      ageBand: '30-34',
      street: S1,
      streetName: '临江街道',
      occupationClass: '工人',
      diseaseClass: '丙',
    });
    // The death comes from the Patient (the card has none), shifted like every other date of the person.
    expect(flu).toMatchObject({ outcome: '死亡' });
    expect(daysBetween('2025-03-20', flu.outcomeDate!)).toBe(shift);
    // Street 2's residents did not opt in (one refused, one cannot be asked): none of its cards is released.
    expect(x.rows.some((r) => r.street === S2)).toBe(false);
    expect(x.rows.filter((r) => r.street === S3)).toHaveLength(4);
    // Every other person is someone else.
    expect(new Set(x.rows.map((r) => r.pseudonym)).size).toBe(11);

    // Another approval: unrelated pseudonyms.
    const other = (await (await as('epi.zhou', research('IRB-2026-002'), hresch)).json()) as LineListExport;
    expect(other.rows).toHaveLength(12);
    const before = new Set(x.rows.map((r) => r.pseudonym));
    expect(other.rows.filter((r) => before.has(r.pseudonym)).length).toBe(0);
    // The same approval again: the same pseudonyms.
    const again = (await (await as('epi.zhou', research(), hresch)).json()) as LineListExport;
    expect(new Set(again.rows.map((r) => r.pseudonym))).toEqual(before);
  });

  it('refuses roles, purposes and approvals outside the profile with 403 naming the rule', async () => {
    const reason = async (res: Response) => {
      expect(res.status).toBe(403);
      return JSON.stringify(await res.json());
    };
    expect(await reason(await as('ph.wu', research(), hresch))).toMatch(/epidemiologist, admin.*rule export-profile-role/);
    expect(await reason(await as('epi.zhou', research()))).toMatch(/HRESCH.*rule export-profile-purpose/);
    expect(await reason(await as('epi.zhou', research(), { 'x-purpose-of-use': 'TREAT' }))).toMatch(/not TREAT.*export-profile-purpose/);
    expect(
      await reason(await as('epi.zhou', '/api/exports/line-list.csv?profile=research&from=2025-03-01&to=2025-03-31&purpose=HRESCH')),
    ).toMatch(/approval.*rule export-profile-approval/);
    expect(await reason(await as('epi.zhou', '/api/exports/line-list?profile=public&from=2025-03-01&to=2025-03-31'))).toMatch(
      /aggregate counts only.*rule export-profile-kind/,
    );
    // Without the permission export:deidentified at all (the route's guard).
    expect((await as('clin.zheng', '/api/exports/counts?from=2025-03-01&to=2025-03-31')).status).toBe(403);
    // Bounds: an unknown profile or too long a period is a 400 naming it.
    expect(await (await as('epi.zhou', research('IRB-1', '&profile=secret'), hresch)).text()).toMatch(/profile|secret/);
    const long = await as('epi.zhou', '/api/exports/line-list?profile=research&from=2020-01-01&to=2025-03-31&approval=IRB-1', hresch);
    expect(long.status).toBe(400);
    expect(await long.text()).toMatch(/at most 1096 days/);
  });

  it('publishes counts by street and week with small cells and their complements suppressed', async () => {
    const res = await as('ph.wu', '/api/exports/counts?from=2025-03-05&to=2025-03-05&disease=influenza');
    expect(res.status).toBe(200);
    const x = (await res.json()) as CountsExport;
    // Widened to the whole ISO week.
    expect([x.from, x.to, x.weeks]).toEqual(['2025-03-03', '2025-03-09', ['2025-W10']]);
    const shown = Object.fromEntries(x.rows.map((r) => [`${r.street}|${r.week}`, r.shown]));
    // Street 2's 2 is small; street 3's 5 is the smallest other count in the week, hidden so that 14 − 7 does not give 2.
    expect(shown).toEqual({ [`${S1}|2025-W10`]: '7', [`${S2}|2025-W10`]: '*', [`${S3}|2025-W10`]: '*', '|2025-W10': '14' });
    expect(x.suppressed).toEqual({ primary: 1, complementary: 1 });
    for (const r of x.rows) if (r.count !== null) expect(r.count === 0 || r.count >= 5).toBe(true);
    expect(x.rows.find((r) => r.street === S2)!.count).toBeNull();

    const csvRes = await as('epi.zhou', '/api/exports/counts.csv?from=2025-03-01&to=2025-03-31');
    expect(csvRes.status).toBe(200);
    const csv = await csvRes.text();
    expect(csv).toContain(`influenza,流行性感冒,${S1},临江街道,2025-W10,7`);
    expect(csv).toContain(`mumps,流行性腮腺炎,${S1},临江街道,2025-W10,*`);
    expect(csv).not.toMatch(/,[1-4]\r\n/);
    expect(csv).not.toContain(NAME1);
  });

  it('refuses an export over its cap (422 naming it) rather than cutting it short', async () => {
    const file = JSON.parse(fs.readFileSync(PROFILES_FILE, 'utf8')) as { profiles: Record<string, Record<string, unknown>> };
    const access = new AccessControl(loadPolicy(path.join(repoRoot, 'config/security/policy.json')), server().db, server().audit);
    const deps = (maxRows: number, maxCards: number): ExportDeps => {
      file.profiles.research!.maxRows = maxRows;
      file.profiles.public!.maxCards = maxCards;
      return {
        db: server().db,
        profiles: parseExportProfiles(file),
        key: { key: Buffer.alloc(32, 7), keyId: 'test', source: 'test', generated: false },
        access,
      };
    };
    const user = { username: 'epi.zhou', displayName: '周', roles: ['epidemiologist' as const] };
    const ask = { user, from: '2025-03-01', to: '2025-03-31', purpose: 'HRESCH', approval: 'IRB-CAP' };
    await expect(lineList(deps(14, 100), { ...ask, profile: 'research' })).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/More than 14 report cards match; .* at most 14 rows at once: narrow the period/),
    });
    // The cap counts the cards read, before residents are left out for consent.
    expect((await lineList(deps(15, 100), { ...ask, profile: 'research' })).rows).toHaveLength(12);
    expect((await lineList(deps(14, 100), { ...ask, profile: 'research', disease: 'influenza' })).rows).toHaveLength(11);
    await expect(counts(deps(15, 3), { ...ask, profile: 'public' })).rejects.toMatchObject({ status: 422 });
  });

  it('asks the consent rules per resident: research leaves out who has not opted in, a public-health line list nobody', async () => {
    const file = JSON.parse(fs.readFileSync(PROFILES_FILE, 'utf8')) as { profiles: Record<string, Record<string, unknown>> };
    file.profiles.research!.purposes = ['HRESCH', 'PUBHLTH'];
    const deps: ExportDeps = {
      db: server().db,
      profiles: parseExportProfiles(file),
      key: { key: Buffer.alloc(32, 9), keyId: 'test', source: 'test', generated: false },
      // No cache: this instance is not the server's, which the Consent writes below tell.
      access: new AccessControl(loadPolicy(path.join(repoRoot, 'config/security/policy.json')), server().db, server().audit, 0),
    };
    const user = { username: 'epi.zhou', displayName: '周', roles: ['epidemiologist' as const] };
    const ask = { user, profile: 'research', from: '2025-03-01', to: '2025-03-31', approval: 'IRB-CONSENT' };
    // A mandatory public-health release is not research: every resident, none left out.
    const pub = await lineList(deps, { ...ask, purpose: 'PUBHLTH' });
    expect([pub.rows.length, pub.leftOutForConsent]).toEqual([15, 0]);
    const res = await lineList(deps, { ...ask, purpose: 'HRESCH' });
    expect([res.rows.length, res.leftOutForConsent]).toEqual([12, 3]);
    // The resident who refused opts in: released from the next export on.
    const put = await server().api('/fhir/Consent/c-p-exp-r6', {
      method: 'PUT',
      body: JSON.stringify({ ...researchConsent('p-exp-r6', true), dateTime: '2025-04-01T08:00:00Z' }),
    });
    expect(put.status).toBe(200);
    const after = await lineList(deps, { ...ask, purpose: 'HRESCH' });
    expect([after.rows.length, after.leftOutForConsent]).toEqual([13, 2]);
    expect(after.rows.filter((r) => r.street === S2)).toHaveLength(1);
    // Back as it was for the other tests.
    const back = await server().api('/fhir/Consent/c-p-exp-r6', {
      method: 'PUT',
      body: JSON.stringify({ ...researchConsent('p-exp-r6', false), dateTime: '2025-04-02T08:00:00Z' }),
    });
    expect(back.status, await back.clone().text()).toBe(200);
    expect((await lineList(deps, { ...ask, purpose: 'HRESCH' })).leftOutForConsent).toBe(3);
  });

  it('audits every export and every refusal (subtype export, purpose, approval, digest of the file)', async () => {
    const res = await as('epi.zhou', `${research('IRB-AUDIT-1').replace('/line-list?', '/line-list.csv?')}`, hresch);
    expect(res.status).toBe(200);
    const digest = createHash('sha256')
      .update(Buffer.from(await res.arrayBuffer()))
      .digest('hex');
    const events = (await (await server().api('/api/audit/events?subtype=export&_count=100')).json()) as {
      rows: { username: string; outcome: string; outcomeText?: string; objects: string[]; purposeCode?: string; purpose?: string }[];
    };
    const mine = events.rows.find((e) => e.objects.includes('approval IRB-AUDIT-1'));
    expect(mine).toMatchObject({ username: 'epi.zhou', outcome: 'success' });
    expect(`${mine!.purposeCode ?? ''} ${mine!.purpose ?? ''}`).toMatch(/HRESCH/);
    expect(mine!.outcomeText).toContain(`12 rows, 3 resident(s) left out for consent; CSV sha256 ${digest}`);
    const refused = events.rows.find((e) => e.username === 'ph.wu' && e.outcome === 'failure');
    expect(refused?.outcomeText).toMatch(/^export-profile-role: /);
    const counts = events.rows.find((e) => e.username === 'ph.wu' && e.outcome === 'success');
    expect(counts?.objects.join(' ')).toMatch(/export profile public \(counts\)/);
    expect(`${counts!.purposeCode ?? ''} ${counts!.purpose ?? ''}`).toMatch(/PUBHLTH/);
  });

  it('lists the profiles with what the user may use, and documents the routes', async () => {
    const list = (await (await as('ph.wu', '/api/exports/profiles')).json()) as { name: string; allowed: boolean }[];
    expect(list.map((p) => [p.name, p.allowed])).toEqual([
      ['research', false],
      ['public', true],
    ]);
    const doc = (await (await server().api('/api/docs')).json()) as { paths: Record<string, unknown> };
    for (const p of [
      '/api/exports/line-list.csv',
      '/api/exports/line-list',
      '/api/exports/counts.csv',
      '/api/exports/counts',
      '/api/exports/profiles',
    ])
      expect(doc.paths[p], p).toBeDefined();
  });
});
