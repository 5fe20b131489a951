/**
 * Code mapping, second part (issue #16): specimen types (SNOMED CT, with HL7 v2 0487/0070 codes)
 * and units (UCUM) as mapping targets, queued per facility and mapped like lab tests; a diagnosis
 * map re-derives the stored visits it changes (each counted once, remaps move the count); a
 * ConceptMap written straight to /fhir meets the mapping rules.
 */
import type { ConceptMap, Specimen } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { normaliseUnit, parseSpecimenTables, parseUnitTables, SPECIMEN_SYSTEM, UCUM_SYSTEM, V2_0070 } from './code-tables.js';
import { checkConceptMap, emptyConceptMap, withMapping } from './concept-map.js';
import { terminologyTables } from './kinds.js';
import { resolveSpecimenType, resolveUnit } from './resolve-codes.js';
import { TerminologyIndex } from './resolve.js';
import type { FacilityQueueList, LabTargetList, MappingResult, SuggestionList, UnmappedList } from './schemas.js';
import { currentConceptMaps } from './store.js';
import { suggestTargets } from './suggest.js';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const tables = terminologyTables();

describe('specimen-type and unit tables', () => {
  it('load, and refuse an alias claimed by two targets or an HL7 v2 code listed twice, naming the entry', () => {
    expect(tables.specimen.byCode.get('258500001')).toMatchObject({ zh: '鼻咽拭子', class: 'upper-respiratory' });
    expect(tables.specimen.hl7v2.get(`${V2_0070}|THRT`)).toBe('258529004');
    expect(tables.unit.byCode.has('{copies}/mL')).toBe(true);
    const base = { system: SPECIMEN_SYSTEM, source: 's' };
    expect(() =>
      parseSpecimenTables({
        ...base,
        targets: [
          { code: '119364003', zh: '血清', en: 'Serum', class: 'blood' },
          { code: '119361006', zh: '血浆', en: 'Plasma', class: 'blood', aliases: ['血清'] },
        ],
      }),
    ).toThrow(/targets\.1 \(119361006\): "血清" is also a name or alias of 119364003/);
    expect(() =>
      parseSpecimenTables({
        ...base,
        targets: [
          { code: '119364003', zh: 'a', en: 'a', class: 'blood', hl7v2: { '0487': ['SER'] } },
          { code: '119361006', zh: 'b', en: 'b', class: 'blood', hl7v2: { '0487': ['SER'] } },
        ],
      }),
    ).toThrow(/HL7 v2 0487 code SER is listed twice/);
    expect(() =>
      parseUnitTables({
        system: UCUM_SYSTEM,
        source: 's',
        targets: [
          { code: 'g/L', zh: 'a', en: 'a' },
          { code: 'G/L', zh: 'b', en: 'b' },
        ],
      }),
    ).toThrow(/targets\.1 \(G\/L\)/);
  });

  it.each([
    ['μmol/L', 'umol/L'],
    ['µmol/l', 'umol/L'],
    ['mmol/L', 'mmol/L'],
    ['g/L', 'g/L'],
    ['10^9/L', '10*9/L'],
    ['×10^9/L', '10*9/L'],
    ['10~9/L', '10*9/L'],
    ['IU/mL', '[IU]/mL'],
    ['Ct', '{Ct_value}'],
    ['Ct值', '{Ct_value}'],
    ['S/CO', '{s_co_ratio}'],
    ['copies/mL', '{copies}/mL'],
    ['℃', 'Cel'],
  ])('unit %s resolves to UCUM %s without mapping', (unit, ucum) => {
    const index = new TerminologyIndex(tables);
    expect(index.resolveUnit({ unit }, 'F')).toMatchObject({ status: 'mapped', code: ucum, via: 'text' });
  });

  it('resolves units: UCUM as sent, a facility map first, unknown strings queued by their text', () => {
    const cm = withMapping(emptyConceptMap('F', '', UCUM_SYSTEM), {
      facility: 'F',
      system: '',
      code: '拷贝数/毫升',
      targetSystem: UCUM_SYSTEM,
      target: '{copies}/mL',
    });
    expect(checkConceptMap(cm, tables)).toEqual([]);
    const index = new TerminologyIndex(tables, [cm]);
    expect(index.resolveUnit({ unit: 'mg/dL', system: UCUM_SYSTEM, code: 'mg/dL' }, 'F')).toMatchObject({ via: 'standard' });
    expect(resolveUnit(index, { unit: '拷贝数/毫升' }, 'F')).toEqual({ code: '{copies}/mL', zh: '拷贝每毫升', via: 'concept-map' });
    expect(index.resolveUnit({ unit: '拷贝数/毫升' }, 'OTHER')).toEqual({
      status: 'unmapped',
      local: [{ system: '', code: '拷贝数/毫升', display: '拷贝数/毫升' }],
    });
    expect(index.resolveUnit(undefined, 'F')).toEqual({ status: 'none' });
    expect(normaliseUnit('ｍｍｏｌ／Ｌ')).toBe('mmol/l');
  });

  it('resolves specimen types: SNOMED CT and HL7 v2 codes on the table, text that is a name, a local code only through its map', () => {
    const cm = withMapping(emptyConceptMap('F', '', SPECIMEN_SYSTEM), {
      facility: 'F',
      system: '',
      code: 'NPS',
      targetSystem: SPECIMEN_SYSTEM,
      target: '258500001',
    });
    const index = new TerminologyIndex(tables, [cm]);
    const sct = { coding: [{ system: 'http://snomed.info/sct', code: '119364003' }] };
    expect(index.resolveSpecimen(sct, '')).toEqual({ status: 'mapped', code: '119364003', via: 'standard' });
    expect(index.resolveSpecimen({ coding: [{ system: V2_0070, code: 'BLD', display: 'Blood' }] }, '')).toMatchObject({
      code: '258580003',
      via: 'hl7v2',
    });
    expect(index.resolveSpecimen({ text: '咽拭子' }, '')).toMatchObject({ code: '258529004', via: 'text' });
    expect(index.resolveSpecimen({ text: '血清' }, '')).toMatchObject({ code: '119364003' });
    const local = { coding: [{ code: 'NPS', display: '鼻咽拭子' }], text: '鼻咽拭子' };
    expect(index.resolveSpecimen(local, 'F')).toMatchObject({ code: '258500001', via: 'concept-map' });
    expect(index.resolveSpecimen(local, 'G')).toEqual({ status: 'unmapped', local: [{ system: '', code: 'NPS', display: '鼻咽拭子' }] });
    expect(index.resolveSpecimen({ text: '疱疹液' }, 'G')).toEqual({
      status: 'unmapped',
      local: [{ system: '', code: '疱疹液', display: '疱疹液' }],
    });
    expect(index.resolveSpecimen({ coding: [{ system: 'http://snomed.info/sct', code: '1' }] }, '')).toEqual({ status: 'other' });
    const specimen: Specimen = {
      resourceType: 'Specimen',
      type: local,
      identifier: [{ system: 'https://yifang.health/fhir/sid/specimen/F', value: 'S1' }],
    };
    expect(resolveSpecimenType(index, specimen)).toEqual({
      code: '258500001',
      zh: '鼻咽拭子',
      en: 'Nasopharyngeal swab',
      class: 'upper-respiratory',
      via: 'concept-map',
    });
  });

  it.each([
    ['specimen', '鼻咽拭子', '258500001'],
    ['specimen', '咽拭子标本', '258529004'],
    ['specimen', '血清', '119364003'],
    ['specimen', '大便标本', '119339001'],
    ['specimen', '痰液', '119334006'],
    ['unit', '拷贝/毫升', '{copies}/mL'],
    ['unit', 'umol/L', 'umol/L'],
    ['unit', 'mmol/l', 'mmol/L'],
  ] as const)('%s text %s suggests %s first', (kind, text, code) => {
    expect(suggestTargets(tables, text, 3, kind)[0]?.code).toBe(code);
  });

  it('refuses unknown specimen and unit targets; with mappingGroupsOnly, groups to other systems are left alone', () => {
    const cm: ConceptMap = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [
        { target: SPECIMEN_SYSTEM, element: [{ code: 'X', target: [{ code: '999999999', equivalence: 'equivalent' }] }] },
        { target: UCUM_SYSTEM, element: [{ code: 'u', target: [{ code: 'furlong', equivalence: 'equivalent' }] }] },
        {
          target: 'http://example.org/other',
          element: [
            { code: 'a', target: [{ code: '1', equivalence: 'equivalent' }] },
            { code: 'a', target: [{ code: '2', equivalence: 'equivalent' }] },
          ],
        },
      ],
    };
    const strict = checkConceptMap(cm, tables);
    expect(strict.map((p) => p.expression)).toEqual([
      'ConceptMap.group[0].element[0].target[0].code',
      'ConceptMap.group[1].element[0].target[0].code',
      'ConceptMap.group[2].target',
      'ConceptMap.group[2].element[1]',
    ]);
    expect(strict[0]!.text).toMatch(/unknown specimen-type code 999999999/);
    expect(strict[1]!.text).toMatch(/unknown UCUM unit furlong/);
    expect(checkConceptMap(cm, tables, { mappingGroupsOnly: true }).map((p) => p.expression)).toEqual([
      'ConceptMap.group[0].element[0].target[0].code',
      'ConceptMap.group[1].element[0].target[0].code',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

describeEachStore('specimen types, units, diagnosis re-derivation and /fhir ConceptMaps', (server) => {
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

  it('an ORU’s local specimen type and unknown unit are queued per facility with suggestions, mapped by kind, and resolvable', async () => {
    const ts = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const msg = [
      `MSH|^~\\&|LIS|KIND-LIS^检验科|YIFANG|CDC|${ts}||ORU^R01^ORU_R01|TK-1|P|2.5|||||CHN|UNICODE UTF-8`,
      `PID|1||TK-M1^^^KL^MR||张三||20100101|M`,
      `OBR|1|PTK1|FTK1|HBV^乙肝病毒DNA^L|||20260302090000`,
      `OBX|1|NM|GLU^葡萄糖^L||5.6|mmol/L|||||F|||20260302090000`,
      `OBX|2|NM|HBVDNA^乙肝病毒DNA定量^L||1200|拷贝数/毫升|||||F|||20260302090000`,
      `SPM|1|S-TK1||NPS^鼻咽拭子^L`,
    ].join('\r');
    const r = await server().api('/api/hl7', { method: 'POST', body: msg, headers: { 'content-type': 'x-application/hl7-v2+er7' } });
    expect(r.status, await r.clone().text()).toBe(200);
    await server().processors.drain();

    const specimens = await json<UnmappedList>('/api/terminology/unmapped?kind=specimen&facility=KIND-LIS');
    expect(specimens.items).toHaveLength(1);
    expect(specimens.items[0]).toMatchObject({
      kind: 'specimen',
      system: '',
      code: 'NPS',
      display: '鼻咽拭子',
      records: 1,
      status: 'open',
    });
    expect(specimens.items[0]!.suggestions?.[0]).toMatchObject({ code: '258500001', zh: '鼻咽拭子' });
    const units = await json<UnmappedList>('/api/terminology/unmapped?kind=unit&facility=KIND-LIS');
    // mmol/L is on the unit table: not queued.
    expect(units.items.map((i) => i.code)).toEqual(['拷贝数/毫升']);
    expect(units.items[0]!.suggestions?.[0]?.code).toBe('{copies}/mL');
    // The lab tab keeps its own codes; the facility list counts every kind, or one.
    expect((await json<UnmappedList>('/api/terminology/unmapped?facility=KIND-LIS')).items.every((i) => i.kind === 'lab')).toBe(true);
    const all = await json<FacilityQueueList>('/api/terminology/facilities');
    const perKind = await json<FacilityQueueList>('/api/terminology/facilities?kind=specimen');
    expect(all.facilities.find((f) => f.facility === 'KIND-LIS')!.openCodes).toBe(4);
    expect(perKind.facilities.find((f) => f.facility === 'KIND-LIS')).toEqual({
      facility: 'KIND-LIS',
      openCodes: 1,
      openRecords: 1,
      codes: 1,
    });

    // Targets and suggestions of a kind.
    const targets = await json<LabTargetList>('/api/terminology/targets?kind=specimen');
    expect(targets).toMatchObject({ kind: 'specimen', system: SPECIMEN_SYSTEM });
    expect(targets.targets.find((t) => t.code === '119364003')).toMatchObject({
      zh: '血清',
      class: 'blood',
      hl7v2: ['0487:SER', '0070:SER'],
    });
    const s = await json<SuggestionList>(`/api/terminology/suggest?kind=unit&text=${encodeURIComponent('μmol/L')}`);
    expect(s.suggestions[0]?.code).toBe('umol/L');

    // Unknown target of the kind: 422. Mapping each settles its row.
    const bad = await api('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ kind: 'specimen', facility: 'KIND-LIS', code: 'NPS', target: 'FLUA' }),
    });
    expect(bad.status).toBe(422);
    const m1 = await json<MappingResult>('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ kind: 'specimen', facility: 'KIND-LIS', code: 'NPS', display: '鼻咽拭子', target: '258500001' }),
    });
    expect(m1).toMatchObject({ version: '1', settled: 1 });
    const m2 = await json<MappingResult>('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ kind: 'unit', facility: 'KIND-LIS', code: '拷贝数/毫升', target: '{copies}/mL' }),
    });
    expect(m2).toMatchObject({ settled: 1 });
    await server().processors.drain();
    expect((await json<UnmappedList>('/api/terminology/unmapped?kind=specimen&facility=KIND-LIS')).total).toBe(0);
    expect((await json<UnmappedList>('/api/terminology/unmapped?kind=all&facility=KIND-LIS&status=mapped')).items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'specimen', code: 'NPS', target: '258500001' }),
        expect.objectContaining({ kind: 'unit', code: '拷贝数/毫升', target: '{copies}/mL' }),
      ]),
    );

    // The stored Specimen and result resolve through the exported resolvers.
    const index = new TerminologyIndex(tables, await currentConceptMaps(server().db.pool));
    const stored = await json<{ entry?: { resource: Specimen }[] }>('/fhir/Specimen?identifier=S-TK1');
    expect(resolveSpecimenType(index, stored.entry![0]!.resource)).toMatchObject({ code: '258500001', class: 'upper-respiratory' });
    expect(resolveUnit(index, { unit: '拷贝数/毫升' }, 'KIND-LIS')).toMatchObject({ code: '{copies}/mL', via: 'concept-map' });
  });

  it('a diagnosis map re-derives the stored visits it changes: counted once, written again counts nothing, a remap moves the count', async () => {
    const DAY = '2026-04-17';
    const facilityId = (fac: string) => [
      { system: `https://yifang.health/fhir/sid/hl7v2-key/${fac}`, value: Math.random().toString(36).slice(2) },
    ];
    const count = async (signal: string) =>
      Number(
        (
          await server().db.query<{ n: string }>(`SELECT coalesce(sum(n), 0) AS n FROM signal_count WHERE signal = $1 AND day = $2`, [
            signal,
            DAY,
          ])
        ).rows[0]!.n,
      );
    const visit = async (n: number) => {
      await put(`Encounter/tm-dx-e${n}`, {
        resourceType: 'Encounter',
        id: `tm-dx-e${n}`,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/tm-dx-p' },
        period: { start: `${DAY}T09:0${n}:00+08:00` },
      });
      await put(`Condition/tm-dx-c${n}`, {
        resourceType: 'Condition',
        id: `tm-dx-c${n}`,
        identifier: facilityId('DX-HOSP'),
        subject: { reference: 'Patient/tm-dx-p' },
        encounter: { reference: `Encounter/tm-dx-e${n}` },
        code: { coding: [{ code: 'ZD-DIA', display: '感染性腹泻' }] },
      });
    };
    await put('Patient/tm-dx-p', { resourceType: 'Patient', id: 'tm-dx-p', birthDate: '1990-01-01', gender: 'male' });
    await visit(1);
    await visit(2);
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(0);

    const map = (target: string, extra: { code: string; target: string }[] = []): ConceptMap => ({
      resourceType: 'ConceptMap',
      id: 'tm-dx-map',
      status: 'active',
      extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/source-facility', valueString: 'DX-HOSP' }],
      group: [
        {
          target: ICD10,
          element: [
            { code: 'ZD-DIA', target: [{ code: target, equivalence: 'equivalent' }] },
            ...extra.map((e) => ({ code: e.code, target: [{ code: e.target, equivalence: 'equivalent' as const }] })),
          ],
        },
      ],
    });
    // Mapped: both stored visits count, once each.
    await json('/api/terminology/concept-maps/tm-dx-map', { method: 'PUT', body: JSON.stringify(map('A09')) });
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(2);
    // Written again, and again with an unrelated element: nothing counted twice.
    await json('/api/terminology/concept-maps/tm-dx-map', { method: 'PUT', body: JSON.stringify(map('A09')) });
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(2);
    // A new record after the mapping counts as it arrives; the next map version does not count it again.
    await visit(3);
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(3);
    await json('/api/terminology/concept-maps/tm-dx-map', {
      method: 'PUT',
      body: JSON.stringify(map('A09', [{ code: 'ZD-OTHER', target: 'J06.9' }])),
    });
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(3);
    // Remapped to influenza: the visits leave diarrhoea and carry J10.1 only.
    await json('/api/terminology/concept-maps/tm-dx-map', { method: 'PUT', body: JSON.stringify(map('J10.1')) });
    await server().processors.drain();
    expect(await count('syndrome:diarrhoea')).toBe(0);
    const rows = await server().db.query<{ icd10: string[] }>(
      `SELECT icd10 FROM surv_visit WHERE encounter_id = ANY($1::text[]) ORDER BY encounter_id`,
      [['tm-dx-e1', 'tm-dx-e2', 'tm-dx-e3']],
    );
    expect(rows.rows.map((r) => r.icd10)).toEqual([['J10.1'], ['J10.1'], ['J10.1']]);
  });

  it('a ConceptMap written straight to /fhir meets the mapping rules: 422 naming the element, in a Bundle too; other maps are stored', async () => {
    const twice = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [
        {
          target: SPECIMEN_SYSTEM,
          element: [
            { code: 'S1', target: [{ code: '119364003', equivalence: 'equivalent' }] },
            { code: 'S1', target: [{ code: '119361006', equivalence: 'equivalent' }] },
          ],
        },
      ],
    };
    const r1 = await api('/fhir/ConceptMap', { method: 'POST', body: JSON.stringify(twice) });
    expect(r1.status).toBe(422);
    const o1 = (await r1.json()) as { resourceType: string; issue: { expression?: string[]; diagnostics?: string }[] };
    expect(o1.resourceType).toBe('OperationOutcome');
    expect(
      o1.issue.some((i) => i.expression?.[0] === 'ConceptMap.group[0].element[1]' && /S1 is mapped twice/.test(i.diagnostics ?? '')),
    ).toBe(true);
    const unknown = {
      ...twice,
      group: [
        {
          target: 'https://yifang.health/fhir/CodeSystem/lab-test',
          element: [{ code: 'L', target: [{ code: 'NOPE', equivalence: 'equivalent' }] }],
        },
      ],
    };
    const r2 = await api('/fhir/ConceptMap/tm-fhir-bad', { method: 'PUT', body: JSON.stringify({ ...unknown, id: 'tm-fhir-bad' }) });
    expect(r2.status).toBe(422);
    expect(JSON.stringify(await r2.json())).toContain('ConceptMap.group[0].element[0].target[0].code');
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Basic', code: { text: 'x' } }, request: { method: 'POST', url: 'Basic' } },
        { resource: twice, request: { method: 'POST', url: 'ConceptMap' } },
      ],
    };
    const r3 = await api('/fhir', { method: 'POST', body: JSON.stringify(bundle) });
    expect(r3.status).toBe(422);
    expect(JSON.stringify(await r3.json())).toContain('ConceptMap.group[0].element[1]');
    const stored = await server().db.query(`SELECT count(*)::int AS n FROM r_conceptmap WHERE id = 'tm-fhir-bad'`);
    expect(stored.rows[0].n).toBe(0);
    // A map to a system signals do not read is not Yifang's to judge; a good mapping map is stored.
    const other = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [{ target: 'http://example.org/cs', element: [{ code: 'a', target: [{ code: '1', equivalence: 'equivalent' }] }] }],
    };
    expect((await api('/fhir/ConceptMap', { method: 'POST', body: JSON.stringify(other) })).status).toBe(201);
    const good = { ...twice, group: [{ ...twice.group[0]!, element: [twice.group[0]!.element[0]] }] };
    expect((await api('/fhir/ConceptMap', { method: 'POST', body: JSON.stringify(good) })).status).toBe(201);
  });
});
