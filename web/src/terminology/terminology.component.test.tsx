import { readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { enTerminology } from './en-terminology.js';
import { TerminologyPage } from './terminology.component.js';
import type { UnmappedCode } from './terminology.resource.js';

const code = (n: number, over: Partial<UnmappedCode> = {}): UnmappedCode => ({
  kind: 'lab',
  facility: 'RMYY-LIS',
  system: '',
  code: `LIS${String(n).padStart(4, '0')}`,
  display: n === 1 ? '甲型流感病毒核酸' : `项目${n}`,
  records: 100 - n,
  examples: [`obs-${n}-a`, `obs-${n}-b`],
  firstSeen: '2026-03-01T01:00:00Z',
  lastSeen: '2026-03-02T01:00:00Z',
  status: 'open',
  target: null,
  suggestions: n === 1 ? [{ code: 'FLUA', zh: '甲型流感病毒核酸', en: 'Influenza A virus RNA', score: 1 }] : [],
  ...over,
});

const page = (offset: number) => ({
  total: 45,
  limit: 20,
  offset,
  items: Array.from({ length: offset === 40 ? 5 : 20 }, (_, i) => code(offset + i + 1)),
});

const routes = (extra: Record<string, unknown> = {}) => ({
  '/api/terminology/unmapped': (c: { path: string }) => page(Number(new URL(c.path, 'http://x').searchParams.get('offset'))),
  '/api/terminology/facilities': { total: 1, facilities: [{ facility: 'RMYY-LIS', openCodes: 45, openRecords: 2000, codes: 45 }] },
  '/api/terminology/targets': {
    kind: 'lab',
    system: 'https://yifang.health/fhir/CodeSystem/lab-test',
    total: 2,
    targets: [
      { code: 'FLUA', zh: '甲型流感病毒核酸', en: 'Influenza A virus RNA', loinc: ['92142-9'], aliases: [] },
      { code: 'FLUB', zh: '乙型流感病毒核酸', en: 'Influenza B virus RNA', loinc: ['92141-1'], aliases: [] },
    ],
  },
  ...extra,
});

describe('TerminologyPage (术语映射)', () => {
  it('lists unmapped codes with text, counts, examples and suggestions, paged on the server with the total', async () => {
    const api = stubApi(routes());
    renderPage(<TerminologyPage />);
    expect(await screen.findByText('甲型流感病毒核酸', { selector: 'strong' })).toBeTruthy();
    expect(api.calls.find((c) => c.path.startsWith('/api/terminology/unmapped'))!.path).toBe(
      '/api/terminology/unmapped?kind=lab&status=open&limit=20&offset=0',
    );
    const first = screen.getAllByRole('row')[1]!;
    expect(first.textContent).toContain('本地编码 LIS0001');
    expect(first.textContent).toContain('本地（未注明编码系统）');
    expect(first.textContent).toContain('99');
    expect(first.textContent).toContain('obs-1-a');
    expect(within(first).getByText('待映射')).toBeTruthy();
    expect(screen.getByText('共 45 条')).toBeTruthy();

    fireEvent.click(screen.getByTitle('3'));
    expect(await screen.findByText('项目41')).toBeTruthy();
    expect(api.calls.at(-1)!.path).toBe('/api/terminology/unmapped?kind=lab&status=open&limit=20&offset=40');
    expect(api.unmatched).toEqual([]);
  });

  it('maps a code to the suggested test and reloads the queue', async () => {
    const api = stubApi(
      routes({
        'PUT /api/terminology/mappings': { conceptMap: 'ConceptMap/tm-1', version: '1', settled: 1 },
      }),
    );
    renderPage(<TerminologyPage />);
    await screen.findByText('甲型流感病毒核酸', { selector: 'strong' });
    const first = screen.getAllByRole('row')[1]!;
    fireEvent.click(within(first).getByRole('button', { name: '映射' }));
    expect(await screen.findByText('映射本地编码 LIS0001')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '保存映射' }));
    await waitFor(() => expect(api.callsTo('PUT /api/terminology/mappings')).toHaveLength(1));
    expect(api.callsTo('PUT /api/terminology/mappings')[0]!.body).toEqual({
      kind: 'lab',
      facility: 'RMYY-LIS',
      system: '',
      code: 'LIS0001',
      display: '甲型流感病毒核酸',
      target: 'FLUA',
    });
    await waitFor(() => expect(document.body.textContent).toContain('映射已保存：该编码的已存结果将计入监测'), { timeout: 3000 });
    await waitFor(() => expect(api.calls.filter((c) => c.path.startsWith('/api/terminology/unmapped')).length).toBeGreaterThanOrEqual(2));
  });

  it('has a tab per kind: specimen types are listed, suggested and mapped to SNOMED CT with kind specimen', async () => {
    const specimen = code(1, {
      kind: 'specimen',
      code: 'NPS',
      display: '鼻咽拭子',
      examples: ['spm-1'],
      suggestions: [{ code: '258500001', zh: '鼻咽拭子', en: 'Nasopharyngeal swab', score: 1 }],
    });
    const api = stubApi(
      routes({
        '/api/terminology/unmapped': (c: { path: string }) =>
          new URL(c.path, 'http://x').searchParams.get('kind') === 'specimen'
            ? { total: 1, limit: 20, offset: 0, items: [specimen] }
            : page(0),
        '/api/terminology/targets': (c: { path: string }) =>
          new URL(c.path, 'http://x').searchParams.get('kind') === 'specimen'
            ? {
                kind: 'specimen',
                system: 'http://snomed.info/sct',
                total: 1,
                targets: [
                  { code: '258500001', zh: '鼻咽拭子', en: 'Nasopharyngeal swab', loinc: [], aliases: ['NPS'], class: 'upper-respiratory' },
                ],
              }
            : { kind: 'lab', system: 'x', total: 0, targets: [] },
        'PUT /api/terminology/mappings': { conceptMap: 'ConceptMap/tm-2', version: '1', settled: 1 },
      }),
    );
    renderPage(<TerminologyPage />);
    await screen.findByText('甲型流感病毒核酸', { selector: 'strong' });
    fireEvent.click(screen.getByRole('tab', { name: '标本类型' }));
    expect(await screen.findByText('示例标本')).toBeTruthy();
    await waitFor(() =>
      expect(api.calls.some((c) => c.path === '/api/terminology/unmapped?kind=specimen&status=open&limit=20&offset=0')).toBe(true),
    );
    expect(api.calls.some((c) => c.path === '/api/terminology/facilities?kind=specimen')).toBe(true);
    const row = (await screen.findByText('spm-1')).closest('tr')!;
    fireEvent.click(within(row as HTMLElement).getByRole('button', { name: '映射' }));
    expect(await screen.findByText('映射本地编码 NPS')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '保存映射' }));
    await waitFor(() => expect(api.callsTo('PUT /api/terminology/mappings')).toHaveLength(1));
    expect(api.callsTo('PUT /api/terminology/mappings')[0]!.body).toEqual({
      kind: 'specimen',
      facility: 'RMYY-LIS',
      system: '',
      code: 'NPS',
      display: '鼻咽拭子',
      target: '258500001',
    });
    expect(api.unmatched).toEqual([]);
  });

  it('has a 诊断 tab: diagnoses listed by name with a total, suggested as disease names, mapped to ICD-10 with kind diagnosis', async () => {
    const dx = (n: number) =>
      code(n, {
        kind: 'diagnosis',
        facility: 'DXH-HIS',
        code: `ZY${n}`,
        display: n === 1 ? '流行性感冒' : `诊断${n}`,
        examples: [`cond-${n}`],
        suggestions:
          n === 1
            ? [
                { code: 'J10', zh: '流行性感冒', en: 'influenza', score: 1 },
                { code: 'J11', zh: '流行性感冒', en: 'influenza', score: 1 },
              ]
            : [],
      });
    const api = stubApi(
      routes({
        '/api/terminology/unmapped': (c: { path: string }) => {
          const q = new URL(c.path, 'http://x').searchParams;
          if (q.get('kind') !== 'diagnosis') return page(0);
          const offset = Number(q.get('offset'));
          return { total: 23, limit: 20, offset, items: Array.from({ length: offset ? 3 : 20 }, (_, i) => dx(offset + i + 1)) };
        },
        '/api/terminology/targets': (c: { path: string }) =>
          new URL(c.path, 'http://x').searchParams.get('kind') === 'diagnosis'
            ? {
                kind: 'diagnosis',
                system: 'http://hl7.org/fhir/sid/icd-10',
                total: 2,
                targets: [
                  {
                    code: 'J10',
                    zh: '流行性感冒',
                    en: 'influenza',
                    loinc: [],
                    aliases: ['流感'],
                    disease: 'influenza',
                    diseaseClass: '丙',
                  },
                  {
                    code: 'J11',
                    zh: '流行性感冒',
                    en: 'influenza',
                    loinc: [],
                    aliases: ['流感'],
                    disease: 'influenza',
                    diseaseClass: '丙',
                  },
                ],
              }
            : { kind: 'lab', system: 'x', total: 0, targets: [] },
        'PUT /api/terminology/mappings': { conceptMap: 'ConceptMap/tm-3', version: '1', settled: 1 },
      }),
    );
    renderPage(<TerminologyPage />);
    await screen.findByText('甲型流感病毒核酸', { selector: 'strong' });
    fireEvent.click(screen.getByRole('tab', { name: '诊断' }));
    expect(await screen.findByText('示例诊断')).toBeTruthy();
    expect(screen.getByText('诊断名称')).toBeTruthy();
    expect(screen.getByText('诊断数')).toBeTruthy();
    await waitFor(() =>
      expect(api.calls.some((c) => c.path === '/api/terminology/unmapped?kind=diagnosis&status=open&limit=20&offset=0')).toBe(true),
    );
    expect(api.calls.some((c) => c.path === '/api/terminology/facilities?kind=diagnosis')).toBe(true);
    expect(api.calls.some((c) => c.path === '/api/terminology/targets?kind=diagnosis')).toBe(true);
    expect(await screen.findByText('共 23 条')).toBeTruthy();
    // Words first: the diagnosis's name, and suggestions as disease names (with the code telling J10 from J11).
    const row = (await screen.findByText('流行性感冒', { selector: 'strong' })).closest('tr') as HTMLElement;
    expect(within(row).getByText('流行性感冒 J10')).toBeTruthy();
    expect(within(row).getByText('流行性感冒 J11')).toBeTruthy();
    expect(row.textContent).toContain('cond-1');

    fireEvent.click(screen.getByTitle('2'));
    expect(await screen.findByText('诊断23')).toBeTruthy();
    expect(api.calls.at(-1)!.path).toBe('/api/terminology/unmapped?kind=diagnosis&status=open&limit=20&offset=20');
    fireEvent.click(screen.getByTitle('1'));
    const first = (await screen.findByText('流行性感冒', { selector: 'strong' })).closest('tr') as HTMLElement;

    fireEvent.click(within(first).getByRole('button', { name: '映射' }));
    expect(await screen.findByText('映射本地编码 ZY1')).toBeTruthy();
    expect(screen.getAllByText('流行性感冒 · ICD-10 J10').length).toBeGreaterThan(0);
    fireEvent.click(screen.getByRole('button', { name: '保存映射' }));
    await waitFor(() => expect(api.callsTo('PUT /api/terminology/mappings')).toHaveLength(1));
    expect(api.callsTo('PUT /api/terminology/mappings')[0]!.body).toEqual({
      kind: 'diagnosis',
      facility: 'DXH-HIS',
      system: '',
      code: 'ZY1',
      display: '流行性感冒',
      target: 'J10',
    });
    await waitFor(() => expect(document.body.textContent).toContain('映射已保存：该诊断编码的已存就诊将重新归类'), { timeout: 3000 });
    expect(api.unmatched).toEqual([]);
  });

  it('has an English text for every key it uses', () => {
    const src = readFileSync('web/src/terminology/terminology.component.tsx', 'utf8');
    const keys = [...src.matchAll(/t\('(tm\.[\w.]+)'/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(20);
    for (const k of keys) expect(enTerminology[k], k).toBeTruthy();
  });
});
