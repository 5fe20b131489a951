/**
 * The portrait over HTTP on both stores: three streets with boundaries, 33 residents, 11 report
 * cards. Figures checked against hand-worked values; what a role outside the CDC sees of a small
 * street (and of the street hidden to protect it); the profile; the drill-down by role.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';
import type { CellResidents, PortraitMap, StreetProfile } from './schemas.js';

const DISTRICT = '339905000000';
const S1 = '339905001000';
const S2 = '339905002000';
const S3 = '339905003000';

function ring(x: number, y: number, r: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < 12; i++) {
    const a = (2 * Math.PI * i) / 12;
    out.push([x + r * Math.cos(a), y + r * Math.sin(a)]);
  }
  out.push(out[0]!);
  return out;
}
const feature = (code: string, name: string, level: string, x: number) => ({
  type: 'Feature',
  properties: { code, name, level },
  geometry: { type: 'Polygon', coordinates: [ring(x, 29.5, level === 'district' ? 0.6 : 0.1)] },
});

// The day every card is diagnosed on and the period of the map: yesterday's year.
const DAY = addDays(todayInChina(), -1);
const YEAR = DAY.slice(0, 4);
const born = (age: number) => `${Number(YEAR) - age}-01-01`;

/** Residents: S1 10 aged 30 and 10 aged 70 (half of each male); S2 5 and 5; S3 3 aged 30. */
function residents(): { id: string; street: string; age: number; gender: 'male' | 'female' }[] {
  const out: { id: string; street: string; age: number; gender: 'male' | 'female' }[] = [];
  const add = (street: string, age: number, n: number) => {
    for (let i = 0; i < n; i++) out.push({ id: `pt-${street.slice(6, 9)}-${age}-${i}`, street, age, gender: i % 2 ? 'female' : 'male' });
  };
  add(S1, 30, 10);
  add(S1, 70, 10);
  add(S2, 30, 5);
  add(S2, 70, 5);
  add(S3, 30, 3);
  return out;
}

function card(seq: number, street: string, age: number): Record<string, unknown> {
  return {
    cardId: `PT-${seq}`,
    cardType: 'initial',
    correctsCardId: null,
    name: `画像${seq}`,
    idType: '99',
    sex: '1',
    birthDate: born(age),
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '街道',
      village: '社区',
      houseNumber: '1号',
      areaCode: `${street.slice(0, 9)}001`,
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    onsetDate: DAY,
    diagnosisDateTime: `${DAY}T10:00:00+08:00`,
    disease: { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' },
    reportingOrganization: { id: 'org-PT-F1', code: 'PT-F1', name: '画像医院' },
    reportingDoctor: '李医生',
    reportDate: `${DAY}T12:00:00+08:00`,
  };
}

describeEachStore('portrait', (server) => {
  const tokens = new Map<string, string>();
  const as = async <T>(user: string | null, path: string, status = 200): Promise<T> => {
    const r = await server().api(path, user ? { headers: { authorization: `Bearer ${tokens.get(user)}` } } : {});
    expect(r.status, await r.clone().text()).toBe(status);
    return (await r.json()) as T;
  };

  beforeAll(async () => {
    const areas = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature(DISTRICT, '画像区', 'district', 120.5),
        feature(S1, '东街道', 'street', 120.2),
        feature(S2, '南街道', 'street', 120.5),
        feature(S3, '西街道', 'street', 120.8),
      ],
    });
    const a = await server().api('/api/registry/import?fileName=areas.geojson', {
      method: 'POST',
      body: areas,
      headers: { 'content-type': 'application/geo+json' },
    });
    expect(a.status, await a.clone().text()).toBe(200);
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: residents().map((p) => ({
        resource: {
          resourceType: 'Patient',
          id: p.id,
          name: [{ text: `居民${p.id}` }],
          gender: p.gender,
          birthDate: born(p.age),
          address: [{ use: 'home', extension: [{ url: AREA_CODE_EXTENSION, valueString: `${p.street.slice(0, 9)}001` }] }],
        },
        request: { method: 'PUT', url: `Patient/${p.id}` },
      })),
    };
    const b = await server().api('/fhir', { method: 'POST', body: JSON.stringify(bundle) });
    expect(b.status, await b.clone().text()).toBe(200);
    // S1: 2 cases aged 30 and 4 aged 70; S2: 5 aged 70; S3: none.
    const cards = [
      ...[30, 30, 70, 70, 70, 70].map((age, i) => card(i + 1, S1, age)),
      ...[70, 70, 70, 70, 70].map((age, i) => card(i + 11, S2, age)),
    ];
    const c = await server().api('/api/report-cards', {
      method: 'POST',
      body: JSON.stringify(cards),
      headers: { 'content-type': 'application/json' },
    });
    expect(c.status, await c.clone().text()).toBe(200);
    await server().processors.drain();
    for (const u of [
      { username: 'pt-epi', roles: ['epidemiologist' as const] },
      { username: 'pt-ph', roles: ['public-health' as const] },
      { username: 'pt-fd', roles: ['family-doctor' as const] },
      { username: 'pt-viewer', roles: ['viewer' as const] },
    ]) {
      await server().auth.addUser({ ...u, organization: 'pt-chc', password: 'portrait-test-pw-1' });
      const login = await fetch(`${server().url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: 'portrait-test-pw-1' }),
      });
      tokens.set(u.username, ((await login.json()) as { access_token: string }).access_token);
    }
  });

  const street = (m: PortraitMap, code: string) => m.streets.find((s) => s.code === code)!;

  it('maps cases per 100 000: crude, WHO-standardised, smoothed and the district rate, with every value for the CDC', async () => {
    const m = await as<PortraitMap>('pt-epi', `/api/portrait/map?indicator=infectious-incidence&period=${YEAR}`);
    expect(m.viewer.cdc).toBe(true);
    expect(m.geography.features.map((f) => f.properties.code)).toEqual([S1, S2, S3]);
    expect(m.streets.map((s) => [s.code, s.name])).toEqual([
      [S1, '东街道'],
      [S2, '南街道'],
      [S3, '西街道'],
    ]);
    // S1: 6/20 → 30 000; standardised 10⁵ × (7610·2/10 + 2210·4/10) / 100035 = 2 405.16.
    expect(street(m, S1)).toMatchObject({ numerator: 6, denominator: 20, crude: 30000, standardised: 2405.16, suppressed: false });
    // S2: 5/10 → 50 000; standardised 10⁵ × 2210 / 100035 = 2 209.23.
    expect(street(m, S2)).toMatchObject({ numerator: 5, denominator: 10, crude: 50000, standardised: 2209.23 });
    // S3: 0 of 3 residents: shown to the CDC, flagged as what others do not see.
    expect(street(m, S3)).toMatchObject({
      numerator: 0,
      denominator: 3,
      crude: 0,
      standardised: 0,
      suppressed: true,
      suppression: 'small',
    });
    // The spread is no more than chance (s² = 0.01919 < m/n̄ = 0.0303), so every street is smoothed to 11/33.
    for (const s of m.streets) expect(s.smoothed).toBe(33333.33);
    expect(m.district).toMatchObject({ numerator: 11, denominator: 33, crude: 33333.33, suppressed: false });
    expect(m.standardPopulation?.name).toMatch(/WHO/);
    expect(m.diseases.map((d) => d.name)).toEqual(['流行性感冒']);
  });

  it('suppresses the small street and its complement for a role outside the CDC, in every view', async () => {
    const m = await as<PortraitMap>('pt-ph', `/api/portrait/map?indicator=infectious-incidence&period=${YEAR}`);
    expect(m.viewer.cdc).toBe(false);
    const hidden = { numerator: null, denominator: null, crude: null, standardised: null, smoothed: null, suppressed: true };
    expect(street(m, S3)).toMatchObject({ ...hidden, suppression: 'small' });
    // S2 alone could be recovered as district − S1 − S3: hidden as its complement.
    expect(street(m, S2)).toMatchObject({ ...hidden, suppression: 'complementary' });
    expect(street(m, S1)).toMatchObject({ numerator: 6, crude: 30000, suppressed: false });
    expect(m.district.crude).toBe(33333.33);
    // Primary care's figures follow the same rule: contract coverage is 0 of 20, 0 of 10, 0 of 3.
    const c = await as<PortraitMap>('pt-fd', `/api/portrait/map?indicator=contract-coverage&period=${YEAR}`);
    expect(street(c, S1)).toMatchObject({ numerator: 0, denominator: 20, crude: 0, standardised: null, suppressed: false });
    expect(street(c, S3)).toMatchObject({ denominator: null, suppressed: true, suppression: 'small' });
    expect(street(c, S2)).toMatchObject({ denominator: null, suppressed: true, suppression: 'complementary' });
    expect(c.indicator.standardised).toBe(false);
    const e = await as<PortraitMap>('pt-epi', `/api/portrait/map?indicator=contract-coverage&period=${YEAR}`);
    expect(street(e, S3)).toMatchObject({ numerator: 0, denominator: 3, crude: 0, suppressed: true });
    expect(e.district).toMatchObject({ numerator: 0, denominator: 33, crude: 0 });
    // A viewer (no care or surveillance reading) may not open the portrait; a bad indicator is a 400.
    await as('pt-viewer', '/api/portrait/map', 403);
    await as('pt-epi', '/api/portrait/map?indicator=nope', 400);
  });

  it("gives a street's profile: population by sex and age, burden by disease, programmes and services", async () => {
    const p = await as<StreetProfile>('pt-ph', `/api/portrait/streets/${S1}?period=${YEAR}`);
    expect(p.name).toBe('东街道');
    expect(p.population.bands).toEqual(['0-6', '7-17', '18-34', '35-44', '45-54', '55-64', '65-74', '75+']);
    expect(p.population.rows.map((r) => [r.sex, r.counts, r.total])).toEqual([
      ['male', [0, 0, 5, 0, 0, 0, 5, 0], 10],
      ['female', [0, 0, 5, 0, 0, 0, 5, 0], 10],
    ]);
    expect([p.population.total, p.population.suppressed]).toEqual([20, false]);
    expect(p.burden.diseases).toEqual([{ key: expect.any(String), name: '流行性感冒', cases: 6, per100k: 30000, suppressed: false }]);
    expect(p.burden.total).toMatchObject({ numerator: 6, denominator: 20, value: 30000 });
    expect(p.services.contracts.find((c) => c.population === 'all')).toMatchObject({ numerator: 0, denominator: 20, value: 0 });
    expect(p.services.contracts.find((c) => c.population === 'elderly')).toMatchObject({ numerator: 0, denominator: 10 });
    expect(p.programmes.map((x) => [x.disease, x.managed])).toEqual([
      ['htn', 0],
      ['dm', 0],
    ]);
    expect(p.notExported.length).toBeGreaterThan(0);

    // The small street: three men aged 30 are hidden outside the CDC, with every total that would give them away.
    const small = await as<StreetProfile>('pt-ph', `/api/portrait/streets/${S3.slice(0, 9)}?period=${YEAR}`);
    expect(small.code).toBe(S3);
    expect(small.population.suppressed).toBe(true);
    expect(small.population.total).toBeNull();
    expect(small.population.rows.flatMap((r) => r.counts).filter((v) => v !== null && v > 0)).toEqual([]);
    expect(small.burden.population).toBeNull();
    expect(small.services.contracts.find((c) => c.population === 'all')).toMatchObject({ denominator: null, suppressed: true });
    const cdc = await as<StreetProfile>('pt-epi', `/api/portrait/streets/${S3}?period=${YEAR}`);
    expect([cdc.population.total, cdc.burden.population]).toEqual([3, 3]);
    expect(cdc.population.rows.find((r) => r.sex === 'male')!.total).toBe(2);
    // The complement on the map is hidden in the profile too: its population would give the small street's back.
    const partner = await as<StreetProfile>('pt-ph', `/api/portrait/streets/${S2}?period=${YEAR}`);
    expect([partner.population.total, partner.population.suppressed, partner.burden.population, partner.burden.total.numerator]).toEqual([
      null,
      true,
      null,
      null,
    ]);
    expect(partner.services.contracts.find((c) => c.population === 'all')).toMatchObject({ denominator: null, suppressed: true });
    await as('pt-ph', '/api/portrait/streets/12345', 400);
  });

  it('drills down to the people only for the CDC; a suppressed cell answers its suppression to anyone else', async () => {
    const q = (s: string) => `/api/portrait/residents?indicator=infectious-incidence&street=${s}&period=${YEAR}`;
    // Outside the CDC: the small cell (and its complement) answer 200 with suppressed and no people…
    for (const user of ['pt-ph', 'pt-fd'])
      for (const s of [S3, S2]) {
        const r = await as<CellResidents>(user, q(s));
        expect(r).toMatchObject({ suppressed: true, residents: null, total: null });
      }
    // … a cell shown on the map is still not theirs to open.
    await as('pt-ph', q(S1), 403);
    // The CDC sees the residents behind every cell.
    const e = await as<CellResidents>('pt-epi', q(S1));
    expect(e.suppressed).toBe(false);
    expect(e.total).toBe(6);
    expect(e.residents!.map((r) => r.name).sort()).toEqual(['画像1', '画像2', '画像3', '画像4', '画像5', '画像6']);
    expect(e.residents!.filter((r) => r.age === 70)).toHaveLength(4);
    expect(await as<CellResidents>('pt-epi', q(S3))).toMatchObject({ suppressed: false, total: 0, residents: [] });
    // A primary-care cell points at primary care's own drill-down.
    const pc = await as<CellResidents>('pt-epi', `/api/portrait/residents?indicator=htn-control&street=${S1}&period=${YEAR}`);
    expect(pc.via).toBe(`/api/indicators/htn-control/residents?groupBy=street&group=${S1.slice(0, 9)}&period=${YEAR}`);
  });
});
