import { readFileSync } from 'node:fs';
import { fireEvent, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { enQuality } from './en-quality.js';
import { DataQualityPage } from './quality.component.js';

const facilities = {
  facilities: [
    {
      facility: 'org-1',
      facilityName: '城东社区卫生服务中心',
      type: 'Patient',
      records: 200,
      recordsWithOpenIssue: 8,
      openIssues: 9,
      validityRate: 0.96,
      recordsIncomplete: 50,
      completenessRate: 0.75,
      recordsWithEventTime: 0,
      recordsLate: 0,
      recordsHistorical: 0,
      timelinessRate: 1,
    },
    {
      facility: 'org-2',
      facilityName: null,
      type: 'Encounter',
      records: 100,
      recordsWithOpenIssue: 0,
      openIssues: 0,
      validityRate: 1,
      recordsIncomplete: 0,
      completenessRate: 1,
      recordsWithEventTime: 100,
      recordsLate: 12,
      recordsHistorical: 300,
      timelinessRate: 0.88,
    },
  ],
};

describe('DataQualityPage (数据质量)', () => {
  it('shows the three rates per facility and kind in words, and opens the records behind a figure', async () => {
    const api = stubApi({
      '/api/data-quality/facilities': facilities,
      '/api/data-quality/records': {
        total: 50,
        limit: 20,
        offset: 0,
        rows: [
          {
            resource: 'Patient/p1',
            type: 'Patient',
            facility: '城东社区卫生服务中心',
            patientId: 'p1',
            missing: ['telecom (phone)'],
            openIssues: 0,
            eventAt: null,
            receivedAt: '2026-12-01T02:00:00Z',
            hoursLate: null,
          },
        ],
      },
    });
    renderPage(<DataQualityPage />);
    const table = await screen.findByTestId('dq-table');
    expect(await within(table).findByText('居民档案')).toBeTruthy();
    expect(within(table).getByText('就诊')).toBeTruthy();
    expect(within(table).getByText('城东社区卫生服务中心')).toBeTruthy();
    expect(within(table).getByText('org-2')).toBeTruthy();
    expect(within(table).getByText('75%')).toBeTruthy();
    expect(within(table).getByText('100 条中 12 条迟报')).toBeTruthy();
    expect(within(table).getByTestId('dq-historical').textContent).toContain('300 条历史补录');
    fireEvent.click(within(table).getByTestId('dq-open-incomplete'));
    const drawer = await screen.findByTestId('dq-records');
    expect(await within(drawer).findByText('telecom (phone)')).toBeTruthy();
    expect(within(drawer).getByText('共 50 条')).toBeTruthy();
    expect(api.calls.some((c) => c.path.includes('problem=incomplete') && c.path.includes('type=Patient'))).toBe(true);
  });

  it('has an English text for every key it uses', () => {
    const source = readFileSync('web/src/quality/quality.component.tsx', 'utf8');
    const keys = [...source.matchAll(/t\(\s*['](dq\.[a-zA-Z.]+)/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(10);
    for (const k of keys) expect(enQuality[k], k).toBeTruthy();
  });
});
