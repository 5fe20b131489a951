import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { Indicators } from '../chronic/chronic.resource.js';
import { renderPage, stubApi } from '../shared/test-support.js';
import { IndicatorsPage } from './indicators.component.js';

const year = String(new Date().getFullYear());
const indicators: Indicators = {
  period: { from: `${year}-01-01`, to: `${year}-12-31`, label: year },
  groupBy: 'total',
  definitions: [
    {
      code: 'htn-managed',
      name: '高血压患者规范管理率',
      numerator: '按规范随访的患者',
      denominator: '登记的高血压患者',
      source: '国家基本公共卫生服务规范',
      target: 70,
      targetSource: '中国防治慢性病中长期规划',
    },
    {
      code: 'contract-coverage',
      name: '家庭医生签约覆盖率',
      numerator: '签约居民',
      denominator: '常住居民',
      source: '签约服务规范',
      target: 30,
    },
  ],
  values: [
    { indicator: 'htn-managed', group: 'all', groupName: '全区', numerator: 30, denominator: 40, value: 75 },
    { indicator: 'contract-coverage', group: 'all', groupName: '全区', population: 'elderly', numerator: 5, denominator: 20, value: 25 },
    { indicator: 'contract-coverage', group: 'all', groupName: '全区', population: 'disabled', numerator: 0, denominator: 0, value: null },
  ],
};

describe('IndicatorsPage', () => {
  it('shows one table per indicator with numerator, denominator and rate in Chinese', async () => {
    const api = stubApi({ '/api/indicators': indicators, '/api/data-quality/facilities': { status: 403, body: { message: 'forbidden' } } });
    renderPage(<IndicatorsPage />);
    expect(await screen.findByText('高血压患者规范管理率')).toBeTruthy();
    expect(api.callsTo('GET /api/indicators')[0]!.path).toBe(`/api/indicators?period=${year}&groupBy=total`);

    const cards = document.querySelectorAll('.ant-card');
    expect(cards).toHaveLength(2);
    const htn = within(cards[0] as HTMLElement);
    expect(cards[0]!.querySelector('.ant-typography')!.textContent).toBe(
      '分子: 按规范随访的患者　分母: 登记的高血压患者目标: ≥ 70%（中国防治慢性病中长期规划）',
    );
    const htnRows = htn.getAllByRole('row').slice(1);
    expect(htnRows).toHaveLength(1);
    expect(htnRows[0]!.textContent).toBe('全区304075.0%达标');

    // Contract coverage groups by key population, in Chinese; a rate without residents is '—'.
    const coverage = within(cards[1] as HTMLElement);
    expect(coverage.getByText('人群/剂次')).toBeTruthy();
    const rows = coverage.getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(['全区65岁及以上52025.0%', '全区残疾人00—']);
  });

  it('drills down from a rate to the residents behind it', async () => {
    const api = stubApi({
      '/api/indicators': indicators,
      '/api/indicators/htn-managed/residents': {
        total: 2,
        rows: [
          { patientId: 'p-1', name: '张三', group: '全区', inNumerator: true },
          { patientId: 'p-2', name: null, group: '全区', inNumerator: false, detail: { lastFollowUp: '2025-01-02' } },
        ],
      },
    });
    renderPage(<IndicatorsPage />);
    fireEvent.click(await screen.findByText('75.0%'));

    const drawer = await screen.findByRole('dialog');
    expect(await within(drawer).findByText('张三')).toBeTruthy();
    expect(within(drawer).getByText('高血压患者规范管理率 · 全区')).toBeTruthy();
    const rows = within(drawer).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(within(rows[0]!).getByText('是')).toBeTruthy();
    expect(within(rows[1]!).getByText('p-2').getAttribute('href')).toBe('#/residents/p-2');
    expect(within(rows[1]!).getByText('否')).toBeTruthy();
    await waitFor(() => expect(api.callsTo('GET /api/indicators/htn-managed/residents')).toHaveLength(1));
    expect(api.callsTo('GET /api/indicators/htn-managed/residents')[0]!.path).toBe(
      `/api/indicators/htn-managed/residents?period=${year}&groupBy=total&group=all`,
    );
  });

  it('shows the district data quality beside the indicators, the counts summed across facilities', async () => {
    const facility = (
      facility: string,
      records: number,
      incomplete: number,
      flagged: number,
      timed: number,
      late: number,
      historical = 0,
    ) => ({
      facility,
      facilityName: facility,
      type: 'Encounter',
      records,
      recordsWithOpenIssue: flagged,
      openIssues: flagged,
      validityRate: 0,
      recordsIncomplete: incomplete,
      completenessRate: 0,
      recordsWithEventTime: timed + historical,
      recordsLate: late,
      recordsHistorical: historical,
      timelinessRate: 0,
    });
    stubApi({
      '/api/indicators': indicators,
      '/api/data-quality/facilities': { facilities: [facility('A', 100, 10, 5, 80, 8, 20), facility('B', 300, 0, 15, 300, 30)] },
    });
    renderPage(<IndicatorsPage />);
    const card = await screen.findByTestId('indicator-data-quality');
    // completeness (400 − 10) / 400, validity (400 − 20) / 400, timeliness (380 − 38) / 380
    expect(card.textContent).toContain('数据质量（全区，2 个机构）');
    expect([...card.querySelectorAll('.ant-statistic-content')].map((e) => e.textContent)).toEqual(['97.5%', '95.0%', '90.0%']);
  });
});
