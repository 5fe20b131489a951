/**
 * Code mapping (issue #16): the pure parts (positive results in Chinese and English, suggestions,
 * the ConceptMap rules, resolution), and end to end on both stores — a Chinese ORU^R01 from a
 * hospital LIS with a local code is stored and queued, not counted; once its code is mapped
 * through the API the earlier positive counts and a second ORU counts within seconds of its ACK;
 * LOINC codes on the pathogen table count without mapping, including every such result in the
 * shared HL7 samples; bad ConceptMaps are refused naming the element.
 */
import type { ConceptMap, Observation } from '@medplum/fhirtypes';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { encodeFrame } from '../hl7v2/mllp.js';
import { ackFields, readSample, sampleFiles, TestMllpClient } from '../hl7v2/test-support.js';
import { checkConceptMap, emptyConceptMap, withMapping } from './concept-map.js';
import { resultFacility } from './facility.js';
import { isPositiveResult } from './positive.js';
import { TerminologyIndex } from './resolve.js';
import type { ConceptMapList, FacilityQueueList, MappingResult, SuggestionList, UnmappedList } from './schemas.js';
import { suggestTargets } from './suggest.js';
import { LAB_TEST_SYSTEM, labTables, parseLabTables } from './targets.js';
import { terminologyTables } from './kinds.js';

const obs = (o: Partial<Observation>): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...o });

describe('positive results', () => {
  it.each([
    ['阳性', true],
    ['弱阳性', true],
    ['检出', true],
    ['检出甲型流感病毒', true],
    ['POS', true],
    ['Positive', true],
    ['Detected', true],
    ['(+)', true],
    ['++', true],
    ['阴性', false],
    ['未检出', false],
    ['未检测到', false],
    ['NEG', false],
    ['Not detected', false],
    ['Non-reactive', false],
    ['(-)', false],
    ['12.5', false],
    ['', false],
  ])('valueString %j → %s', (text, expected) => {
    expect(isPositiveResult(obs({ valueString: text }))).toBe(expected);
  });

  it('reads coded interpretations and values, lets a negative win, and never counts a cancelled result', () => {
    const interp = (code: string) => [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code }] }];
    expect(isPositiveResult(obs({ interpretation: interp('POS') }))).toBe(true);
    expect(isPositiveResult(obs({ interpretation: interp('DET') }))).toBe(true);
    expect(isPositiveResult(obs({ interpretation: interp('A') }))).toBe(true);
    expect(isPositiveResult(obs({ interpretation: interp('NEG') }))).toBe(false);
    expect(isPositiveResult(obs({ interpretation: [{ text: '阳性' }] }))).toBe(true);
    expect(isPositiveResult(obs({ valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '10828004' }] } }))).toBe(
      true,
    );
    expect(isPositiveResult(obs({ valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '260415000' }] } }))).toBe(
      false,
    );
    expect(isPositiveResult(obs({ valueCodeableConcept: { text: '检出' } }))).toBe(true);
    expect(isPositiveResult(obs({ interpretation: interp('A'), valueString: '阴性' }))).toBe(false);
    expect(isPositiveResult(obs({ status: 'entered-in-error', valueString: '阳性' }))).toBe(false);
  });
});

describe('suggestions from code text', () => {
  const t = labTables();
  it.each([
    ['甲型流感病毒核酸', 'FLUA'],
    ['甲型流感病毒核酸检测', 'FLUA'],
    ['甲流抗原', 'FLUA-AG'],
    ['乙型流感病毒抗原检测', 'FLUB-AG'],
    ['新型冠状病毒核酸检测', 'SARS2'],
    ['呼吸道合胞病毒RNA', 'RSV'],
    ['诺如病毒GII型', 'NOV-GII'],
    ['Influenza A virus RNA', 'FLUA'],
    ['麻疹IgM抗体', 'MEV-IGM'],
  ])('%s → %s first', (text, code) => {
    expect(suggestTargets(t, text)[0]?.code).toBe(code);
  });
  it('suggests nothing for text about something else', () => {
    expect(suggestTargets(t, '血红蛋白')).toEqual([]);
  });
});

describe('the lab-test tables and ConceptMap rules', () => {
  const t = labTables();
  const all = terminologyTables();
  it('loads the built-in table: every LOINC entry names a known target', () => {
    expect(t.loinc.get('92142-9')).toBe('FLUA');
    expect(t.loinc.get('94500-6')).toBe('SARS2');
    expect(() =>
      parseLabTables({
        system: LAB_TEST_SYSTEM,
        targets: [{ code: 'A', zh: 'a', en: 'a' }],
        loinc: [{ loinc: '1-8', target: 'B', name: 'n', source: 's' }],
      }),
    ).toThrow(/loinc\.0 \(1-8\): unknown target B/);
  });

  it('refuses a source code mapped twice, naming the element, and an unknown target', () => {
    const cm: ConceptMap = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [
        {
          target: LAB_TEST_SYSTEM,
          element: [
            { code: 'L1', target: [{ code: 'FLUA', equivalence: 'equivalent' }] },
            { code: 'L1', target: [{ code: 'FLUB', equivalence: 'equivalent' }] },
            { code: 'L2', target: [{ code: 'NOPE', equivalence: 'equivalent' }] },
          ],
        },
      ],
    };
    const problems = checkConceptMap(cm, all);
    expect(problems.map((p) => p.expression)).toEqual(['ConceptMap.group[0].element[1]', 'ConceptMap.group[0].element[2].target[0].code']);
    expect(problems[0]!.text).toMatch(/L1 is mapped twice.*element\[0\] → FLUA, element\[1\] → FLUB/);
    expect(problems[1]!.text).toMatch(/unknown lab-test code NOPE/);
  });

  it('resolves own codes, LOINC on the table, organisms by value, and a facility’s local code only through its map', () => {
    let cm = emptyConceptMap('RMYY', '', LAB_TEST_SYSTEM);
    cm = withMapping(cm, { facility: 'RMYY', system: '', code: 'LIS0231', targetSystem: LAB_TEST_SYSTEM, target: 'FLUA' });
    cm = withMapping(cm, { facility: 'RMYY', system: '', code: 'LIS0999', targetSystem: LAB_TEST_SYSTEM, target: null });
    const index = new TerminologyIndex(all, [cm]);
    const local = { code: { coding: [{ code: 'LIS0231', display: '甲型流感病毒核酸' }] } };
    expect(index.resolveLab(local, 'RMYY')).toEqual({ status: 'mapped', code: 'FLUA', via: 'concept-map' });
    expect(index.resolveLab(local, 'OTHER')).toEqual({
      status: 'unmapped',
      local: [{ system: '', code: 'LIS0231', display: '甲型流感病毒核酸' }],
    });
    expect(index.resolveLab({ code: { coding: [{ code: 'LIS0999' }] } }, 'RMYY')).toEqual({ status: 'ignored' });
    expect(index.resolveLab({ code: { coding: [{ system: 'http://loinc.org', code: '92142-9' }] } }, '')).toMatchObject({
      code: 'FLUA',
      via: 'loinc',
    });
    expect(index.resolveLab({ code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] } }, '')).toEqual({ status: 'other' });
    expect(
      index.resolveLab(
        {
          code: { coding: [{ system: 'http://loinc.org', code: '625-4' }] },
          valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '27268008' }] },
        },
        '',
      ),
    ).toMatchObject({ code: 'SALM' });
    expect(index.resolveLab({ code: { coding: [{ system: LAB_TEST_SYSTEM, code: 'NOV-GII' }] } }, '')).toMatchObject({
      code: 'NOV-GII',
      via: 'lab-test',
    });
  });

  it('maps a facility’s local diagnosis code to ICD-10 through the same mechanism', () => {
    const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
    const cm = withMapping(emptyConceptMap('RMYY', '', ICD10), {
      facility: 'RMYY',
      system: '',
      code: 'ZD001',
      targetSystem: ICD10,
      target: 'J10.1',
    });
    expect(checkConceptMap(cm, all)).toEqual([]);
    const index = new TerminologyIndex(all, [cm]);
    expect(index.resolveIcd10([{ code: 'ZD001', display: '流行性感冒' }], 'RMYY', ICD10)).toBe('J10.1');
    expect(index.resolveIcd10([{ code: 'ZD001' }], 'OTHER', ICD10)).toBeUndefined();
    expect(index.resolveIcd10([{ system: ICD10, code: 'A09' }], 'RMYY', ICD10)).toBe('A09');
    const bad = withMapping(cm, { facility: 'RMYY', system: '', code: 'ZD002', targetSystem: ICD10, target: 'flu' });
    expect(checkConceptMap(bad, all).map((p) => p.expression)).toEqual(['ConceptMap.group[0].element[1].target[0].code']);
  });

  it('finds a result’s facility: performer, meta.source, or the facility in an HL7-minted identifier', () => {
    expect(resultFacility({ performer: [{ reference: 'Organization/lab-1' }] })).toBe('lab-1');
    expect(resultFacility({ meta: { source: 'hosp-2' } })).toBe('hosp-2');
    expect(
      resultFacility({
        identifier: [{ system: 'https://yifang.health/fhir/sid/hl7v2-key/%E4%BA%BA%E6%B0%91%E5%8C%BB%E9%99%A2', value: 'x' }],
      }),
    ).toBe('人民医院');
    expect(resultFacility({})).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// End to end
// ---------------------------------------------------------------------------------------------

const ts = () => new Date().toISOString().replace(/\D/g, '').slice(0, 14);

/** A Chinese ORU^R01 from a hospital LIS: one result, local or LOINC code. */
function oru(o: {
  control: string;
  mrn: string;
  name?: string;
  obx3: string;
  value: string;
  interp?: string;
  facility?: string;
  gb18030?: boolean;
}): Buffer {
  const charset = o.gb18030 ? 'GB 18030-2000' : 'UNICODE UTF-8';
  const text = [
    `MSH|^~\\&|LIS|${o.facility ?? 'RMYY-LIS'}^人民医院检验科|YIFANG|CDC|${ts()}||ORU^R01^ORU_R01|${o.control}|P|2.5|||||CHN|${charset}`,
    `PID|1||${o.mrn}^^^RMYY^MR||${o.name ?? '王小明'}||20150304|M|||幸福路12号^^^^^^H`,
    `PV1|1|O|儿科门诊||||||||||||||||V${o.mrn}|||||||||||||||||||||||||20260302083000`,
    `OBR|1|P${o.control}|F${o.control}|RESP^呼吸道病原体检测^L|||20260302090000`,
    `OBX|1|ST|${o.obx3}||${o.value}||||${o.interp ?? ''}|||F|||20260302090000`,
  ].join('\r');
  return o.gb18030 ? iconv.encode(text, 'gb18030') : Buffer.from(text, 'utf8');
}

describeEachStore('code mapping end to end', (server) => {
  const api = (p: string, init?: RequestInit) =>
    server().api(p, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers as Record<string, string>) } });
  const json = async <T>(p: string, init?: RequestInit) => {
    const r = await api(p, init);
    expect(r.status, `${p}: ${r.status}`).toBeLessThan(300);
    return (await r.json()) as T;
  };
  const port = async () => ((await (await server().api('/api/hl7/status')).json()) as { mllpPort: number }).mllpPort;
  const labRows = async (signal: string) =>
    (
      await server().db.query<{ observation_id: string }>(
        'SELECT observation_id FROM surv_lab_positive WHERE signal = $1 ORDER BY observation_id',
        [signal],
      )
    ).rows.map((r) => r.observation_id);
  const obsIdOf = async (control: string) => {
    const r = await server().db.query<{ resources: string[] }>(`SELECT resources FROM hl7_message WHERE control_id = $1`, [control]);
    return r.rows[0]!.resources.filter((x) => x.startsWith('Observation/')).map((x) => x.slice('Observation/'.length));
  };
  const waitFor = async (what: () => Promise<boolean>, ms = 20_000) => {
    const until = Date.now() + ms;
    while (!(await what())) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('a local code for 甲型流感病毒核酸 is queued, not counted; mapped through the API, the earlier positive counts and a second ORU counts soon after its ACK', async () => {
    const c = await TestMllpClient.connect(await port());
    try {
      // 1. GB18030 ORU, local code, 阳性: stored (AA), not a signal.
      await c.write(encodeFrame(oru({ control: 'TM-1', mrn: 'TM-M1', obx3: 'LIS0231^甲型流感病毒核酸^L', value: '阳性', gb18030: true })));
      const [ack1] = await c.waitForReplies(1);
      expect(ackFields(ack1!).MSA![1]).toBe('AA');
      const [first] = await obsIdOf('TM-1');
      expect(first).toBeTruthy();
      await server().processors.drain();
      expect(await labRows('lab:FLUA')).toEqual([]);

      // 2. In the queue, with its text, count, example and a suggestion.
      const queue = await json<UnmappedList>('/api/terminology/unmapped?facility=RMYY-LIS');
      expect(queue.total).toBe(1);
      expect(queue.items[0]).toMatchObject({
        facility: 'RMYY-LIS',
        system: '',
        code: 'LIS0231',
        display: '甲型流感病毒核酸',
        records: 1,
        examples: [first],
        status: 'open',
      });
      expect(queue.items[0]!.suggestions?.[0]).toMatchObject({ code: 'FLUA', zh: '甲型流感病毒核酸' });
      const facilities = await json<FacilityQueueList>('/api/terminology/facilities');
      expect(facilities.facilities).toContainEqual({ facility: 'RMYY-LIS', openCodes: 1, openRecords: 1, codes: 1 });

      // 3. Map it: a ConceptMap version; the stored positive becomes an influenza A lab signal.
      const mapped = await json<MappingResult>('/api/terminology/mappings', {
        method: 'PUT',
        body: JSON.stringify({ facility: 'RMYY-LIS', code: 'LIS0231', display: '甲型流感病毒核酸', target: 'FLUA' }),
      });
      expect(mapped).toMatchObject({ version: '1', settled: 1 });
      const t0 = performance.now();
      await waitFor(async () => (await labRows('lab:FLUA')).includes(first!));
      console.log(
        `[terminology ${server().kind}] stored positive counted ${Math.round(performance.now() - t0)} ms after its code was mapped`,
      );
      expect((await json<UnmappedList>('/api/terminology/unmapped?facility=RMYY-LIS')).total).toBe(0);
      expect((await json<UnmappedList>('/api/terminology/unmapped?facility=RMYY-LIS&status=mapped')).items[0]).toMatchObject({
        code: 'LIS0231',
        target: 'FLUA',
      });
      const counted = await server().db.query<{ n: string }>(
        `SELECT sum(n) AS n FROM signal_count WHERE signal = 'lab:FLUA' AND day = '2026-03-02'`,
      );
      expect(Number(counted.rows[0]!.n)).toBe(1);

      // 4. A second ORU with the same code counts by itself; time from its ACK to the count (the figure, printed).
      await c.write(encodeFrame(oru({ control: 'TM-2', mrn: 'TM-M2', name: '李华', obx3: 'LIS0231^甲型流感病毒核酸^L', value: '阳性' })));
      await c.waitForReplies(2);
      const acked = performance.now();
      const [second] = await obsIdOf('TM-2');
      await waitFor(async () => (await labRows('lab:FLUA')).includes(second!));
      const latency = performance.now() - acked;
      console.log(
        `[terminology ${server().kind}] ORU positive with a mapped local code counted ${Math.round(latency)} ms after its ACK (target ≤ 5,000 ms)`,
      );

      // 5. Idempotent: the map written again (same mapping) counts nothing twice; a 阴性 with the code is not counted.
      await json('/api/terminology/mappings', {
        method: 'PUT',
        body: JSON.stringify({ facility: 'RMYY-LIS', code: 'LIS0231', target: 'FLUA' }),
      });
      await c.write(encodeFrame(oru({ control: 'TM-3', mrn: 'TM-M3', obx3: 'LIS0231^甲型流感病毒核酸^L', value: '阴性' })));
      await c.waitForReplies(3);
      await server().processors.drain();
      expect((await labRows('lab:FLUA')).sort()).toEqual([first, second].sort());
      const after = await server().db.query<{ n: string }>(
        `SELECT sum(n) AS n FROM signal_count WHERE signal = 'lab:FLUA' AND day = '2026-03-02'`,
      );
      expect(Number(after.rows[0]!.n)).toBe(2);

      // The map is a versioned FHIR ConceptMap, listed with the others.
      const maps = await json<ConceptMapList>('/api/terminology/concept-maps');
      expect(maps.maps).toContainEqual(
        expect.objectContaining({ facility: 'RMYY-LIS', targetSystem: LAB_TEST_SYSTEM, elements: 1, version: '2' }),
      );
    } finally {
      c.close();
    }
  });

  it('a LOINC code on the pathogen table counts without mapping (检出), and 未检出 does not', async () => {
    const c = await TestMllpClient.connect(await port());
    try {
      await c.write(encodeFrame(oru({ control: 'TM-L1', mrn: 'TM-L1', obx3: '94500-6^新型冠状病毒核酸^LN', value: '检出' })));
      await c.write(encodeFrame(oru({ control: 'TM-L2', mrn: 'TM-L2', obx3: '94500-6^新型冠状病毒核酸^LN', value: '未检出' })));
      await c.waitForReplies(2);
      await server().processors.drain();
      expect(await labRows('lab:SARS2')).toEqual(await obsIdOf('TM-L1'));
      expect((await json<UnmappedList>('/api/terminology/unmapped?q=94500')).total).toBe(0);
    } finally {
      c.close();
    }
  });

  it('a result corrected to negative, then to positive again and deleted, moves its count each time', async () => {
    const obs = (value: string) => ({
      resourceType: 'Observation',
      id: 'tm-corrected',
      status: value === '阴性' ? 'corrected' : 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '94500-6', display: '新型冠状病毒核酸' }] },
      effectiveDateTime: '2026-03-05T09:00:00+08:00',
      valueString: value,
    });
    const put = async (value: string) => {
      const r = await api('/fhir/Observation/tm-corrected', { method: 'PUT', body: JSON.stringify(obs(value)) });
      expect(r.status, await r.clone().text()).toBeLessThan(300);
      await server().processors.drain();
    };
    const count = async () =>
      Number(
        (
          await server().db.query<{ n: string }>(
            `SELECT coalesce(sum(n), 0) AS n FROM signal_count WHERE signal = 'lab:SARS2' AND day = '2026-03-05'`,
          )
        ).rows[0]!.n,
      );
    await put('阳性');
    expect(await count()).toBe(1);
    await put('阴性');
    expect(await count()).toBe(0);
    expect(await labRows('lab:SARS2')).not.toContain('tm-corrected');
    await put('检出');
    expect(await count()).toBe(1);
    expect((await api('/fhir/Observation/tm-corrected', { method: 'DELETE' })).status).toBeLessThan(300);
    await server().processors.drain();
    expect(await count()).toBe(0);
  });

  it('every lab result in the shared HL7 samples with a LOINC code on the pathogen table counts, without any mapping', async () => {
    const table = labTables();
    const onList = (code: string) => table.loinc.has(code) || table.loincByValue.has(code);
    // Discovered from the files: OBX-3 coded LN (or LOINC) with a code on the table.
    const expected: string[] = [];
    for (const f of sampleFiles()) {
      const text = readSample(f)
        .toString('utf8')
        .replace(/^\uFEFF/, '');
      for (const line of text.split(/\r\n?|\n/)) {
        if (!line.startsWith('OBX|')) continue;
        const obx3 = line.split('|')[3]?.split('^') ?? [];
        if (/^(LN|LOINC)$/i.test(obx3[2] ?? '') && onList(obx3[0] ?? '')) expected.push(`${f}: ${obx3[0]}`);
      }
      const r = await server().api('/api/hl7', {
        method: 'POST',
        body: new Uint8Array(readSample(f)),
        headers: { 'content-type': 'x-application/hl7-v2+er7' },
      });
      expect(r.status).toBe(200);
    }
    await server().processors.drain();
    // Stored: every Observation coded with a LOINC code on the table.
    const tokens = [...table.loinc.keys(), ...table.loincByValue.keys()].map((c) => `http://loinc.org|${c}`);
    const stored = await server().db.query<{ id: string; content: Observation | string }>(
      `SELECT o.id, (SELECT h.content FROM resource_history h WHERE h.resource_type = 'Observation' AND h.id = o.id AND h.version_id = o.version_id) AS content
       FROM r_observation o WHERE o.p_code && $1::text[]`,
      [tokens],
    );
    // (results of the tests above come from the test LIS, RMYY-LIS)
    const results = stored.rows
      .map((r) => (typeof r.content === 'string' ? (JSON.parse(r.content) as Observation) : r.content))
      .filter((o) => resultFacility(o) !== 'RMYY-LIS');
    const positives = results.filter(isPositiveResult);
    const counted = new Set(
      (await server().db.query<{ observation_id: string }>('SELECT observation_id FROM surv_lab_positive')).rows.map(
        (r) => r.observation_id,
      ),
    );
    console.log(
      `[terminology ${server().kind}] HL7 samples: ${sampleFiles().length} files, ${expected.length} OBX with a LOINC code on the pathogen table (${expected.join(', ') || 'none'}), ` +
        `${results.length} stored, ${positives.length} positive, all counted: ${positives.every((o) => counted.has(o.id!))}`,
    );
    expect(results.length).toBe(expected.length);
    for (const o of positives) expect(counted.has(o.id!), `Observation/${o.id} (${o.code.coding?.[0]?.code})`).toBe(true);
    // The samples' culture result (625-4 sent under coding system "XYZ", not LOINC) is a local code: queued, not counted.
    const culture = await json<UnmappedList>('/api/terminology/unmapped?q=625-4&status=all');
    expect(culture.items.map((i) => i.code)).toContain('625-4');
  });

  it('refuses a ConceptMap that maps one source code twice or names an unknown target, naming the element; nothing stored', async () => {
    const twice = {
      resourceType: 'ConceptMap',
      status: 'active',
      group: [
        {
          target: LAB_TEST_SYSTEM,
          element: [
            { code: 'X1', display: '甲流', target: [{ code: 'FLUA', equivalence: 'equivalent' }] },
            { code: 'X1', display: '甲流', target: [{ code: 'FLUB', equivalence: 'equivalent' }] },
          ],
        },
      ],
    };
    const r1 = await api('/api/terminology/concept-maps', { method: 'POST', body: JSON.stringify(twice) });
    expect(r1.status).toBe(422);
    const o1 = (await r1.json()) as { issue: { expression?: string[]; diagnostics?: string }[] };
    expect(
      o1.issue.some((i) => i.expression?.[0] === 'ConceptMap.group[0].element[1]' && /X1 is mapped twice/.test(i.diagnostics ?? '')),
    ).toBe(true);

    const unknown = {
      ...twice,
      group: [{ target: LAB_TEST_SYSTEM, element: [{ code: 'X2', target: [{ code: 'NOT-A-TEST', equivalence: 'equivalent' }] }] }],
    };
    const r2 = await api('/api/terminology/concept-maps', { method: 'POST', body: JSON.stringify(unknown) });
    expect(r2.status).toBe(422);
    expect(JSON.stringify(await r2.json())).toMatch(
      /element\[0\]\.target\[0\]\.code.*NOT-A-TEST|NOT-A-TEST.*element\[0\]\.target\[0\]\.code/,
    );

    const r3 = await api('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ facility: 'F', code: 'X3', target: 'NOT-A-TEST' }),
    });
    expect(r3.status).toBe(422);
    const r4 = await api('/api/terminology/mappings', {
      method: 'PUT',
      body: JSON.stringify({ facility: '', code: 'X3', target: 'FLUA' }),
    });
    expect(r4.status).toBe(400);

    const stored = await server().db.query(`SELECT count(*)::int AS n FROM r_conceptmap WHERE id NOT LIKE 'tm-%'`);
    expect(stored.rows[0].n).toBe(0);

    // A good whole ConceptMap is stored (201) and suggestions answer.
    const good = { ...twice, group: [{ target: LAB_TEST_SYSTEM, element: [twice.group[0]!.element[0]] }] };
    const r5 = await api('/api/terminology/concept-maps', { method: 'POST', body: JSON.stringify(good) });
    expect(r5.status).toBe(201);
    const s = await json<SuggestionList>(`/api/terminology/suggest?text=${encodeURIComponent('甲型流感病毒核酸')}`);
    expect(s.suggestions[0]?.code).toBe('FLUA');
  });
});
