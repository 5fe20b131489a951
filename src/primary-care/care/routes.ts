/**
 * Family-doctor contracts (CareTeam + EpisodeOfCare), two-way referral (ServiceRequest + Task),
 * health-education prescriptions (Communication), check-in and the due-services list. Each route
 * validates with its zod schema (schemas.ts), checks the permission and calls one store or
 * service function.
 */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { ChronicConfig } from '../chronic/context.js';
import type { AuditIn } from '../services.js';
import {
  CheckInBody,
  CheckInResult,
  CheckIns,
  ContractBody,
  Contracts,
  ContractsMade,
  ContractsQuery,
  DueServices,
  EducationBody,
  EducationIssued,
  EducationItems,
  EducationItemsQuery,
  EpisodeParams,
  FlagBody,
  FlagEndBody,
  FlagEnded,
  FlagMade,
  FlagParams,
  KeyPopulations,
  KeyPopulationsQuery,
  ReferralBody,
  ReferralDecisionBody,
  ReferralMade,
  Referrals,
  ReferralsQuery,
  ReferralStatus,
  Renewal,
  ResidentParams,
  TaskParams,
  Teams,
} from './schemas.js';
import {
  checkIn,
  decideReferral,
  dueServicesAnswer,
  endKeyPopulationFlag,
  flagKeyPopulation,
  issueEducation,
  makeContracts,
  makeReferral,
  renewContract,
  suggestedEducation,
} from './service.js';
import { checkInsOn, listContracts, listKeyPopulations, listReferrals, listTeams } from './store.js';
import { AsOfQuery } from '../common-schemas.js';

const tags = ['care'];

export function registerCareRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const api = typed(ctx.app);
  const deps = { db: ctx.db, repo: ctx.repo, config };
  type User = Awaited<ReturnType<ModuleContext['guard']>>;
  const auditAs =
    (user: User, action: 'C' | 'U'): AuditIn =>
    (c, entities) =>
      ctx.audit.recordNow(c, { user, action, subtype: action === 'C' ? 'create' : 'update', entities, outcome: 'success' });

  api.get(
    '/api/residents/:id/due-services',
    {
      schema: {
        summary:
          'Everything due for a resident (Patient or Person id): follow-ups, BP screening, vaccines, education, referral returns, confirmations, notifiable report cards to complete (draft or returned); 404 when neither a Patient nor a Person with linked Patients',
        tags,
        params: ResidentParams,
        querystring: AsOfQuery,
        response: { 200: DueServices },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const { id } = req.params;
      const asOf = req.query.asOf ?? todayInChina();
      return dueServicesAnswer(deps, id, asOf);
    },
  );

  api.post(
    '/api/care/check-in',
    {
      schema: {
        summary: 'Check a resident in at a facility (Encounter status arrived) and return the due-services list',
        tags,
        body: CheckInBody,
        response: { 201: CheckInResult },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'care:write');
      const result = await checkIn(deps, req.body);
      ctx.processors.poke();
      return reply.code(201).send(result);
    },
  );

  api.get(
    '/api/care/check-ins',
    {
      schema: {
        summary: "Today's check-ins: web check-ins (Encounter arrived) and ADT A04 registrations (ambulatory Encounter in progress)",
        tags,
        querystring: AsOfQuery,
        response: { 200: CheckIns },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const asOf = req.query.asOf ?? todayInChina();
      return { asOf, rows: await checkInsOn(ctx.db, asOf) };
    },
  );

  // ---- contracts -------------------------------------------------------------------------
  api.get(
    '/api/care/teams',
    { schema: { summary: 'Family-doctor teams (CareTeam) with members and contract counts', tags, response: { 200: Teams } } },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return { rows: await listTeams(ctx.db) };
    },
  );

  api.post(
    '/api/care/contracts',
    {
      schema: {
        summary: 'Contract a resident or a whole household with a team (409 if contracted elsewhere unless transfer: true)',
        tags,
        body: ContractBody,
        response: { 201: ContractsMade },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:write');
      const made = await makeContracts(deps, req.body, auditAs(user, 'C'));
      ctx.processors.poke();
      return reply.code(201).send(made);
    },
  );

  api.post(
    '/api/care/contracts/:episodeId/renew',
    { schema: { summary: 'Renew a contract for another year', tags, params: EpisodeParams, response: { 200: Renewal } } },
    async (req) => {
      await ctx.guard(req, 'care:write');
      const end = await renewContract(deps, req.params.episodeId);
      ctx.processors.poke();
      return { episodeId: req.params.episodeId, end };
    },
  );

  api.get(
    '/api/care/contracts',
    {
      schema: {
        summary:
          'Contracts (filters: team, patient, status), newest first, paged (limit, offset) with the total, with key populations of each resident',
        tags,
        querystring: ContractsQuery,
        response: { 200: Contracts },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const { status = 'active', ...rest } = req.query;
      return listContracts(ctx.db, { status, ...rest }, todayInChina());
    },
  );

  // ---- key populations (重点人群) ------------------------------------------------------------
  api.get(
    '/api/care/key-populations',
    {
      schema: {
        summary:
          'Stored key-population memberships (pregnant from the record; disabled and hardship flagged by staff). Filters: patient, population, asOf (only those in force that day); paged (limit, offset) with the total',
        tags,
        querystring: KeyPopulationsQuery,
        response: { 200: KeyPopulations },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return listKeyPopulations(ctx.db, req.query);
    },
  );

  api.post(
    '/api/care/key-populations',
    {
      schema: {
        summary:
          'Flag a resident as disabled (残疾人) or in a special-hardship family (特困家庭): a FHIR Flag; 400 unknown population or bad date, 404 no such Patient, 409 if already flagged',
        tags,
        body: FlagBody,
        response: { 201: FlagMade },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:write');
      const made = await flagKeyPopulation(deps, req.body, user.username || undefined, auditAs(user, 'C'));
      ctx.processors.poke();
      return reply.code(201).send(made);
    },
  );

  api.post(
    '/api/care/key-populations/:flagId/end',
    {
      schema: {
        summary:
          'End a disabled / hardship flag (Flag inactive, period end = the given day or today); 404 no such Flag, 409 not an active key-population flag',
        tags,
        params: FlagParams,
        body: FlagEndBody,
        response: { 200: FlagEnded },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const end = await endKeyPopulationFlag(deps, req.params.flagId, req.body.end, auditAs(user, 'U'));
      ctx.processors.poke();
      return { flagId: req.params.flagId, end };
    },
  );

  // ---- referrals -------------------------------------------------------------------------
  api.post(
    '/api/care/referrals',
    {
      schema: {
        summary: 'Up-referral from a family doctor (ServiceRequest + Task) with reason and urgency',
        tags,
        body: ReferralBody,
        response: { 201: ReferralMade },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:write');
      const made = await makeReferral(deps, req.body, auditAs(user, 'C'));
      ctx.processors.poke();
      return reply.code(201).send(made);
    },
  );

  api.post(
    '/api/care/referrals/:taskId/decision',
    {
      schema: {
        summary: 'Accept (with a booked slot), decline (with a reason) or complete a referral',
        tags,
        params: TaskParams,
        body: ReferralDecisionBody,
        response: { 200: ReferralStatus },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:write');
      const status = await decideReferral(deps, req.params.taskId, req.body);
      ctx.processors.poke();
      return { taskId: req.params.taskId, status };
    },
  );

  api.get(
    '/api/care/referrals',
    {
      schema: {
        summary:
          'Referrals visible to both ends (filters: patient, direction up|down, status, owner), newest first, paged (limit, offset) with the total',
        tags,
        querystring: ReferralsQuery,
        response: { 200: Referrals },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return listReferrals(ctx.db, req.query);
    },
  );

  // ---- education -------------------------------------------------------------------------
  api.get(
    '/api/care/education/items',
    {
      schema: {
        summary: 'Education items suggested for a resident (?patient=) or all items',
        tags,
        querystring: EducationItemsQuery,
        response: { 200: EducationItems },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return { items: await suggestedEducation(deps, req.query.patient) };
    },
  );

  api.post(
    '/api/care/education',
    {
      schema: {
        summary: 'Issue education items (双处方) in a visit, recorded as Communication resources',
        tags,
        body: EducationBody,
        response: { 201: EducationIssued },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:write');
      const communicationIds = await issueEducation(deps, req.body, auditAs(user, 'C'));
      ctx.processors.poke();
      return reply.code(201).send({ communicationIds });
    },
  );
}
