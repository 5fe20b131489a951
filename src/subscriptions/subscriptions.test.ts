/**
 * FHIR Subscription, REST-hook (issue #20 item 4): a result reaches a subscribed endpoint as a
 * FHIR resource, confirmed by a 2xx answer; a failing endpoint is retried, then failed and resent;
 * a Subscription the server cannot serve is refused; only interface accounts may subscribe.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachStore, repoRoot } from '../app/testing.js';
import { backoffMs, notificationRequest, parseChannel, parseCriteria } from './criteria.js';

describe('subscription criteria and channel', () => {
  it('reads criteria as a search and refuses what cannot select resources', () => {
    expect(parseCriteria('DiagnosticReport?status=final&code=94500-6')).toEqual({
      type: 'DiagnosticReport',
      params: [
        ['status', 'final'],
        ['code', '94500-6'],
      ],
    });
    expect(parseCriteria('Observation')).toEqual({ type: 'Observation', params: [] });
    expect(() => parseCriteria('observation?code=x')).toThrow(/resource type/);
    expect(() => parseCriteria('Nothing?x=1')).toThrow(/unknown resource type/);
    expect(() => parseCriteria('Observation?_count=5')).toThrow(/_count/);
    expect(() => parseCriteria('Observation?_id=a')).toThrow(/_id/);
    expect(() => parseCriteria('Observation?flavour=sweet')).toThrow(/'flavour', not a search parameter of Observation/);
    expect(() => parseCriteria('AuditEvent?')).toThrow(/may not follow AuditEvent/);
  });

  it('takes a rest-hook channel with JSON payload and headers; the request follows R4', () => {
    const ch = parseChannel({
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'x',
      criteria: 'Patient',
      channel: {
        type: 'rest-hook',
        endpoint: 'https://his.example/fhir/',
        payload: 'application/fhir+json',
        header: ['Authorization: Bearer abc'],
      },
    });
    expect(ch.headers).toEqual([['Authorization', 'Bearer abc']]);
    const put = notificationRequest(ch, { resourceType: 'DiagnosticReport', id: 'r1' });
    expect(put.method).toBe('PUT');
    expect(put.url).toBe('https://his.example/fhir/DiagnosticReport/r1');
    expect(notificationRequest({ ...ch, payload: undefined }, undefined)).toEqual({ method: 'POST', url: 'https://his.example/fhir/' });
    const bad = (channel: object) => () =>
      parseChannel({ resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'Patient', channel } as never);
    expect(bad({ type: 'websocket' })).toThrow(/rest-hook only/);
    expect(bad({ type: 'rest-hook', endpoint: 'ftp://x/' })).toThrow(/http or https/);
    expect(bad({ type: 'rest-hook', endpoint: 'https://u:p@x/' })).toThrow(/user name or password/);
    expect(bad({ type: 'rest-hook', endpoint: 'https://x/', payload: 'application/fhir+xml' })).toThrow(/not supported/);
    expect(bad({ type: 'rest-hook', endpoint: 'https://x/', header: ['Content-Type: text/plain'] })).toThrow(/server sets it/);
    expect(bad({ type: 'rest-hook', endpoint: 'https://x/', header: ['no colon'] })).toThrow(/Name: value/);
    expect([1, 2, 3, 20].map(backoffMs)).toEqual([5000, 10000, 20000, 600000]);
  });
});

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describeEachStore('FHIR Subscription REST-hook', (server) => {
  const received: Received[] = [];
  /** The receiver's answer per request (pops from the front; 200 when empty). */
  const answers: number[] = [];
  let receiver: http.Server;
  let base = '';
  const before = process.env.WEBHOOKS_CONFIG;

  beforeAll(async () => {
    process.env.WEBHOOKS_CONFIG = path.join(repoRoot, 'config/security/webhooks.test.json');
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (before === undefined) delete process.env.WEBHOOKS_CONFIG;
    else process.env.WEBHOOKS_CONFIG = before;
    await new Promise((r) => receiver.close(r));
  });

  const post = (type: string, body: object) =>
    server().api(`/fhir/${type}`, { method: 'POST', body: JSON.stringify({ resourceType: type, ...body }) });
  const subscribe = async (criteria: string, channel: object) => {
    const res = await post('Subscription', { status: 'requested', reason: 'results back to the HIS', criteria, channel });
    return { status: res.status, body: (await res.json()) as { id: string; issue?: { diagnostics?: string }[] } };
  };
  const report = async (status: string, code = '94500-6') => {
    const patient = await server().api('/fhir/Patient/p-sub-1', {
      method: 'PUT',
      body: JSON.stringify({ resourceType: 'Patient', id: 'p-sub-1', name: [{ text: '周订阅' }] }),
    });
    expect(patient.status).toBeLessThan(300);
    const res = await post('DiagnosticReport', {
      status,
      code: { coding: [{ system: 'http://loinc.org', code }] },
      subject: { reference: 'Patient/p-sub-1' },
    });
    expect(res.status).toBe(201);
    return res;
  };
  const deliveries = async (q = '') =>
    (await (await server().api(`/api/subscriptions/deliveries${q}`)).json()) as {
      total: number;
      items: { id: number; status: string; resourceId: string; attempts: number; lastError: string | null }[];
    };
  /** The server's own delivery loop sends (every second, or when poked); this waits for what it should reach. */
  const until = async <T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> => {
    const end = Date.now() + 15_000;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const deliveryOf = async (subscription: string) => (await deliveries(`?subscription=${subscription}`)).items[0];

  it('sends a matching result to the endpoint as a FHIR resource, and nothing else', async () => {
    const sub = await subscribe('DiagnosticReport?status=final&code=94500-6', {
      type: 'rest-hook',
      endpoint: `${base}/his/fhir`,
      payload: 'application/fhir+json',
      header: ['Authorization: Bearer his-token'],
    });
    expect(sub.status).toBe(201);
    await server().processors.drain();
    const stored = (await (await server().api(`/fhir/Subscription/${sub.body.id}`)).json()) as { status: string };
    expect(stored.status).toBe('active');

    const match = (await (await report('final')).json()) as { id: string };
    await report('preliminary');
    await report('final', '12345-6');
    await server().processors.drain();
    await until(
      () => deliveryOf(sub.body.id),
      (d) => d?.status === 'delivered',
      'the delivery',
    );

    const put = received.filter((r) => r.url.startsWith('/his/fhir/'));
    expect(put.map((r) => `${r.method} ${r.url}`)).toEqual([`PUT /his/fhir/DiagnosticReport/${match.id}`]);
    expect(put[0]!.headers.authorization).toBe('Bearer his-token');
    expect(put[0]!.headers['content-type']).toBe('application/fhir+json');
    expect(JSON.parse(put[0]!.body)).toMatchObject({ resourceType: 'DiagnosticReport', id: match.id, status: 'final' });
    const list = await deliveries(`?subscription=${sub.body.id}`);
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ status: 'delivered', resourceId: match.id, attempts: 1 });
    const subs = (await (await server().api('/api/subscriptions')).json()) as {
      items: { id: string; deliveries: { delivered: number } }[];
    };
    expect(subs.items.find((s) => s.id === sub.body.id)?.deliveries.delivered).toBe(1);

    // The disclosure is in the audit trail, naming the resident.
    const audit = (await (await server().api('/fhir/AuditEvent?subtype=subscription-notify&_count=5')).json()) as { total?: number };
    expect(audit.total ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('retries an endpoint that fails, fails it after the attempts, and resends it on request', async () => {
    const sub = await subscribe('DiagnosticReport?code=55555-5', {
      type: 'rest-hook',
      endpoint: `${base}/flaky`,
      payload: 'application/fhir+json',
    });
    expect(sub.status).toBe(201);
    await server().processors.drain();
    answers.push(503);
    await report('final', '55555-5');
    await server().processors.drain();
    let d = (await until(
      () => deliveryOf(sub.body.id),
      (x) => (x?.attempts ?? 0) >= 1,
      'the first attempt',
    ))!;
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastError: 'answered HTTP 503' });

    // Every later attempt fails too: after 8 in the round it is failed, with the reason.
    for (let i = 0; i < 7; i++) {
      answers.push(500);
      await server().db.query(`UPDATE sub_delivery SET next_attempt_at = now() WHERE id = $1`, [d.id]);
      const n = i + 2;
      await until(
        () => deliveryOf(sub.body.id),
        (x) => (x?.attempts ?? 0) >= n,
        `attempt ${n}`,
      );
    }
    d = (await deliveries(`?subscription=${sub.body.id}`)).items[0]!;
    expect(d.status).toBe('failed');
    expect(d.attempts).toBe(8);
    expect(d.lastError).toMatch(/gave up after 8 attempts: answered HTTP 500/);
    const detail = (await (await server().api(`/api/subscriptions/deliveries/${d.id}`)).json()) as { attempts: { httpStatus: number }[] };
    expect(detail.attempts.map((a) => a.httpStatus)).toEqual([503, 500, 500, 500, 500, 500, 500, 500]);

    const again = await server().api(`/api/subscriptions/deliveries/${d.id}/resend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(again.status).toBe(200);
    d = (await until(
      () => deliveryOf(sub.body.id),
      (x) => x?.status === 'delivered',
      'the resent delivery',
    ))!;
    expect(d).toMatchObject({ status: 'delivered', attempts: 9 });
    const twice = await server().api(`/api/subscriptions/deliveries/${d.id}/resend`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(twice.status).toBe(409);
  });

  it('refuses a Subscription it cannot serve, naming why', async () => {
    for (const [criteria, channel, why] of [
      ['DiagnosticReport?status=final', { type: 'websocket' }, /rest-hook only/],
      ['DiagnosticReport?colour=red', { type: 'rest-hook', endpoint: `${base}/x` }, /colour/],
      ['DiagnosticReport', { type: 'rest-hook', endpoint: 'mailto:x@y' }, /http or https/],
    ] as const) {
      const r = await subscribe(criteria, channel);
      expect(r.status, criteria).toBe(422);
      expect(JSON.stringify(r.body)).toMatch(why);
    }
  });

  it('lets only administrators and interface accounts subscribe', async () => {
    const password = 'Clinician-pw-2026';
    await server().auth.addUser({ username: 'sub-clinician', password, roles: ['clinician'], organization: 'HOSP-X' });
    const login = await fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'sub-clinician', password }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const res = await fetch(`${server().url}/fhir/Subscription`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'every patient',
        criteria: 'Patient',
        channel: { type: 'rest-hook', endpoint: `${base}/leak`, payload: 'application/fhir+json' },
      }),
    });
    expect(res.status).toBe(403);
    expect((await fetch(`${server().url}/api/subscriptions`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });
});
