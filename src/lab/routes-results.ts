/**
 * /api/lab/endpoints, /api/lab/outbox (results back over MLLP: endpoints per facility, queued,
 * delivered and parked messages with their attempt log, resend) and /api/lab/mass/* (mass
 * testing: campaigns, registration, pools and members, progress by area). Thin: validate, guard,
 * call one function, answer.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { addMembers, campaigns, createCampaign, createPool, pool, progress, registerPeople } from './mass.js';
import { endpoints, outbox, outboxDetail, putEndpoint, resend } from './results.js';
import {
  BarcodeParam,
  CampaignBody,
  CampaignList,
  CampaignParam,
  CampaignView,
  EndpointBody,
  EndpointList,
  EndpointView,
  FacilityParam,
  MembersBody,
  OutboxDetail,
  OutboxList,
  OutboxParam,
  OutboxQuery,
  OutboxView,
  PeopleAnswer,
  PeopleBody,
  PoolBody,
  PoolView,
  ProgressView,
} from './schemas.js';
import type { LabDeps } from './service.js';

const tags = ['lab'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerResultsRoutes(ctx: ModuleContext, deps: LabDeps): void {
  const app = typed(ctx.app);
  const actor = (user: Awaited<ReturnType<ModuleContext['guard']>>, ip: string) => ({ user, sourceAddress: ip });

  app.get(
    '/api/lab/endpoints',
    {
      schema: {
        summary: 'MLLP endpoints of the ordering facilities (where verified results go back as ORU^R01)',
        tags,
        response: { 200: EndpointList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return { items: await endpoints(deps) };
    },
  );

  app.put(
    '/api/lab/endpoints/:facility',
    {
      schema: {
        summary:
          'Sets a facility’s MLLP endpoint (host, port, MSH-5/6, ACK timeout, attempts and backoff; defaults from config/lab/results.json). A new address applies to queued messages and resends',
        tags,
        params: FacilityParam,
        body: EndpointBody,
        response: { 200: EndpointView, 400: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const view = await putEndpoint(deps, req.params.facility, req.body, user.username);
      await deps.db.transaction((c) =>
        deps.audit.recordNow(c, {
          user,
          action: 'U',
          subtype: 'lab-endpoint',
          entities: [`lab endpoint ${req.params.facility}`],
          outcome: 'success',
          sourceAddress: req.ip,
        }),
      );
      return view;
    },
  );

  app.get(
    '/api/lab/outbox',
    {
      schema: {
        summary:
          'Results queued for the ordering facilities, newest first, paged with the total: pending, sending, delivered (ACK AA) or parked (with the reason)',
        tags,
        querystring: OutboxQuery,
        response: { 200: OutboxList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return outbox(deps, req.query);
    },
  );

  app.get(
    '/api/lab/outbox/:id',
    {
      schema: {
        summary: 'One queued result: the ORU^R01 as sent, its control id and every delivery attempt (outcome, receiver’s text, ACK)',
        tags,
        params: OutboxParam,
        response: { 200: OutboxDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return outboxDetail(deps, req.params.id);
    },
  );

  app.post(
    '/api/lab/outbox/:id/resend',
    {
      schema: {
        summary:
          'Sends a parked result again: the same message and control id, a new round of attempts. 409 when it is not parked (a delivered one is never sent twice)',
        tags,
        params: OutboxParam,
        response: { 200: OutboxView, 404: Problem, 409: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      const view = await resend(deps, req.params.id, user.username);
      await deps.db.transaction((c) =>
        deps.audit.recordNow(c, {
          user,
          action: 'U',
          subtype: 'lab-resend',
          entities: [`Specimen/${view.specimenId}`],
          outcome: 'success',
          sourceAddress: req.ip,
          ...(view.patientId ? { patients: [`Patient/${view.patientId}`] } : {}),
        }),
      );
      return view;
    },
  );

  // ------------------------------------------------------------------------------------ mass testing

  app.post(
    '/api/lab/mass/campaigns',
    {
      schema: {
        summary:
          'Opens a mass-testing campaign (大规模核酸检测): test, mode (emergency by default), ordering unit, pool size (10-in-1 by default)',
        tags,
        body: CampaignBody,
        response: { 201: CampaignView, 400: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:write');
      return reply.code(201).send(await createCampaign(deps, req.body, actor(user, req.ip)));
    },
  );

  app.get(
    '/api/lab/mass/campaigns',
    { schema: { summary: 'Mass-testing campaigns, newest first', tags, response: { 200: CampaignList } } },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return { items: await campaigns(deps) };
    },
  );

  app.post(
    '/api/lab/mass/campaigns/:id/people',
    {
      schema: {
        summary:
          'Registers people for a campaign: a list (people, or csv with header code,name,idNumber,phone,areaCode[,patientId]; at most 20,000) or one person scanned by QR code. Known codes are left as they are; bad lines are named',
        tags,
        params: CampaignParam,
        body: PeopleBody,
        response: { 200: PeopleAnswer, 400: Problem, 404: Problem, 422: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return registerPeople(deps, req.params.id, req.body, actor(user, req.ip));
    },
  );

  app.get(
    '/api/lab/mass/campaigns/:id/progress',
    {
      schema: {
        summary: 'A campaign’s progress by area: registered, sampled, tested, negative, positive pools, re-tests ordered and resulted',
        tags,
        params: CampaignParam,
        response: { 200: ProgressView, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return progress(deps, req.params.id);
    },
  );

  app.post(
    '/api/lab/mass/pools',
    {
      schema: {
        summary:
          'Collects a pool tube (a specimen in the loop, under the campaign’s order) with its members (registered people, optionally each with a tube). 409: a person already in another pool, a member tube taken, a duplicate barcode; 422: more members than the pool size',
        tags,
        body: PoolBody,
        response: { 201: PoolView, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await createPool(deps, req.body, actor(user, req.ip)));
    },
  );

  app.post(
    '/api/lab/mass/pools/:barcode/members',
    {
      schema: {
        summary: 'Adds members to a pool tube before it is shipped (409 once shipped, or for a person already in a pool)',
        tags,
        params: BarcodeParam,
        body: MembersBody,
        response: { 200: PoolView, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:write');
      return addMembers(deps, req.params.barcode, req.body);
    },
  );

  app.get(
    '/api/lab/mass/pools/:barcode',
    {
      schema: {
        summary:
          'A pool tube: its specimen state, outcome and members (negative, or flagged for re-test with the re-test order and result)',
        tags,
        params: BarcodeParam,
        response: { 200: PoolView, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return pool(deps, req.params.barcode);
    },
  );
}
