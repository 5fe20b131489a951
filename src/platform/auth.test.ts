import { expect, it } from 'vitest';
import { describeEachStore } from '../app/testing.js';
import { hashPassword, verifyPassword } from './auth.js';

it('hashes passwords with a salt and verifies them', async () => {
  const a = await hashPassword('correct horse');
  const b = await hashPassword('correct horse');
  expect(a).not.toBe(b);
  expect(a).toMatch(/^scrypt\$/);
  expect(await verifyPassword('correct horse', a)).toBe(true);
  expect(await verifyPassword('wrong horse', a)).toBe(false);
});

describeEachStore('authentication', (server) => {
  const login = (username: string, password: string) =>
    fetch(`${server().url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });

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
    const me = await fetch(`${server().url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { displayName: string }).displayName).toBe('王医生');
    await fetch(`${server().url}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect((await fetch(`${server().url}/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('refuses bad users and unknown roles with a message naming the field', async () => {
    await expect(server().auth.addUser({ username: 'x', password: 'long-enough', roles: ['admin'] })).rejects.toThrow(/username/);
    await expect(server().auth.addUser({ username: 'okname', password: 'short', roles: ['admin'] })).rejects.toThrow(/password/);
    await expect(server().auth.addUser({ username: 'okname', password: 'long-enough', roles: ['wizard'] })).rejects.toThrow(
      /role 'wizard'/,
    );
  });

  it('serves health, metadata and OpenAPI without a token, everything else with one', async () => {
    expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
    const docs = (await (await fetch(`${server().url}/api/docs`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/auth/login', '/api/import']));
    expect((await fetch(`${server().url}/api/import`, { method: 'POST' })).status).toBe(401);
  });
});
