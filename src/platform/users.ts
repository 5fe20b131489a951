/**
 * User administration (GET/POST/PATCH /api/users): list with paging and total, create, change
 * name, roles, organization and areas, disable/enable, reset the password (a one-time password
 * the user must change at next sign-in) and remove a second factor. Passwords set here always
 * pass the rules of auth.ts; disabling a user or resetting the password ends their sessions.
 */
import {
  generateOneTimePassword,
  hashPassword,
  passwordProblem,
  ROLE_PERMISSIONS,
  ROLES,
  USERNAME_PATTERN,
  type AuthService,
  type Role,
} from './auth.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';

export interface UserRecord {
  username: string;
  displayName: string;
  roles: Role[];
  organization: string | null;
  /** Area (administrative division) codes the user works in. */
  areas: string[];
  active: boolean;
  mustChangePassword: boolean;
  /** A TOTP second factor is enrolled. */
  totp: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface UserQuery {
  /** Part of the username, display name or organization. */
  q?: string;
  role?: Role;
  active?: boolean;
  limit?: number;
  offset?: number;
}

const COLUMNS = `username, display_name AS "displayName", roles, organization, areas, active,
  must_change_password AS "mustChangePassword", totp_secret IS NOT NULL AS totp,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "createdAt",
  to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "lastLoginAt"`;

export async function listUsers(auth: AuthService, query: UserQuery): Promise<{ total: number; rows: UserRecord[] }> {
  const like = query.q ? `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const params: unknown[] = [like, query.role ?? null, query.active ?? null];
  const where = `($1::text IS NULL OR username ILIKE $1 OR display_name ILIKE $1 OR coalesce(organization, '') ILIKE $1)
    AND ($2::text IS NULL OR $2 = ANY(roles)) AND ($3::boolean IS NULL OR active = $3)`;
  const total = await auth.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM app_user WHERE ${where}`, params);
  const rows = await auth.db.query<UserRecord>(`SELECT ${COLUMNS} FROM app_user WHERE ${where} ORDER BY username LIMIT $4 OFFSET $5`, [
    ...params,
    Math.min(query.limit ?? 20, 200),
    query.offset ?? 0,
  ]);
  return { total: total.rows[0]?.n ?? 0, rows: rows.rows };
}

export async function getUser(auth: AuthService, username: string): Promise<UserRecord> {
  const r = await auth.db.query<UserRecord>(`SELECT ${COLUMNS} FROM app_user WHERE username = $1`, [username]);
  if (!r.rows[0]) throw notFound(`No user '${username}' / 用户不存在`);
  return r.rows[0];
}

function checkRoles(roles: readonly string[]): void {
  if (!roles.length) throw badRequest('roles: at least one role / 至少选择一个角色');
  for (const r of roles) if (!(r in ROLE_PERMISSIONS)) throw badRequest(`roles: '${r}' is unknown; roles: ${ROLES.join(', ')}`);
}

/** The password to set: the given one if it passes the rules, else a generated one-time password. */
function chosenPassword(username: string, password: string | undefined): { password: string; generated: boolean } {
  if (password === undefined || password === '') return { password: generateOneTimePassword(), generated: true };
  const problem = passwordProblem(password, username);
  if (problem) throw badRequest(problem);
  return { password, generated: false };
}

/**
 * Creates a user. The password (given, or generated when omitted and answered once) is a
 * one-time password: the user must change it at first sign-in.
 */
export async function createUser(
  auth: AuthService,
  input: { username: string; displayName: string; password?: string; roles: Role[]; organization?: string | null; areas?: string[] },
): Promise<{ user: UserRecord; oneTimePassword?: string }> {
  if (!USERNAME_PATTERN.test(input.username))
    throw badRequest('username: 2–64 letters, digits, _ . @ - / 用户名为 2–64 位字母、数字或 _ . @ -');
  checkRoles(input.roles);
  const { password, generated } = chosenPassword(input.username, input.password);
  const r = await auth.db.query(
    `INSERT INTO app_user (username, display_name, password_hash, roles, organization, areas, must_change_password)
     VALUES ($1, $2, $3, $4, $5, $6, true) ON CONFLICT (username) DO NOTHING RETURNING username`,
    [input.username, input.displayName, await hashPassword(password), input.roles, input.organization || null, input.areas ?? []],
  );
  if (!r.rows.length) throw conflict(`The username '${input.username}' is taken / 用户名已存在`);
  return { user: await getUser(auth, input.username), ...(generated ? { oneTimePassword: password } : {}) };
}

/**
 * Changes what is given of a user. An administrator may not disable themselves nor take away
 * their own admin role (the district would be left without one). Disabling ends the sessions.
 */
export async function updateUser(
  auth: AuthService,
  username: string,
  patch: { displayName?: string; roles?: Role[]; organization?: string | null; areas?: string[]; active?: boolean },
  actor: string,
): Promise<UserRecord> {
  if (patch.roles) checkRoles(patch.roles);
  if (username === actor && patch.active === false) throw forbidden('You cannot disable your own account / 不能停用自己的账号');
  if (username === actor && patch.roles && !patch.roles.includes('admin'))
    throw forbidden('You cannot remove your own administrator role / 不能移除自己的系统管理员角色');
  const r = await auth.db.query(
    `UPDATE app_user SET
       display_name = coalesce($2, display_name),
       roles = coalesce($3, roles),
       organization = CASE WHEN $4::boolean THEN $5 ELSE organization END,
       areas = coalesce($6, areas),
       active = coalesce($7, active)
     WHERE username = $1 RETURNING username`,
    [
      username,
      patch.displayName ?? null,
      patch.roles ?? null,
      patch.organization !== undefined,
      patch.organization || null,
      patch.areas ?? null,
      patch.active ?? null,
    ],
  );
  if (!r.rows.length) throw notFound(`No user '${username}' / 用户不存在`);
  if (patch.active === false) await auth.endSessions(username);
  else auth.forgetUser(username);
  return getUser(auth, username);
}

/**
 * Sets a one-time password (given, or generated and answered once) the user must change at next
 * sign-in; ends their sessions and clears their failed sign-ins (unlocks the account).
 */
export async function resetPassword(
  auth: AuthService,
  username: string,
  password: string | undefined,
): Promise<{ username: string; oneTimePassword?: string }> {
  const chosen = chosenPassword(username, password);
  const r = await auth.db.query(
    'UPDATE app_user SET password_hash = $2, must_change_password = true, password_changed_at = now() WHERE username = $1 RETURNING username',
    [username, await hashPassword(chosen.password)],
  );
  if (!r.rows.length) throw notFound(`No user '${username}' / 用户不存在`);
  await auth.endSessions(username);
  await auth.clearFailures(username);
  return { username, ...(chosen.generated ? { oneTimePassword: chosen.password } : {}) };
}

/** Removes a user's second factor (a lost phone); they may enrol again after signing in. */
export async function resetTotp(auth: AuthService, username: string): Promise<UserRecord> {
  const r = await auth.db.query(
    'UPDATE app_user SET totp_secret = NULL, totp_pending_secret = NULL WHERE username = $1 RETURNING username',
    [username],
  );
  if (!r.rows.length) throw notFound(`No user '${username}' / 用户不存在`);
  return getUser(auth, username);
}
