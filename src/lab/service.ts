/**
 * The lab loop's operations: orders, shipments and their temperature readings, scans (one step
 * of one specimen, by barcode, in one transaction with its custody event, its FHIR Task and
 * resources, and its audit event), the breach scan, custody verification and the dashboard.
 * The clock is injected (`deps.now`, or `now` arguments) so tests and the bench can move it.
 */
import { randomUUID } from 'node:crypto';
import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { homeAreaCode } from '../shared/home-area.js';
import { LEG_ZH, STATE_ZH, type Leg, type Mode } from './codes.js';
import { checkChain, eventHash, type BrokenLink, type CustodyEvent, type StoredCustodyEvent } from './custody.js';
import { orderServiceRequest, resultObservation, resultReport, specimenResource, specimenTask } from './fhir.js';
import type { LabLimits } from './limits.js';
import type { LabDeps } from './deps.js';
import { modeLookupOf } from './mode-lookup.js';
import { onVerified } from './results.js';
import { onPoolResult, onPoolVerified, onRetestVerified } from './mass-hooks.js';

export type { LabDeps };
import { applyStep, checkNotFuture, collectionLeg, FlaggedStepError, temperatureProblems, type StepInput } from './machine.js';
import type {
  BreachView,
  CustodyReport,
  Dashboard,
  EventView,
  FlagView,
  OrderBody,
  OrderView,
  ReadingsBody,
  ScanAnswer,
  ScanBody,
  ShipmentBody,
  ShipmentView,
  SpecimenDetail,
  SpecimenView,
} from './schemas.js';
import {
  dashboardRows,
  eventChunk,
  eventsOf,
  getOrder,
  getShipment,
  insertEvent,
  insertFlag,
  insertOrder,
  insertShipment,
  insertSpecimen,
  listBreaches,
  listFlags,
  listSpecimens,
  recordLateLeg,
  saveSpecimen,
  scanDueBatch,
  specimenByBarcode,
  specimenPatient,
  updateShipmentReadings,
  type BreachRow,
  type FlagRow,
  type OrderRow,
  type Reading,
  type ShipmentRow,
  type SpecimenFilter,
  type SpecimenRow,
} from './store.js';

export interface Actor {
  user: AuthUser;
  sourceAddress?: string;
  /** The access policy's check of a write about one resident (throws 403 outside the user's scope). */
  authorize?: (patientId: string) => Promise<void>;
  /** Why, in words, when the step is not a person's request (a drill): the audit event's outcome text. */
  reason?: string;
  /** The purpose of use to audit with (a drill's). */
  purpose?: string;
}

const nowOf = (deps: LabDeps) => (deps.now ? deps.now() : new Date());
const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

// ---------------------------------------------------------------------------------------------
// Views

export function orderView(o: OrderRow, limits: LabLimits): OrderView {
  return {
    orderId: o.id,
    serviceRequestId: o.id,
    testCode: o.testCode,
    testName: o.testName,
    limitsGroup: limits.groupOf(o.testCode),
    mode: o.mode,
    patientId: o.patientId,
    orderingUnit: o.orderingUnit,
    investigationId: o.investigationId,
    source: o.source,
    createdAt: o.createdAt.toISOString(),
  };
}

export function specimenView(s: SpecimenRow, now: Date): SpecimenView {
  return {
    id: s.id,
    barcode: s.barcode,
    orderId: s.orderId,
    taskId: s.taskId,
    testCode: s.testCode,
    mode: s.mode,
    patientId: s.patientId,
    state: s.state,
    stateZh: STATE_ZH[s.state],
    hop: s.hop,
    collectingUnit: s.collectingUnit,
    holder: s.holder,
    lab: s.lab,
    shipmentId: s.shipmentId,
    specimenType: s.specimenType,
    container: s.container,
    collector: s.collector,
    collectedAt: iso(s.collectedAt)!,
    receivedAt: iso(s.receivedAt),
    resultAt: iso(s.resultAt),
    verifiedAt: iso(s.verifiedAt),
    reportedAt: iso(s.reportedAt),
    condition: s.condition,
    rejectedReason: s.rejectedReason,
    result: s.resultValue !== null ? { value: s.resultValue, interpretation: s.resultInterpretation } : null,
    leg: s.leg,
    legUnit: s.legUnit,
    legStartedAt: iso(s.legStartedAt),
    legDeadline: iso(s.legDeadline),
    overdue: !!(s.leg && s.legDeadline && s.legDeadline.getTime() <= now.getTime()),
  };
}

const eventView = (e: StoredCustodyEvent): EventView => ({ ...e });

export function breachView(b: BreachRow): BreachView {
  return {
    ...b,
    legZh: LEG_ZH[b.leg],
    startedAt: iso(b.startedAt)!,
    deadline: iso(b.deadline)!,
    detectedAt: iso(b.detectedAt)!,
    closedAt: iso(b.closedAt),
  };
}

const flagView = (f: FlagRow): FlagView => ({ ...f, raisedAt: iso(f.raisedAt)! });

function shipmentView(s: ShipmentRow, warnings: string[] = []): ShipmentView {
  return {
    id: s.id,
    fromUnit: s.fromUnit,
    toLab: s.toLab,
    courier: s.courier,
    sealNumber: s.sealNumber,
    temperature: { min: s.tempMin, max: s.tempMax },
    readings: s.readings,
    outOfRange: s.outOfRange,
    departedAt: iso(s.departedAt),
    createdAt: iso(s.createdAt)!,
    specimens: s.specimens,
    warnings,
  };
}

async function audited(
  deps: LabDeps,
  c: Queryable,
  actor: Actor,
  action: 'C' | 'U',
  subtype: string,
  entities: string[],
  patient?: string | null,
) {
  await deps.audit.recordNow(c, {
    user: actor.user,
    action,
    subtype,
    entities,
    outcome: 'success',
    sourceAddress: actor.sourceAddress,
    ...(actor.reason ? { outcomeText: actor.reason.slice(0, 1000) } : {}),
    ...(actor.purpose ? { purpose: actor.purpose } : {}),
    ...(patient ? { patients: [`Patient/${patient}`] } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Orders

const EMERGENCY_PRIORITIES = new Set(['stat', 'asap', 'urgent']);

/**
 * The mode of an order that names none: the emergency mode in force at `at` for the district or
 * the resident's area (the lookup the emergency module installs), else routine.
 */
async function modeInForce(deps: LabDeps, patient: Patient | undefined, at: Date): Promise<Mode> {
  const lookup = deps.modeLookup ?? modeLookupOf(deps.db);
  return lookup ? lookup(homeAreaCode(patient), at) : 'routine';
}

/** Registers a lab order: a new ServiceRequest, or an existing one (from a hospital) adopted. */
export async function createOrder(deps: LabDeps, body: OrderBody, actor: Actor): Promise<OrderView> {
  const now = nowOf(deps);
  const { repo } = deps;
  let order: OrderRow;
  let sr: ServiceRequest | undefined;
  if (body.serviceRequestId) {
    const found = (await repo.read('ServiceRequest', body.serviceRequestId)) as ServiceRequest;
    const coding = found.code?.coding?.find((c) => c.code);
    const testCode = body.testCode ?? coding?.code;
    if (!testCode) throw unprocessable(`ServiceRequest/${found.id} names no coded test; send testCode`);
    const orderingUnit = body.orderingUnit ?? found.requester?.identifier?.value;
    if (!orderingUnit) throw unprocessable(`ServiceRequest/${found.id} names no requester by organisation code; send orderingUnit`);
    const subject = found.subject?.reference?.match(/^Patient\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
    if (subject && actor.authorize) await actor.authorize(subject);
    order = {
      id: found.id!,
      testCode,
      testSystem: body.testCode ? (body.testSystem ?? null) : (coding?.system ?? null),
      testName: body.testName ?? coding?.display ?? found.code?.text ?? null,
      mode:
        body.mode ??
        (EMERGENCY_PRIORITIES.has(found.priority ?? '')
          ? 'emergency'
          : await modeInForce(
              deps,
              subject ? ((await repo.read('Patient', subject).catch(() => undefined)) as Patient | undefined) : undefined,
              now,
            )),
      patientId: subject ?? null,
      orderingUnit,
      investigationId: body.investigationId ?? null,
      source: 'fhir',
      createdAt: now,
      createdBy: actor.user.username,
    };
  } else {
    if (!body.testCode) throw unprocessable('an order names its test (testCode), or adopts a ServiceRequest (serviceRequestId)');
    if (!body.orderingUnit) throw unprocessable('an order names who ordered it (orderingUnit)');
    const patient = body.patientId ? ((await repo.read('Patient', body.patientId)) as Patient) : undefined;
    order = {
      id: randomUUID(),
      testCode: body.testCode,
      testSystem: body.testSystem ?? null,
      testName: body.testName ?? null,
      mode: body.mode ?? (await modeInForce(deps, patient, now)),
      patientId: body.patientId ?? null,
      orderingUnit: body.orderingUnit,
      investigationId: body.investigationId ?? null,
      source: 'api',
      createdAt: now,
      createdBy: actor.user.username,
    };
    sr = orderServiceRequest(order, body.note);
  }
  await deps.db.transaction(async (c) => {
    if (await getOrder(c, order.id)) throw conflict(`ServiceRequest/${order.id} is already a lab order`);
    if (sr) await repo.update('ServiceRequest', order.id, sr, {}, c);
    await insertOrder(c, order);
    await audited(deps, c, actor, 'C', 'lab-order', [`ServiceRequest/${order.id}`], order.patientId);
  });
  return orderView(order, deps.limits);
}

// ---------------------------------------------------------------------------------------------
// Shipments

function readingsOf(
  input: { at?: string; celsius: number }[],
  now: Date,
  range: { min: number; max: number },
  limits: LabLimits,
): Reading[] {
  return input.map((r) => {
    const at = r.at ? new Date(r.at) : now;
    checkNotFuture(at, now, limits, 'a temperature reading');
    return { at: at.toISOString(), celsius: r.celsius, outOfRange: r.celsius < range.min || r.celsius > range.max };
  });
}

async function flagTemperatures(
  c: Queryable,
  shipment: number,
  unit: string,
  readings: Reading[],
  range: { min: number; max: number },
  now: Date,
  by: string,
) {
  const problems = temperatureProblems(readings, range);
  for (const detail of problems)
    await insertFlag(c, { kind: 'temperature', shipmentId: shipment, unit, detail, raisedAt: now, raisedBy: by });
  return problems;
}

/** A box or batch leaving a unit for a lab: courier, seal, temperature range and readings (out of range: stored, flagged). */
export async function createShipment(deps: LabDeps, body: ShipmentBody, actor: Actor): Promise<ShipmentView> {
  const now = nowOf(deps);
  if (body.fromUnit === body.toLab) throw unprocessable(`a shipment goes from one unit to another; both are ${body.fromUnit}`);
  const range = body.temperature ?? deps.limits.temperature;
  if (range.min >= range.max) throw unprocessable(`temperature range ${range.min}–${range.max} °C: min must be below max`);
  const departedAt = body.departedAt ? new Date(body.departedAt) : null;
  if (departedAt) checkNotFuture(departedAt, now, deps.limits, 'the departure');
  const readings = readingsOf(body.readings, now, range, deps.limits);
  return deps.db.transaction(async (c) => {
    const id = await insertShipment(c, {
      fromUnit: body.fromUnit,
      toLab: body.toLab,
      courier: body.courier,
      sealNumber: body.sealNumber,
      tempMin: range.min,
      tempMax: range.max,
      readings,
      outOfRange: readings.filter((r) => r.outOfRange).length,
      departedAt,
      createdAt: now,
      createdBy: actor.user.username,
    });
    const warnings = await flagTemperatures(c, id, body.fromUnit, readings, range, now, actor.user.username);
    await audited(deps, c, actor, 'C', 'lab-shipment', [`lab shipment ${id}`]);
    return shipmentView((await getShipment(c, id))!, warnings);
  });
}

/** Adds temperature readings (and the departure, if not yet set) to a shipment. */
export async function addReadings(deps: LabDeps, id: number, body: ReadingsBody, actor: Actor): Promise<ShipmentView> {
  const now = nowOf(deps);
  const departedAt = body.departedAt ? new Date(body.departedAt) : null;
  if (departedAt) checkNotFuture(departedAt, now, deps.limits, 'the departure');
  return deps.db.transaction(async (c) => {
    const s = await getShipment(c, id, true);
    if (!s) throw notFound(`no shipment ${id}`);
    const range = { min: s.tempMin, max: s.tempMax };
    const added = readingsOf(body.readings, now, range, deps.limits);
    await updateShipmentReadings(c, id, [...s.readings, ...added], departedAt);
    const warnings = await flagTemperatures(c, id, s.fromUnit, added, range, now, actor.user.username);
    await audited(deps, c, actor, 'U', 'lab-shipment', [`lab shipment ${id}`]);
    return shipmentView((await getShipment(c, id))!, warnings);
  });
}

export async function shipment(deps: LabDeps, id: number): Promise<ShipmentView> {
  const s = await getShipment(deps.db.pool, id);
  if (!s) throw notFound(`no shipment ${id}`);
  return shipmentView(s, temperatureProblems(s.readings, { min: s.tempMin, max: s.tempMax }));
}

// ---------------------------------------------------------------------------------------------
// Scans

type Detail = CustodyEvent['detail'];

async function appendEvent(
  c: Queryable,
  s: SpecimenRow,
  e: Omit<CustodyEvent, 'specimenId' | 'seq' | 'prevHash'>,
): Promise<StoredCustodyEvent> {
  const content: CustodyEvent = { ...e, specimenId: s.id, seq: s.chainSeq + 1, prevHash: s.chainHash };
  const hash = eventHash(content);
  const id = await insertEvent(c, { ...content, hash });
  s.chainSeq = content.seq;
  s.chainHash = hash;
  return { ...content, id, hash };
}

/** One scanned step of one specimen (by barcode): the state machine, custody, clocks, FHIR and audit in one transaction. */
export async function scan(deps: LabDeps, body: ScanBody, actor: Actor): Promise<ScanAnswer> {
  if (body.step === 'collect') return collect(deps, body, actor);
  const now = nowOf(deps);
  const at = body.at ? new Date(body.at) : now;
  if (actor.authorize) {
    // Outside the transaction (the policy reads with its own connection); a specimen's resident never changes.
    const patientId = await specimenPatient(deps.db.pool, body.barcode);
    if (patientId) await actor.authorize(patientId);
  }
  try {
    const answer = await deps.db.transaction(async (c) => {
      const s = await specimenByBarcode(c, body.barcode, true);
      if (!s) throw notFound(`unknown barcode '${body.barcode}': no specimen was collected with it (scan 'collect' first)`);
      const warnings: string[] = [];
      let input: StepInput;
      let ship: ShipmentRow | undefined;
      if (body.step === 'ship' || body.step === 'refer') {
        ship = await getShipment(c, body.shipmentId);
        if (!ship) throw notFound(`no shipment ${body.shipmentId}`);
        input = { step: body.step, unit: body.unit, at, shipment: { id: ship.id, fromUnit: ship.fromUnit, toLab: ship.toLab } };
      } else if (body.step === 'receive') {
        ship = s.shipmentId !== null ? await getShipment(c, s.shipmentId) : undefined;
        input = {
          step: 'receive',
          unit: body.unit,
          at,
          accepted: body.accepted,
          rejectReason: body.rejectReason,
          shipmentTo: ship?.toLab ?? null,
        };
      } else input = { step: body.step, unit: body.unit, at };

      const t = applyStep(s, input, now, deps.limits);
      const order = (await getOrder(c, s.orderId))!;
      const next: SpecimenRow = {
        ...s,
        state: t.to,
        hop: t.hop,
        holder: t.holder,
        lab: t.lab,
        shipmentId: t.shipmentId,
        lastAt: at,
        updatedAt: now,
      };
      const detail: Detail = {};
      switch (body.step) {
        case 'ship':
        case 'refer':
          Object.assign(detail, { courier: ship!.courier, sealNumber: ship!.sealNumber, toLab: ship!.toLab });
          if (body.step === 'refer') detail.referredFrom = s.lab;
          break;
        case 'receive':
          next.receivedAt = at;
          next.firstReceivedAt ??= at;
          next.condition = body.condition ?? null;
          next.rejectedReason = body.accepted ? null : body.rejectReason!;
          Object.assign(detail, { accepted: body.accepted, condition: body.condition ?? null, rejectReason: body.rejectReason ?? null });
          if (ship?.outOfRange)
            warnings.push(
              `shipment ${ship.id} had ${ship.outOfRange} temperature reading(s) outside ${ship.tempMin}–${ship.tempMax} °C: ${temperatureProblems(ship.readings, { min: ship.tempMin, max: ship.tempMax }).join('; ')}`,
            );
          break;
        case 'result':
          await onPoolResult(c, next);
          next.resultAt = at;
          next.resultValue = body.value;
          next.resultInterpretation = body.interpretation ?? null;
          next.observationId ??= randomUUID();
          Object.assign(detail, { value: body.value, interpretation: body.interpretation ?? null });
          break;
        case 'verify':
          next.verifiedAt = at;
          next.reportId ??= randomUUID();
          break;
        case 'report':
          next.reportedAt = at;
          detail.deliveredTo = body.deliveredTo;
          break;
      }
      if (t.ended?.late) {
        await recordLateLeg(c, { specimenId: s.id, testCode: s.testCode, mode: s.mode, ...t.ended }, now);
        warnings.push(
          `the ${t.ended.leg} leg ended ${iso(t.ended.endedAt)}, after its limit ${iso(t.ended.deadline)}: a breach is recorded for ${t.ended.unit}`,
        );
      }
      const sameLeg = t.leg && s.leg === t.leg.leg && s.legStartedAt?.getTime() === t.leg.startedAt.getTime() && s.hop === t.hop;
      next.leg = t.leg?.leg ?? null;
      next.legUnit = t.leg?.unit ?? null;
      next.legStartedAt = t.leg?.startedAt ?? null;
      next.legDeadline = t.leg?.deadline ?? null;
      next.nextDeadline = t.leg ? (sameLeg ? s.nextDeadline : t.leg.deadline) : null;

      const event = await appendEvent(c, next, {
        step: body.step,
        fromState: t.from,
        toState: t.to,
        at: at.toISOString(),
        recordedAt: now.toISOString(),
        byUser: actor.user.username,
        performer: body.performer ?? null,
        unit: body.unit,
        location: body.location ?? null,
        shipmentId: body.step === 'ship' || body.step === 'refer' || body.step === 'receive' ? next.shipmentId : null,
        detail,
      });
      await saveSpecimen(c, next);
      await deps.repo.update('Task', next.taskId, specimenTask(next), {}, c);
      if (body.step === 'receive') await deps.repo.update('Specimen', next.id, specimenResource(next), {}, c);
      if (body.step === 'result' || body.step === 'verify')
        await deps.repo.update('Observation', next.observationId!, resultObservation(next, order), {}, c);
      if (body.step === 'verify') {
        await deps.repo.update('DiagnosticReport', next.reportId!, resultReport(next, order), {}, c);
        warnings.push(...(await onPoolVerified(deps, c, next, actor.user.username, now)));
        await onRetestVerified(c, next);
        await onVerified(deps, c, next, order, now);
      }
      await audited(deps, c, actor, 'U', `lab-${body.step}`, [`Specimen/${next.id}`, `Task/${next.taskId}`], next.patientId);
      return { specimen: specimenView(next, now), event: eventView(event), warnings };
    });
    if (body.step === 'verify') deps.onQueued?.();
    return answer;
  } catch (e) {
    if (e instanceof FlaggedStepError) {
      const s = await specimenByBarcode(deps.db.pool, body.barcode);
      await insertFlag(deps.db.pool, {
        kind: e.flag.kind,
        specimenId: s?.id,
        hop: s?.hop,
        unit: body.unit,
        detail: e.flag.detail,
        raisedAt: now,
        raisedBy: actor.user.username,
      });
      throw e.error;
    }
    throw e;
  }
}

/** A hospital's ServiceRequest scanned at collection before anyone registered it: adopted as the order. */
async function adoptAtCollection(deps: LabDeps, orderId: string, actor: Actor): Promise<OrderRow> {
  const sr = await deps.repo.read('ServiceRequest', orderId).catch(() => undefined);
  if (!sr)
    throw notFound(`unknown order '${orderId}': no lab order or ServiceRequest has this id; register it first (POST /api/lab/orders)`);
  try {
    await createOrder(deps, { serviceRequestId: orderId }, actor);
  } catch (e) {
    // Another collection adopted it at the same moment.
    if ((e as { status?: number }).status !== 409) throw e;
  }
  return (await getOrder(deps.db.pool, orderId))!;
}

/** Collection (a new specimen under its order); `within` runs in the same transaction (a pool's registration). */
export async function collect(
  deps: LabDeps,
  body: Extract<ScanBody, { step: 'collect' }>,
  actor: Actor,
  within?: (c: Queryable, s: SpecimenRow) => Promise<void>,
): Promise<ScanAnswer> {
  const now = nowOf(deps);
  const at = body.at ? new Date(body.at) : now;
  const order = (await getOrder(deps.db.pool, body.orderId)) ?? (await adoptAtCollection(deps, body.orderId, actor));
  if (order.patientId && actor.authorize) await actor.authorize(order.patientId);
  const leg = collectionLeg(deps.limits, order.testCode, order.mode, body.unit, at, now);
  try {
    return await deps.db.transaction(async (c) => {
      const taken = await specimenByBarcode(c, body.barcode);
      if (taken)
        throw conflict(
          `duplicate barcode '${body.barcode}': it already labels specimen ${taken.id}, collected at ${taken.collectingUnit} on ${iso(taken.collectedAt)} for order ${taken.orderId}; use a new barcode`,
        );
      const s: SpecimenRow = {
        id: randomUUID(),
        barcode: body.barcode,
        orderId: order.id,
        taskId: randomUUID(),
        testCode: order.testCode,
        mode: order.mode,
        patientId: order.patientId,
        state: 'collected',
        hop: 0,
        collectingUnit: body.unit,
        holder: body.unit,
        lab: null,
        shipmentId: null,
        specimenType: body.specimenType,
        container: body.container ?? null,
        collector: body.collector,
        collectedAt: at,
        firstReceivedAt: null,
        receivedAt: null,
        resultAt: null,
        verifiedAt: null,
        reportedAt: null,
        condition: null,
        rejectedReason: null,
        resultValue: null,
        resultInterpretation: null,
        observationId: null,
        reportId: null,
        leg: leg.leg,
        legUnit: leg.unit,
        legStartedAt: leg.startedAt,
        legDeadline: leg.deadline,
        nextDeadline: leg.deadline,
        lastAt: at,
        chainSeq: 0,
        chainHash: '',
        updatedAt: now,
      };
      await insertSpecimen(c, s);
      const event = await appendEvent(c, s, {
        step: 'collect',
        fromState: null,
        toState: 'collected',
        at: at.toISOString(),
        recordedAt: now.toISOString(),
        byUser: actor.user.username,
        performer: body.performer ?? body.collector,
        unit: body.unit,
        location: body.location ?? null,
        shipmentId: null,
        detail: { orderId: order.id, specimenType: body.specimenType, container: body.container ?? null, collector: body.collector },
      });
      await saveSpecimen(c, s);
      if (within) await within(c, s);
      await deps.repo.update('Specimen', s.id, specimenResource(s), {}, c);
      await deps.repo.update('Task', s.taskId, specimenTask(s), {}, c);
      await audited(
        deps,
        c,
        actor,
        'C',
        'lab-collect',
        [`Specimen/${s.id}`, `Task/${s.taskId}`, `ServiceRequest/${order.id}`],
        s.patientId,
      );
      return { specimen: specimenView(s, now), event: eventView(event), warnings: [] };
    });
  } catch (e) {
    if ((e as { code?: string }).code === '23505')
      throw conflict(`duplicate barcode '${body.barcode}': another collection took it at the same moment; use a new barcode`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Reads

export async function specimenDetail(deps: LabDeps, barcode: string): Promise<SpecimenDetail> {
  const now = nowOf(deps);
  const s = await specimenByBarcode(deps.db.pool, barcode);
  if (!s) throw notFound(`unknown barcode '${barcode}'`);
  const [order, events, flags, breaches] = await Promise.all([
    getOrder(deps.db.pool, s.orderId),
    eventsOf(deps.db.pool, s.id),
    listFlags(deps.db.pool, { specimenId: s.id, limit: 200, offset: 0 }),
    listBreaches(deps.db.pool, { specimenId: s.id, limit: 200, offset: 0 }),
  ]);
  const broken = checkChain(s.id, events, { seq: s.chainSeq, hash: s.chainHash });
  return {
    ...specimenView(s, now),
    order: orderView(order!, deps.limits),
    events: events.map(eventView),
    custody: { ok: !broken, broken: broken ? { ...broken, barcode: s.barcode } : null },
    breaches: breaches.items.map(breachView),
    flags: flags.items.map(flagView),
  };
}

export async function specimens(deps: LabDeps, f: Omit<SpecimenFilter, 'now'>) {
  const now = nowOf(deps);
  const r = await listSpecimens(deps.db.pool, { ...f, now });
  return { items: r.items.map((s) => specimenView(s, now)), total: r.total, limit: f.limit, offset: f.offset };
}

export async function breaches(deps: LabDeps, f: { limit: number; offset: number; leg?: Leg; unit?: string; open?: boolean }) {
  const r = await listBreaches(deps.db.pool, f);
  return { items: r.items.map(breachView), total: r.total, limit: f.limit, offset: f.offset };
}

export async function flags(deps: LabDeps, f: { limit: number; offset: number; kind?: string }) {
  const r = await listFlags(deps.db.pool, f);
  return { items: r.items.map(flagView), total: r.total, limit: f.limit, offset: f.offset };
}

export async function dashboard(deps: LabDeps, q: { from?: string; to?: string }): Promise<Dashboard> {
  const now = nowOf(deps);
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 86_400_000);
  if (from.getTime() >= to.getTime()) throw unprocessable(`from ${iso(from)} is not before to ${iso(to)}`);
  const d = await dashboardRows(deps.db.pool, now, from, to);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    now: now.toISOString(),
    from: from.toISOString(),
    to: to.toISOString(),
    inFlight: {
      total: d.inFlight.reduce((a, r) => a + r.count, 0),
      overdue: d.inFlight.reduce((a, r) => a + r.overdue, 0),
      byLegAndUnit: d.inFlight.map((r) => ({ ...r, legZh: LEG_ZH[r.leg] })),
    },
    breaches: {
      total: d.breaches.reduce((a, r) => a + r.total, 0),
      open: d.breaches.reduce((a, r) => a + r.open, 0),
      byLegAndUnit: d.breaches.map((r) => ({ ...r, legZh: LEG_ZH[r.leg] })),
    },
    turnaround: d.turnaround.map((r) => ({
      testCode: r.testCode,
      lab: r.lab,
      verified: r.verified,
      receiptToResultHours: { median: round(r.receiptToResultMedian), p90: round(r.receiptToResultP90) },
      collectionToReportHours: { median: round(r.collectionToReportMedian), p90: round(r.collectionToReportP90) },
    })),
    rejections: d.rejections.map((r) => ({ ...r, rate: r.received ? Math.round((r.rejected / r.received) * 10000) / 10000 : 0 })),
  };
}

// ---------------------------------------------------------------------------------------------
// Clocks and custody

/**
 * The breach scan: every specimen whose current leg passed its deadline at `now` and was not yet
 * recorded gets one breach, for the unit answering for the leg (and a no-receipt flag for the
 * collection-receipt leg). Safe to run from several processes at once; each breach is recorded once.
 */
export async function scanBreaches(db: Database, now: Date = new Date(), batch = 2000): Promise<BreachView[]> {
  const out: BreachView[] = [];
  for (;;) {
    const rows = await scanDueBatch(db.pool, now, batch);
    out.push(...rows.map(breachView));
    if (rows.length < batch) return out;
  }
}

/**
 * Checks every specimen's custody chain (for `yifang lab verify`): each event's hash, the link
 * to the event before it, gapless positions and the head the specimen keeps. Names the first
 * broken link and counts the broken chains.
 */
export async function verifyCustody(db: Database, chunk = 500): Promise<CustodyReport> {
  const t0 = performance.now();
  let after = '';
  let specimensSeen = 0;
  let eventsSeen = 0;
  let brokenChains = 0;
  let firstBroken: BrokenLink | null = null;
  for (;;) {
    const { heads, events } = await eventChunk(db.pool, after, chunk);
    if (!heads.length) break;
    const bySpecimen = new Map<string, StoredCustodyEvent[]>();
    for (const e of events) {
      const list = bySpecimen.get(e.specimenId);
      if (list) list.push(e);
      else bySpecimen.set(e.specimenId, [e]);
    }
    for (const h of heads) {
      const chain = bySpecimen.get(h.id) ?? [];
      eventsSeen += chain.length;
      const broken = checkChain(h.id, chain, { seq: h.chainSeq, hash: h.chainHash });
      if (broken) {
        brokenChains++;
        firstBroken ??= { ...broken, barcode: h.barcode };
      }
    }
    specimensSeen += heads.length;
    after = heads[heads.length - 1]!.id;
  }
  return {
    ok: brokenChains === 0,
    specimens: specimensSeen,
    events: eventsSeen,
    brokenChains,
    firstBroken,
    seconds: Math.round((performance.now() - t0) / 10) / 100,
  };
}
