import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { LabTab } from './lab-tab.component.js';

const specimen = (n: number, over: Record<string, unknown>) => ({
  id: `s${n}`,
  barcode: `INV-${n}`,
  orderId: `o${n}`,
  taskId: `t${n}`,
  testCode: 'MEV-IGM',
  mode: 'emergency',
  patientId: 'p1',
  state: 'collected',
  stateZh: '已采样',
  hop: 0,
  collectingUnit: 'CHC1',
  holder: 'CHC1',
  lab: null,
  shipmentId: null,
  specimenType: '血清',
  container: null,
  collector: '李护士',
  collectedAt: '2026-12-05T02:00:00.000Z',
  receivedAt: null,
  resultAt: null,
  verifiedAt: null,
  reportedAt: null,
  condition: null,
  rejectedReason: null,
  result: null,
  leg: 'transport',
  legUnit: 'CHC1',
  legStartedAt: '2026-12-05T02:00:00.000Z',
  legDeadline: '2026-12-05T06:00:00.000Z',
  overdue: false,
  ...over,
});

describe('LabTab (检测结果 on an investigation)', () => {
  it("lists the investigation's specimens with their state and, once verified, the result", async () => {
    const api = stubApi({
      '/api/lab/specimens': {
        items: [
          specimen(1, {
            state: 'verified',
            verifiedAt: '2026-12-05T07:30:00.000Z',
            result: { value: '阳性', interpretation: 'positive' },
            leg: null,
          }),
          specimen(2, { overdue: true }),
        ],
        total: 2,
        limit: 20,
        offset: 0,
      },
    });
    renderPage(<LabTab investigationId={42} />);
    const table = await screen.findByTestId('inv-lab');
    await waitFor(() => expect(table.textContent).toContain('INV-1'));
    expect(api.calls[0]!.path).toContain('investigationId=42');
    const rows = [...table.querySelectorAll('tbody tr')].map((r) => r.textContent);
    expect(rows[0]).toContain('阳性');
    expect(rows[0]).toContain('2026-12-05 15:30');
    expect(rows[1]).toContain('超时');
    expect(rows[1]).toContain('待出具');
    expect(screen.getByText('共 2 份标本')).toBeTruthy();
    expect(table.querySelector('a')?.getAttribute('href')).toBe('#/lab/specimens/INV-1');
  });
});
