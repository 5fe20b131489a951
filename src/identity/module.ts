/**
 * Identity: the master patient index processor (every Patient → a Person), FHIR Patient/$match
 * and Person/$everything, the review queue and audited manual link / unlink / merge / undo.
 */
import { sqlFile } from '../platform/migrations.js';
import type { Bundle, Parameters, Patient, Resource } from '@medplum/fhirtypes';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FHIR_JSON } from '../fhir/rest.js';
import { patientEverything } from '../fhir/search.js';
import { badRequest, notFound } from '../platform/errors.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { describeRoute } from '../platform/openapi.js';
import { loadLinkageConfig } from './linkage.js';
import { Mpi } from './mpi.js';

function str(body: unknown, field: string): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof v !== 'string' || !v.trim()) throw badRequest(`Send JSON with a non-empty string field '${field}'`);
  return v.trim();
}

const identityModule: YifangModule = {
  name: 'identity',
  migrations: {
    range: [120, 199],
    list: [
      { version: 120, name: 'identity-mpi', sql: sqlFile(new URL('./migrations/120_identity.sql', import.meta.url)) },
      { version: 121, name: 'identity-households', sql: sqlFile(new URL('./migrations/121_identity_households.sql', import.meta.url)) },
    ],
  },
  processors({ db, repo }) {
    const mpi = new Mpi(db, repo);
    return [
      {
        name: 'identity-mpi',
        types: ['Patient'],
        async handle(changes, client) {
          // Only the newest version of each Patient in the batch matters.
          const latest = new Map<string, (typeof changes)[number]>();
          for (const c of changes) latest.set(c.id, c);
          const alive: Patient[] = [];
          for (const c of latest.values()) {
            if (c.deleted || !c.resource) await mpi.removePatient(client, c.id);
            else alive.push(c.resource as Patient);
          }
          await mpi.linkPatients(client, alive);
        },
      },
    ];
  },
  async register(ctx: ModuleContext) {
    const { app, db, repo, audit } = ctx;
    const mpi = new Mpi(db, repo);

    /** Runs a manual decision in one transaction with its audit record; maps domain errors to 400. */
    const decide = async <T>(
      req: FastifyRequest,
      subtype: string,
      entities: string[],
      fn: (client: import('pg').PoolClient, username: string) => Promise<T>,
    ): Promise<T> => {
      const user = await ctx.guard(req, 'fhir:write');
      try {
        return await db.transaction(async (client) => {
          const result = await fn(client, user.username);
          await audit.recordNow(client, { user, action: 'U', subtype, entities, outcome: 'success', sourceAddress: req.ip });
          return result;
        });
      } catch (e) {
        if (e instanceof Error && !('status' in e)) throw badRequest(e.message);
        throw e;
      }
    };

    describeRoute({
      method: 'post',
      path: '/fhir/Patient/$match',
      summary:
        'FHIR Patient/$match: a Parameters resource with parameter "resource" (a Patient) and optional "count"; returns a searchset Bundle of candidate Patients with search.score (0–1) and match-grade',
      tag: 'identity',
      requestBody: { contentType: 'application/fhir+json', schema: { type: 'object' } },
    });
    app.post('/fhir/Patient/$match', async (req, reply) => {
      await ctx.guard(req, 'fhir:read');
      const body = req.body as Parameters | Patient | undefined;
      const patient = (
        body?.resourceType === 'Parameters'
          ? body.parameter?.find((p) => p.name === 'resource')?.resource
          : body?.resourceType === 'Patient'
            ? body
            : undefined
      ) as Patient | undefined;
      if (!patient || patient.resourceType !== 'Patient')
        throw badRequest('Send a Parameters resource with a parameter "resource" holding a Patient');
      const countParam = body?.resourceType === 'Parameters' ? body.parameter?.find((p) => p.name === 'count')?.valueInteger : undefined;
      const matches = await mpi.match(patient, countParam ?? 10);
      const { thresholds } = loadLinkageConfig();
      const entries = [];
      for (const m of matches) {
        const resource = await repo.read('Patient', m.patientId).catch(() => undefined);
        if (!resource) continue;
        // score → probability-like 0..1 for search.score: logistic around the lower threshold
        const s = m.idMatch ? 1 : 1 / (1 + Math.pow(2, -(m.score - (thresholds.upper + thresholds.lower) / 2)));
        entries.push({
          fullUrl: `Patient/${m.patientId}`,
          resource,
          search: {
            mode: 'match' as const,
            score: Math.round(s * 1000) / 1000,
            extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: m.grade }],
          },
        });
      }
      const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries };
      return reply.type(FHIR_JSON).send(bundle);
    });

    describeRoute({
      method: 'get',
      path: '/fhir/Person/{id}/$everything',
      summary: 'Everything about a person: the Person, all linked Patients and their records across facilities',
      tag: 'identity',
    });
    app.get<{ Params: { id: string } }>('/fhir/Person/:id/$everything', async (req, reply: FastifyReply) => {
      const user = await ctx.guard(req, 'fhir:read');
      const person = await repo.read('Person', req.params.id);
      const patients = await mpi.patientsOfPerson(req.params.id);
      const out: Resource[] = [person];
      const seen = new Set<string>();
      for (const p of patients) {
        for (const r of await patientEverything(db.pool, p.patientId)) {
          const k = `${r.resourceType}/${r.id}`;
          if (!seen.has(k)) {
            seen.add(k);
            out.push(r);
          }
        }
      }
      audit.record({
        user,
        action: 'R',
        subtype: 'everything',
        entities: [`Person/${req.params.id}`, ...patients.map((p) => `Patient/${p.patientId}`)],
        outcome: 'success',
        sourceAddress: req.ip,
      });
      return reply.type(FHIR_JSON).send({
        resourceType: 'Bundle',
        type: 'searchset',
        total: out.length,
        entry: out.map((r) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
      });
    });

    describeRoute({
      method: 'get',
      path: '/api/identity/patients/{id}/person',
      summary:
        'The person a Patient belongs to, with all its Patients (facility, assurance), its household (persons at the same address) and the household Groups (FHIR Group, also found with GET /fhir/Group?member=Patient/{id})',
      tag: 'identity',
    });
    app.get<{ Params: { id: string } }>('/api/identity/patients/:id/person', async (req) => {
      await ctx.guard(req, 'fhir:read');
      const personId = await mpi.personOfPatient(req.params.id);
      if (!personId) throw notFound(`Patient/${req.params.id} is not linked yet`);
      return {
        personId,
        patients: await mpi.patientsOfPerson(personId),
        household: await mpi.householdOf(personId),
        householdGroups: await mpi.householdGroupsOf(personId),
      };
    });

    describeRoute({
      method: 'get',
      path: '/api/identity/review',
      summary: 'Open review items (pairs between the thresholds), highest score first',
      tag: 'identity',
    });
    app.get('/api/identity/review', async (req) => {
      await ctx.guard(req, 'fhir:read');
      const r = await db.query(
        `SELECT v.id, v.patient_id, v.candidate_person_id, v.candidate_patient_id, v.score, v.comparison, v.created_at, a.data AS patient, b.data AS candidate
         FROM mpi_review v LEFT JOIN mpi_record a ON a.patient_id = v.patient_id LEFT JOIN mpi_record b ON b.patient_id = v.candidate_patient_id
         WHERE v.status = 'open' ORDER BY v.score DESC LIMIT 200`,
      );
      return { items: r.rows, thresholds: loadLinkageConfig().thresholds };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/review/{id}/link',
      summary: 'Accept a review item: link its Patient to the candidate person (audited, reversible)',
      tag: 'identity',
    });
    app.post<{ Params: { id: string } }>('/api/identity/review/:id/link', async (req) => {
      const r = await db.query<{ patient_id: string; candidate_person_id: string }>(
        `SELECT patient_id, candidate_person_id FROM mpi_review WHERE id = $1 AND status = 'open'`,
        [Number(req.params.id) || 0],
      );
      const item = r.rows[0];
      if (!item) throw notFound(`No open review item ${req.params.id}`);
      const event = await decide(req, 'identity-link', [`Patient/${item.patient_id}`, `Person/${item.candidate_person_id}`], (c, u) =>
        mpi.link(c, item.patient_id, item.candidate_person_id, u, `review ${req.params.id}`),
      );
      return { event, personId: item.candidate_person_id };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/review/{id}/reject',
      summary: 'Reject a review item: the records stay different persons',
      tag: 'identity',
    });
    app.post<{ Params: { id: string } }>('/api/identity/review/:id/reject', async (req) => {
      const ok = await decide(req, 'identity-review-reject', [`mpi_review ${req.params.id}`], (c, u) =>
        mpi.rejectReview(c, Number(req.params.id) || 0, u),
      );
      if (!ok) throw notFound(`No open review item ${req.params.id}`);
      return { ok };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/link',
      summary: 'Link a Patient to a Person: {"patient", "person", "reason"?}',
      tag: 'identity',
      requestBody: { contentType: 'application/json', schema: { type: 'object' } },
    });
    app.post('/api/identity/link', async (req) => {
      const patient = str(req.body, 'patient');
      const person = str(req.body, 'person');
      const event = await decide(req, 'identity-link', [`Patient/${patient}`, `Person/${person}`], (c, u) =>
        mpi.link(c, patient, person, u, (req.body as { reason?: string }).reason),
      );
      return { event };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/unlink',
      summary: 'Take a Patient out of its Person into a new one: {"patient", "reason"?}',
      tag: 'identity',
      requestBody: { contentType: 'application/json', schema: { type: 'object' } },
    });
    app.post('/api/identity/unlink', async (req) => {
      const patient = str(req.body, 'patient');
      return decide(req, 'identity-unlink', [`Patient/${patient}`], (c, u) =>
        mpi.unlink(c, patient, u, (req.body as { reason?: string }).reason),
      );
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/merge',
      summary: 'Merge two persons: {"from", "into", "reason"?}',
      tag: 'identity',
      requestBody: { contentType: 'application/json', schema: { type: 'object' } },
    });
    app.post('/api/identity/merge', async (req) => {
      const from = str(req.body, 'from');
      const into = str(req.body, 'into');
      const event = await decide(req, 'identity-merge', [`Person/${from}`, `Person/${into}`], (c, u) =>
        mpi.merge(c, from, into, u, (req.body as { reason?: string }).reason),
      );
      return { event };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/events/{id}/undo',
      summary: 'Undo a manual link, unlink or merge',
      tag: 'identity',
    });
    app.post<{ Params: { id: string } }>('/api/identity/events/:id/undo', async (req) => {
      const event = await decide(req, 'identity-undo', [`mpi_event ${req.params.id}`], (c, u) =>
        mpi.undo(c, Number(req.params.id) || 0, u),
      );
      return { event };
    });

    describeRoute({ method: 'get', path: '/api/identity/events', summary: 'Manual identity decisions, newest first', tag: 'identity' });
    app.get('/api/identity/events', async (req) => {
      await ctx.guard(req, 'fhir:read');
      return { items: (await db.query('SELECT * FROM mpi_event ORDER BY id DESC LIMIT 200')).rows };
    });

    describeRoute({
      method: 'post',
      path: '/api/identity/weights/fit',
      summary: 'Re-estimate the m/u weights by EM on the index and use them from now on',
      tag: 'identity',
    });
    app.post('/api/identity/weights/fit', async (req) => {
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
    });
  },
};

export default identityModule;
