import { afterEach, describe, expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import {
  base32Decode,
  base32Encode,
  DEFAULT_AUTH_POLICY,
  generateOneTimePassword,
  hashPassword,
  passwordProblem,
  totpCode,
  TOTP_REQUIRED,
  verifyPassword,
} from './auth.js';

it('hashes passwords with a salt and verifies them', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  expect(a).not.toBe(b);
  expect(a).toMatch(/^scrypt\$/);
  expect(await verifyPassword('correct horse', a)).toBe(true);
  expect(await verifyPassword('wrong horse', a)).toBe(false);
});

describe('password rules', () => {
  it('refuses short, repeated, username-like and common passwords, naming the rule', () => {
    expect(passwordProblem('12345678', 'wang')).toMatch(/at least 12 characters.*至少 12/);
    expect(passwordProblem(' '.repeat(12), 'wang')).toMatch(/one character repeated/);
    expect(passwordProblem('aaaaaaaaaaaaaaaa', 'wang')).toMatch(/one character repeated/);
    expect(passwordProblem('doctor.wang.1234', 'Doctor.Wang')).toMatch(/username/);
    expect(passwordProblem('doctor.wang12', 'doctor.wang12')).toMatch(/username/);
    expect(passwordProblem('a-very-long-name-x', 'a-very-long-name-x-2000')).toMatch(/username/);
    expect(passwordProblem('Password1234', 'wang')).toMatch(/common/);
    expect(passwordProblem('1qaz2wsx3edc', 'wang')).toMatch(/common/);
    expect(passwordProblem('x'.repeat(1025) + 'y', 'wang')).toMatch(/at most 1024/);
    expect(passwordProblem('青山绿水健康社区卫生服务站点', 'wang')).toBeUndefined();
    expect(passwordProblem('mild-otter-harbour-92', 'wang')).toBeUndefined();
  });

  it('generates one-time passwords that pass the rules', () => {
    for (let i = 0; i < 20; i++) expect(passwordProblem(generateOneTimePassword(), 'wang')).toBeUndefined();
  });
});

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC test vector and round-trips base32', () => {
    const secret = Buffer.from('12345678901234567890');
    // RFC 6238 appendix B, SHA-1, T = 59 s → 94287082 (8 digits); 6 digits are its last six.
    expect(totpCode(secret, Math.floor(59 / 30), 8)).toBe('94287082');
    expect(totpCode(secret, Math.floor(1111111109 / 30), 8)).toBe('07081804');
    expect(totpCode(secret, 1)).toBe('287082');
    expect(base32Decode(base32Encode(secret)).equals(secret)).toBe(true);
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
  });
});

// The tests pose as clients behind the proxy at 127.0.0.1 (X-Forwarded-For names the client), to
// have a source address each; set before the servers start.
process.env.YIFANG_TRUSTED_PROXIES = '127.0.0.1';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describeEachStore('authentication', (server) => {
  const realNow = Date.now;
  afterEach(() => {
    server().auth.now = () => realNow();
    Object.assign(server().auth.policy, DEFAULT_AUTH_POLICY);
  });
  /** Moves the server's clock by `ms` from now on. */
  const shiftClock = (ms: number) => {
    const before = server().auth.now;
    server().auth.now = () => before() + ms;
  };
  let address = 1;
  /** A source address of its own for each test (X-Forwarded-For: the server trusts its proxy). */
  const newAddress = () => `198.51.100.${address++}`;
  const login = (username: string, password: string, from = '203.0.113.1', extra: Record<string, unknown> = {}) =>
    fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ username, password, ...extra }),
    });
  const tokenOf = async (res: Response) => ((await res.json()) as { access_token: string }).access_token;
  const me = (token: string) => fetch(`${server().url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
  const asUser = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${server().url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string>),
      },
    });
  const message = async (res: Response) => JSON.stringify(await res.json());

  it('logs in, serves /auth/me, and logs out', async () => {
    await server().auth.addUser({
      username: 'doctor.wang',
      password: 'secret-pw-1',
      displayName: '王医生',
      roles: ['clinician'],
      organization: '东城社区卫生服务中心',
    });
    expect((await login('doctor.wang', 'nope-nope')).status).toBe(401);
    expect((await login('nobody', 'secret-pw-1')).status).toBe(401);
    expect(
      (await fetch(`${server().url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ).toBe(400);
    const res = await login('doctor.wang', 'secret-pw-1');
    expect(res.status).toBe(200);
    const { access_token: token, user } = (await res.json()) as { access_token: string; user: { roles: string[]; organization: string } };
    expect(user).toMatchObject({ roles: ['clinician'], organization: '东城社区卫生服务中心' });
    expect(((await (await me(token)).json()) as { displayName: string }).displayName).toBe('王医生');
    await fetch(`${server().url}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await me(token)).status).toBe(401);
  });

  it('refuses bad users and unknown roles with a message naming the field', async () => {
    await expect(server().auth.addUser({ username: 'x', password: 'long-enough', roles: ['admin'] })).rejects.toThrow(/username/);
    await expect(server().auth.addUser({ username: 'okname', password: 'short', roles: ['admin'] })).rejects.toThrow(/password/);
    await expect(server().auth.addUser({ username: 'okname', password: 'long-enough', roles: ['wizard'] })).rejects.toThrow(
      /role 'wizard'/,
    );
    await expect(
      server().auth.addUser({ username: 'okname', password: '12345678', roles: ['admin'], enforcePolicy: true }),
    ).rejects.toThrow(/at least 12/);
  });

  it('serves health, metadata and OpenAPI without a token, everything else with one', async () => {
    expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
    const docs = (await (await fetch(`${server().url}/api/docs`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/auth/login', '/api/import', '/api/users', '/auth/password']));
    expect((await fetch(`${server().url}/api/import`, { method: 'POST' })).status).toBe(401);
  });

  it('refuses the 11th attempt on an account without checking the password, until the window ends', async () => {
    await server().auth.addUser({ username: 'locked.li', password: 'right-password-77', roles: ['viewer'] });
    // A success clears the account's counter: 9 failures, a success, 10 failures are all checked.
    for (let i = 0; i < 9; i++) expect((await login('locked.li', `wrong-${i}`, newAddress())).status).toBe(401);
    expect((await login('locked.li', 'right-password-77', newAddress())).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await login('locked.li', `wrong-${i}`, newAddress())).status).toBe(401);
    const refused = await login('locked.li', 'right-password-77', newAddress());
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(13 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(await message(refused)).toMatch(/Too many failed sign-ins for this account.*登录失败次数过多/);
    // Refused without the slow scrypt check: as fast as a bare request.
    const t0 = performance.now();
    expect((await login('locked.li', 'another-guess', newAddress())).status).toBe(429);
    expect(performance.now() - t0).toBeLessThan(1000);
    shiftClock(15 * 60_000 + 1000);
    expect((await login('locked.li', 'right-password-77', newAddress())).status).toBe(200);
  });

  it('caps failed attempts per source address across accounts', async () => {
    server().auth.policy.addressFailures = 6;
    const from = newAddress();
    for (let i = 0; i < 6; i++) expect((await login(`someone${i}`, 'wrong-password-xx', from)).status).toBe(401);
    const refused = await login('doctor.wang', 'secret-pw-1', from);
    expect(refused.status).toBe(429);
    expect(await message(refused)).toMatch(/from this address/);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another address is not affected.
    expect((await login('doctor.wang', 'secret-pw-1', newAddress())).status).toBe(200);
  });

  it('answers unknown users in about the time of known ones (a dummy scrypt)', async () => {
    await server().auth.addUser({ username: 'timing.zhao', password: 'timing-password-1', roles: ['viewer'] });
    await login('warm.up', 'x', newAddress());
    const time = async (username: string) => {
      const t0 = performance.now();
      expect((await login(username, 'wrong-password-x', newAddress())).status).toBe(401);
      return performance.now() - t0;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('timing.zhao'));
      unknown.push(await time(`ghost-${i}`));
    }
    // Lenient for a busy machine: the attack saw 43 ms against 2 ms (a factor of 20).
    expect(median(unknown)).toBeGreaterThan(median(known) / 3);
    expect(median(unknown)).toBeLessThan(median(known) * 3);
  });

  it('refuses a token on the very next request after logout, even when it was just used', async () => {
    const token = await tokenOf(await login('doctor.wang', 'secret-pw-1', newAddress()));
    expect((await me(token)).status).toBe(200);
    expect((await me(token)).status).toBe(200); // cached now
    expect((await asUser(token, '/auth/logout', { method: 'POST' })).status).toBe(200);
    expect((await me(token)).status).toBe(401);
  });

  it('ends a session after 30 minutes without use, and 12 hours after sign-in whatever the use', async () => {
    const token = await tokenOf(await login('doctor.wang', 'secret-pw-1', newAddress()));
    shiftClock(29 * 60_000);
    expect((await me(token)).status).toBe(200);
    shiftClock(31 * 60_000);
    const ended = await me(token);
    expect(ended.status).toBe(401);
    expect(await message(ended)).toMatch(/30 minutes without use/);

    const busy = await tokenOf(await login('doctor.wang', 'secret-pw-1', newAddress()));
    for (let minutes = 25; minutes < 12 * 60; minutes += 25) {
      shiftClock(25 * 60_000);
      expect((await me(busy)).status, `after ${minutes} min`).toBe(200);
    }
    shiftClock(25 * 60_000);
    expect((await me(busy)).status).toBe(401);
  });

  it('purges ended sessions and counters', async () => {
    const now = Date.now();
    const at = (msAgo: number) => new Date(now - msAgo).toISOString();
    await server().auth.addUser({ username: 'purge.qian', password: 'purge-password-1', roles: ['viewer'] });
    await server().db.query(
      `INSERT INTO app_session (token_hash, username, created_at, last_seen_at, expires_at) VALUES
         ('purge-old', 'purge.qian', $1, $2, $3), ('purge-idle', 'purge.qian', $4, $4, $5), ('purge-live', 'purge.qian', $6, $6, $5)`,
      [at(13 * 3_600_000), at(60_000), at(3_600_000), at(31 * 60_000), at(-3_600_000), at(60_000)],
    );
    await server().db.query(`INSERT INTO app_login_throttle (key, window_start, failures) VALUES ('u:purge.qian', $1, 3)`, [
      at(16 * 60_000),
    ]);
    const purged = await server().auth.purge();
    expect(purged.sessions).toBeGreaterThanOrEqual(2);
    expect(purged.counters).toBeGreaterThanOrEqual(1);
    const left = await server().db.query<{ token_hash: string }>(`SELECT token_hash FROM app_session WHERE username = 'purge.qian'`);
    expect(left.rows.map((r) => r.token_hash)).toEqual(['purge-live']);
  });

  it('refuses oversized credentials with 400 before anything is stored or audited', async () => {
    await server().audit.flush();
    const count = async () => (await server().db.query<{ n: number }>('SELECT count(*)::int AS n FROM r_auditevent')).rows[0]!.n;
    const events = await count();
    const huge = 'u'.repeat(31 * 1024 * 1024);
    const res = await login(huge, 'whatever-password', newAddress());
    expect(res.status).toBe(400);
    expect(await message(res)).toMatch(/username.*at most 64/);
    expect((await login('doctor.wang', 'p'.repeat(1025), newAddress())).status).toBe(400);
    const longName = await login('n'.repeat(65), 'whatever-password', newAddress());
    expect(longName.status).toBe(400);
    await server().audit.flush();
    expect(await count()).toBe(events);
    const biggest = await server().db.query<{ n: number | null }>('SELECT max(length(key))::int AS n FROM app_login_throttle');
    expect(biggest.rows[0]!.n ?? 0).toBeLessThanOrEqual(66);
  });

  it('sends security headers on the web app and the API', async () => {
    for (const path of ['/', '/api/docs']) {
      const res = await fetch(`${server().url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
    const tls = await fetch(`${server().url}/healthz`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(tls.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  });

  it('lets an administrator create, find, change, disable and reset users; rules apply to passwords', async () => {
    const create = (body: unknown) =>
      server().api('/api/users', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const base = { username: 'nurse.chen', displayName: '陈护士', roles: ['family-doctor'], organization: '西城社区', areas: ['110102'] };
    for (const [password, rule] of [
      ['12345678', /at least 12/],
      ['            ', /one character/],
      ['nurse.chen-2024', /username/],
      ['password1234', /common/],
    ] as const) {
      const res = await create({ ...base, password });
      expect(res.status, password).toBe(400);
      expect(await message(res)).toMatch(rule);
    }
    expect((await create({ ...base, displayName: 'x'.repeat(201), password: 'mild-otter-harbour-92' })).status).toBe(400);
    const created = await create({ ...base, password: 'mild-otter-harbour-92' });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { user: { mustChangePassword: boolean; areas: string[] } }).user).toMatchObject({
      mustChangePassword: true,
      areas: ['110102'],
    });
    expect((await create({ ...base, password: 'mild-otter-harbour-92' })).status).toBe(409);

    const page = (await (await server().api('/api/users?q=chen&limit=1')).json()) as { total: number; rows: { username: string }[] };
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect(page.rows).toHaveLength(1);

    // The one-time password works only to change it.
    const first = await tokenOf(await login('nurse.chen', 'mild-otter-harbour-92', newAddress()));
    expect((await asUser(first, '/fhir/Patient')).status).toBe(403);
    expect(((await (await me(first)).json()) as { mustChangePassword?: boolean }).mustChangePassword).toBe(true);
    const weak = await asUser(first, '/auth/password', {
      method: 'POST',
      body: JSON.stringify({ currentPassword: 'mild-otter-harbour-92', newPassword: 'short' }),
    });
    expect(weak.status).toBe(400);
    const changed = await asUser(first, '/auth/password', {
      method: 'POST',
      body: JSON.stringify({ currentPassword: 'mild-otter-harbour-92', newPassword: 'quiet-river-lantern-58' }),
    });
    expect(changed.status).toBe(200);
    expect((await asUser(first, '/fhir/Patient')).status).toBe(200);

    // Roles change at once; disabling ends the session on the next request.
    const patch = (username: string, body: unknown) =>
      server().api(`/api/users/${username}`, {
        method: 'PATCH',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    expect((await patch('nurse.chen', { roles: ['auditor'] })).status).toBe(200);
    expect((await asUser(first, '/fhir/Patient')).status).toBe(403);
    expect((await patch('nurse.chen', { active: false })).status).toBe(200);
    expect((await me(first)).status).toBe(401);
    expect((await login('nurse.chen', 'quiet-river-lantern-58', newAddress())).status).toBe(401);
    expect((await patch('nurse.chen', { active: true, roles: ['family-doctor'] })).status).toBe(200);
    expect((await patch('admin', { active: false })).status).toBe(403);

    // A reset hands out a generated one-time password and ends the sessions.
    const second = await tokenOf(await login('nurse.chen', 'quiet-river-lantern-58', newAddress()));
    const reset = await server().api('/api/users/nurse.chen/reset-password', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const { oneTimePassword } = (await reset.json()) as { oneTimePassword: string };
    expect(oneTimePassword).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/);
    expect((await me(second)).status).toBe(401);
    const third = await login('nurse.chen', oneTimePassword, newAddress());
    expect(((await third.json()) as { user: { mustChangePassword?: boolean } }).user.mustChangePassword).toBe(true);

    // Only users:manage may do any of this.
    const viewer = await tokenOf(await login('doctor.wang', 'secret-pw-1', newAddress()));
    expect((await asUser(viewer, '/api/users')).status).toBe(403);
  });

  it('gives the auditor role the audit trail and nothing else', async () => {
    await server().auth.addUser({ username: 'auditor.sun', password: 'auditor-password-1', roles: ['auditor'] });
    const token = await tokenOf(await login('auditor.sun', 'auditor-password-1', newAddress()));
    expect((await asUser(token, '/fhir/AuditEvent?_count=1')).status).toBe(200);
    expect((await asUser(token, '/fhir/Patient')).status).toBe(403);
    expect((await asUser(token, '/api/users')).status).toBe(403);
  });

  it('enrols a TOTP second factor and then requires a fresh code at sign-in', async () => {
    await server().auth.addUser({ username: 'admin.two', password: 'second-admin-pw-1', roles: ['admin'] });
    const token = await tokenOf(await login('admin.two', 'second-admin-pw-1', newAddress()));
    const viewer = await tokenOf(await login('doctor.wang', 'secret-pw-1', newAddress()));
    expect((await asUser(viewer, '/auth/totp/enrol', { method: 'POST' })).status).toBe(403);
    const enrol = (await (await asUser(token, '/auth/totp/enrol', { method: 'POST' })).json()) as { secret: string; otpauthUrl: string };
    expect(enrol.otpauthUrl).toMatch(/^otpauth:\/\/totp\/Yifang%3Aadmin\.two\?secret=/);
    const code = (offsetSteps = 0) => totpCode(base32Decode(enrol.secret), Math.floor(server().auth.now() / 30_000) + offsetSteps);
    const wrong = code() === '000000' ? '111111' : '000000';
    expect((await asUser(token, '/auth/totp/confirm', { method: 'POST', body: JSON.stringify({ code: wrong }) })).status).toBe(400);
    // One code for the confirmation and the check that it is spent: computed twice, a 30-s step could end in between.
    const confirmCode = code();
    expect((await asUser(token, '/auth/totp/confirm', { method: 'POST', body: JSON.stringify({ code: confirmCode }) })).status).toBe(200);

    const noCode = await login('admin.two', 'second-admin-pw-1', newAddress());
    expect(noCode.status).toBe(401);
    expect(await message(noCode)).toContain(TOTP_REQUIRED);
    // The code used to confirm is spent; the next step's code signs in, once.
    expect((await login('admin.two', 'second-admin-pw-1', newAddress(), { code: confirmCode })).status).toBe(401);
    shiftClock(30_000);
    const next = code();
    expect((await login('admin.two', 'second-admin-pw-1', newAddress(), { code: next })).status).toBe(200);
    expect((await login('admin.two', 'second-admin-pw-1', newAddress(), { code: next })).status).toBe(401);
    // A right code does not help a wrong password.
    shiftClock(30_000);
    expect((await login('admin.two', 'not-the-password', newAddress(), { code: code() })).status).toBe(401);
    // An administrator removes it (lost phone).
    expect(
      (
        await server().api('/api/users/admin.two/reset-totp', {
          method: 'POST',
          body: '{}',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
    expect((await login('admin.two', 'second-admin-pw-1', newAddress())).status).toBe(200);
  });
});
