/**
 * /api/investigations/*: case investigations (流调) — open, list (overdue first), read, update
 * with the version read (409 when stale), the disease's form (pre-filled, saved as a
 * QuestionnaireResponse), contact candidates (computed on opening and on demand; confirm or
 * reject), contacts with their exposures, daily follow-up checks, the follow-up worklist of an
 * organisation, and a symptomatic contact turned into a suspected case. Reads need
 * surveillance:read; changes surveillance:read too, and then either surveillance:write or being
 * the assigned investigator; the worklist and the daily checks also care:write (community health
 * centres). Every route is in the access policy's routes table (personal data: answers naming
 * the case are checked for it, rows filtered by their patientId, reads audited with their purpose
 * of use); writes are checked for each resident they touch and record their AuditEvent in their
 * own transaction.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { contentDisposition } from '../shared/table-file.js';
import {
  CandidateList,
  CandidateParams,
  ChainAnswer,
  EpiCurveAnswer,
  Order,
  OrderBody,
  OrderList,
  OrderParam,
  PeriodQuery,
  RevokeBody,
  ReportList,
  ReportParam,
  Candidate,
  Check,
  CheckBody,
  ConfirmBody,
  ContactAnswer,
  ContactBody,
  ContactList,
  ContactParam,
  ExposureBody,
  Form,
  FormBody,
  IdParam,
  Investigation,
  InvestigationList,
  ListQuery,
  OpenBody,
  RejectBody,
  SuspectBody,
  Trajectory,
  UpdateBody,
  Worklist,
  WorklistQuery,
  AcknowledgeBody,
  Escalation,
  EscalationList,
  EscalationParam,
  EscalationQuery,
} from './schemas.js';
import * as followUps from './follow-up-job.js';
import * as service from './service.js';
import type { Actor, AuditWrite, InvestigationDeps } from './service.js';

const tags = ['investigations'];
/**
 * A chain answer holds up to 10,000 people: checking it against its zod schema on the way out took
 * longer than computing it (1.1 s of 3 s on PGlite), so these routes write plain JSON; the schema
 * still documents them in OpenAPI and the service builds the answer in that shape.
 */
const plainJson = () => (data: unknown) => JSON.stringify(data);
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');
const problems = { 400: Problem, 403: Problem, 404: Problem, 409: Problem };

export function registerInvestigationRoutes(ctx: ModuleContext, deps: InvestigationDeps): void {
  const app = typed(ctx.app);
  /** The AuditEvent writer of one request: who, from where, for what purpose. */
  const auditOf =
    (req: FastifyRequest, user: AuthUser): AuditWrite =>
    (client, e) =>
      ctx.audit.recordNow(client, {
        user,
        action: e.action ?? 'U',
        subtype: e.subtype,
        entities: e.entities,
        outcome: 'success',
        outcomeText: e.text.slice(0, 1000),
        sourceAddress: req.ip,
        purpose: ctx.access?.purposeOf(req) ?? 'EPIINV',
        patients: [...new Set(e.patients)].map((p) => `Patient/${p}`),
      });
  /** The writer of one request: permission checked, its audit writer, and the access policy per resident touched. */
  const actorOf = (req: FastifyRequest, user: AuthUser): Actor => ({
    user,
    audit: auditOf(req, user),
    async allow(patientIds) {
      if (!ctx.access) return;
      for (const id of new Set(patientIds))
        await ctx.access.enforce(req, user, { action: 'write', resourceType: 'Patient', patientIds: await ctx.access.residentIds(id) });
    },
  });
  const write = async (req: FastifyRequest) => actorOf(req, await ctx.guard(req, 'surveillance:read'));
  /**
   * The residents a chain may name for this reader: the access policy's answer for reading them.
   * A chain's people are parallel arrays (no rows with a patientId for the policy hooks to sift), so
   * the route asks the policy itself and the service leaves the others' names out.
   */
  const visibleTo =
    (req: FastifyRequest, user: AuthUser): service.VisibleResidents =>
    async (ids) =>
      ctx.access ? ctx.access.allowedPatients(req, user, ids, 'search') : new Set(ids);
  /** Follow-up checks are recorded by investigators and by the contacts' community health centres (care:write). */
  const followUpUser = (req: FastifyRequest) =>
    ctx.guard(req, 'surveillance:read').catch(async (e: unknown) => {
      try {
        return await ctx.guard(req, 'care:write');
      } catch {
        throw e;
      }
    });

  app.post(
    '/api/investigations',
    {
      schema: {
        summary:
          'Opens an investigation from an alert, a report card or by hand (resident and disease), assigned with a deadline from config/investigation/rules.json (2 h for class A and outbreaks, 24 h for class B); contact candidates are computed at once. 409 when the resident already has an open investigation of the disease',
        tags,
        body: OpenBody,
        response: { 201: Investigation, ...problems },
      },
    },
    async (req, reply) => {
      const actor = await write(req);
      return reply.code(201).send(await service.openInvestigation(deps, req.body, actor));
    },
  );

  app.get(
    '/api/investigations',
    {
      schema: {
        summary: 'Investigations, overdue first, then by deadline; open and in-progress unless status says otherwise',
        tags,
        querystring: ListQuery,
        response: { 200: InvestigationList, 400: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.listInvestigations(deps, req.query);
    },
  );

  app.get(
    '/api/investigations/follow-ups',
    {
      schema: {
        summary:
          "Daily follow-up checks of close contacts managed by an organisation (the contact's Patient.managingOrganization) or a team (the owner of their daily monitoring Tasks): one row per contact and day with its Task, the member it is assigned to and any escalation notice, overdue (missed for 24 h) first, a page with the total",
        tags,
        querystring: WorklistQuery,
        response: { 200: Worklist, 400: Problem },
      },
    },
    async (req) => {
      await followUpUser(req);
      return service.followUpWorklist(deps, req.query);
    },
  );

  app.get(
    '/api/investigations/escalations',
    {
      schema: {
        summary:
          'Escalation notices (漏访上报): a daily check still missing a day after it was missed, sent to the investigator, the contact team (its supervisor) and the CDC; by investigation, organisation or team, open ones first, a page with the total',
        tags,
        querystring: EscalationQuery,
        response: { 200: EscalationList, 400: Problem },
      },
    },
    async (req) => {
      await followUpUser(req);
      return followUps.listEscalations(deps, req.query);
    },
  );

  app.post(
    '/api/investigations/escalations/:escalationId/acknowledge',
    {
      schema: {
        summary: 'Acknowledges an escalation notice (who and when, with a note); 409 when it was already acknowledged',
        tags,
        params: EscalationParam,
        body: AcknowledgeBody,
        response: { 200: Escalation, ...problems },
      },
    },
    async (req) => {
      const actor = actorOf(req, await followUpUser(req));
      return followUps.acknowledgeEscalation(deps, req.params.escalationId, req.body, actor);
    },
  );

  app.get(
    '/api/investigations/:id',
    { schema: { summary: 'One investigation', tags, params: IdParam, response: { 200: Investigation, 404: Problem } } },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.getInvestigation(deps, req.params.id);
    },
  );

  app.patch(
    '/api/investigations/:id',
    {
      schema: {
        summary:
          'Changes status (open → in-progress → closed, closing records who and when), assignee or notes. Carries the version read: 409 when someone saved in between (nothing is overwritten)',
        tags,
        params: IdParam,
        body: UpdateBody,
        response: { 200: Investigation, ...problems },
      },
    },
    async (req) => {
      const actor = await write(req);
      return service.updateInvestigation(deps, req.params.id, req.body, actor);
    },
  );

  app.get(
    '/api/investigations/:id/form',
    {
      schema: {
        summary:
          "The disease's form (FHIR Questionnaire) with its saved answers, or before the first save the answers pre-filled from the record (name, sex, age, address, phone, onset)",
        tags,
        params: IdParam,
        response: { 200: Form, 404: Problem, 409: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.getForm(deps, req.params.id);
    },
  );

  app.put(
    '/api/investigations/:id/form',
    {
      schema: {
        summary:
          'Saves the form as a QuestionnaireResponse linked to the investigation (400 naming each bad answer). Carries the version read: of two investigators saving at once, one wins and the other gets 409',
        tags,
        params: IdParam,
        body: FormBody,
        response: { 200: Form, ...problems },
      },
    },
    async (req) => {
      const actor = await write(req);
      return service.saveForm(deps, req.params.id, req.body, actor);
    },
  );

  app.get(
    '/api/investigations/:id/candidates',
    {
      schema: {
        summary:
          'Contact candidates: household, same room, ward or department at once, same school class or care home, each with its place and exposure window',
        tags,
        params: IdParam,
        response: { 200: CandidateList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.listCandidates(deps, req.params.id);
    },
  );

  app.get(
    '/api/investigations/:id/trajectory',
    {
      schema: {
        summary:
          "The case's trajectory (行动轨迹): every stay across facilities through the Person (facility, department, ward, room; admission and discharge), from the longest incubation before onset to now",
        tags,
        params: IdParam,
        response: { 200: Trajectory, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.trajectory(deps, req.params.id);
    },
  );

  app.get(
    '/api/investigations/:id/chain',
    {
      schema: {
        summary:
          "The case's transmission chain (传播链): every case and contact connected to it through contacts who became cases, laid out by time (generation, cluster), with the serial intervals and the epi curve of its cases",
        tags,
        params: IdParam,
        response: { 200: ChainAnswer, 404: Problem },
      },
      serializerCompiler: plainJson,
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      return service.chainOf(deps, req.params.id, visibleTo(req, user));
    },
  );

  app.get(
    '/api/investigations/chains',
    {
      schema: {
        summary:
          'The transmission chains of the investigations with onset in a period (a disease, or all): at most 10,000 people, oldest first',
        tags,
        querystring: PeriodQuery,
        response: { 200: ChainAnswer, 400: Problem },
      },
      serializerCompiler: plainJson,
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      return service.chainsInPeriod(deps, req.query, visibleTo(req, user));
    },
  );

  app.get(
    '/api/investigations/epi-curve',
    {
      schema: {
        summary:
          'Investigated cases per onset day (流行曲线), stacked by classification, for a disease (or all) and a period of at most 3 years',
        tags,
        querystring: PeriodQuery,
        response: { 200: EpiCurveAnswer, 400: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.epiCurveOf(deps, req.query);
    },
  );

  app.get(
    '/api/investigations/:id/orders',
    {
      schema: {
        summary: "The investigation's isolation and quarantine orders (隔离/医学观察通知书), revoked ones included",
        tags,
        params: IdParam,
        response: { 200: OrderList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.listOrders(deps, req.params.id);
    },
  );

  app.post(
    '/api/investigations/:id/orders',
    {
      schema: {
        summary:
          'Issues an isolation order for the case or a quarantine / home-observation order for one of its contacts (place, period, reason); 409 when an order of the same kind for the person overlaps',
        tags,
        params: IdParam,
        body: OrderBody,
        response: { 201: Order, ...problems },
      },
    },
    async (req, reply) => reply.code(201).send(await service.issueOrder(deps, req.params.id, req.body, await write(req))),
  );

  app.post(
    '/api/investigations/orders/:orderId/revoke',
    {
      schema: {
        summary: 'Revokes an order with a reason (it stays on record)',
        tags,
        params: OrderParam,
        body: RevokeBody,
        response: { 200: Order, ...problems },
      },
    },
    async (req) => service.revokeOrder(deps, req.params.orderId, req.body.reason, await write(req)),
  );

  app.post(
    '/api/investigations/:id/report',
    {
      schema: {
        summary:
          'Makes the investigation report (流调报告) as a PDF — case summary, form answers, trajectory, contacts, transmission chain, epi curve and orders, from the same queries as the screens — archives it with the investigation and answers it (application/pdf); 503 when the server has no Chinese font',
        tags,
        params: IdParam,
      },
    },
    async (req, reply) => {
      const { pdf, fileName, report } = await service.generateReport(deps, req.params.id, await write(req));
      return reply
        .type('application/pdf')
        .header('content-disposition', contentDisposition(fileName))
        .header('x-report-id', String(report.id))
        .send(pdf);
    },
  );

  app.get(
    '/api/investigations/:id/reports',
    {
      schema: {
        summary: "The investigation's archived reports, newest first (who made each, when, its size and SHA-256)",
        tags,
        params: IdParam,
        response: { 200: ReportList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.listReports(deps, req.params.id);
    },
  );

  app.get(
    '/api/investigations/reports/:reportId',
    {
      schema: {
        summary: 'One archived report, as the PDF it was',
        tags,
        params: ReportParam,
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const { pdf, fileName, patientId } = await service.reportFile(deps, req.params.reportId);
      // The PDF names its case: the policy decides for that resident before it leaves.
      if (ctx.access)
        await ctx.access.enforce(req, user, {
          action: 'read',
          resourceType: 'Patient',
          patientIds: await ctx.access.residentIds(patientId),
        });
      return reply.type('application/pdf').header('content-disposition', contentDisposition(fileName)).send(pdf);
    },
  );

  app.post(
    '/api/investigations/:id/candidates/compute',
    {
      schema: {
        summary: 'Recomputes the contact candidates now (decisions already taken are kept)',
        tags,
        params: IdParam,
        response: { 200: CandidateList, 404: Problem, 409: Problem },
      },
    },
    async (req) => service.recomputeCandidates(deps, req.params.id, await write(req)),
  );

  app.post(
    '/api/investigations/:id/candidates/:candidateId/confirm',
    {
      schema: {
        summary:
          'Confirms a candidate as a close contact: an exposure (type, place, first and last date; the candidate window unless given) and a follow-up window from the last exposure. 409 when already confirmed or already a case',
        tags,
        params: CandidateParams,
        body: ConfirmBody,
        response: { 201: ContactAnswer, ...problems },
      },
    },
    async (req, reply) => {
      const actor = await write(req);
      return reply.code(201).send(await service.confirmCandidate(deps, req.params.id, req.params.candidateId, req.body, actor));
    },
  );

  app.post(
    '/api/investigations/:id/candidates/:candidateId/reject',
    {
      schema: {
        summary: 'Rejects a candidate (with a reason)',
        tags,
        params: CandidateParams,
        body: RejectBody,
        response: { 200: Candidate, ...problems },
      },
    },
    async (req) => {
      const actor = await write(req);
      return service.rejectCandidate(deps, req.params.id, req.params.candidateId, req.body, actor);
    },
  );

  app.get(
    '/api/investigations/:id/contacts',
    {
      schema: {
        summary: 'Confirmed contacts with their exposures and follow-up windows; contacts outside the district apart (协查)',
        tags,
        params: IdParam,
        response: { 200: ContactList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return service.listContacts(deps, req.params.id);
    },
  );

  app.post(
    '/api/investigations/:id/contacts',
    {
      schema: {
        summary:
          'Adds a contact by hand: a resident (patientId) or someone outside the district (name, phone and a hand-over note, 协查), with the exposure',
        tags,
        params: IdParam,
        body: ContactBody,
        response: { 201: ContactAnswer, ...problems },
      },
    },
    async (req, reply) => {
      const actor = await write(req);
      return reply.code(201).send(await service.addContact(deps, req.params.id, req.body, actor));
    },
  );

  app.post(
    '/api/investigations/contacts/:contactId/exposures',
    {
      schema: {
        summary: 'Adds a further exposure to a contact; the follow-up window is recomputed from the latest exposure',
        tags,
        params: ContactParam,
        body: ExposureBody,
        response: { 201: ContactAnswer, ...problems },
      },
    },
    async (req, reply) => {
      const actor = await write(req);
      return reply.code(201).send(await service.addExposure(deps, req.params.contactId, req.body, actor));
    },
  );

  app.post(
    '/api/investigations/contacts/:contactId/checks',
    {
      schema: {
        summary:
          "Records a contact's daily check (symptoms yes/no, temperature); a day outside the window is 400, a check after the window closed is 409",
        tags,
        params: ContactParam,
        body: CheckBody,
        response: { 201: Check, ...problems },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req, await followUpUser(req));
      return reply.code(201).send(await service.recordCheck(deps, req.params.contactId, req.body, actor));
    },
  );

  app.post(
    '/api/investigations/contacts/:contactId/suspect',
    {
      schema: {
        summary:
          'A contact with symptoms becomes a suspected case in one step: their follow-up ends and a new investigation opens for them (same disease, onset today)',
        tags,
        params: ContactParam,
        body: SuspectBody,
        response: { 201: Investigation, ...problems },
      },
    },
    async (req, reply) => {
      const actor = await write(req);
      return reply.code(201).send(await service.contactToSuspect(deps, req.params.contactId, req.body, actor));
    },
  );
}
