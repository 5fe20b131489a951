/**
 * Alert webhooks may not reach internal addresses (issue #15): refused at registration (400)
 * and again when sending, on the address connected to; allowed by the configuration file.
 */
import http from 'node:http';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeEachStore, repoRoot } from '../../app/testing.js';
import type { Resolver } from '../../platform/net-guard.js';
import { WebhookDeliverer, addWebhook } from './webhooks.js';

const TEST_CONFIG = path.join(repoRoot, 'config/security/webhooks.test.json');

describeEachStore('webhook targets', (server) => {
  const before = process.env.WEBHOOKS_CONFIG;
  afterEach(() => {
    if (before === undefined) delete process.env.WEBHOOKS_CONFIG;
    else process.env.WEBHOOKS_CONFIG = before;
  });
  const subscribe = (url: string) =>
    server().api('/api/surveillance/webhooks', {
      method: 'POST',
      body: JSON.stringify({ url }),
      headers: { 'content-type': 'application/json' },
    });

  it('refuses loopback, cloud metadata and private targets at registration, naming why', async () => {
    process.env.WEBHOOKS_CONFIG = path.join(repoRoot, 'config/security/webhooks.json');
    for (const [url, why] of [
      ['http://127.0.0.1:5432/', /loopback/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://[::1]:8080/hook', /loopback/],
      ['http://10.0.0.7/hook', /private/],
      ['http://localhost:8080/hook', /loopback/],
    ] as const) {
      const res = await subscribe(url);
      expect(res.status, url).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(why);
    }
  });

  it('refuses a name resolving to 10.x, and allows it when configured', async () => {
    const resolve: Resolver = async () => [{ address: '10.20.30.40', family: 4 }];
    await expect(
      addWebhook(server().db, 'http://hooks.cdc.example/alert', null, 'admin', undefined, { policy: () => ({ allow: [] }), resolve }),
    ).rejects.toThrow(/hooks\.cdc\.example resolves to 10\.20\.30\.40, a private address/);
    await expect(
      addWebhook(server().db, 'http://hooks.cdc.example/alert', null, 'admin', undefined, {
        policy: () => ({ allow: ['10.20.0.0/16'] }),
        resolve,
      }),
    ).resolves.toMatchObject({ url: 'http://hooks.cdc.example/alert' });
  });

  it('checks again when sending: a name that now resolves to loopback is not posted to', async () => {
    let hits = 0;
    const hook = http.createServer((_req, res) => {
      hits++;
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    try {
      // Registered while the name pointed to a public address…
      const publicAnswer: Resolver = async () => [{ address: '93.184.216.34', family: 4 }];
      const { id } = await addWebhook(server().db, `http://rebind.example:${port}/hook`, null, 'admin', undefined, {
        policy: () => ({ allow: [] }),
        resolve: publicAnswer,
      });
      // …and now it points to the server itself.
      const loopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
      const deliverer = new WebhookDeliverer(server().db, { policy: () => ({ allow: [] }), resolve: loopback, backoffBaseMs: 1 });
      await server().db.query(`UPDATE surv_webhook SET active = (id = $1)`, [id]);
      await deliverer.enqueue('alert.test', null, { n: 1 });
      await deliverer.deliverDue();
      await deliverer.stop();
      const d = await server().db.query<{ last_error: string; status: string }>(
        'SELECT last_error, status FROM surv_webhook_delivery WHERE webhook_id = $1',
        [id],
      );
      expect(d.rows[0]!.last_error).toMatch(/rebind\.example resolves to 127\.0\.0\.1, a loopback address/);
      expect(hits).toBe(0);

      // Allowed by the configuration file, the same delivery goes through.
      process.env.WEBHOOKS_CONFIG = TEST_CONFIG;
      const allowed = new WebhookDeliverer(server().db, { resolve: loopback });
      await server().db.query(`UPDATE surv_webhook_delivery SET next_attempt_at = now() WHERE webhook_id = $1`, [id]);
      await allowed.deliverDue();
      await allowed.stop();
      expect(hits).toBe(1);
      const ok = await subscribe(`http://127.0.0.1:${port}/hook`);
      expect(ok.status).toBe(201);
    } finally {
      hook.close();
      await server().db.query(`UPDATE surv_webhook SET active = false`);
    }
  });
});
