/**
 * Programme HTTP API: the programme list, per-programme worklists, registries and indicators
 * with drill-down, a resident's due services across programmes, and what a doctor records by hand
 * in a registry (a manual enrolment, a status). Each route validates with its zod schema
 * (schemas.ts), checks the permission and calls one service function; personal reads are audited
 * by the access hooks through the policy's route table, writes in their own transaction.
 */
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { AuditIn } from '../services.js';
import type { Programme } from './definition.js';
import {
  DrillPage,
  DrillQuery,
  IndicatorParams,
  IndicatorQuery,
  ManualEnrolmentBody,
  ProgrammeIndicators,
  ProgrammeList,
  ProgrammeParams,
  Registration,
  RegistrationParams,
  RegistryPage,
  RegistryQuery,
  RegistryStatusBody,
  ResidentDue,
  ResidentDueQuery,
  ResidentParams,
  Worklist,
  WorklistQuery,
} from './schemas.js';
import { AsOfQuery } from '../common-schemas.js';
import {
  enrolByHand,
  indicatorDrillDown,
  listProgrammes,
  programmeIndicators,
  programmeOf,
  programmeRegistry,
  programmeWorklist,
  residentDueServices,
  setStatus,
} from './service.js';

const tags = ['programmes'];

export function registerProgrammeRoutes(ctx: ModuleContext, programmes: Programme[]): void {
  const api = typed(ctx.app);
  type User = Awaited<ReturnType<ModuleContext['guard']>>;
  /** A write's audit event, recorded inside the write's transaction. */
  const auditAs =
    (user: User, action: 'C' | 'U', subtype: string): AuditIn =>
    (c, entities) =>
      ctx.audit.recordNow(c, {
        user,
        action,
        subtype,
        entities,
        outcome: 'success',
        patients: entities.filter((e) => e.startsWith('Patient/')),
      });

  api.get(
    '/api/programmes',
    {
      schema: {
        summary: 'Basic public-health programmes: schedules by version, indicators with targets, residents enrolled on asOf',
        tags,
        querystring: AsOfQuery,
        response: { 200: ProgrammeList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return listProgrammes(ctx.db, programmes, req.query.asOf ?? todayInChina());
    },
  );

  api.get(
    '/api/programmes/:programme/worklist',
    {
      schema: {
        summary: "A programme's worklist on asOf: items due (window open) and overdue (closed without a service), paged with the total",
        tags,
        params: ProgrammeParams,
        querystring: WorklistQuery,
        response: { 200: Worklist },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const p = programmeOf(programmes, req.params.programme);
      return programmeWorklist(ctx.db, p, req.query, req.query.asOf ?? todayInChina());
    },
  );

  api.get(
    '/api/programmes/:programme/registry',
    {
      schema: {
        summary: "A programme's registry (status active|ended|all, flag, q = name or id, area, organization), paged with the total",
        tags,
        params: ProgrammeParams,
        querystring: RegistryQuery,
        response: { 200: RegistryPage },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const p = programmeOf(programmes, req.params.programme);
      return programmeRegistry(ctx.db, p, req.query, req.query.asOf ?? todayInChina());
    },
  );

  api.post(
    '/api/programmes/:programme/registry',
    {
      schema: {
        summary:
          'Enrol a resident by hand (no diagnosis record; enrolledOn default today, not in the future); a programme entered by age takes none (400)',
        tags,
        params: ProgrammeParams,
        body: ManualEnrolmentBody,
        response: { 200: Registration },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const p = programmeOf(programmes, req.params.programme);
      return enrolByHand(
        { db: ctx.db, repo: ctx.repo },
        programmes,
        p,
        req.body,
        todayInChina(),
        auditAs(user, 'C', 'programme-enrolment'),
      );
    },
  );

  api.put(
    '/api/programmes/:programme/registry/:patientId',
    {
      schema: {
        summary:
          "Set a resident's status in a programme: transferred or died from `on` (default today) ends the episode that day; managed undoes it; 404 when not in the registry",
        tags,
        params: RegistrationParams,
        body: RegistryStatusBody,
        response: { 200: Registration },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'care:write');
      const p = programmeOf(programmes, req.params.programme);
      return setStatus(
        { db: ctx.db, repo: ctx.repo },
        programmes,
        p,
        req.params.patientId,
        req.body,
        todayInChina(),
        auditAs(user, 'U', 'programme-status'),
      );
    },
  );

  api.get(
    '/api/programmes/:programme/indicators',
    {
      schema: {
        summary: "A programme's indicators for a period (YYYY or from/to), by total, organization or area, with targets",
        tags,
        params: ProgrammeParams,
        querystring: IndicatorQuery,
        response: { 200: ProgrammeIndicators },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const p = programmeOf(programmes, req.params.programme);
      return programmeIndicators(ctx.db, p, req.query, todayInChina());
    },
  );

  api.get(
    '/api/programmes/:programme/indicators/:indicator/residents',
    {
      schema: {
        summary: 'Drill-down: the residents (episodes) behind an indicator figure, in or out of the numerator, paged with the total',
        tags,
        params: IndicatorParams,
        querystring: DrillQuery,
        response: { 200: DrillPage },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const p = programmeOf(programmes, req.params.programme);
      return indicatorDrillDown(ctx.db, p, req.params.indicator, req.query, todayInChina());
    },
  );

  api.get(
    '/api/programmes/residents/:id/due-services',
    {
      schema: {
        summary:
          "A resident's programme services on asOf (Patient or Person id): due, overdue and upcoming (next aheadDays) across every programme; 404 when neither",
        tags,
        params: ResidentParams,
        querystring: ResidentDueQuery,
        response: { 200: ResidentDue },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const { asOf = todayInChina(), aheadDays, overdueWithinDays } = req.query;
      return residentDueServices({ db: ctx.db, repo: ctx.repo }, programmes, req.params.id, asOf, aheadDays, overdueWithinDays);
    },
  );
}
