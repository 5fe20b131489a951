import { readFileSync } from 'node:fs';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderPage, stubApi } from '../shared/test-support.js';
import { DeadLettersPage } from './dead-letters.component.js';
import { enIntegration } from './en-integration.js';
import type { ProcessorDeadLetterRow } from './hl7.resource.js';
import { ProcessorDeadLettersPanel } from './processor-dead-letters.component.js';

const source = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');
const pageSource = source('./dead-letters.component.tsx');
const panelSource = source('./processor-dead-letters.component.tsx');

const row = (seq: number, over: Partial<ProcessorDeadLetterRow> = {}): ProcessorDeadLetterRow => ({
  processor: 'mpi-candidates',
  seq,
  resourceType: 'Patient',
  resourceId: `p-${seq}`,
  versionId: 1,
  status: 'parked',
  attempts: 5,
  error: `identifier checksum failed ${seq}`,
  firstFailedAt: '2026-01-02T01:00:00Z',
  lastFailedAt: '2026-01-02T02:00:00Z',
  nextAttemptAt: null,
  replayedBy: null,
  ...over,
});

const page = (offset: number) => ({
  total: 45,
  rows: Array.from({ length: offset === 40 ? 5 : 20 }, (_, i) => row(offset + i + 1)),
});

describe('ProcessorDeadLettersPanel', () => {
  it('lists parked changes in words, paged on the server with the total', async () => {
    const api = stubApi({
      '/api/processors/dead-letters': (c: { path: string }) => page(Number(new URL(c.path, 'http://x').searchParams.get('offset'))),
    });
    renderPage(<ProcessorDeadLettersPanel />);
    expect(await screen.findByText('identifier checksum failed 1')).toBeTruthy();
    expect(api.calls[0]!.path).toBe('/api/processors/dead-letters?status=parked&limit=20&offset=0');
    const first = screen.getAllByRole('row')[1]!;
    expect(within(first).getByText('居民身份匹配')).toBeTruthy();
    expect(within(first).getByText('已搁置，待处理')).toBeTruthy();
    expect(first.textContent).toContain('居民 p-1');
    expect(first.textContent).not.toContain('parked');
    expect(screen.getByText('共 45 条')).toBeTruthy();

    fireEvent.click(screen.getByTitle('3'));
    expect(await screen.findByText('identifier checksum failed 41')).toBeTruthy();
    expect(api.calls.at(-1)!.path).toBe('/api/processors/dead-letters?status=parked&limit=20&offset=40');
    expect(screen.getAllByRole('row')).toHaveLength(1 + 5);
    expect(api.unmatched).toEqual([]);
  });

  it('replays a parked change after confirmation, then reloads the list', async () => {
    let replayed = false;
    const api = stubApi({
      '/api/processors/dead-letters': () =>
        replayed
          ? { total: 1, rows: [row(7, { status: 'retrying', nextAttemptAt: '2026-01-02T03:00:00Z' })] }
          : { total: 1, rows: [row(7)] },
      'POST /api/processors/dead-letters/mpi-candidates/7/replay': () => {
        replayed = true;
        return { processor: 'mpi-candidates', seq: 7, status: 'retrying' };
      },
    });
    renderPage(<ProcessorDeadLettersPanel />);
    fireEvent.click(await screen.findByRole('button', { name: '重新处理' }));
    // nothing happens before the confirmation
    expect(api.callsTo('POST /api/processors/dead-letters/mpi-candidates/7/replay')).toHaveLength(0);
    expect(await screen.findByText('重新处理这条变更？')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '确认重新处理' }));
    await waitFor(() => expect(api.callsTo('POST /api/processors/dead-letters/mpi-candidates/7/replay')).toHaveLength(1));
    expect(await screen.findByText('已重新排队，处理器将很快再试一次')).toBeTruthy();
    expect(await screen.findByText('自动重试中')).toBeTruthy();
    expect(api.callsTo('GET /api/processors/dead-letters')).toHaveLength(2);
  });

  it('filters by status (all statuses drops the filter)', async () => {
    const api = stubApi({ '/api/processors/dead-letters': { total: 0, rows: [] } });
    renderPage(<ProcessorDeadLettersPanel />);
    expect(await screen.findByText('没有处理失败的变更')).toBeTruthy();
    fireEvent.mouseDown(screen.getAllByRole('combobox')[0]!);
    fireEvent.click(await screen.findByText('全部状态'));
    await waitFor(() => expect(api.calls.at(-1)!.path).toBe('/api/processors/dead-letters?limit=20&offset=0'));
  });

  it('has an English text for every key it uses', () => {
    const used = [...`${panelSource}\n${pageSource}`.matchAll(/t\('((?:pdl|hl7\.tab)\.[\w.-]+)'/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((k) => !(k in enIntegration))).toEqual([]);
  });
});

describe('DeadLettersPage', () => {
  it('keeps HL7 messages on the first tab and shows the processors’ on the second', async () => {
    const api = stubApi({
      '/api/hl7/dead-letters': { items: [] },
      '/api/hl7/status': { mllpPort: 2575, connections: 0, messages: { stored: 3 } },
      '/api/processors/dead-letters': { total: 1, rows: [row(9)] },
    });
    renderPage(<DeadLettersPage />);
    expect(await screen.findByText('没有被拒收的消息')).toBeTruthy();
    expect(api.callsTo('GET /api/processors/dead-letters')).toHaveLength(0); // loaded only when opened
    fireEvent.click(screen.getByRole('tab', { name: '变更处理失败' }));
    expect(await screen.findByText('identifier checksum failed 9')).toBeTruthy();
  });
});
