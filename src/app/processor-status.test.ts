/**
 * GET /api/processors/status: how far behind the change-log processors are, so the screens can
 * say figures are still being derived instead of showing zeros as if the district had no data.
 */
import { expect, it } from 'vitest';
import type { ProcessorStatus } from './platform-routes.js';
import { describeEachStore } from './testing.js';

describeEachStore('processor status', (server) => {
  const status = async (token = server().token): Promise<ProcessorStatus> => {
    const r = await fetch(`${server().url}/api/processors/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as ProcessorStatus;
  };

  it('says the processors are catching up while records wait, and caught up after they are derived', async () => {
    const s = server();
    await s.processors.drain();
    await s.processors.stop();
    try {
      for (let i = 0; i < 4; i++) {
        const r = await s.api(`/fhir/Patient/status-p${i}`, {
          method: 'PUT',
          body: JSON.stringify({ resourceType: 'Patient', id: `status-p${i}`, name: [{ text: `状态${i}` }], gender: 'female' }),
        });
        expect(r.status).toBeLessThan(300);
      }
      // A status younger than the reuse window may be answered again: wait it out.
      await new Promise((r) => setTimeout(r, 1600));
      const behind = await status();
      expect(behind.catchingUp).toBe(true);
      expect(behind.pending).toBeGreaterThanOrEqual(4);
      const mpi = behind.processors.find((p) => p.name === 'identity-mpi')!;
      expect(mpi).toMatchObject({
        lag: 4,
        capped: false,
        caughtUp: false,
        label: { zh: '居民身份匹配', en: 'Resident identity matching' },
      });
      // Every processor is listed, each with words for the screens (no bare codes for zh-CN users).
      expect(behind.processors.length).toBeGreaterThan(5);
      for (const p of behind.processors) expect(p.label.zh).not.toBe(p.name);
      // A processor that wants no Patient is not held up by them.
      expect(behind.processors.find((p) => p.name === 'registry-fhir')).toMatchObject({ lag: 0, caughtUp: true });

      await s.processors.drain();
      await new Promise((r) => setTimeout(r, 1600));
      const after = await status();
      expect(after).toMatchObject({ catchingUp: false, pending: 0 });
      expect(after.processors.every((p) => p.caughtUp && p.lag === 0)).toBe(true);
    } finally {
      s.processors.start();
    }
  }, 60_000);

  it('answers any signed-in user and no one else', async () => {
    const s = server();
    await s.auth.addUser({ username: 'status-viewer', password: 'status-viewer-pw', roles: ['viewer'] });
    const login = await fetch(`${s.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'status-viewer', password: 'status-viewer-pw' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    expect(typeof (await status(token)).catchingUp).toBe('boolean');
    expect((await fetch(`${s.url}/api/processors/status`)).status).toBe(401);
  });

  it('is described in the OpenAPI document', async () => {
    const doc = (await (await server().api('/api/docs')).json()) as { paths: Record<string, { get?: { responses?: object } }> };
    expect(doc.paths['/api/processors/status']?.get?.responses).toHaveProperty('200');
  });
});
