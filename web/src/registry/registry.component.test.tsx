import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { enRegistry } from './en-registry.js';
import { RegistryAdminPage } from './registry.component.js';
import type { ImportReport, RegistryCodesAnswer, SiteItem } from './registry.resource.js';

const codes: RegistryCodesAnswer = {
  organizationTypes: [
    { code: 'hospital', zh: '医院', en: 'Hospital' },
    { code: 'chc', zh: '社区卫生服务中心', en: 'Community health centre' },
  ],
  hospitalLevels: [
    { code: '3', zh: '三级', en: 'Tertiary (level 3)' },
    { code: '2', zh: '二级', en: 'Secondary (level 2)' },
  ],
  placeTypes: [{ code: 'sentinel-site', zh: '监测哨点', en: 'Sentinel site' }],
  sentinelTypes: [{ code: 'transport-hub', zh: '交通场站', en: 'Transport hub' }],
  areaLevels: [{ code: 'street', zh: '街道/乡镇', en: 'Street or township' }],
};

const org = (n: number, over: Partial<SiteItem> = {}): SiteItem => ({
  code: `O${n}`,
  category: 'organization',
  type: 'chc',
  name: `机构${n}`,
  areaCode: '339902001001',
  streetCode: '339902001000',
  parentCode: null,
  resourceType: 'Organization',
  resourceId: `org-O${n}`,
  position: null,
  details: {},
  ...over,
});
const orgPage = (offset: number) => ({ total: 45, items: Array.from({ length: offset === 40 ? 5 : 20 }, (_, i) => org(offset + i + 1)) });
const params = (path: string) => new URL(path, 'http://x').searchParams;

describe('RegistryAdminPage (机构与地点)', () => {
  it('lists organizations in words, paged on the server with the total, and filters by type', async () => {
    const api = stubApi({
      '/api/registry/codes': codes,
      '/api/registry/areas': {
        total: 1,
        items: [
          { code: '339902001000', gb2260: '339902', name: '临江街道', level: 'street', parentCode: null, resourceId: 'a', centroid: null },
        ],
      },
      '/api/registry/organizations': (c: { path: string }) =>
        params(c.path).get('type') === 'hospital'
          ? { total: 1, items: [org(99, { name: '望川区人民医院', type: 'hospital', details: { hospitalLevel: '2' } })] }
          : orgPage(Number(params(c.path).get('offset'))),
    });
    renderPage(<RegistryAdminPage />);
    expect(await screen.findByText('机构1')).toBeTruthy();
    expect(screen.getByText('共 45 条')).toBeTruthy();
    const first = screen.getAllByRole('row')[1]!;
    expect(within(first).getByText('社区卫生服务中心')).toBeTruthy();
    expect(first.textContent).not.toContain('chc');
    await waitFor(() => expect(within(screen.getAllByRole('row')[1]!).getByText('临江街道')).toBeTruthy());

    fireEvent.click(screen.getByTitle('3'));
    expect(await screen.findByText('机构41')).toBeTruthy();
    expect(params(api.calls.at(-1)!.path).get('offset')).toBe('40');

    const select = screen.getAllByLabelText('类别')[0]!.closest('.ant-select')!;
    fireEvent.mouseDown(select.querySelector('.ant-select-selector')!);
    const option = await waitFor(() => {
      const found = [...document.querySelectorAll('.ant-select-item-option')].find((o) => o.textContent === '医院');
      if (!found) throw new Error('no option 医院');
      return found;
    });
    fireEvent.click(option);
    expect(await screen.findByText('望川区人民医院')).toBeTruthy();
    const row = screen.getAllByRole('row')[1]!;
    expect(within(row).getByText('二级')).toBeTruthy();
    expect(params(api.calls.at(-1)!.path).get('type')).toBe('hospital');
    expect(params(api.calls.at(-1)!.path).get('offset')).toBe('0');
  });

  it('uploads a file and shows the report: nothing stored, every refused line with its reason', async () => {
    const report: ImportReport = {
      kind: 'places',
      fileName: 'places.csv',
      format: 'csv',
      encoding: 'gb18030',
      stored: false,
      records: 3,
      created: 0,
      updated: 0,
      unchanged: 0,
      refused: [
        { where: 'line 4', line: 4, code: 'NEW1', reason: 'place code NEW1 is already used by line 2 of this file; codes are unique' },
      ],
      seconds: 0.1,
    };
    const api = stubApi({
      '/api/registry/codes': codes,
      '/api/registry/areas': { total: 0, items: [] },
      '/api/registry/organizations': { total: 0, items: [] },
      'POST /api/registry/import': { status: 422, body: report },
    });
    const { container } = renderPage(<RegistryAdminPage tab="import" />);
    const input = container.querySelector('input[type="file"]') as HTMLInputElement;
    const file = new File(['code,name,type\n'], 'places.csv', { type: 'text/csv' });
    fireEvent.change(input, { target: { files: [file] } });
    const shown = await screen.findByTestId('import-report');
    expect(within(shown).getByText('未导入：1 处问题，文件中的内容均未保存')).toBeTruthy();
    expect(within(shown).getByText('第 4 行')).toBeTruthy();
    expect(within(shown).getByText(/already used by line 2/)).toBeTruthy();
    expect(within(shown).getByText('gb18030')).toBeTruthy();
    expect(api.callsTo('POST /api/registry/import')).toHaveLength(1);
  });

  it('has an English text for every key it uses', () => {
    for (const key of ['registry.title', 'registry.report.refused', 'registry.where.line', 'registry.tab.import'])
      expect(enRegistry[key]).toBeTruthy();
  });
  it('lists areas with their count of sub-areas as a plain column, not as nested rows', async () => {
    stubApi({
      '/api/registry/codes': codes,
      '/api/registry/areas': {
        total: 1,
        items: [
          {
            code: '339902001000',
            gb2260: '339902',
            name: '临江街道',
            level: 'street',
            parentCode: null,
            resourceId: 'a',
            centroid: null,
            children: 7,
          },
        ],
      },
    });
    renderPage(<RegistryAdminPage tab="areas" />);
    const cell = await screen.findByText('临江街道');
    const row = cell.closest('tr')!;
    expect(within(row).getByText('7')).toBeTruthy();
  });
});
