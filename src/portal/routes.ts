/**
 * /api/portal/*: sign-in with a one-time code (no token needed), the resident's own pages
 * (/api/portal/me/*, role resident: permission portal:self), and the team's side of online
 * contracts (care roles). Each route validates, guards, calls one service function and answers;
 * the access hook (policy table) runs before every one of them.
 */
import { z } from 'zod';
import { notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { runReminders } from './reminders.js';
import * as S from './schemas.js';
import * as svc from './service.js';
import * as store from './store.js';

const tags = ['portal'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');
const P = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem };
const SELF = 'portal:self' as const;

export function registerPortalRoutes(ctx: ModuleContext, deps: svc.PortalDeps): void {
  const app = typed(ctx.app);

  // ---- sign-in ---------------------------------------------------------------------------------
  app.post(
    '/api/portal/login/start',
    {
      schema: {
        summary:
          'Resident sign-in, step 1: ID number + phone → a 6-digit code by SMS (5 min). The same answer whether or not they match a record',
        tags,
        security: [],
        body: S.LoginStartBody,
        response: { 200: S.LoginStartAnswer, ...P },
      },
    },
    async (req) => svc.startLogin(deps, req.body.idNumber, req.body.phone, req.ip),
  );
  app.post(
    '/api/portal/login/finish',
    {
      schema: {
        summary:
          'Resident sign-in, step 2: the code → a bearer token (role resident). 5 wrong codes lock the ID number for 15 minutes (429)',
        tags,
        security: [],
        body: S.LoginFinishBody,
        response: { 200: S.LoginFinishAnswer, ...P },
      },
    },
    async (req) => svc.finishLogin(deps, req.body.idNumber, req.body.phone, req.body.code, req.ip),
  );

  // ---- the resident's pages --------------------------------------------------------------------
  app.get(
    '/api/portal/me',
    { schema: { summary: 'The signed-in resident, their wards and unread notices', tags, response: { 200: S.Me, ...P } } },
    async (req) => svc.me(deps, await ctx.guard(req, SELF)),
  );
  app.get(
    '/api/portal/me/record',
    {
      schema: {
        summary:
          'The merged record in plain words (visits, diagnoses, results, immunizations, follow-ups, care plans, own readings), newest first',
        tags,
        querystring: S.RecordQuery,
        response: { 200: S.RecordAnswer, ...P },
      },
    },
    async (req) => svc.record(deps, await ctx.guard(req, SELF), req.query, req.ip),
  );
  app.get(
    '/api/portal/me/schedule',
    {
      schema: {
        summary: 'Vaccination schedule: doses given and what is due, overdue or coming up (the national schedule)',
        tags,
        querystring: S.ForQuery,
        response: { 200: S.ScheduleAnswer, ...P },
      },
    },
    async (req) => svc.schedule(deps, await ctx.guard(req, SELF), req.query.for, req.ip),
  );
  app.post(
    '/api/portal/me/readings',
    {
      schema: {
        summary:
          'A blood pressure or glucose measured at home or at a kiosk (健康小屋): stored as a FHIR Observation the family doctor sees',
        tags,
        body: S.ReadingBody,
        response: { 201: S.ReadingAnswer, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.addReading(deps, await ctx.guard(req, SELF), req.body, req.ip)),
  );
  app.get(
    '/api/portal/me/access-log',
    {
      schema: {
        summary:
          'Who read my record and why: reads and searches by others from the audit trail (role, organisation, purpose), paged with the total',
        tags,
        querystring: S.AccessLogQuery,
        response: { 200: S.AccessLog, ...P },
      },
    },
    async (req) => svc.accessLog(deps, await ctx.guard(req, SELF), req.query, req.ip),
  );
  app.get(
    '/api/portal/me/consents',
    {
      schema: {
        summary: 'Consent choices for sharing (FHIR Consent)',
        tags,
        querystring: S.ForQuery,
        response: { 200: S.ConsentAnswer, ...P },
      },
    },
    async (req) => svc.consents(deps, await ctx.guard(req, SELF), req.query.for, req.ip),
  );
  app.put(
    '/api/portal/me/consents',
    {
      schema: {
        summary: 'Changes consent choices (a new version of the FHIR Consent)',
        tags,
        body: S.ConsentBody,
        response: { 200: S.ConsentAnswer, ...P },
      },
    },
    async (req) => svc.saveConsents(deps, await ctx.guard(req, SELF), req.body, req.ip),
  );
  app.get(
    '/api/portal/me/preferences',
    { schema: { summary: 'Reminder preferences', tags, response: { 200: S.Preferences, ...P } } },
    async (req) => store.preferencesOf(deps.db, (await ctx.guard(req, SELF)).username),
  );
  app.put(
    '/api/portal/me/preferences',
    {
      schema: {
        summary: 'Turns reminders by SMS or in the portal on or off',
        tags,
        body: S.PreferencesBody,
        response: { 200: S.Preferences, ...P },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, SELF);
      await svc.scopeOf(deps, user);
      const next = { ...(await store.preferencesOf(deps.db, user.username)), ...req.body };
      await store.savePreferences(deps.db, user.username, next);
      return next;
    },
  );
  app.get(
    '/api/portal/me/notices',
    {
      schema: {
        summary: 'Notices in the portal (reminders, contract decisions), newest first',
        tags,
        querystring: z.object({
          _count: z.coerce.number().int().min(1).max(100).default(20),
          _offset: z.coerce.number().int().min(0).max(100_000).default(0),
        }),
        response: { 200: S.NoticeList, ...P },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, SELF);
      await svc.scopeOf(deps, user);
      return store.notices(deps.db, user.username, { count: req.query._count, offset: req.query._offset });
    },
  );
  app.post(
    '/api/portal/me/notices/:id/read',
    { schema: { summary: 'Marks a notice read', tags, params: S.NoticeParam, response: { 200: z.object({ ok: z.literal(true) }), ...P } } },
    async (req) => {
      const user = await ctx.guard(req, SELF);
      if (!(await store.markNoticeRead(deps.db, user.username, req.params.id))) throw notFound('No such notice / 未找到该通知');
      return { ok: true as const };
    },
  );
  app.post(
    '/api/portal/me/wards',
    {
      schema: {
        summary: "Links a child under 18 to the guardian: the child's record must list the guardian's phone; an adult is refused (422)",
        tags,
        body: S.WardBody,
        response: { 200: S.Me, ...P },
      },
    },
    async (req) => svc.linkWard(deps, await ctx.guard(req, SELF), req.body, req.ip),
  );

  // ---- contracts -------------------------------------------------------------------------------
  app.get(
    '/api/portal/teams',
    {
      schema: {
        summary: 'Family-doctor teams and service packages a resident can sign online',
        tags,
        response: { 200: S.TeamsAnswer, ...P },
      },
    },
    async (req) => {
      await ctx.guard(req, SELF);
      return svc.teams(deps);
    },
  );
  app.get(
    '/api/portal/me/contracts',
    {
      schema: {
        summary: 'Contracts in force and requests (signed, renewed, transfer asked)',
        tags,
        querystring: S.ForQuery,
        response: { 200: S.MyContracts, ...P },
      },
    },
    async (req) => svc.myContracts(deps, await ctx.guard(req, SELF), req.query.for, req.ip),
  );
  app.post(
    '/api/portal/me/contracts',
    {
      schema: {
        summary:
          'Signs, renews or asks to transfer a family-doctor contract online (a FHIR Contract with the signature); the team then decides',
        tags,
        body: S.ContractBody,
        response: { 201: S.ContractRequestView, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.signContract(deps, await ctx.guard(req, SELF), req.body, req.ip)),
  );
  app.get(
    '/api/portal/contract-requests',
    {
      schema: {
        summary: "Residents' online contract requests for the teams (rows outside the user's scope are withheld)",
        tags,
        querystring: S.TeamRequestQuery,
        response: { 200: S.TeamRequestList, ...P },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return svc.teamRequests(deps, req.query);
    },
  );
  app.post(
    '/api/portal/contract-requests/:id/decision',
    {
      schema: {
        summary: "The team accepts (the contract starts and the package's services become Tasks) or declines (reason required)",
        tags,
        params: S.DecisionParam,
        body: S.DecisionBody,
        response: { 200: S.DecisionAnswer, ...P },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const r = await store.requestById(deps.db, req.params.id);
      // The resident is named by the request, not the URL: decided by the policy here.
      if (r && ctx.access)
        await ctx.access.enforce(req, user, { action: 'write', resourceType: 'EpisodeOfCare', patientIds: [r.patient_id] });
      return svc.decide(deps, user, req.params.id, req.body, req.ip);
    },
  );

  // ---- reminders (operators; the job also runs by itself) ---------------------------------------
  app.post(
    '/api/portal/reminders/run',
    {
      schema: {
        summary: "Runs this week's reminders now (at most one per resident per week)",
        tags,
        response: { 200: S.ReminderRun, ...P },
      },
    },
    async (req) => {
      await ctx.guard(req, 'users:manage');
      return runReminders(deps);
    },
  );
}
