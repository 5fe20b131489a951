/**
 * Hostile input, from a list (hostile-inputs.cases.ts): every case is answered 400/413 (or
 * 404/431 where the HTTP layer or routing answers first) with a message naming the field or the
 * limit, never 500, within a few seconds; nothing is stored (or, for the accepted controls,
 * exactly what was sent); and the server still answers /healthz afterwards. On both stores.
 */
import { expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { cases, runHostileCases } from './hostile-inputs.cases.js';

describeEachStore('hostile input', (server) => {
  it(`answers ${cases.length} hostile inputs with 400/413 naming the field or limit: no 500, no timeout, nothing silently replaced`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const s = server();
    const { tally, failures } = await runHostileCases(s);
    console.info(`[hostile-inputs ${s.kind}] ${JSON.stringify(tally)}`);
    expect(failures).toEqual([]);
    expect(tally).toEqual({ cases: cases.length, serverErrors: 0, timeouts: 0, replaced: 0 });
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
  }, 180_000);
});
