/**
 * Users, roles and bearer tokens. Passwords are hashed with scrypt (a slow, memory-hard hash in
 * Node's standard library); tokens are random, stored only as their SHA-256.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Database } from './db.js';
import { forbidden, unauthorized } from './errors.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

/** What each role may do. Routes declare the permission they need. */
export const ROLE_PERMISSIONS = {
  admin: [
    'fhir:read',
    'fhir:write',
    'fhir:delete',
    'audit:read',
    'users:manage',
    'import',
    'surveillance:read',
    'surveillance:write',
    'care:read',
    'care:write',
  ],
  epidemiologist: ['fhir:read', 'fhir:write', 'surveillance:read', 'surveillance:write'],
  clinician: ['fhir:read', 'fhir:write', 'surveillance:read', 'care:read', 'care:write'],
  'family-doctor': ['fhir:read', 'fhir:write', 'care:read', 'care:write'],
  'public-health': ['fhir:read', 'surveillance:read', 'care:read'],
  integration: ['fhir:read', 'fhir:write', 'import'],
  viewer: ['fhir:read'],
} as const satisfies Record<string, readonly string[]>;

export type Role = keyof typeof ROLE_PERMISSIONS;
export type Permission = (typeof ROLE_PERMISSIONS)[Role][number];
export const ROLES = Object.keys(ROLE_PERMISSIONS) as Role[];

export interface AuthUser {
  username: string;
  displayName: string;
  roles: Role[];
  organization?: string;
}

const TOKEN_TTL_HOURS = 12;

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

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function hasPermission(user: AuthUser, permission: Permission): boolean {
  return user.roles.some((r) => (ROLE_PERMISSIONS[r] as readonly string[] | undefined)?.includes(permission));
}

export function requirePermission(user: AuthUser, permission: Permission): void {
  if (!hasPermission(user, permission)) {
    throw forbidden(`Role ${user.roles.join(', ')} may not do this (needs permission '${permission}')`);
  }
}

export class AuthService {
  /** Sessions already checked, so a busy client does not cost a query per request. */
  private cache = new Map<string, { user: AuthUser; until: number }>();

  constructor(private readonly db: Database) {}

  async addUser(input: {
    username: string;
    password: string;
    displayName?: string;
    roles: string[];
    organization?: string;
  }): Promise<void> {
    if (!/^[A-Za-z0-9_.@-]{2,64}$/.test(input.username)) throw new Error(`username '${input.username}': 2–64 letters, digits, _ . @ -`);
    if (input.password.length < 8) throw new Error('password: at least 8 characters');
    for (const r of input.roles) if (!(r in ROLE_PERMISSIONS)) throw new Error(`role '${r}' is unknown; roles: ${ROLES.join(', ')}`);
    await this.db.query(
      `INSERT INTO app_user (username, display_name, password_hash, roles, organization) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (username) DO UPDATE SET display_name = EXCLUDED.display_name, password_hash = EXCLUDED.password_hash,
         roles = EXCLUDED.roles, organization = EXCLUDED.organization`,
      [input.username, input.displayName ?? input.username, await hashPassword(input.password), input.roles, input.organization ?? null],
    );
  }

  async login(username: string, password: string): Promise<{ token: string; user: AuthUser }> {
    const r = await this.db.query<{
      username: string;
      display_name: string;
      password_hash: string;
      roles: Role[];
      organization: string | null;
      active: boolean;
    }>('SELECT * FROM app_user WHERE username = $1', [username]);
    const row = r.rows[0];
    if (!row || !row.active || !(await verifyPassword(password, row.password_hash))) {
      throw unauthorized('Wrong username or password / 用户名或密码错误');
    }
    const token = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO app_session (token_hash, username, expires_at) VALUES ($1, $2, now() + interval '${TOKEN_TTL_HOURS} hours')`,
      [hashToken(token), username],
    );
    return { token, user: toUser(row) };
  }

  async authenticate(header: string | undefined): Promise<AuthUser> {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) throw unauthorized();
    const key = hashToken(m[1]!);
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.user;
    const r = await this.db.query<{ username: string; display_name: string; roles: Role[]; organization: string | null }>(
      `SELECT u.username, u.display_name, u.roles, u.organization FROM app_session s JOIN app_user u USING (username)
       WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active`,
      [key],
    );
    const row = r.rows[0];
    if (!row) throw unauthorized('The token is unknown or expired: log in again (POST /auth/login)');
    const user = toUser(row);
    this.cache.set(key, { user, until: Date.now() + 30_000 });
    return user;
  }

  async logout(header: string | undefined): Promise<void> {
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    if (!m) return;
    const key = hashToken(m[1]!);
    this.cache.delete(key);
    await this.db.query('DELETE FROM app_session WHERE token_hash = $1', [key]);
  }
}

function toUser(row: { username: string; display_name: string; roles: Role[]; organization: string | null }): AuthUser {
  return {
    username: row.username,
    displayName: row.display_name,
    roles: row.roles,
    ...(row.organization ? { organization: row.organization } : {}),
  };
}
