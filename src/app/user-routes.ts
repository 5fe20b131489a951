/**
 * User administration (/api/users, permission users:manage) and the signed-in user's own
 * account (/auth/password, /auth/totp/*). Routes validate, guard, call one store function,
 * audit and return. Also starts the purge of expired sessions (auth.start) for the server's life.
 */
import { z } from 'zod';
import { CREDENTIAL_LIMITS, ROLES, type Role } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { createUser, listUsers, resetPassword, resetTotp, updateUser } from '../platform/users.js';

const RoleEnum = z.enum(ROLES as [Role, ...Role[]]);
const Username = z.string().min(2).max(CREDENTIAL_LIMITS.username);
const DisplayName = z.string().trim().min(1).max(CREDENTIAL_LIMITS.displayName);
const Password = z.string().max(CREDENTIAL_LIMITS.password);
const Organization = z.string().max(200).nullable();
const Areas = z.array(z.string().regex(/^[0-9A-Za-z_-]{1,32}$/, 'an area code: up to 32 letters or digits')).max(500);

export const UserSchema = z.object({
  username: z.string(),
  displayName: z.string(),
  roles: z.array(RoleEnum),
  organization: z.string().nullable(),
  areas: z.array(z.string()),
  active: z.boolean(),
  mustChangePassword: z.boolean(),
  totp: z.boolean().describe('a TOTP second factor is enrolled'),
  createdAt: z.string(),
  lastLoginAt: z.string().nullable(),
});
export type UserDto = z.infer<typeof UserSchema>;
export const UserPage = z.object({ total: z.number(), rows: z.array(UserSchema) });
export type UserPageDto = z.infer<typeof UserPage>;
const OneTime = z.string().optional().describe('the generated one-time password, shown once (when none was given)');

export function registerUserRoutes(ctx: ModuleContext): void {
  const app = typed(ctx.app);
  ctx.auth.start();
  ctx.onClose(async () => ctx.auth.stop());
  const tags = ['users'];

  app.get(
    '/api/users',
    {
      schema: {
        summary: 'Users, paged, with the total: filter by text (username, name, organization), role and state',
        tags,
        querystring: z.object({
          q: z.string().max(100).optional(),
          role: RoleEnum.optional(),
          active: z.enum(['true', 'false']).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(20),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
        }),
        response: { 200: UserPage },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'users:manage');
      const { active, ...rest } = req.query;
      const page = await listUsers(ctx.auth, { ...rest, ...(active ? { active: active === 'true' } : {}) });
      ctx.audit.record({
        user,
        action: 'R',
        subtype: 'user-list',
        entities: page.rows.map((r) => `user:${r.username}`),
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return page;
    },
  );

  app.post(
    '/api/users',
    {
      schema: {
        summary: 'Create a user; the password (given, or generated and answered once) must be changed at first sign-in',
        tags,
        body: z.object({
          username: Username,
          displayName: DisplayName,
          password: Password.optional(),
          roles: z.array(RoleEnum).min(1),
          organization: Organization.optional(),
          areas: Areas.optional(),
        }),
        response: { 201: z.object({ user: UserSchema, oneTimePassword: OneTime }) },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'users:manage');
      const created = await createUser(ctx.auth, req.body);
      ctx.audit.record({
        user,
        action: 'C',
        subtype: 'user-create',
        entities: [`user:${created.user.username}`],
        outcome: 'success',
        outcomeText: `roles ${created.user.roles.join(', ')}`,
        sourceAddress: req.ip,
      });
      return reply.code(201).send(created);
    },
  );

  app.patch(
    '/api/users/:username',
    {
      schema: {
        summary: 'Change name, roles, organization, areas or state (active: false disables the user and ends their sessions)',
        tags,
        params: z.object({ username: Username }),
        body: z.object({
          displayName: DisplayName.optional(),
          roles: z.array(RoleEnum).min(1).optional(),
          organization: Organization.optional(),
          areas: Areas.optional(),
          active: z.boolean().optional(),
        }),
        response: { 200: UserSchema },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'users:manage');
      const updated = await updateUser(ctx.auth, req.params.username, req.body, user.username);
      ctx.audit.record({
        user,
        action: 'U',
        subtype: req.body.active === false ? 'user-disable' : req.body.active === true ? 'user-enable' : 'user-update',
        entities: [`user:${updated.username}`],
        outcome: 'success',
        outcomeText: `changed ${Object.keys(req.body).join(', ')}`,
        sourceAddress: req.ip,
      });
      return updated;
    },
  );

  app.post(
    '/api/users/:username/reset-password',
    {
      schema: {
        summary: 'Set a one-time password (given, or generated and answered once); ends the sessions and unlocks the account',
        tags,
        params: z.object({ username: Username }),
        body: z.object({ password: Password.optional() }).optional(),
        response: { 200: z.object({ username: z.string(), oneTimePassword: OneTime }) },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'users:manage');
      const done = await resetPassword(ctx.auth, req.params.username, req.body?.password);
      ctx.audit.record({
        user,
        action: 'U',
        subtype: 'user-reset-password',
        entities: [`user:${done.username}`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return done;
    },
  );

  app.post(
    '/api/users/:username/reset-totp',
    {
      schema: {
        summary: "Remove a user's second factor (lost authenticator); they may enrol again",
        tags,
        params: z.object({ username: Username }),
        response: { 200: UserSchema },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'users:manage');
      const updated = await resetTotp(ctx.auth, req.params.username);
      ctx.audit.record({
        user,
        action: 'U',
        subtype: 'user-reset-totp',
        entities: [`user:${updated.username}`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return updated;
    },
  );

  app.post(
    '/auth/password',
    {
      schema: {
        summary: 'Change my password (the current one, and a new one of at least 12 characters); my other sessions end',
        tags: ['auth'],
        body: z.object({ currentPassword: Password, newPassword: Password }),
        response: { 200: z.object({ ok: z.literal(true) }) },
      },
    },
    async (req) => {
      const user = await ctx.auth.authenticate(req.headers.authorization, { allowPasswordChange: true });
      try {
        await ctx.auth.changePassword(req.headers.authorization, req.body.currentPassword, req.body.newPassword, req.ip);
      } catch (err) {
        ctx.audit.record({
          user,
          action: 'U',
          subtype: 'password-change',
          entities: [`user:${user.username}`],
          outcome: 'failure',
          sourceAddress: req.ip,
        });
        throw err;
      }
      ctx.audit.record({
        user,
        action: 'U',
        subtype: 'password-change',
        entities: [`user:${user.username}`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return { ok: true as const };
    },
  );

  app.post(
    '/auth/totp/enrol',
    {
      schema: {
        summary: 'Start enrolling a TOTP second factor (administrators and auditors): the secret and an otpauth:// URL for the app',
        tags: ['auth'],
        response: { 200: z.object({ secret: z.string(), otpauthUrl: z.string() }) },
      },
    },
    async (req) => {
      const user = await ctx.auth.authenticate(req.headers.authorization);
      return ctx.auth.enrolTotp(user);
    },
  );

  app.post(
    '/auth/totp/confirm',
    {
      schema: {
        summary: 'Confirm the enrolment with a code from the app; from then on sign-in needs a code',
        tags: ['auth'],
        body: z.object({ code: z.string().max(16) }),
        response: { 200: z.object({ ok: z.literal(true) }) },
      },
    },
    async (req) => {
      const user = await ctx.auth.authenticate(req.headers.authorization);
      await ctx.auth.confirmTotp(user, req.body.code);
      ctx.audit.record({
        user,
        action: 'U',
        subtype: 'totp-enrol',
        entities: [`user:${user.username}`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return { ok: true as const };
    },
  );
}
