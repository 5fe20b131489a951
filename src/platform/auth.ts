/**
 * Users, roles and bearer tokens. Passwords are hashed with scrypt (a slow, memory-hard hash in
 * Node's standard library); tokens are random, stored only as their SHA-256.
 *
 * Sign-in (issue #15):
 * - failed attempts are counted per account and per source address in the database (they hold
 *   across restarts and across server processes on one PostgreSQL): past the cap, attempts are
 *   refused with 429 without the password being checked, until the window ends. An attempt is
 *   counted before its password is checked (parallel guesses cannot overshoot) and taken back
 *   when it succeeds; a success clears the account's counter.
 * - an unknown or disabled user costs the same scrypt as a known one (a dummy hash).
 * - a session ends after 30 minutes without a request or 12 hours after sign-in; logout,
 *   disabling a user, a password change or a role change end it at once in this process (the
 *   session cache is emptied), and within `cacheMs` (2 s) in any other server process.
 * - users who enrolled a TOTP second factor (RFC 6238) must send its code with the password.
 * - password rules (`passwordProblem`) apply when a user or an administrator sets a password.
 */
import { createHash, createHmac, randomBytes, randomInt, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { Database } from './db.js';
import { badRequest, forbidden, HttpError, unauthorized } from './errors.js';
import { ROLE_PERMISSIONS, type Permission, type Role } from '../shared/roles.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export { ROLE_PERMISSIONS, type Permission, type Role };
export const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];
/** Roles that may (and are advised to) enrol a TOTP second factor. */
export const TOTP_ROLES: readonly Role[] = ['admin', 'auditor'];

export interface AuthUser {
  username: string;
  displayName: string;
  roles: Role[];
  organization?: string;
  /** Area codes (统计用区划代码 prefixes) the user serves: the access policy's `area` scope. */
  areas?: string[];
  /** Set after an administrator's reset: only /auth/me, /auth/password and /auth/logout answer until then. */
  mustChangePassword?: boolean;
}

/** Longest accepted credentials and names: longer ones are refused (400) before anything is stored. */
export const CREDENTIAL_LIMITS = { username: 64, password: 1024, displayName: 200, minPassword: 12 } as const;
export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{2,64}$/;

export interface AuthPolicy {
  /** A session ends after this long without a request. */
  idleTimeoutMs: number;
  /** … and this long after sign-in, whatever happens. */
  absoluteTimeoutMs: number;
  /** A checked session is trusted without the database this long (revocations in other processes wait this long). */
  cacheMs: number;
  /** A session's last_seen_at is written at most this often. */
  touchEveryMs: number;
  /** Failed sign-ins for one account in a window, then refused until the window ends. */
  accountFailures: number;
  /** Failed sign-ins from one source address in a window. */
  addressFailures: number;
  failureWindowMs: number;
  /** Expired sessions and counters are deleted this often (and at start). */
  purgeEveryMs: number;
}

export const DEFAULT_AUTH_POLICY: AuthPolicy = {
  idleTimeoutMs: 30 * 60_000,
  absoluteTimeoutMs: 12 * 3_600_000,
  cacheMs: 2_000,
  touchEveryMs: 60_000,
  accountFailures: 10,
  addressFailures: 50,
  failureWindowMs: 15 * 60_000,
  purgeEveryMs: 10 * 60_000,
};

// ---------------------------------------------------------------------------------------------
// Passwords

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { ...SCRYPT, N: Number(n) });
  return timingSafeEqual(actual, expected);
}

const COMMON_PASSWORDS_FILE = new URL('../../config/security/common-passwords.txt', import.meta.url);
let commonPasswords: Set<string> | undefined;

/** The shipped list of common passwords (lower case), read once. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(
    fs
      .readFileSync(COMMON_PASSWORDS_FILE, 'utf8')
      .split(/\r?\n/)
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.toLowerCase()),
  );
  return commonPasswords.has(password.toLowerCase());
}

/**
 * Why a password may not be used (a sentence naming the rule, English / Chinese), or undefined
 * when it is acceptable: at least 12 characters, at most 1024, not one character repeated, not
 * the username (nor containing it, nor contained in it, ignoring case), not a common password.
 */
export function passwordProblem(password: string, username: string): string | undefined {
  const length = [...password].length;
  const min = CREDENTIAL_LIMITS.minPassword;
  if (length < min) return `password: at least ${min} characters (this one has ${length}) / 密码至少 ${min} 个字符`;
  if (password.length > CREDENTIAL_LIMITS.password)
    return `password: at most ${CREDENTIAL_LIMITS.password} characters / 密码最多 ${CREDENTIAL_LIMITS.password} 个字符`;
  if (/^(.)\1*$/su.test(password)) return 'password: not one character repeated / 密码不能由同一个字符重复组成';
  const p = password.toLowerCase();
  const u = username.toLowerCase();
  if (u && (p === u || (u.length >= 3 && p.includes(u)) || u.includes(p)))
    return 'password: must not be or contain the username / 密码不能是或包含用户名';
  if (isCommonPassword(password)) return 'password: one of the most common passwords; choose another / 该密码属于常见密码，请另选';
  return undefined;
}

/** A one-time password an administrator hands over (16 letters and digits without look-alikes, in groups of 4). */
export function generateOneTimePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
  const chars = Array.from({ length: 16 }, () => alphabet[randomInt(alphabet.length)]!);
  return [0, 4, 8, 12].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

// ---------------------------------------------------------------------------------------------
// TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps)

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const i = BASE32.indexOf(ch);
    if (i < 0) throw new Error(`base32: bad character '${ch}'`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

const TOTP_STEP_MS = 30_000;

/** The code for one time step (RFC 4226 dynamic truncation). */
export function totpCode(secret: Buffer, step: number, digits = 6): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', secret).update(msg).digest();
  const offset = h[h.length - 1]! & 0xf;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

/** The time step a code is valid for (now, or one step either side for clock drift), or undefined. */
export function totpStep(secretBase32: string, code: string, nowMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const secret = base32Decode(secretBase32);
  const now = Math.floor(nowMs / TOTP_STEP_MS);
  for (const step of [now, now - 1, now + 1]) {
    if (timingSafeEqual(Buffer.from(totpCode(secret, step)), Buffer.from(code))) return step;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const bearer = (header: string | undefined) => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
const iso = (ms: number) => new Date(ms).toISOString();
const ms = (t: Date | string) => new Date(t).getTime();

export function hasPermission(user: AuthUser, permission: Permission): boolean {
  return user.roles.some((r) => (ROLE_PERMISSIONS[r] as readonly string[] | undefined)?.includes(permission));
}

export function requirePermission(user: AuthUser, permission: Permission): void {
  if (!hasPermission(user, permission)) {
    throw forbidden(`Role ${user.roles.join(', ')} may not do this (needs permission '${permission}')`);
  }
}

/** 401 answered when a user with a second factor signs in without its code (the web app then asks for it). */
export const TOTP_REQUIRED = 'totp-required';

interface UserRow {
  username: string;
  display_name: string;
  password_hash: string;
  roles: Role[];
  organization: string | null;
  active: boolean;
  must_change_password: boolean;
  totp_secret: string | null;
  totp_last_step: string | number;
}

interface CachedSession {
  user: AuthUser;
  until: number;
}

const CACHE_MAX = 10_000;

export class AuthService {
  /** Sessions checked within the last `policy.cacheMs`, so a busy client does not cost a query per request. */
  private cache = new Map<string, CachedSession>();
  private dummyHash: Promise<string> | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly policy: AuthPolicy;
  /** The clock (ms since the epoch); tests move it to expire sessions and windows. */
  now: () => number = () => Date.now();

  constructor(
    readonly db: Database,
    policy: Partial<AuthPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_AUTH_POLICY, ...policy };
  }

  /** Purges expired sessions and counters now and then every `purgeEveryMs`. */
  start(): void {
    if (this.timer) return;
    const purge = () => void this.purge().catch((err: Error) => console.error(`[auth] purge failed: ${err.message}`));
    purge();
    this.timer = setInterval(purge, this.policy.purgeEveryMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes sessions past their idle or absolute timeout and counters whose window ended. */
  async purge(): Promise<{ sessions: number; counters: number }> {
    const now = this.now();
    const s = await this.db.query('DELETE FROM app_session WHERE expires_at <= $1 OR last_seen_at <= $2', [
      iso(now),
      iso(now - this.policy.idleTimeoutMs),
    ]);
    const c = await this.db.query('DELETE FROM app_login_throttle WHERE window_start <= $1', [iso(now - this.policy.failureWindowMs)]);
    return { sessions: s.rowCount ?? 0, counters: c.rowCount ?? 0 };
  }

  /**
   * Creates or replaces a user: the operator's path (start-up administrator, `yifang user add`,
   * tests). The password rules apply when `enforcePolicy` is set; otherwise only a floor of 8
   * characters. Users and administrators set passwords through users.ts, which always applies them.
   */
  async addUser(input: {
    username: string;
    password: string;
    displayName?: string;
    roles: string[];
    organization?: string;
    areas?: string[];
    enforcePolicy?: boolean;
  }): Promise<void> {
    if (!USERNAME_PATTERN.test(input.username)) throw new Error(`username '${input.username.slice(0, 64)}': 2–64 letters, digits, _ . @ -`);
    if (input.enforcePolicy) {
      const problem = passwordProblem(input.password, input.username);
      if (problem) throw new Error(problem);
    } else if (input.password.length < 8 || input.password.length > CREDENTIAL_LIMITS.password) {
      throw new Error(`password: 8–${CREDENTIAL_LIMITS.password} characters`);
    }
    if ((input.displayName ?? '').length > CREDENTIAL_LIMITS.displayName) throw new Error('displayName: at most 200 characters');
    for (const r of input.roles) if (!(r in ROLE_PERMISSIONS)) throw new Error(`role '${r}' is unknown; roles: ${ROLES.join(', ')}`);
    await this.db.query(
      `INSERT INTO app_user (username, display_name, password_hash, roles, organization, areas, password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, password_hash = EXCLUDED.password_hash,
         roles = EXCLUDED.roles, organization = EXCLUDED.organization, areas = EXCLUDED.areas, password_changed_at = now()`,
      [
        input.username,
        input.displayName ?? input.username,
        await hashPassword(input.password),
        input.roles,
        input.organization ?? null,
        input.areas ?? [],
      ],
    );
    this.forgetUser(input.username);
  }

  /**
   * Checks the credentials (and the second factor of users who enrolled one) and opens a
   * session. Refused with 429 (Retry-After) without checking anything once the account or the
   * address has used up its failed attempts in the window.
   */
  async login(
    credentials: string | { username: string; password: string; code?: string; address?: string },
    passwordArg = '',
  ): Promise<{ token: string; user: AuthUser; expiresIn: number }> {
    const input = typeof credentials === 'string' ? { username: credentials, password: passwordArg } : credentials;
    const { username, password } = input;
    if (username.length > CREDENTIAL_LIMITS.username || password.length > CREDENTIAL_LIMITS.password)
      throw badRequest(`username: at most ${CREDENTIAL_LIMITS.username} characters; password: at most ${CREDENTIAL_LIMITS.password}`);
    const now = this.now();
    await this.countAttempt(username, input.address, now);
    const r = await this.db.query<UserRow>('SELECT * FROM app_user WHERE username = $1', [username]);
    const row = r.rows[0];
    // Unknown and disabled users cost the same scrypt as a known user: the answer's time tells nothing.
    const ok = await verifyPassword(password, row?.password_hash ?? (await this.dummy()));
    if (!row || !row.active || !ok) throw unauthorized('Wrong username or password / 用户名或密码错误');
    if (row.totp_secret) {
      if (!('code' in input) || !input.code) {
        throw new HttpError(401, 'Enter the one-time code of your authenticator app / 请输入身份验证器中的动态验证码', 'login', [
          {
            severity: 'error',
            code: 'login',
            details: { coding: [{ code: TOTP_REQUIRED }], text: 'one-time code required / 需要动态验证码' },
          },
        ]);
      }
      const step = totpStep(row.totp_secret, String(input.code), now);
      // Each code is accepted once: the step must be later than the last one used.
      const used =
        step !== undefined &&
        (
          await this.db.query('UPDATE app_user SET totp_last_step = $2 WHERE username = $1 AND totp_last_step < $2 RETURNING username', [
            username,
            step,
          ])
        ).rows.length > 0;
      if (!used) throw unauthorized('Wrong or already used one-time code / 动态验证码错误或已使用');
    }
    await this.attemptSucceeded(username, input.address);
    const token = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO app_session (token_hash, username, created_at, last_seen_at, expires_at, source_address) VALUES ($1, $2, $3, $3, $4, $5)`,
      [hashToken(token), username, iso(now), iso(now + this.policy.absoluteTimeoutMs), input.address?.slice(0, 64) ?? null],
    );
    await this.db.query('UPDATE app_user SET last_login_at = $2 WHERE username = $1', [username, iso(now)]);
    return { token, user: toUser(row), expiresIn: Math.round(this.policy.absoluteTimeoutMs / 1000) };
  }

  /**
   * Opens a session for a user whose identity another step proved (the resident portal's one-time
   * code): no password is checked here, so only server code that has done that check may call it.
   */
  async openSession(username: string, address?: string): Promise<{ token: string; user: AuthUser; expiresIn: number }> {
    const r = await this.db.query<UserRow>('SELECT * FROM app_user WHERE username = $1 AND active', [username]);
    if (!r.rows[0]) throw unauthorized('No such active user / 用户不存在或已停用');
    const now = this.now();
    const token = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO app_session (token_hash, username, created_at, last_seen_at, expires_at, source_address) VALUES ($1, $2, $3, $3, $4, $5)`,
      [hashToken(token), username, iso(now), iso(now + this.policy.absoluteTimeoutMs), address?.slice(0, 64) ?? null],
    );
    await this.db.query('UPDATE app_user SET last_login_at = $2 WHERE username = $1', [username, iso(now)]);
    return { token, user: toUser(r.rows[0]), expiresIn: Math.round(this.policy.absoluteTimeoutMs / 1000) };
  }

  /**
   * The user of a bearer token. A user who must change a reset password is refused (403) unless
   * `allowPasswordChange` (the routes that let them do it).
   */
  async authenticate(header: string | undefined, options: { allowPasswordChange?: boolean } = {}): Promise<AuthUser> {
    const token = bearer(header);
    if (!token) throw unauthorized();
    const key = hashToken(token);
    const now = this.now();
    let entry = this.cache.get(key);
    if (!entry || entry.until <= now) {
      this.cache.delete(key);
      const r = await this.db.query<{
        username: string;
        display_name: string;
        roles: Role[];
        organization: string | null;
        areas: string[] | null;
        must_change_password: boolean;
        last_seen_at: Date | string;
      }>(
        `SELECT u.username, u.display_name, u.roles, u.organization, u.areas, u.must_change_password, s.last_seen_at
         FROM app_session s JOIN app_user u USING (username)
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.active`,
        [key, iso(now), iso(now - this.policy.idleTimeoutMs)],
      );
      const row = r.rows[0];
      if (!row)
        throw unauthorized(
          'The session has ended (signed out, 30 minutes without use, 12 hours old, or the user was disabled): log in again (POST /auth/login) / 会话已结束，请重新登录',
        );
      if (now - ms(row.last_seen_at) >= this.policy.touchEveryMs)
        await this.db.query('UPDATE app_session SET last_seen_at = $2 WHERE token_hash = $1', [key, iso(now)]);
      entry = { user: toUser(row), until: now + this.policy.cacheMs };
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, entry);
    }
    if (entry.user.mustChangePassword && !options.allowPasswordChange)
      throw forbidden(
        'Change your password first (POST /auth/password): it was reset by an administrator / 密码已被管理员重置，请先修改密码',
      );
    return entry.user;
  }

  /** Ends the session of the token (here at once; other processes within `cacheMs`). */
  async logout(header: string | undefined): Promise<void> {
    const token = bearer(header);
    if (!token) return;
    const key = hashToken(token);
    this.cache.delete(key);
    await this.db.query('DELETE FROM app_session WHERE token_hash = $1', [key]);
  }

  /** Ends every session of a user (disabled, password reset), or every other one (own password change). */
  async endSessions(username: string, exceptHeader?: string): Promise<void> {
    const token = bearer(exceptHeader);
    await this.db.query('DELETE FROM app_session WHERE username = $1 AND token_hash <> $2', [username, token ? hashToken(token) : '']);
    this.forgetUser(username);
  }

  /** Drops a user's cached sessions (after a change of roles, name or state) so the next request reads them again. */
  forgetUser(username: string): void {
    for (const [key, entry] of this.cache) if (entry.user.username === username) this.cache.delete(key);
  }

  /** Clears the account's failed-attempt counter (an administrator's reset unlocks it). */
  async clearFailures(username: string): Promise<void> {
    await this.db.query('DELETE FROM app_login_throttle WHERE key = $1', [`u:${username}`]);
  }

  /**
   * The signed-in user changes their own password: the current one is checked (counted like a
   * sign-in attempt), the new one must pass the rules and differ; other sessions end.
   */
  async changePassword(header: string | undefined, current: string, next: string, address?: string): Promise<void> {
    const user = await this.authenticate(header, { allowPasswordChange: true });
    const problem = passwordProblem(next, user.username);
    if (problem) throw badRequest(problem);
    if (current.length > CREDENTIAL_LIMITS.password) throw badRequest('currentPassword: at most 1024 characters');
    await this.countAttempt(user.username, address, this.now());
    const r = await this.db.query<{ password_hash: string }>('SELECT password_hash FROM app_user WHERE username = $1', [user.username]);
    if (!r.rows[0] || !(await verifyPassword(current, r.rows[0].password_hash)))
      throw badRequest('currentPassword: not your current password / 当前密码不正确');
    if (current === next) throw badRequest('password: the new password must differ from the current one / 新密码不能与当前密码相同');
    await this.attemptSucceeded(user.username, address);
    await this.db.query(
      'UPDATE app_user SET password_hash = $2, must_change_password = false, password_changed_at = now() WHERE username = $1',
      [user.username, await hashPassword(next)],
    );
    await this.endSessions(user.username, header);
  }

  /** Starts enrolling a TOTP second factor: a new secret, confirmed by `confirmTotp` with a code from the app. */
  async enrolTotp(user: AuthUser): Promise<{ secret: string; otpauthUrl: string }> {
    if (!user.roles.some((r) => TOTP_ROLES.includes(r)))
      throw forbidden(`A second factor is for the roles ${TOTP_ROLES.join(', ')} / 仅管理员和审计员可启用双因素认证`);
    const secret = base32Encode(randomBytes(20));
    await this.db.query('UPDATE app_user SET totp_pending_secret = $2 WHERE username = $1', [user.username, secret]);
    const label = encodeURIComponent(`Yifang:${user.username}`);
    return { secret, otpauthUrl: `otpauth://totp/${label}?secret=${secret}&issuer=Yifang&algorithm=SHA1&digits=6&period=30` };
  }

  /** Confirms the enrolment with a code of the new secret; from then on sign-in needs a code. */
  async confirmTotp(user: AuthUser, code: string): Promise<void> {
    const r = await this.db.query<{ totp_pending_secret: string | null }>('SELECT totp_pending_secret FROM app_user WHERE username = $1', [
      user.username,
    ]);
    const pending = r.rows[0]?.totp_pending_secret;
    if (!pending) throw badRequest('No enrolment in progress: start with POST /auth/totp/enrol / 请先开始绑定');
    const step = totpStep(pending, code, this.now());
    if (step === undefined) throw badRequest('code: wrong one-time code / 动态验证码错误');
    await this.db.query(
      'UPDATE app_user SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_last_step = $2 WHERE username = $1',
      [user.username, step],
    );
  }

  // -------------------------------------------------------------------------------------------

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }

  /** Counts one attempt for the account and the address; 429 when either is over its cap. */
  private async countAttempt(username: string, address: string | undefined, now: number): Promise<void> {
    const { accountFailures, addressFailures, failureWindowMs } = this.policy;
    const keys = [`u:${username}`, ...(address ? [`a:${address.slice(0, 64)}`] : [])];
    const r = await this.db.query<{ key: string; failures: number; window_start: Date | string }>(
      `INSERT INTO app_login_throttle (key, window_start, failures) SELECT k, $2::timestamptz, 1 FROM unnest($1::text[]) AS k
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN app_login_throttle.window_start <= $3::timestamptz THEN 1 ELSE app_login_throttle.failures + 1 END,
         window_start = CASE WHEN app_login_throttle.window_start <= $3::timestamptz THEN EXCLUDED.window_start ELSE app_login_throttle.window_start END
       RETURNING key, failures, window_start`,
      [keys, iso(now), iso(now - failureWindowMs)],
    );
    for (const row of r.rows) {
      const account = row.key.startsWith('u:');
      if (row.failures <= (account ? accountFailures : addressFailures)) continue;
      const seconds = Math.max(1, Math.ceil((ms(row.window_start) + failureWindowMs - now) / 1000));
      const minutes = Math.ceil(seconds / 60);
      const e = new HttpError(
        429,
        account
          ? `Too many failed sign-ins for this account: try again in ${minutes} min / 该账号登录失败次数过多，请 ${minutes} 分钟后再试`
          : `Too many failed sign-ins from this address: try again in ${minutes} min / 该地址登录失败次数过多，请 ${minutes} 分钟后再试`,
        'throttled',
      );
      e.headers = { 'Retry-After': String(seconds) };
      throw e;
    }
  }

  /** A successful attempt: the account starts afresh, the address gets its attempt back. */
  private async attemptSucceeded(username: string, address: string | undefined): Promise<void> {
    await this.clearFailures(username);
    if (address)
      await this.db.query('UPDATE app_login_throttle SET failures = greatest(failures - 1, 0) WHERE key = $1', [
        `a:${address.slice(0, 64)}`,
      ]);
  }
}

function toUser(row: {
  username: string;
  display_name: string;
  roles: Role[];
  organization: string | null;
  areas?: string[] | null;
  must_change_password?: boolean;
}): AuthUser {
  return {
    username: row.username,
    displayName: row.display_name,
    roles: row.roles,
    ...(row.organization ? { organization: row.organization } : {}),
    ...(row.areas?.length ? { areas: row.areas } : {}),
    ...(row.must_change_password ? { mustChangePassword: true } : {}),
  };
}
