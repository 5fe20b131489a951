/**
 * Chronic-care HTTP API: registries, worklists, confirmation list, follow-up visits. Each route
 * validates with its zod schema (schemas.ts), checks the permission and calls one store or
 * service function.
 */
import { notFound } from '../../platform/errors.js';
import type { ModuleContext } from '../../platform/module.js';
import { typed } from '../../platform/openapi.js';
import { todayInChina } from '../../shared/dates.js';
import type { ChronicConfig } from './context.js';
import { chronicPatient, listConfirmations, listRegistry, setConfirmationStatus, setRegistryStatus, worklist } from './registry-store.js';
import { ruleSetFor } from './rules.js';
import {
  ChronicPatient,
  ConfirmationBody,
  ConfirmationChange,
  Confirmations,
  ConfirmationsQuery,
  EnrolBody,
  Enrolment,
  FollowUpBody,
  FollowUpResult,
  PatientParams,
  RegistryKey,
  RegistryPage,
  RegistryQuery,
  RegistryStatusBody,
  RegistryStatusChange,
  Worklist,
  WorklistQuery,
} from './schemas.js';
import { enrolResident, recordFollowUp } from './service.js';

const tags = ['chronic'];

export function registerChronicRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const api = typed(ctx.app);
  const deps = { db: ctx.db, repo: ctx.repo, config };

  api.get(
    '/api/chronic/registry',
    {
      schema: {
        summary: 'Hypertension / diabetes registry (filters: disease, status, team, doctor, q, asOf, limit, offset)',
        tags,
        querystring: RegistryQuery,
        response: { 200: RegistryPage },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const { asOf = todayInChina(), ...q } = req.query;
      return listRegistry(ctx.db, q, asOf, ruleSetFor(config.sets, asOf).registry.lostToFollowUpAfterDays);
    },
  );

  api.post(
    '/api/chronic/registry',
    {
      schema: {
        summary: 'Enrol a resident manually (disease htn|dm, diagnosedOn, teamId)',
        tags,
        body: EnrolBody,
        response: { 200: Enrolment },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:write');
      return enrolResident(deps, req.body);
    },
  );

  api.put(
    '/api/chronic/registry/:patientId/:disease',
    {
      schema: {
        summary: 'Change a registry status (managed, transferred, died) with a reason',
        tags,
        params: RegistryKey,
        body: RegistryStatusBody,
        response: { 200: RegistryStatusChange },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:write');
      const { patientId, disease } = req.params;
      if (!(await setRegistryStatus(ctx.db, patientId, disease, req.body.status, req.body.reason)))
        throw notFound(`${patientId} is not in the ${disease} registry`);
      return { patientId, disease, status: req.body.status };
    },
  );

  api.get(
    '/api/chronic/worklist',
    {
      schema: {
        summary: "A doctor's or team's worklist: due (next 7 days), overdue (≤ 30 days), to recall (> 30 days), referred awaiting return",
        tags,
        querystring: WorklistQuery,
        response: { 200: Worklist },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      const { asOf = todayInChina(), doctor, team, summary } = req.query;
      return worklist(ctx.db, asOf, { doctor, team, summary: summary === 'true' });
    },
  );

  api.get(
    '/api/chronic/confirmations',
    {
      schema: {
        summary: 'Suspected undiagnosed hypertension/diabetes awaiting confirmation (status open|confirmed|dismissed)',
        tags,
        querystring: ConfirmationsQuery,
        response: { 200: Confirmations },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return { rows: await listConfirmations(ctx.db, req.query.status ?? 'open') };
    },
  );

  api.put(
    '/api/chronic/confirmations/:patientId/:disease',
    {
      schema: {
        summary: 'Confirm or dismiss a suspected case',
        tags,
        params: RegistryKey,
        body: ConfirmationBody,
        response: { 200: ConfirmationChange },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:write');
      const { patientId, disease } = req.params;
      if (!(await setConfirmationStatus(ctx.db, patientId, disease, req.body.status)))
        throw notFound(`no suspected ${disease} case for ${patientId}`);
      return { patientId, disease, status: req.body.status };
    },
  );

  api.get(
    '/api/chronic/patients/:id',
    {
      schema: {
        summary: "A resident's registry entries, follow-up evaluations and recent readings",
        tags,
        params: PatientParams,
        response: { 200: ChronicPatient },
      },
    },
    async (req) => {
      await ctx.guard(req, 'care:read');
      return chronicPatient(ctx.db, req.params.id);
    },
  );

  api.post(
    '/api/chronic/follow-ups',
    {
      schema: {
        summary:
          'Record a follow-up visit (Encounter + Observations) and get the next visit by the rules; 400 names the field for a bad date or readings out of physiological range',
        tags,
        body: FollowUpBody,
        response: { 201: FollowUpResult },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'care:write');
      const result = await recordFollowUp(deps, req.body, (c, entities) =>
        ctx.audit.recordNow(c, { user, action: 'C', subtype: 'create', entities, outcome: 'success' }),
      );
      ctx.processors.poke();
      return reply.code(201).send(result);
    },
  );
}
