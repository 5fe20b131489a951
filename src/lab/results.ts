/**
 * Results back (issue #20, item 4). At verification, in the step's own transaction, the result
 * is queued once per destination (the ordering facility's MLLP endpoint) as a finished ORU^R01
 * with a control id of its own, and a positive of a resident asks for their report card to be
 * moved to 确诊病例. After the commit the delivery loop is poked: it leases due messages, sends
 * each over MLLP and waits for the ACK with the endpoint's timeout; every attempt is logged.
 *   AA → delivered (confirmed by the receiver's ACK);
 *   AE → retried with backoff up to the endpoint's AE limit, then parked with the receiver's text;
 *   AR → parked at once with the receiver's text;
 *   no answer (timeout, refused, broken connection, an ACK of another message) → retried with
 *   backoff, parked after the endpoint's attempt limit.
 * A parked message is resent by a user: the same control id and bytes, a new round of attempts.
 */
import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import { conflict, notFound } from '../platform/errors.js';
import { reportCardsForPatients } from '../surveillance/index.js';
import { MllpClient } from './mllp-client.js';
import { buildOru, placerOrderOf, readAck } from './oru.js';
import { backoffAfter, type ResultsConfig } from './results-config.js';
import {
  attemptsOf,
  claimDue,
  finishCaseUpdate,
  getEndpoint,
  getOutbox,
  insertCaseUpdate,
  insertOutbox,
  listEndpoints,
  listOutbox,
  parkWithoutAttempt,
  pendingCaseUpdates,
  recordAttempt,
  requeue,
  upsertEndpoint,
  type AttemptRow,
  type EndpointRow,
  type OutboxRow,
  type OutboxStatus,
} from './results-store.js';
import type { AttemptView, EndpointBody, EndpointView, OutboxDetail, OutboxView } from './schemas.js';
import type { LabDeps } from './deps.js';
import type { OrderRow, SpecimenRow } from './store.js';

/** What the lab asks of surveillance when a positive confirms a resident's case. */
export type { CaseClassificationRequest, CaseClassifier } from './deps.js';

/** How long a leased message may stay 'sending' before another loop takes it again (a crash mid-send). */
const LEASE_MS = 15 * 60_000;

// ---------------------------------------------------------------------------------------------
// At verification (inside the step's transaction)

/** Queues the verified result for the ordering facility's endpoint, and a positive's card update. */
export async function onVerified(deps: LabDeps, c: Queryable, s: SpecimenRow, o: OrderRow, now: Date): Promise<{ queued: boolean }> {
  const results = deps.results;
  let queued = false;
  if (results && s.patientId) {
    const ep = await getEndpoint(c, o.orderingUnit);
    if (ep?.active) {
      const patient = (await deps.repo.read('Patient', s.patientId, c).catch(() => undefined)) as Patient | undefined;
      const sr =
        o.source === 'fhir' ? ((await deps.repo.read('ServiceRequest', o.id, c).catch(() => undefined)) as ServiceRequest) : undefined;
      const r = await insertOutbox(
        c,
        { specimenId: s.id, facility: ep.facility, patientId: s.patientId, createdAt: now, verifiedAt: s.verifiedAt ?? now },
        (controlId) =>
          buildOru({
            controlId,
            builtAt: now,
            sendingApplication: results.sendingApplication,
            receivingApplication: ep.receivingApplication,
            receivingFacility: ep.receivingFacility,
            specimen: s,
            order: o,
            patient: patient ?? null,
            placerOrder: placerOrderOf(sr),
          }),
      );
      queued = !!r;
    }
  }
  if (s.patientId && s.resultInterpretation === 'positive')
    await insertCaseUpdate(c, {
      specimenId: s.id,
      patientId: s.patientId,
      testCode: s.testCode,
      resultValue: s.resultValue ?? '',
      verifiedAt: s.verifiedAt ?? now,
      createdAt: now,
    });
  return { queued };
}

// ---------------------------------------------------------------------------------------------
// The delivery loop

export interface DeliveryRound {
  sent: number;
  delivered: number;
  retried: number;
  parked: number;
}

type Next = Parameters<typeof recordAttempt>[2];

function decide(
  ep: EndpointRow,
  row: OutboxRow,
  outcome: AttemptRow['outcome'],
  detail: string,
  ack: { code: string; text: string } | null,
  now: Date,
): Next {
  const attempt = row.roundAttempts + 1;
  const retryAt = new Date(now.getTime() + backoffAfter(ep, attempt));
  if (outcome === 'AA') return { status: 'delivered', ackCode: 'AA', ackText: ack?.text ?? '', at: now };
  if (outcome === 'AR')
    return {
      status: 'parked',
      reason: `rejected by the receiver (AR): ${ack?.text || 'no reason given'}`,
      ackCode: 'AR',
      ackText: ack?.text ?? '',
    };
  if (outcome === 'AE') {
    const ae = row.roundAe + 1;
    if (ae >= ep.maxAeAttempts)
      return {
        status: 'parked',
        reason: `the receiver answered AE ${ae} time(s): ${ack?.text || 'no reason given'}`,
        ackCode: 'AE',
        ackText: ack?.text ?? '',
      };
    return { status: 'pending', nextAt: retryAt, error: `AE: ${ack?.text ?? ''}`, ae: true, ackCode: 'AE', ackText: ack?.text ?? '' };
  }
  if (attempt >= ep.maxAttempts)
    return {
      status: 'parked',
      reason: `no acknowledgment after ${attempt} attempt(s) to ${ep.host}:${ep.port}; last: ${detail}`,
      ackCode: null,
      ackText: null,
    };
  return { status: 'pending', nextAt: retryAt, error: detail, ae: false, ackCode: null, ackText: null };
}

/** Sends one endpoint's messages one after another over one connection (opened again after a failure). */
async function sendSeries(deps: LabDeps, facility: string, rows: OutboxRow[], clock: () => Date, round: DeliveryRound): Promise<void> {
  const ep = await getEndpoint(deps.db.pool, facility);
  if (!ep || !ep.active) {
    for (const r of rows)
      await parkWithoutAttempt(
        deps.db.pool,
        r.id,
        `no active MLLP endpoint for ${facility}; set one (PUT /api/lab/endpoints/${facility}) and resend`,
      );
    round.parked += rows.length;
    return;
  }
  const client = new MllpClient(ep.host, ep.port, deps.results!.delivery.connectTimeoutMs);
  try {
    for (const row of rows) {
      const startedAt = clock();
      const sent = await client.send(row.message, ep.ackTimeoutMs);
      const endedAt = clock();
      let outcome: AttemptRow['outcome'];
      let detail: string;
      let ack: { code: string; text: string } | null = null;
      let ackRaw: string | null = null;
      if (sent.kind === 'answer') {
        ackRaw = sent.payload.toString('utf8').slice(0, 4000);
        try {
          const a = readAck(sent.payload);
          if (a.ackedControlId !== row.controlId) {
            outcome = 'mismatch';
            detail = `the answer acknowledges ${a.ackedControlId || '(no control id)'}, not ${row.controlId}`;
            client.close();
          } else {
            outcome = a.code;
            detail = a.text;
            ack = { code: a.code, text: a.text };
          }
        } catch (e) {
          outcome = 'error';
          detail = `the answer is not an ACK: ${(e as Error).message}`;
          client.close();
        }
      } else {
        outcome = sent.kind;
        detail = sent.detail;
      }
      const next = decide(ep, row, outcome, detail, ack, endedAt);
      await deps.db.transaction((c) =>
        recordAttempt(
          c,
          { outboxId: row.id, controlId: row.controlId, host: ep.host, port: ep.port, startedAt, endedAt, outcome, detail, ack: ackRaw },
          next,
        ),
      );
      round.sent++;
      if (next.status === 'delivered') round.delivered++;
      else if (next.status === 'parked') round.parked++;
      else round.retried++;
    }
  } finally {
    client.close();
  }
}

/**
 * One run of the delivery loop: leases the messages due now and sends them, endpoints side by
 * side, each endpoint's messages in order. Returns what happened.
 */
export async function deliverDue(deps: LabDeps, limit = 50): Promise<DeliveryRound> {
  const clock = () => (deps.now ? deps.now() : new Date());
  const round: DeliveryRound = { sent: 0, delivered: 0, retried: 0, parked: 0 };
  if (!deps.results) return round;
  const rows = await claimDue(deps.db.pool, clock(), limit, LEASE_MS);
  if (!rows.length) return round;
  const byFacility = new Map<string, OutboxRow[]>();
  for (const r of rows) {
    const list = byFacility.get(r.facility);
    if (list) list.push(r);
    else byFacility.set(r.facility, [r]);
  }
  await Promise.all([...byFacility].map(([facility, list]) => sendSeries(deps, facility, list, clock, round)));
  return round;
}

/**
 * Positives' report-card updates: the resident's card of a disease the test confirms (the
 * newest one not superseded) is moved to the configured classification by the installed
 * classifier; no such card → 'no-card'; no classifier → 'waiting' with the card named.
 */
export async function applyCaseUpdates(deps: LabDeps, limit = 100): Promise<number> {
  const results = deps.results;
  if (!results) return 0;
  const rows = await pendingCaseUpdates(deps.db.pool, limit);
  const now = () => (deps.now ? deps.now() : new Date());
  for (const u of rows) {
    const diseases = results.diseasesFor(u.testCode);
    if (!diseases.length) {
      await finishCaseUpdate(
        deps.db.pool,
        u.id,
        'no-card',
        null,
        `test ${u.testCode} confirms no notifiable disease (config/lab/results.json)`,
        now(),
      );
      continue;
    }
    const cards = await reportCardsForPatients(deps.db.pool, [u.patientId], ['draft', 'returned', 'submitted', 'reviewed']);
    const card = cards.filter((c) => diseases.some((d) => c.diseaseName.includes(d))).at(-1);
    if (!card) {
      await finishCaseUpdate(
        deps.db.pool,
        u.id,
        'no-card',
        null,
        `no report card of ${diseases.join('/')} for Patient/${u.patientId}`,
        now(),
      );
      continue;
    }
    const classifier = deps.classifier;
    if (!classifier) {
      await finishCaseUpdate(
        deps.db.pool,
        u.id,
        'waiting',
        card.id,
        `report card ${card.id} (${card.diseaseName}, ${card.status}) should become ${results.classification}; no case classifier is installed`,
        now(),
      );
      continue;
    }
    const barcode = (await deps.db.pool.query<{ barcode: string }>('SELECT barcode FROM lab_specimen WHERE id = $1', [u.specimenId]))
      .rows[0]?.barcode;
    try {
      const r = await classifier({
        cardId: card.id,
        patientId: u.patientId,
        classification: results.classification,
        reason: `实验室确诊: 标本 ${barcode ?? u.specimenId} ${u.testCode} 阳性 (${u.resultValue})`,
        specimenId: u.specimenId,
        barcode: barcode ?? '',
        testCode: u.testCode,
      });
      await finishCaseUpdate(deps.db.pool, u.id, r.applied ? 'applied' : 'no-card', card.id, r.detail, now());
    } catch (e) {
      // Set aside with the reason (shown with the specimen); not retried every second.
      await finishCaseUpdate(
        deps.db.pool,
        u.id,
        'waiting',
        card.id,
        `the classifier failed: ${(e as Error).message}`.slice(0, 2000),
        now(),
      );
    }
  }
  return rows.length;
}

// ---------------------------------------------------------------------------------------------
// Endpoints and the outbox (routes)

const endpointView = (e: EndpointRow): EndpointView => ({ ...e, updatedAt: e.updatedAt.toISOString() });

export async function putEndpoint(deps: LabDeps, facility: string, body: EndpointBody, user: string): Promise<EndpointView> {
  const d = deps.results!.delivery;
  const row: EndpointRow = {
    facility,
    host: body.host,
    port: body.port,
    receivingApplication: body.receivingApplication ?? '',
    receivingFacility: body.receivingFacility ?? facility,
    active: body.active ?? true,
    ackTimeoutMs: body.ackTimeoutMs ?? d.ackTimeoutMs,
    maxAttempts: body.maxAttempts ?? d.maxAttempts,
    maxAeAttempts: body.maxAeAttempts ?? d.maxAeAttempts,
    backoffMs: body.backoffMs ?? d.backoffMs,
    maxBackoffMs: Math.max(body.maxBackoffMs ?? d.maxBackoffMs, body.backoffMs ?? d.backoffMs),
    updatedAt: deps.now ? deps.now() : new Date(),
    updatedBy: user,
  };
  await upsertEndpoint(deps.db.pool, row);
  return endpointView(row);
}

export async function endpoints(deps: LabDeps): Promise<EndpointView[]> {
  return (await listEndpoints(deps.db.pool)).map(endpointView);
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export function outboxView(o: OutboxRow): OutboxView {
  return {
    id: o.id,
    controlId: o.controlId,
    specimenId: o.specimenId,
    barcode: o.barcode,
    facility: o.facility,
    patientId: o.patientId,
    status: o.status,
    attempts: o.attempts,
    nextAttemptAt: iso(o.nextAttemptAt),
    lastError: o.lastError,
    parkedReason: o.parkedReason,
    ackCode: o.ackCode,
    ackText: o.ackText,
    createdAt: o.createdAt.toISOString(),
    verifiedAt: o.verifiedAt.toISOString(),
    deliveredAt: iso(o.deliveredAt),
    resentCount: o.resentCount,
  };
}
const attemptView = (a: AttemptRow): AttemptView => ({
  attempt: a.attempt,
  controlId: a.controlId,
  host: a.host,
  port: a.port,
  startedAt: a.startedAt.toISOString(),
  endedAt: a.endedAt.toISOString(),
  outcome: a.outcome,
  detail: a.detail,
  ack: a.ack,
});

export async function outbox(deps: LabDeps, f: { status?: OutboxStatus; facility?: string; limit: number; offset: number }) {
  const r = await listOutbox(deps.db.pool, f);
  return { items: r.items.map(outboxView), total: r.total, limit: f.limit, offset: f.offset };
}

export async function outboxDetail(deps: LabDeps, id: number): Promise<OutboxDetail> {
  const o = await getOutbox(deps.db.pool, id);
  if (!o) throw notFound(`no outbox message ${id}`);
  return { ...outboxView(o), message: o.message, attemptLog: (await attemptsOf(deps.db.pool, id)).map(attemptView) };
}

/** Queues a parked message again (same control id, same bytes); 409 for one not parked. */
export async function resend(deps: LabDeps, id: number, user: string): Promise<OutboxView> {
  const now = deps.now ? deps.now() : new Date();
  const row = await deps.db.transaction(async (c) => {
    const o = await getOutbox(c, id, true);
    if (!o) throw notFound(`no outbox message ${id}`);
    if (o.status === 'delivered')
      throw conflict(
        `message ${o.controlId} was delivered (confirmed by the receiver's ACK on ${iso(o.deliveredAt)}); it is not sent twice`,
      );
    if (o.status !== 'parked') throw conflict(`message ${o.controlId} is ${o.status}: only a parked message is resent`);
    await requeue(c, id, now, user);
    return (await getOutbox(c, id))!;
  });
  deps.onQueued?.();
  return outboxView(row);
}

export type { ResultsConfig };
