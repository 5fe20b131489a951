import iconv from 'iconv-lite';
import { beforeAll, describe, expect, it } from 'vitest';
import { topology } from 'topojson-server';
import { describeEachStore } from '../app/testing.js';
import { surveillanceRuntime } from '../surveillance/index.js';
import { boundaryProblem, simplifyBoundaries, type Boundary } from './geometry.js';
import type { ImportReport, SiteItem as SiteItemLike } from './schemas.js';

const DISTRICT = '339902000000';
const S1 = '339902001000';
const S2 = '339902002000';
const C1 = '339902001001';
const C2 = '339902002001';

/** A square-ish ring of n vertices around (x, y) with radius r (closed). */
function ring(x: number, y: number, r: number, n = 200): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * i) / n;
    const wobble = 1 + 0.05 * Math.sin(7 * a);
    out.push([x + r * wobble * Math.cos(a), y + r * wobble * Math.sin(a)]);
  }
  out.push(out[0]!);
  return out;
}
const poly = (x: number, y: number, r: number, n?: number) => ({ type: 'Polygon', coordinates: [ring(x, y, r, n)] });
const feature = (props: Record<string, unknown>, geometry: unknown) => ({ type: 'Feature', properties: props, geometry });
const collection = (features: unknown[]) => JSON.stringify({ type: 'FeatureCollection', features });

const AREAS = collection([
  feature({ code: DISTRICT, name: '望川区', level: 'district' }, poly(120.5, 29.5, 0.5)),
  feature({ code: S1, name: '临江街道' }, poly(120.3, 29.5, 0.2)),
  feature({ 代码: S2, 名称: '望山镇', 级别: '乡镇' }, poly(120.7, 29.5, 0.2)),
  feature({ code: C1, name: '江滨社区' }, poly(120.3, 29.5, 0.05)),
  feature({ code: C2, name: '山前村' }, poly(120.7, 29.5, 0.05)),
]);
const ORGS = [
  '机构代码,名称,类别,等级,所属区划,经度,纬度',
  `H001,望川区人民医院,医院,二级,${C1},120.31,29.51`,
  `C001,临江街道社区卫生服务中心,社区卫生服务中心,,${C1},,`,
  `T001,望山镇卫生院,乡镇卫生院,,${C2},,`,
].join('\r\n');
const PLACES = [
  'code,name,type,sentinel,area,organization,grades,classes',
  `SCH01,临江小学,学校,,${C1},,一年级;二年级;三年级,3;3;4`,
  `PH01,仁心大药房,零售药店,,${C1},,,`,
  `SS01,望川汽车站,监测哨点,交通场站,${C2},T001,,`,
].join('\n');

describe('boundaries (pure)', () => {
  it('refuses unclosed, short and self-intersecting rings, naming the crossing', () => {
    expect(boundaryProblem(poly(0, 0, 1))).toBeUndefined();
    expect(
      boundaryProblem({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ],
      }),
    ).toMatch(/ring 0 is not closed/);
    expect(
      boundaryProblem({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [0, 0],
          ],
        ],
      }),
    ).toMatch(/3 positions; a ring needs at least 4/);
    expect(
      boundaryProblem({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 1],
            [1, 0],
            [0, 1],
            [0, 0],
          ],
        ],
      }),
    ).toMatch(/crosses itself at \[0\.5, 0\.5\]/);
    expect(boundaryProblem({ type: 'Point', coordinates: [0, 0] })).toMatch(/not a Polygon/);
  });

  it('simplifies a file of boundaries to the vertex budget, keeping every ring valid', () => {
    const input = new Map<string, Boundary>();
    for (let i = 0; i < 20; i++) input.set(`a${i}`, poly(i, 0, 0.4, 400) as Boundary);
    const out = simplifyBoundaries(input, 60);
    let vertices = 0;
    for (const g of out.values()) {
      expect(boundaryProblem(g)).toBeUndefined();
      vertices += (g as { coordinates: number[][][] }).coordinates[0]!.length;
    }
    expect(vertices).toBeLessThanOrEqual(20 * 60 * 1.1);
    expect(vertices).toBeGreaterThan(20 * 20);
  });
});

describeEachStore('registry', (server) => {
  const upload = async (body: string | Buffer, contentType: string, query = '') =>
    server().api(`/api/registry/import${query}`, { method: 'POST', body: body as BodyInit, headers: { 'content-type': contentType } });
  const counts = async () => {
    const n = async (sql: string) => Number((await server().db.query<{ n: number }>(sql)).rows[0]!.n);
    return {
      areas: await n('SELECT count(*)::int AS n FROM registry_area'),
      sites: await n('SELECT count(*)::int AS n FROM registry_site'),
      locations: await n('SELECT count(*)::int AS n FROM r_location'),
      organizations: await n('SELECT count(*)::int AS n FROM r_organization'),
    };
  };

  beforeAll(async () => {
    const a = await upload(AREAS, 'application/geo+json', '?fileName=areas.geojson');
    const ar = (await a.json()) as ImportReport;
    expect(ar.refused).toEqual([]);
    expect(a.status).toBe(200);
    expect(ar).toMatchObject({ kind: 'areas', stored: true, created: 5 });
    // Organizations as a GB18030 CSV (Chinese headers), detected.
    const o = await upload(iconv.encode(ORGS, 'gb18030'), 'text/csv');
    const or = (await o.json()) as ImportReport;
    expect(or).toMatchObject({ kind: 'organizations', encoding: 'gb18030', stored: true, created: 3, refused: [] });
    const p = await upload(PLACES, 'text/csv; charset=utf-8', '?kind=places');
    expect(await p.json()).toMatchObject({ kind: 'places', stored: true, created: 3, refused: [] });
  });

  it('the alert map area API returns the imported boundaries, simplified', async () => {
    const geo = (await (await server().api('/api/surveillance/geography?level=street')).json()) as {
      features: { properties: { code: string; name: string; parent: string }; geometry: { type: string; coordinates: number[][][] } }[];
    };
    expect(geo.features.map((f) => f.properties.code)).toEqual([S1, S2]);
    expect(geo.features[1]!.properties).toMatchObject({ name: '望山镇', parent: DISTRICT });
    expect(geo.features[0]!.geometry.type).toBe('Polygon');
    // 5 areas × 201 positions in, ~60 per area kept on average.
    expect(geo.features[0]!.geometry.coordinates[0]!.length).toBeLessThan(201);
    expect(boundaryProblem(geo.features[0]!.geometry)).toBeUndefined();
  });

  it('stores FHIR Organization and Location resources with codes, types, partOf and the boundary extension', async () => {
    const loc = (await (await server().api(`/fhir/Location/area-${C1}`)).json()) as {
      partOf: { reference: string };
      extension: { url: string; valueAttachment: { contentType: string; data: string } }[];
      type: { coding: { code: string }[] }[];
    };
    expect(loc.partOf.reference).toBe(`Location/area-${S1}`);
    expect(loc.type[0]!.coding[0]!.code).toBe('community');
    const b = loc.extension.find((e) => e.url.endsWith('location-boundary-geojson'))!;
    expect(JSON.parse(Buffer.from(b.valueAttachment.data, 'base64').toString('utf8')).type).toBe('Polygon');
    const org = (await (await server().api('/fhir/Organization/org-H001')).json()) as {
      type: { coding: { code: string; display: string }[] }[];
    };
    expect(org.type.map((t) => t.coding[0]!.display)).toEqual(['医院', '二级']);
    const school = (await (await server().api('/api/registry/places/SCH01')).json()) as {
      streetCode: string;
      details: { grades: unknown[] };
    };
    expect(school.streetCode).toBe(S1);
    expect(school.details.grades).toEqual([
      { grade: '一年级', classes: 3 },
      { grade: '二年级', classes: 3 },
      { grade: '三年级', classes: 4 },
    ]);
    const sentinel = (await (await server().api('/api/registry/places?sentinel=transport-hub')).json()) as {
      total: number;
      items: { code: string }[];
    };
    expect(sentinel).toMatchObject({ total: 1, items: [{ code: 'SS01' }] });
    const hospitals = (await (await server().api(`/api/registry/organizations?type=hospital&area=${S1}`)).json()) as { total: number };
    expect(hospitals.total).toBe(1);
  });

  it('a re-import changes nothing; an edit goes through the same checks', async () => {
    const again = (await (await upload(PLACES, 'text/csv', '?kind=places')).json()) as ImportReport;
    expect(again).toMatchObject({ stored: true, created: 0, updated: 0, unchanged: 3 });
    const edit = await server().api('/api/registry/places/PH01', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '仁心大药房（江滨店）', type: 'pharmacy', area: C1 }),
    });
    expect(await edit.json()).toMatchObject({ stored: true, updated: 1 });
    const bad = await server().api('/api/registry/places/PH01', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '仁心大药房', type: 'pharmacy', area: '339902009009' }),
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as ImportReport).refused[0]!.reason).toMatch(/area 339902009009 is unknown/);
  });

  const refusedCases: [string, string | Buffer, string, string, RegExp][] = [
    [
      'a self-intersecting ring',
      collection([
        feature({ code: '339902003000', name: '新街道' }, poly(121, 29, 0.1)),
        feature(
          { code: '339902003001', name: '蝴蝶社区' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [121, 29],
                [121.01, 29.01],
                [121.01, 29],
                [121, 29.01],
                [121, 29],
              ],
            ],
          },
        ),
      ]),
      'application/geo+json',
      'feature 1',
      /crosses itself/,
    ],
    [
      'an unclosed ring',
      collection([
        feature(
          { code: '339902003000', name: '新街道' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [121, 29],
                [121.1, 29],
                [121.1, 29.1],
                [121, 29.1],
              ],
            ],
          },
        ),
      ]),
      'application/geo+json',
      'feature 0',
      /not closed/,
    ],
    [
      'an area whose parent is unknown',
      collection([
        feature({ code: '339902003000', name: '新街道' }, poly(121, 29, 0.1)),
        feature({ code: '339902004001', name: '孤儿社区' }, poly(121.3, 29, 0.05)),
      ]),
      'application/geo+json',
      'feature 1',
      /parent area of 339902004001 \(339902004000 or 339902004\) is unknown/,
    ],
    [
      'a community under a refused street, naming the street',
      collection([
        feature(
          { code: '339902006000', name: '坏街道' },
          {
            type: 'Polygon',
            coordinates: [
              [
                [121, 29],
                [121.1, 29],
              ],
            ],
          },
        ),
        feature({ code: '339902006001', name: '好社区' }, poly(121.05, 29.05, 0.01)),
      ]),
      'application/geo+json',
      'feature 1',
      /parent area 339902006000 is refused \(feature 0\)/,
    ],
    [
      'two places with one code',
      `code,name,type,area\nNEW1,新药房,pharmacy,${C1}\nNEW2,二药房,pharmacy,${C1}\nNEW1,又一药房,pharmacy,${C2}\n`,
      'text/csv',
      'line 4',
      /code NEW1 is already used by line 2/,
    ],
  ];
  for (const [what, body, type, where, reason] of refusedCases) {
    it(`refuses ${what}, naming ${where}, with nothing stored`, async () => {
      const before = await counts();
      const res = await upload(body, type);
      expect(res.status).toBe(422);
      const r = (await res.json()) as ImportReport;
      expect(r.stored).toBe(false);
      expect(r.refused).toEqual(expect.arrayContaining([expect.objectContaining({ where, reason: expect.stringMatching(reason) })]));
      expect(r).toMatchObject({ created: 0, updated: 0 });
      expect(await counts()).toEqual(before);
    });
  }

  it('refuses a CSV in an encoding it cannot read, naming the line', async () => {
    const bytes = Buffer.concat([Buffer.from('code,name,type,area\nX1,'), Buffer.from([0xff, 0xfe, 0x81]), Buffer.from(',pharmacy,\n')]);
    const res = await upload(bytes, 'text/csv');
    expect(res.status).toBe(400);
    expect(((await res.json()) as ImportReport).refused[0]!.where).toBe('line 2');
  });

  it('a school feed row naming a school code from the registry gets its street', async () => {
    const csv = [
      'school_code,school_name,class_code,date,enrolled,absent,reason,symptom',
      'SCH01,临江小学,1-1,2025-10-08,40,3,病假,发热',
    ].join('\n');
    const up = await server().api('/api/surveillance/feeds/school-absenteeism', {
      method: 'POST',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(up.status).toBeLessThan(300);
    await surveillanceRuntime.get(server().db)!.feeds?.drain?.();
    const rows = await server().db.query<{ area_code: string }>(`SELECT area_code FROM surv_feed_absence WHERE school = 'SCH01'`);
    expect(rows.rows.map((r) => r.area_code)).toEqual([C1]);
    // C1 rolls up into its street S1 (the street is the area code's first 9 digits).
    expect(rows.rows[0]!.area_code.slice(0, 9)).toBe(S1.slice(0, 9));
  });

  it('imports a FHIR Bundle of areas, organizations and places, references inside it becoming codes', async () => {
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64');
    const entry = (resource: Record<string, unknown>) => ({ resource });
    const bundle = (extra: Record<string, unknown>[] = []) => ({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        entry({
          resourceType: 'Location',
          id: 'north',
          identifier: [{ system: 'https://yifang.health/fhir/CodeSystem/area-code', value: '339902007000' }],
          name: '北山街道',
          physicalType: { coding: [{ code: 'jdn' }] },
          partOf: { reference: `Location/area-${DISTRICT}` },
          extension: [
            {
              url: 'http://hl7.org/fhir/StructureDefinition/location-boundary-geojson',
              valueAttachment: { contentType: 'application/geo+json', data: b64(poly(121.5, 29.5, 0.1)) },
            },
          ],
        }),
        entry({
          resourceType: 'Organization',
          id: 'ob1',
          identifier: [{ system: 'urn:local', value: 'B001' }],
          name: '北山镇卫生院',
          type: [{ coding: [{ code: 'township-hc' }] }],
        }),
        entry({
          resourceType: 'Location',
          id: 'shop',
          identifier: [{ system: 'urn:local', value: 'BP01' }],
          name: '北山药店',
          type: [{ coding: [{ display: '零售药店' }] }],
          partOf: { reference: 'Location/north' },
          managingOrganization: { reference: 'Organization/ob1' },
        }),
        ...extra.map(entry),
      ],
    });
    const bad = await upload(JSON.stringify(bundle([{ resourceType: 'Patient', id: 'p1' }])), 'application/fhir+json');
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as ImportReport).refused).toEqual([
      expect.objectContaining({ where: 'entry 3', reason: expect.stringMatching(/Patient is not registry data/) }),
    ]);
    const res = await upload(JSON.stringify(bundle()), 'application/fhir+json');
    expect(await res.json()).toMatchObject({ kind: 'bundle', format: 'fhir', stored: true, created: 3, refused: [] });
    const shop = (await (await server().api('/api/registry/places/BP01')).json()) as SiteItemLike;
    expect(shop).toMatchObject({
      type: 'pharmacy',
      areaCode: '339902007000',
      streetCode: '339902007000',
      parentCode: 'B001',
      resourceId: 'shop',
    });
  });

  it('imports areas from a TopoJSON topology (shared arcs), as JSON', async () => {
    const topo = topology({
      areas: JSON.parse(
        collection([
          feature({ code: '339902005000', name: '东湖街道' }, poly(121.2, 29.5, 0.1)),
          feature({ code: '339902005001', name: '东湖社区' }, poly(121.2, 29.5, 0.03)),
        ]),
      ) as GeoJSON.FeatureCollection,
    });
    const res = await upload(JSON.stringify(topo), 'application/json', '?fileName=east.topojson');
    expect(await res.json()).toMatchObject({ kind: 'areas', format: 'topojson', stored: true, created: 2, refused: [] });
    const area = (await (await server().api('/api/registry/areas/339902005001')).json()) as {
      parentCode: string;
      boundary: { type: string };
    };
    expect(area).toMatchObject({ parentCode: '339902005000', boundary: { type: 'Polygon' } });
  });

  it('follows registry resources changed through /fhir: the lookup and the map name change', async () => {
    const loc = (await (await server().api('/fhir/Location/place-PH01')).json()) as Record<string, unknown>;
    const put = await server().api('/fhir/Location/place-PH01', {
      method: 'PUT',
      body: JSON.stringify({ ...loc, name: '仁心大药房（总店）' }),
    });
    expect(put.status).toBe(200);
    const street = (await (await server().api(`/fhir/Location/area-${S2}`)).json()) as Record<string, unknown>;
    await server().api(`/fhir/Location/area-${S2}`, { method: 'PUT', body: JSON.stringify({ ...street, name: '望山镇（新）' }) });
    await server().processors.drain();
    expect(((await (await server().api('/api/registry/places/PH01')).json()) as { name: string }).name).toBe('仁心大药房（总店）');
    const geo = (await (await server().api('/api/surveillance/geography?level=street')).json()) as {
      features: { properties: { code: string; name: string } }[];
    };
    expect(geo.features.find((f) => f.properties.code === S2)!.properties.name).toBe('望山镇（新）');
    const copy = await server().db.query<{ name: string }>(`SELECT name FROM surv_place WHERE code = 'PH01'`);
    expect(copy.rows[0]!.name).toBe('仁心大药房（总店）');
    // A deletion through /fhir: the place leaves the registry and the map copy.
    expect((await server().api('/fhir/Location/place-PH01', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect((await server().api('/api/registry/places/PH01')).status).toBe(404);
    expect((await server().db.query(`SELECT 1 FROM surv_place WHERE code = 'PH01'`)).rows).toEqual([]);
  });

  it('import via multipart with the kind as a field, and the report list', async () => {
    const form = new FormData();
    form.append('kind', 'places');
    form.append('file', new Blob([`code,name,type,area\nKG1,阳光幼儿园,kindergarten,${C2}\n`]), 'kg.csv');
    const res = await fetch(`${server().url}/api/registry/import`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${server().token}` },
    });
    expect(await res.json()).toMatchObject({ stored: true, created: 1, fileName: 'kg.csv' });
    const list = (await (await server().api('/api/registry/imports')).json()) as { items: { report: ImportReport }[] };
    expect(list.items[0]!.report).toMatchObject({ fileName: 'kg.csv', created: 1 });
  });
});
