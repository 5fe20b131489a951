import http from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  addressBytes,
  checkTarget,
  forbiddenReason,
  guardedLookup,
  inCidr,
  loadOutboundPolicy,
  refusal,
  type Resolver,
} from './net-guard.js';

const resolver =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const list = table[host];
    if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('outbound target guard', () => {
  it('names internal ranges and lets public addresses through', () => {
    expect(forbiddenReason('127.0.0.1')).toBe('loopback');
    expect(forbiddenReason('127.255.1.2')).toBe('loopback');
    expect(forbiddenReason('169.254.169.254')).toMatch(/link-local/);
    expect(forbiddenReason('10.1.2.3')).toBe('private');
    expect(forbiddenReason('172.16.0.1')).toBe('private');
    expect(forbiddenReason('172.31.255.255')).toBe('private');
    expect(forbiddenReason('172.32.0.1')).toBeUndefined();
    expect(forbiddenReason('192.168.1.1')).toBe('private');
    expect(forbiddenReason('0.0.0.0')).toMatch(/unspecified/);
    expect(forbiddenReason('224.0.0.1')).toBe('multicast');
    expect(forbiddenReason('255.255.255.255')).toBe('broadcast');
    expect(forbiddenReason('::1')).toBe('loopback');
    expect(forbiddenReason('::')).toBe('unspecified');
    expect(forbiddenReason('fe80::1%eth0')).toBe('link-local');
    expect(forbiddenReason('fd00:ec2::254')).toMatch(/private/);
    expect(forbiddenReason('ff02::1')).toBe('multicast');
    expect(forbiddenReason('::ffff:127.0.0.1')).toBe('loopback');
    expect(forbiddenReason('::ffff:a9fe:a9fe')).toMatch(/link-local/);
    expect(forbiddenReason('8.8.8.8')).toBeUndefined();
    expect(forbiddenReason('2408:8000::1')).toBeUndefined();
    expect(forbiddenReason('not-an-ip')).toBe('not an IP address');
  });

  it('parses addresses and matches CIDRs', () => {
    expect([...addressBytes('1.2.3.4')!]).toEqual([1, 2, 3, 4]);
    expect(addressBytes('1:2:3:4:5:6:7:8')).toHaveLength(16);
    expect(addressBytes('1::2::3')).toBeUndefined();
    expect(inCidr('10.20.30.40', '10.20.0.0/16')).toBe(true);
    expect(inCidr('10.21.0.1', '10.20.0.0/16')).toBe(false);
    expect(inCidr('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(inCidr('fe80::abcd', 'fe80::/10')).toBe(true);
    expect(inCidr('1.2.3.4', '::/0')).toBe(false);
  });

  it('refuses names resolving to internal addresses, unless the host or a CIDR is allowed', async () => {
    const resolve = resolver({
      'intranet.example': ['10.8.0.5'],
      'mixed.example': ['93.184.216.34', '127.0.0.1'],
      'ok.example': ['93.184.216.34'],
    });
    const none = { allow: [] };
    await expect(checkTarget(new URL('http://127.0.0.1:5432/'), none, resolve)).rejects.toThrow(/127\.0\.0\.1, a loopback address/);
    await expect(checkTarget(new URL('http://169.254.169.254/latest/meta-data'), none, resolve)).rejects.toThrow(/link-local/);
    await expect(checkTarget(new URL('http://[::1]/'), none, resolve)).rejects.toThrow(/loopback/);
    await expect(checkTarget(new URL('http://intranet.example/hook'), none, resolve)).rejects.toThrow(
      /intranet\.example resolves to 10\.8\.0\.5, a private/,
    );
    await expect(checkTarget(new URL('http://mixed.example/'), none, resolve)).rejects.toThrow(/loopback/);
    await expect(checkTarget(new URL('http://nowhere.example/'), none, resolve)).rejects.toThrow(/does not resolve/);
    await expect(checkTarget(new URL('https://ok.example/'), none, resolve)).resolves.toHaveLength(1);
    await expect(checkTarget(new URL('http://intranet.example/'), { allow: ['10.8.0.0/16'] }, resolve)).resolves.toHaveLength(1);
    await expect(checkTarget(new URL('http://intranet.example/'), { allow: ['INTRANET.example'] }, resolve)).resolves.toHaveLength(1);
    await expect(checkTarget(new URL('http://intranet.example/'), { allow: ['10.9.0.0/16', 'other.example'] }, resolve)).rejects.toThrow();
    expect(refusal('x', '127.0.0.1', { allow: ['127.0.0.1/32'] })).toBeUndefined();
  });

  it('connects only to checked addresses (DNS rebinding: the second answer is internal)', async () => {
    const server = http.createServer((_req, res) => res.end('reached'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let answers = 0;
    // First answer public (as at registration), then loopback (when connecting).
    const rebinding: Resolver = async () => [{ address: answers++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    await expect(checkTarget(new URL('http://rebind.example/'), { allow: [] }, rebinding)).resolves.toBeTruthy();
    const get = (lookup: ReturnType<typeof guardedLookup>) =>
      new Promise<string>((resolve, reject) => {
        http
          .get({ host: 'rebind.example', port, path: '/', lookup }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
    try {
      await expect(get(guardedLookup({ allow: [] }, rebinding))).rejects.toThrow(/loopback/);
      await expect(get(guardedLookup({ allow: ['127.0.0.1/32'] }, rebinding))).resolves.toBe('reached');
    } finally {
      server.close();
    }
  });

  it('reads the shipped webhook allow-list (nothing extra allowed) and the tests’ one', () => {
    expect(loadOutboundPolicy(new URL('../../config/security/webhooks.json', import.meta.url))).toEqual({ allow: [] });
    expect(loadOutboundPolicy(new URL('../../config/security/webhooks.test.json', import.meta.url)).allow).toContain('127.0.0.1/32');
    expect(loadOutboundPolicy('/nonexistent/webhooks.json')).toEqual({ allow: [] });
  });
});
