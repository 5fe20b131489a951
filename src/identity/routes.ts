/**
 * Identity over HTTP: FHIR Patient/$match and Person/$everything, the person behind a Patient,
 * the review queue and the audited, reversible manual decisions (link, unlink, merge, undo),
 * the decision list and the m/u refit. Queries and decisions are in store.ts and mpi.ts, the
 * schemas in schemas.ts.
 */
import type { Parameters, Patient } from '@medplum/fhirtypes';
import type { AuthUser } from '../platform/auth.js';
import { badRequest, notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { FHIR_JSON } from '../fhir/rest.js';
import type { Mpi } from './mpi.js';
import {
  EventResult,
  FhirResource,
  IdentityEventList,
  LinkBody,
  MergeBody,
  NumericIdParams,
  PersonView,
  RejectResult,
  ResourceIdParams,
  ReviewLinkResult,
  ReviewList,
  UnlinkBody,
  UnlinkResult,
  WeightFit,
} from './schemas.js';
import {
  acceptReview,
  linkPatient,
  listEvents,
  matchBundle,
  mergePersons,
  openReviewItems,
  personEverything,
  personOfPatient,
  rejectReview,
  undoEvent,
  unlinkPatient,
  type DecisionAudit,
  type IdentityDeps,
} from './store.js';

const TAG = 'identity';

/** The Patient and count of a $match request: a Parameters resource ("resource", optional "count") or a bare Patient. */
function matchInput(body: Record<string, unknown>): { patient: Patient; count: number } {
  const input = body as unknown as Parameters | Patient;
  const patient = (
    input.resourceType === 'Parameters'
      ? input.parameter?.find((p) => p.name === 'resource')?.resource
      : input.resourceType === 'Patient'
        ? input
        : undefined
  ) as Patient | undefined;
  if (!patient || patient.resourceType !== 'Patient')
    throw badRequest('Send a Parameters resource with a parameter "resource" holding a Patient');
  const count = input.resourceType === 'Parameters' ? input.parameter?.find((p) => p.name === 'count')?.valueInteger : undefined;
  return { patient, count: count ?? 10 };
}

export function registerIdentityRoutes(ctx: ModuleContext, mpi: Mpi): void {
  const { db, repo, audit } = ctx;
  const deps: IdentityDeps = { db, repo, mpi };
  const app = typed(ctx.app);
  /** Manual decisions record their AuditEvent in the deciding transaction. */
  const decisionAudit =
    (user: AuthUser, sourceAddress: string): DecisionAudit =>
    (client, entry) =>
      audit.recordNow(client, { user, action: 'U', subtype: entry.subtype, entities: entry.entities, outcome: 'success', sourceAddress });

  app.post(
    '/fhir/Patient/$match',
    {
      schema: {
        summary:
          'FHIR Patient/$match: a Parameters resource with parameter "resource" (a Patient) and optional "count"; returns a searchset Bundle of candidate Patients with search.score (0–1) and match-grade',
        tags: [TAG],
        body: FhirResource,
        response: { 200: FhirResource },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'fhir:read');
      const { patient, count } = matchInput(req.body);
      const bundle = await matchBundle(deps, patient, count);
      return reply.type(FHIR_JSON).send({ ...bundle });
    },
  );

  app.get(
    '/fhir/Person/:id/$everything',
    {
      schema: {
        summary: 'Everything about a person: the Person, all linked Patients and their records across facilities',
        tags: [TAG],
        params: ResourceIdParams,
        response: { 200: FhirResource },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:read');
      const { bundle, patientIds } = await personEverything(deps, req.params.id);
      audit.record({
        user,
        action: 'R',
        subtype: 'everything',
        entities: [`Person/${req.params.id}`, ...patientIds.map((p) => `Patient/${p}`)],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return reply.type(FHIR_JSON).send({ ...bundle });
    },
  );

  app.get(
    '/api/identity/patients/:id/person',
    {
      schema: {
        summary:
          'The person a Patient belongs to, with all its Patients (facility, assurance), its household (persons at the same address) and the household Groups (FHIR Group, also found with GET /fhir/Group?member=Patient/{id}); 404 when the Patient is not linked yet',
        tags: [TAG],
        params: ResourceIdParams,
        response: { 200: PersonView },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      const view = await personOfPatient(deps, req.params.id);
      if (!view) throw notFound(`Patient/${req.params.id} is not linked yet`);
      return view;
    },
  );

  app.get(
    '/api/identity/review',
    {
      schema: {
        summary: 'Open review items (pairs between the thresholds), highest score first, at most 200',
        tags: [TAG],
        response: { 200: ReviewList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return openReviewItems(db);
    },
  );

  app.post(
    '/api/identity/review/:id/link',
    {
      schema: {
        summary: 'Accept a review item: link its Patient to the candidate person (audited, reversible); 404 when no such open item',
        tags: [TAG],
        params: NumericIdParams,
        response: { 200: ReviewLinkResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      const r = await acceptReview(deps, req.params.id, user.username, decisionAudit(user, req.ip));
      if (!r) throw notFound(`No open review item ${req.params.id}`);
      return r;
    },
  );

  app.post(
    '/api/identity/review/:id/reject',
    {
      schema: {
        summary: 'Reject a review item: the records stay different persons; 404 when no such open item',
        tags: [TAG],
        params: NumericIdParams,
        response: { 200: RejectResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      const ok = await rejectReview(deps, req.params.id, user.username, decisionAudit(user, req.ip));
      if (!ok) throw notFound(`No open review item ${req.params.id}`);
      return { ok };
    },
  );

  app.post(
    '/api/identity/link',
    {
      schema: {
        summary: 'Link a Patient to a Person (manual, assurance level3; audited, reversible with undo)',
        tags: [TAG],
        body: LinkBody,
        response: { 200: EventResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      const { patient, person, reason } = req.body;
      return { event: await linkPatient(deps, patient, person, user.username, reason, decisionAudit(user, req.ip)) };
    },
  );

  app.post(
    '/api/identity/unlink',
    {
      schema: {
        summary: 'Take a Patient out of its Person into a new one (audited, reversible with undo)',
        tags: [TAG],
        body: UnlinkBody,
        response: { 200: UnlinkResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return unlinkPatient(deps, req.body.patient, user.username, req.body.reason, decisionAudit(user, req.ip));
    },
  );

  app.post(
    '/api/identity/merge',
    {
      schema: {
        summary: 'Merge two persons: every Patient of "from" moves into "into" (audited, reversible with undo)',
        tags: [TAG],
        body: MergeBody,
        response: { 200: EventResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      const { from, into, reason } = req.body;
      return { event: await mergePersons(deps, from, into, user.username, reason, decisionAudit(user, req.ip)) };
    },
  );

  app.post(
    '/api/identity/events/:id/undo',
    {
      schema: {
        summary: 'Undo a manual link, unlink or merge (each moved Patient goes back); 400 when already undone',
        tags: [TAG],
        params: NumericIdParams,
        response: { 200: EventResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return { event: await undoEvent(deps, req.params.id, user.username, decisionAudit(user, req.ip)) };
    },
  );

  app.get(
    '/api/identity/events',
    {
      schema: { summary: 'Manual identity decisions, newest first (at most 200)', tags: [TAG], response: { 200: IdentityEventList } },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return { items: await listEvents(db) };
    },
  );

  app.post(
    '/api/identity/weights/fit',
    {
      schema: {
        summary: 'Re-estimate the m/u weights by EM on the index and use them from now on (administrators)',
        tags: [TAG],
        response: { 200: WeightFit },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'users:manage');
      const fit = await mpi.fitWeights();
      audit.record({
        user,
        action: 'U',
        subtype: 'identity-fit-weights',
        entities: [`${fit.pairs} pairs`],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return fit;
    },
  );
}
