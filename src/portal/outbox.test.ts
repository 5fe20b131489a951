/** The SMS transports against a local fake gateway, and the pure helpers of reminders (no database). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpSmsTransport, LogTransport, maskPhone } from './outbox.js';
import { isoWeek, reminderText } from './words.js';

describe('SMS transports', () => {
  const seen: { method?: string; type?: string; body: unknown }[] = [];
  let status = 200;
  let reply = '{"id":"gw-42"}';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(status, { 'content-type': 'application/json' }).end(reply);
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts {to, text, reference} as JSON and keeps the gateway id', async () => {
    const id = await new HttpSmsTransport(url).send({ to: '13800000001', text: '验证码 123456', reference: '7' });
    expect(id).toBe('gw-42');
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      type: 'application/json',
      body: { to: '13800000001', text: '验证码 123456', reference: '7' },
    });
  });

  it('fails on a non-2xx answer, naming the status; a 2xx without JSON is still a success', async () => {
    status = 502;
    await expect(new HttpSmsTransport(url).send({ to: '13800000001', text: 'x', reference: '8' })).rejects.toThrow(/502/);
    status = 202;
    reply = 'accepted';
    expect(await new HttpSmsTransport(url).send({ to: '13800000001', text: 'x', reference: '9' })).toBeUndefined();
  });

  it('writes to the log with the phone partly hidden (the demo transport)', async () => {
    const lines: string[] = [];
    await new LogTransport((l) => lines.push(l)).send({ to: '13812345678', text: '验证码 654321', reference: '1' });
    expect(lines).toEqual(['[portal] SMS to 138****5678: 验证码 654321']);
    expect(maskPhone('123')).toBe('****');
  });
});

describe('reminder helpers', () => {
  it('numbers ISO weeks across a year boundary', () => {
    expect(isoWeek('2026-01-01')).toBe('2026-W01');
    expect(isoWeek('2025-12-29')).toBe('2026-W01');
    expect(isoWeek('2027-01-03')).toBe('2026-W53');
    expect(isoWeek('2026-12-07')).toBe('2026-W50');
  });

  it('merges the due things into one message and counts what it leaves out', () => {
    const items = Array.from({ length: 6 }, (_, i) => ({
      key: `k${i}`,
      residentName: '',
      title: `服务${i}`,
      dueDate: '2026-12-10',
      overdue: i === 0,
    }));
    const text = reminderText(items);
    expect(text).toMatch(/^【医防】您本周有6项健康服务待办：服务0\(已逾期\)；服务1\(12-10\)/);
    expect(text).toMatch(/等6项/);
  });
});
