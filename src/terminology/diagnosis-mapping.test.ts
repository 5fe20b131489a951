/**
 * Code mapping, third part (issue #16): local diagnosis codes. The targets are the notifiable
 * diseases' ICD-10 codes (read from surveillance's list); an encounter diagnosis whose local code no
 * map knows and whose text names no single target is queued per facility with suggestions from its
 * text, from a FHIR Condition and from an HL7 ADT DG1; mapping it settles the queue row, moves the
 * open count and re-classifies the stored visit. ConceptMaps in NDJSON and Bundle imports prepared on
 * the worker thread meet the same mapping rules as /fhir writes: a bad one is reported on its line
 * (or its Bundle, naming the entry) and not stored.
 */
import { Readable } from 'node:stream';
import type { Condition, ConceptMap } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { importBundles, importNdjson } from '../fhir/import.js';
import { checkConceptMap, emptyConceptMap, withMapping } from './concept-map.js';
import { diagnosisTables, expandIcd10Pattern, parseDiagnosisTables } from './diagnoses.js';
import { isKnownTarget, terminologyTables } from './kinds.js';
import { unmappedDiagnoses } from './resolve-codes.js';
import { TerminologyIndex } from './resolve.js';
import type { FacilityQueueList, LabTargetList, MappingResult, UnmappedList } from './schemas.js';
import { suggestTargets } from './suggest.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const HOSPITAL_DX = 'https://hospital.example/CodeSystem/diagnosis';
const tables = terminologyTables();

describe('diagnosis targets from the notifiable list', () => {
  it('expands codes and ranges, names each code as the list names its disease, and leaves out diseases no longer in force', () => {
    expect(expandIcd10Pattern('B20-B24')).toEqual(['B20', 'B21', 'B22', 'B23', 'B24']);
    expect(expandIcd10Pattern('B18.0-B18.1')).toEqual(['B18.0', 'B18.1']);
    expect(expandIcd10Pattern('U07.1')).toEqual(['U07.1']);
    const d = diagnosisTables();
    expect(d.system).toBe(ICD10);
    expect(d.byCode.get('J10')).toMatchObject({ zh: '流行性感冒', disease: 'influenza', class: '丙' });
    expect(d.byCode.get('J11')).toMatchObject({ zh: '流行性感冒' });
    expect(d.byCode.get('B16')).toMatchObject({ zh: '乙型病毒性肝炎', disease: 'hepatitisB' });
    expect(d.byCode.get('A22.1')).toMatchObject({ zh: '肺炭疽' });
    expect(d.byCode.has('A15') && d.byCode.has('A16') && d.byCode.has('Z21')).toBe(true);
    // Dengue's old codes (A90-A91) left the list at the end of 2015.
    expect(d.byCode.has('A90')).toBe(false);
    expect(d.byCode.get('A97')).toMatchObject({ zh: '登革热' });
    // A name resolves a text only when one code carries it.
    expect(d.byText.get('麻疹')).toBe('B05');
    expect(d.byText.has('流行性感冒')).toBe(false);
    expect(() =>
      parseDiagnosisTables({ version: 'x', diseases: [{ key: 'k', name: 'n', class: '乙', icd10: ['flu'], effectiveFrom: '2004-01-01' }] }),
    ).toThrow(/diseases\.0\.icd10\.0: an ICD-10 code or range/);
  });

  it.each([
    ['流行性感冒', ['J10', 'J11']],
    ['疑似麻疹', ['B05']],
    ['手足口病', ['B08.4']],
    ['细菌性痢疾', ['A03']],
    ['急性乙型肝炎', ['B16']],
  ])('suggests from the text %s: %j first', (text, codes) => {
    expect(
      suggestTargets(tables, text, 3, 'diagnosis')
        .slice(0, codes.length)
        .map((s) => s.code),
    ).toEqual(codes);
  });

  it('resolves a diagnosis: ICD-10 as sent, a map, a text naming one disease; the rest is unmapped, text alone is none', () => {
    const cm = withMapping(emptyConceptMap('DXH', HOSPITAL_DX, ICD10), {
      facility: 'DXH',
      system: HOSPITAL_DX,
      code: 'ZY-DIA',
      targetSystem: ICD10,
      target: 'A09',
    });
    const ignored = withMapping(cm, { facility: 'DXH', system: HOSPITAL_DX, code: 'ZY-FX', targetSystem: ICD10, target: null });
    const index = new TerminologyIndex(tables, [ignored]);
    const local = (code: string, display?: string) => ({ coding: [{ system: HOSPITAL_DX, code, ...(display ? { display } : {}) }] });
    expect(index.resolveDiagnosis({ coding: [{ system: 'urn:oid:icd10-cn', code: 'J11.1' }] }, 'DXH')).toMatchObject({ code: 'J11.1' });
    expect(index.resolveDiagnosis(local('ZY-DIA', '感染性腹泻'), 'DXH')).toEqual({ status: 'mapped', code: 'A09', via: 'concept-map' });
    expect(index.resolveDiagnosis(local('ZY-MEA', '麻疹'), 'DXH')).toEqual({ status: 'mapped', code: 'B05', via: 'text' });
    expect(index.resolveDiagnosis(local('ZY-FX', '骨折'), 'DXH')).toEqual({ status: 'ignored' });
    expect(index.resolveDiagnosis({ ...local('ZY-FLU'), text: '流行性感冒' }, 'DXH')).toEqual({
      status: 'unmapped',
      local: [{ system: HOSPITAL_DX, code: 'ZY-FLU', display: '流行性感冒' }],
    });
    expect(index.resolveDiagnosis({ text: '流行性感冒' }, 'DXH')).toEqual({ status: 'none' });
    // The counting path (resolveIcd10) agrees.
    expect(index.resolveIcd10(local('ZY-MEA', '麻疹').coding, 'DXH', ICD10)).toBe('B05');
    expect(index.resolveIcd10(local('ZY-FLU', '流行性感冒').coding, 'DXH', ICD10)).toBeUndefined();

    // Only a visit's diagnosis is queued.
    const cond: Condition = {
      resourceType: 'Condition',
      id: 'c1',
      subject: { reference: 'Patient/p' },
      meta: { source: 'DXH' },
      code: local('ZY-FLU', '流行性感冒'),
    };
    expect(unmappedDiagnoses(index, cond, true)).toEqual([]);
    expect(unmappedDiagnoses(index, { ...cond, encounter: { reference: 'Encounter/e1' } }, true)).toEqual([
      { kind: 'diagnosis', facility: 'DXH', system: HOSPITAL_DX, code: 'ZY-FLU', display: '流行性感冒', observationId: 'c1', first: true },
    ]);
  });

  it('lets a diagnosis map name any ICD-10 code, and refuses what is not one', () => {
    expect(isKnownTarget(tables, 'diagnosis', 'J06.9')).toBe(true);
    expect(isKnownTarget(tables, 'diagnosis', 'flu')).toBe(false);
    const cm: ConceptMap = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [
        {
          target: ICD10,
          element: [
            { code: 'a', target: [{ code: 'J06.9', equivalence: 'equivalent' }] },
            { code: 'b', target: [{ code: 'influenza', equivalence: 'equivalent' }] },
          ],
        },
      ],
    };
    expect(checkConceptMap(cm, tables).map((p) => p.expression)).toEqual(['ConceptMap.group[0].element[1].target[0].code']);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

const badMap = (id: string): ConceptMap => ({
  resourceType: 'ConceptMap',
  id,
  status: 'active',
  group: [
    {
      target: ICD10,
      element: [
        { code: 'D1', target: [{ code: 'J11', equivalence: 'equivalent' }] },
        { code: 'D1', target: [{ code: 'J10', equivalence: 'equivalent' }] },
      ],
    },
  ],
});
const goodMap = (id: string): ConceptMap => ({
  resourceType: 'ConceptMap',
  id,
  status: 'active',
  group: [{ target: ICD10, element: [{ code: 'D1', target: [{ code: 'J11', equivalence: 'equivalent' }] }] }],
});

describeEachStore('diagnosis codes in the unmapped queue; ConceptMaps in imports', (server) => {
  const api = (p: string, init?: RequestInit) =>
    server().api(p, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers as Record<string, string>) } });
  const json = async <T>(p: string, init?: RequestInit) => {
    const r = await api(p, init);
    expect(r.status, `${p}: ${r.status} ${await r.clone().text()}`).toBeLessThan(300);
    return (await r.json()) as T;
  };
  const put = async (path: string, body: unknown) => {
    const r = await api(`/fhir/${path}`, { method: 'PUT', body: JSON.stringify(body) });
    expect(r.status, `${path}: ${await r.clone().text()}`).toBeLessThan(300);
  };
  const count = async (signal: string, day: string) =>
    Number(
      (
        await server().db.query<{ n: string }>(`SELECT coalesce(sum(n), 0) AS n FROM signal_count WHERE signal = $1 AND day = $2`, [
          signal,
          day,
        ])
      ).rows[0]!.n,
    );
  const openCodes = async (facility: string) =>
    (await json<FacilityQueueList>('/api/terminology/facilities?kind=diagnosis')).facilities.find((f) => f.facility === facility)
      ?.openCodes ?? 0;

  it('a FHIR Condition’s local diagnosis code is queued with suggestions; mapped, its row is marked mapped, the count moves and the visit counts', async () => {
    const DAY = '2026-05-11';
    const FAC = 'DXF-HOSP';
    const facilityId = () => [{ system: `https://yifang.health/fhir/sid/hl7v2-key/${FAC}`, value: Math.random().toString(36).slice(2) }];
    await put('Patient/dxf-p', { resourceType: 'Patient', id: 'dxf-p', birthDate: '1990-01-01', gender: 'female' });
    const visit = async (n: number, code: Condition['code']) => {
      await put(`Encounter/dxf-e${n}`, {
        resourceType: 'Encounter',
        id: `dxf-e${n}`,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/dxf-p' },
        period: { start: `${DAY}T09:0${n}:00+08:00` },
      });
      await put(`Condition/dxf-c${n}`, {
        resourceType: 'Condition',
        id: `dxf-c${n}`,
        identifier: facilityId(),
        subject: { reference: 'Patient/dxf-p' },
        encounter: { reference: `Encounter/dxf-e${n}` },
        code,
      });
    };
    // 1: a local code for 流行性感冒 (J10 or J11: queued); 2: a local code whose text names one disease (麻疹: counted, not
    // queued); 3: ICD-10 as sent (not queued).
    await visit(1, { coding: [{ system: HOSPITAL_DX, code: 'ZY-FLU', display: '流行性感冒' }], text: '流行性感冒' });
    await visit(2, { coding: [{ system: HOSPITAL_DX, code: 'ZY-MEA', display: '麻疹' }] });
    await visit(3, { coding: [{ system: ICD10, code: 'A09', display: '感染性腹泻' }] });
    // A diagnosis on no visit is not queued either.
    await put('Condition/dxf-c9', {
      resourceType: 'Condition',
      id: 'dxf-c9',
      identifier: facilityId(),
      subject: { reference: 'Patient/dxf-p' },
      code: { coding: [{ system: HOSPITAL_DX, code: 'ZY-HT', display: '高血压' }] },
    });
    await server().processors.drain();
    expect(await count('syndrome:fever_rash', DAY)).toBe(1);
    expect(await count('syndrome:fever_respiratory', DAY)).toBe(0);

    const queue = await json<UnmappedList>(`/api/terminology/unmapped?kind=diagnosis&facility=${FAC}`);
    expect(queue.total).toBe(1);
    expect(queue.items[0]).toMatchObject({
      kind: 'diagnosis',
      facility: FAC,
      system: HOSPITAL_DX,
      code: 'ZY-FLU',
      display: '流行性感冒',
      records: 1,
      examples: ['dxf-c1'],
      status: 'open',
    });
    expect(queue.items[0]!.suggestions!.slice(0, 2).map((s) => [s.code, s.zh])).toEqual([
      ['J10', '流行性感冒'],
      ['J11', '流行性感冒'],
    ]);
    // Other tabs keep their own codes; the facility list counts diagnoses of their own kind.
    expect((await json<UnmappedList>(`/api/terminology/unmapped?facility=${FAC}`)).total).toBe(0);
    expect(await openCodes(FAC)).toBe(1);
    const targets = await json<LabTargetList>('/api/terminology/targets?kind=diagnosis');
    expect(targets).toMatchObject({ kind: 'diagnosis', system: ICD10 });
    expect(targets.targets.find((t) => t.code === 'J11')).toMatchObject({ zh: '流行性感冒', disease: 'influenza', diseaseClass: '丙' });

    // Not an ICD-10 code: 422. Mapped to J11: the row is marked mapped, the open count moves, the stored visit counts.
    const bad = await api('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ kind: 'diagnosis', facility: FAC, system: HOSPITAL_DX, code: 'ZY-FLU', target: 'influenza' }),
    });
    expect(bad.status).toBe(422);
    const m = await json<MappingResult>('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ kind: 'diagnosis', facility: FAC, system: HOSPITAL_DX, code: 'ZY-FLU', display: '流行性感冒', target: 'J11' }),
    });
    expect(m).toMatchObject({ version: '1', settled: 1 });
    await server().processors.drain();
    expect(await openCodes(FAC)).toBe(0);
    expect((await json<UnmappedList>(`/api/terminology/unmapped?kind=diagnosis&facility=${FAC}`)).total).toBe(0);
    expect((await json<UnmappedList>(`/api/terminology/unmapped?kind=diagnosis&facility=${FAC}&status=mapped`)).items).toEqual([
      expect.objectContaining({ code: 'ZY-FLU', status: 'mapped', target: 'J11' }),
    ]);
    expect(await count('syndrome:fever_respiratory', DAY)).toBe(1);
    const row = await server().db.query<{ icd10: string[] }>(`SELECT icd10 FROM surv_visit WHERE encounter_id = 'dxf-e1'`);
    expect(row.rows[0]!.icd10).toEqual(['J11']);
    // A later visit with the code counts as it arrives and is not queued again.
    await visit(4, { coding: [{ system: HOSPITAL_DX, code: 'ZY-FLU', display: '流行性感冒' }] });
    await server().processors.drain();
    expect(await count('syndrome:fever_respiratory', DAY)).toBe(2);
    expect(await openCodes(FAC)).toBe(0);
  });

  it('an HL7 ADT^A04 DG1 with a local diagnosis code is queued under its MSH-4; a whole ConceptMap settles it', async () => {
    const ts = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const pv1 = Array.from({ length: 45 }, () => '');
    pv1[0] = 'PV1';
    pv1[1] = '1';
    pv1[2] = 'O';
    pv1[3] = '发热门诊^^^DXH';
    pv1[19] = 'V-DXA-1';
    pv1[44] = '20260512090000';
    const msg = [
      `MSH|^~\\&|HIS|DXA-HIS^门诊|YIFANG|CDC|${ts}||ADT^A04^ADT_A01|DXA-1|P|2.5|||||CHN|UNICODE UTF-8`,
      'EVN|A04|20260512090000',
      'PID|1||DXA-M1^^^DXH^MR||王五||19900101|M',
      pv1.join('|'),
      'DG1|1||ZY-FLU^流行性感冒^HISDX||20260512091000|F',
    ].join('\r');
    const r = await server().api('/api/hl7', { method: 'POST', body: msg, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    expect(r.status, await r.clone().text()).toBe(200);
    await server().processors.drain();

    const queue = await json<UnmappedList>('/api/terminology/unmapped?kind=diagnosis&facility=DXA-HIS');
    expect(queue.items).toHaveLength(1);
    expect(queue.items[0]).toMatchObject({
      kind: 'diagnosis',
      system: '',
      code: 'ZY-FLU',
      display: '流行性感冒',
      records: 1,
      status: 'open',
    });
    expect(queue.items[0]!.suggestions?.[0]?.zh).toBe('流行性感冒');
    expect(await openCodes('DXA-HIS')).toBe(1);

    const map = withMapping(emptyConceptMap('DXA-HIS', '', ICD10), {
      facility: 'DXA-HIS',
      system: '',
      code: 'ZY-FLU',
      display: '流行性感冒',
      targetSystem: ICD10,
      target: 'J10',
    });
    await json(`/api/terminology/concept-maps/${map.id}`, { method: 'PUT', body: JSON.stringify(map) });
    await server().processors.drain();
    expect(await openCodes('DXA-HIS')).toBe(0);
    expect((await json<UnmappedList>('/api/terminology/unmapped?kind=diagnosis&facility=DXA-HIS&status=mapped')).items[0]).toMatchObject({
      code: 'ZY-FLU',
      target: 'J10',
    });
    expect(await count('syndrome:fever_respiratory', '2026-05-12')).toBe(1);
  });

  it('an NDJSON import reports a bad ConceptMap on its line and stores the rest, whether the line is prepared here or on the worker', async () => {
    const { repo, db } = server();
    const patient = (n: number) => JSON.stringify({ resourceType: 'Patient', id: `dxi-p${n}`, name: [{ family: `导入${n}` }] });
    const lines = [
      patient(1),
      patient(2),
      JSON.stringify(badMap('dxi-bad-main')),
      patient(3),
      patient(4),
      // Past the first batch of 5: prepared on the worker thread.
      patient(5),
      JSON.stringify(badMap('dxi-bad-worker')),
      JSON.stringify(goodMap('dxi-good-worker')),
      patient(6),
      patient(7),
      patient(8),
    ];
    const stored = async (id: string) => (await db.query(`SELECT 1 FROM r_conceptmap WHERE id = $1`, [id])).rows.length > 0;
    for (const worker of [true, false]) {
      const s = await importNdjson(repo, Readable.from([lines.join('\n') + '\n']), 'maps.ndjson', { batchSize: 5, worker });
      expect(s.errors.map((e) => e.line)).toEqual([3, 7]);
      for (const e of s.errors) expect(e.message).toMatch(/ConceptMap\.group\[0\]\.element\[1\].*D1 is mapped twice/);
      expect(s.resources).toBe(9);
      expect(await stored('dxi-bad-main')).toBe(false);
      expect(await stored('dxi-bad-worker')).toBe(false);
      expect(await stored('dxi-good-worker')).toBe(true);
      expect((await repo.read('Patient', 'dxi-p8')).id).toBe('dxi-p8');
    }
  });

  it('a Bundle import with a bad ConceptMap is refused whole, naming the entry; one with a good map is stored', async () => {
    const { repo, db } = server();
    const bundle = (n: number, map: ConceptMap) =>
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Patient', id: `dxb-p${n}` }, request: { method: 'PUT', url: `Patient/dxb-p${n}` } },
          { resource: map, request: { method: 'PUT', url: `ConceptMap/${map.id}` } },
        ],
      });
    for (const worker of [true, false]) {
      const errors: string[] = [];
      const s = await importBundles(
        repo,
        [
          { text: bundle(1, badMap('dxb-bad')), file: 'b1.json' },
          { text: bundle(2, goodMap('dxb-good')), file: 'b2.json' },
        ],
        undefined,
        (file, e) => errors.push(`${file}: ${e.message}`),
        undefined,
        { worker },
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^b1\.json: .*D1 is mapped twice/);
      if (worker) expect(errors[0]).toContain('Bundle.entry[1]');
      expect(s.resources).toBe(2);
      expect((await db.query(`SELECT id FROM r_conceptmap WHERE id LIKE 'dxb-%' ORDER BY id`)).rows).toEqual([{ id: 'dxb-good' }]);
      expect((await db.query(`SELECT 1 FROM r_patient WHERE id = 'dxb-p1'`)).rows).toHaveLength(0);
    }
  });
});
