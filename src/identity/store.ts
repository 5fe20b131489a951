/**
 * What the identity API and CLI read and decide, over the person index (mpi.ts): the review
 * queue, the manual decisions (link, unlink, merge, undo, reject) each in one transaction with
 * its AuditEvent, the event list, the person behind a Patient, FHIR Patient/$match and
 * Person/$everything. Answers are camelCase (schemas.ts).
 */
import type { Bundle, BundleEntry, Patient, Resource } from '@medplum/fhirtypes';
import type { PoolClient } from 'pg';
import type { z } from 'zod';
import type { FhirRepository } from '../fhir/repository.js';
import { patientEverything } from '../fhir/search.js';
import type { Database } from '../platform/db.js';
import { badRequest } from '../platform/errors.js';
import { loadLinkageConfig } from './linkage.js';
import type { Mpi } from './mpi.js';
import type { IdentityRecord } from './record.js';
import {
  IdentityData,
  type IdentityEvent,
  type Move,
  type PersonView,
  type ReviewItem,
  type ReviewLinkResult,
  type ReviewList,
  type UnlinkResult,
} from './schemas.js';

/** The API's record schema and the matcher's record type say the same. */
IdentityData satisfies z.ZodType<IdentityRecord>;

/** What the identity store works on. */
export interface IdentityDeps {
  db: Database;
  repo: FhirRepository;
  mpi: Mpi;
}

/** What a decision's AuditEvent records (the caller adds who, when and from where). */
export interface DecisionAuditEntry {
  subtype: string;
  entities: string[];
}

/** Records a decision's AuditEvent inside the deciding transaction. */
export type DecisionAudit = (client: PoolClient, entry: DecisionAuditEntry) => Promise<void>;

/**
 * Runs a manual decision in one transaction with its AuditEvent. A decision the index refuses
 * (unknown Patient, already undone, …) is a 400 with the index's reason.
 */
async function decide<T>(db: Database, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (e) {
    if (e instanceof Error && !('status' in e)) throw badRequest(e.message);
    throw e;
  }
}

/** Links a Patient to a Person (manual, level3); returns the event number. */
export function linkPatient(
  { db, mpi }: IdentityDeps,
  patient: string,
  person: string,
  username: string,
  reason: string | undefined,
  audit: DecisionAudit,
): Promise<number> {
  return decide(db, async (client) => {
    const event = await mpi.link(client, patient, person, username, reason);
    await audit(client, { subtype: 'identity-link', entities: [`Patient/${patient}`, `Person/${person}`] });
    return event;
  });
}

/** Takes a Patient out of its Person into a new one. */
export function unlinkPatient(
  { db, mpi }: IdentityDeps,
  patient: string,
  username: string,
  reason: string | undefined,
  audit: DecisionAudit,
): Promise<UnlinkResult> {
  return decide(db, async (client) => {
    const r = await mpi.unlink(client, patient, username, reason);
    await audit(client, { subtype: 'identity-unlink', entities: [`Patient/${patient}`] });
    return r;
  });
}

/** Moves every Patient of `from` into `into`; returns the event number. */
export function mergePersons(
  { db, mpi }: IdentityDeps,
  from: string,
  into: string,
  username: string,
  reason: string | undefined,
  audit: DecisionAudit,
): Promise<number> {
  return decide(db, async (client) => {
    const event = await mpi.merge(client, from, into, username, reason);
    await audit(client, { subtype: 'identity-merge', entities: [`Person/${from}`, `Person/${into}`] });
    return event;
  });
}

/** Reverses a manual event; returns the undoing event's number. */
export function undoEvent({ db, mpi }: IdentityDeps, eventId: number, username: string, audit: DecisionAudit): Promise<number> {
  return decide(db, async (client) => {
    const event = await mpi.undo(client, eventId, username);
    await audit(client, { subtype: 'identity-undo', entities: [`mpi_event ${eventId}`] });
    return event;
  });
}

/** Accepts an open review item: its Patient joins the candidate person. Undefined when there is no such open item. */
export function acceptReview(
  { db, mpi }: IdentityDeps,
  reviewId: number,
  username: string,
  audit: DecisionAudit,
): Promise<ReviewLinkResult | undefined> {
  return decide(db, async (client) => {
    const r = await client.query<{ patient_id: string; candidate_person_id: string }>(
      `SELECT patient_id, candidate_person_id FROM mpi_review WHERE id = $1 AND status = 'open' FOR UPDATE`,
      [reviewId],
    );
    const item = r.rows[0];
    if (!item) return undefined;
    const event = await mpi.link(client, item.patient_id, item.candidate_person_id, username, `review ${reviewId}`);
    await audit(client, { subtype: 'identity-link', entities: [`Patient/${item.patient_id}`, `Person/${item.candidate_person_id}`] });
    return { event, personId: item.candidate_person_id };
  });
}

/** Rejects an open review item (the records stay different persons); false when there is no such open item. */
export function rejectReview({ db, mpi }: IdentityDeps, reviewId: number, username: string, audit: DecisionAudit): Promise<boolean> {
  return decide(db, async (client) => {
    const ok = await mpi.rejectReview(client, reviewId, username);
    await audit(client, { subtype: 'identity-review-reject', entities: [`mpi_review ${reviewId}`] });
    return ok;
  });
}

/** Open review items, highest score first, with the linkage thresholds. */
export async function openReviewItems(db: Database, limit = 200): Promise<ReviewList> {
  const r = await db.query<{
    id: number;
    patient_id: string;
    candidate_person_id: string;
    candidate_patient_id: string;
    score: number;
    comparison: Record<string, number>;
    created_at: string;
    patient: IdentityRecord | null;
    candidate: IdentityRecord | null;
  }>(
    `SELECT v.id, v.patient_id, v.candidate_person_id, v.candidate_patient_id, v.score, v.comparison, v.created_at, a.data AS patient, b.data AS candidate
     FROM mpi_review v LEFT JOIN mpi_record a ON a.patient_id = v.patient_id LEFT JOIN mpi_record b ON b.patient_id = v.candidate_patient_id
     WHERE v.status = 'open' ORDER BY v.score DESC, v.id LIMIT $1`,
    [limit],
  );
  const items = r.rows.map((x): ReviewItem => ({
    id: x.id,
    patientId: x.patient_id,
    candidatePersonId: x.candidate_person_id,
    candidatePatientId: x.candidate_patient_id,
    score: x.score,
    comparison: x.comparison,
    createdAt: x.created_at,
    patient: x.patient,
    candidate: x.candidate,
  }));
  return { items, thresholds: loadLinkageConfig().thresholds };
}

/** Manual identity decisions, newest first. */
export async function listEvents(db: Database, limit = 200): Promise<IdentityEvent[]> {
  const r = await db.query<{
    id: number;
    action: IdentityEvent['action'];
    username: string;
    at: string;
    reason: string | null;
    moves: Move[];
    undone_by: number | null;
  }>('SELECT id, action, username, at, reason, moves, undone_by FROM mpi_event ORDER BY id DESC LIMIT $1', [limit]);
  return r.rows.map((e) => ({
    id: e.id,
    action: e.action,
    username: e.username,
    at: e.at,
    reason: e.reason,
    moves: e.moves,
    undoneBy: e.undone_by,
  }));
}

/** The person a Patient belongs to, with its Patients and household; undefined when the Patient is not linked yet. */
export async function personOfPatient({ mpi }: IdentityDeps, patientId: string): Promise<PersonView | undefined> {
  const personId = await mpi.personOfPatient(patientId);
  if (!personId) return undefined;
  return {
    personId,
    patients: await mpi.patientsOfPerson(personId),
    household: await mpi.householdOf(personId),
    householdGroups: await mpi.householdGroupsOf(personId),
  };
}

/**
 * FHIR Patient/$match: scored candidates as a searchset Bundle, search.score a probability-like
 * 0–1 (1 for a shared ID number, else logistic around the middle of the thresholds) and the
 * match-grade extension.
 */
export async function matchBundle({ repo, mpi }: IdentityDeps, patient: Patient, count: number): Promise<Bundle> {
  const matches = await mpi.match(patient, count);
  const { thresholds } = loadLinkageConfig();
  const entries: BundleEntry[] = [];
  for (const m of matches) {
    const resource = await repo.read('Patient', m.patientId).catch(() => undefined);
    if (!resource) continue;
    const s = m.idMatch ? 1 : 1 / (1 + Math.pow(2, -(m.score - (thresholds.upper + thresholds.lower) / 2)));
    entries.push({
      fullUrl: `Patient/${m.patientId}`,
      resource,
      search: {
        mode: 'match',
        score: Math.round(s * 1000) / 1000,
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/match-grade', valueCode: m.grade }],
      },
    });
  }
  return { resourceType: 'Bundle', type: 'searchset', total: entries.length, entry: entries };
}

/** Person/$everything: the Person, its Patients and their records across facilities (each once). */
export async function personEverything(
  { db, repo, mpi }: IdentityDeps,
  personId: string,
): Promise<{ bundle: Bundle; patientIds: string[] }> {
  const person = await repo.read('Person', personId);
  const patients = await mpi.patientsOfPerson(personId);
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
  return {
    bundle: {
      resourceType: 'Bundle',
      type: 'searchset',
      total: out.length,
      entry: out.map((r) => ({ fullUrl: `${r.resourceType}/${r.id}`, resource: r, search: { mode: 'match' } })),
    },
    patientIds: patients.map((p) => p.patientId),
  };
}
