/**
 * The specimen state machine (pure: no I/O; the time of the server is passed in as `now`).
 *
 *   collect → collected ─ship→ in-transit ─receive→ received ─test→ testing ─result→ resulted ─verify→ verified ─report→ reported
 *                                          └─receive (rejected)→ rejected       │
 *   received | testing ─refer→ in-transit (another lab: the same specimen, next hop) ┘
 *
 * Three clocked legs: collection-receipt (from collection, or from the referral scan-out, to the
 * receipt; the collecting or referring unit answers for it), receipt-result (receipt to the
 * verified result; the lab) and result-report (verified result to the delivered report; the lab).
 * A step that is not allowed throws a 409 naming the state and what should come first; a step
 * whose input does not fit (a time in the future or before the last step, the wrong unit) a 422.
 */
import { conflict, unprocessable } from '../platform/errors.js';
import { STATE_ZH, type Leg, type Mode, type State, type Step } from './codes.js';
import type { LabLimits } from './limits.js';

/** What the machine needs of a stored specimen. */
export interface SpecimenSnapshot {
  id: string;
  barcode: string;
  state: State;
  hop: number;
  testCode: string;
  mode: Mode;
  collectingUnit: string;
  /** The unit holding it, or 'shipment:<id>' in transit. */
  holder: string;
  /** The lab it was last received at. */
  lab: string | null;
  shipmentId: number | null;
  leg: Leg | null;
  legUnit: string | null;
  legStartedAt: Date | null;
  legDeadline: Date | null;
  lastAt: Date;
  receivedAt: Date | null;
  rejectedReason: string | null;
}

export interface ShipmentRef {
  id: number;
  fromUnit: string;
  toLab: string;
}

export type StepInput =
  | { step: 'ship'; unit: string; at: Date; shipment: ShipmentRef }
  | { step: 'refer'; unit: string; at: Date; shipment: ShipmentRef }
  | { step: 'receive'; unit: string; at: Date; accepted: boolean; rejectReason?: string; shipmentTo: string | null }
  | { step: 'test'; unit: string; at: Date }
  | { step: 'result'; unit: string; at: Date }
  | { step: 'verify'; unit: string; at: Date }
  | { step: 'report'; unit: string; at: Date };

export interface LegStart {
  leg: Leg;
  unit: string;
  startedAt: Date;
  deadline: Date;
}

export interface LegEnd {
  leg: Leg;
  hop: number;
  unit: string;
  startedAt: Date;
  deadline: Date;
  endedAt: Date;
  /** Ended after its deadline. */
  late: boolean;
}

export interface Transition {
  from: State;
  to: State;
  hop: number;
  holder: string;
  lab: string | null;
  shipmentId: number | null;
  /** The leg that ended with this step, if any. */
  ended?: LegEnd;
  /** The leg the specimen is on after this step (null: none, the loop is over). */
  leg: LegStart | null;
}

/** A refused step that also leaves a custody flag (received twice). */
export class FlaggedStepError extends Error {
  constructor(
    readonly error: ReturnType<typeof conflict>,
    readonly flag: { kind: 'received-twice'; detail: string },
  ) {
    super(error.message);
  }
}

const ALLOWED_FROM: Record<Exclude<Step, 'collect'>, readonly State[]> = {
  ship: ['collected'],
  refer: ['received', 'testing'],
  receive: ['in-transit'],
  test: ['received'],
  result: ['testing'],
  verify: ['resulted'],
  report: ['verified'],
};

const NEXT_HINT: Record<State, string> = {
  collected: "scan 'ship' with a shipment",
  'in-transit': "scan 'receive' at the destination lab",
  received: "scan 'test' (or 'refer' to another lab)",
  rejected: 'nothing: a rejected specimen takes no further step (collect a new one)',
  testing: "scan 'result' (or 'refer' to another lab)",
  resulted: "scan 'verify'",
  verified: "scan 'report' when the report is delivered",
  reported: 'nothing: the loop is closed',
};

const iso = (d: Date) => d.toISOString();

export function legDeadline(limits: LabLimits, testCode: string, mode: Mode, leg: Leg, startedAt: Date): Date {
  return new Date(startedAt.getTime() + limits.hours(testCode, mode, leg) * 3_600_000);
}

/** Refuses a time ahead of the server's clock (beyond the allowed skew), naming both. */
export function checkNotFuture(at: Date, now: Date, limits: LabLimits, what = 'the step'): void {
  if (at.getTime() > now.getTime() + limits.futureSkewMs)
    throw unprocessable(`${what}'s time ${iso(at)} is in the future (server time ${iso(now)}); scan with the time it happened`);
}

/** The first leg of a new specimen, collected at `at` by `unit`. */
export function collectionLeg(limits: LabLimits, testCode: string, mode: Mode, unit: string, at: Date, now: Date): LegStart {
  checkNotFuture(at, now, limits);
  return { leg: 'collection-receipt', unit, startedAt: at, deadline: legDeadline(limits, testCode, mode, 'collection-receipt', at) };
}

/** Applies one scanned step to a specimen; throws a 409/422 naming the problem. */
export function applyStep(s: SpecimenSnapshot, input: StepInput, now: Date, limits: LabLimits): Transition {
  const { step, unit, at } = input;
  checkNotFuture(at, now, limits);
  if (at.getTime() < s.lastAt.getTime())
    throw unprocessable(
      `the ${step} time ${iso(at)} is before specimen ${s.barcode}'s last step (${iso(s.lastAt)}); steps are scanned in the order they happen`,
    );
  if (!ALLOWED_FROM[step].includes(s.state)) {
    if (step === 'receive' && s.state === 'collected')
      throw conflict(`receipt before shipment: specimen ${s.barcode} was collected but never shipped; scan 'ship' with a shipment first`);
    if (step === 'receive' && s.state !== 'rejected' && s.state !== 'reported')
      throw new FlaggedStepError(
        conflict(
          `specimen ${s.barcode} was already received at ${s.lab} on ${s.receivedAt ? iso(s.receivedAt) : '?'} and has not been shipped since: received twice (flagged)`,
        ),
        {
          kind: 'received-twice',
          detail: `scanned in again at ${unit} on ${iso(at)}; already received at ${s.lab} on ${s.receivedAt ? iso(s.receivedAt) : '?'}`,
        },
      );
    if (s.state === 'rejected')
      throw conflict(
        `specimen ${s.barcode} was rejected at receipt (${s.rejectedReason ?? 'no reason given'}): no ${step} may be recorded for it; collect a new specimen`,
      );
    throw conflict(`cannot ${step} specimen ${s.barcode}: it is ${s.state} (${STATE_ZH[s.state]}); next: ${NEXT_HINT[s.state]}`);
  }

  const endLeg = (leg: Leg): LegEnd => {
    const startedAt = s.legStartedAt ?? at;
    const deadline = s.legDeadline ?? at;
    return { leg, hop: s.hop, unit: s.legUnit ?? unit, startedAt, deadline, endedAt: at, late: at.getTime() > deadline.getTime() };
  };
  const start = (leg: Leg, legUnit: string): LegStart => ({
    leg,
    unit: legUnit,
    startedAt: at,
    deadline: legDeadline(limits, s.testCode, s.mode, leg, at),
  });
  const keepLeg: LegStart | null =
    s.leg && s.legUnit && s.legStartedAt && s.legDeadline
      ? { leg: s.leg, unit: s.legUnit, startedAt: s.legStartedAt, deadline: s.legDeadline }
      : null;
  const atLab = () => {
    if (s.lab && unit !== s.lab)
      throw unprocessable(`specimen ${s.barcode} is at lab ${s.lab}; it cannot be scanned for '${step}' at ${unit}`);
  };

  switch (input.step) {
    case 'ship': {
      if (input.shipment.fromUnit !== s.holder)
        throw unprocessable(
          `specimen ${s.barcode} is held by ${s.holder}; shipment ${input.shipment.id} leaves from ${input.shipment.fromUnit}`,
        );
      if (unit !== s.holder) throw unprocessable(`specimen ${s.barcode} is held by ${s.holder}; it cannot be scanned out at ${unit}`);
      return {
        from: s.state,
        to: 'in-transit',
        hop: s.hop,
        holder: `shipment:${input.shipment.id}`,
        lab: s.lab,
        shipmentId: input.shipment.id,
        leg: keepLeg,
      };
    }
    case 'refer': {
      atLab();
      if (input.shipment.fromUnit !== s.lab)
        throw unprocessable(
          `specimen ${s.barcode} is at lab ${s.lab}; shipment ${input.shipment.id} leaves from ${input.shipment.fromUnit}`,
        );
      if (input.shipment.toLab === s.lab)
        throw unprocessable(`a referral goes to another lab; shipment ${input.shipment.id} goes back to ${s.lab}`);
      return {
        from: s.state,
        to: 'in-transit',
        hop: s.hop + 1,
        holder: `shipment:${input.shipment.id}`,
        lab: s.lab,
        shipmentId: input.shipment.id,
        ended: endLeg('receipt-result'),
        leg: start('collection-receipt', s.lab!),
      };
    }
    case 'receive': {
      if (s.shipmentId === null) throw conflict(`receipt before shipment: specimen ${s.barcode} is in no shipment`);
      if (input.shipmentTo && unit !== input.shipmentTo)
        throw unprocessable(`shipment ${s.shipmentId} goes to ${input.shipmentTo}; specimen ${s.barcode} cannot be scanned in at ${unit}`);
      if (!input.accepted && !input.rejectReason?.trim())
        throw unprocessable(`a rejected specimen needs the reason (rejectReason): ${s.barcode}`);
      const ended = endLeg('collection-receipt');
      if (!input.accepted)
        return { from: s.state, to: 'rejected', hop: s.hop, holder: unit, lab: unit, shipmentId: s.shipmentId, ended, leg: null };
      return {
        from: s.state,
        to: 'received',
        hop: s.hop,
        holder: unit,
        lab: unit,
        shipmentId: s.shipmentId,
        ended,
        leg: start('receipt-result', unit),
      };
    }
    case 'test':
      atLab();
      return { from: s.state, to: 'testing', hop: s.hop, holder: s.holder, lab: s.lab, shipmentId: s.shipmentId, leg: keepLeg };
    case 'result':
      atLab();
      return { from: s.state, to: 'resulted', hop: s.hop, holder: s.holder, lab: s.lab, shipmentId: s.shipmentId, leg: keepLeg };
    case 'verify':
      atLab();
      return {
        from: s.state,
        to: 'verified',
        hop: s.hop,
        holder: s.holder,
        lab: s.lab,
        shipmentId: s.shipmentId,
        ended: endLeg('receipt-result'),
        leg: start('result-report', unit),
      };
    case 'report':
      atLab();
      return {
        from: s.state,
        to: 'reported',
        hop: s.hop,
        holder: s.holder,
        lab: s.lab,
        shipmentId: s.shipmentId,
        ended: endLeg('result-report'),
        leg: null,
      };
  }
}

/** A shipment's temperature readings outside its range, as sentences (stored and flagged, never refused). */
export function temperatureProblems(readings: { at: string; celsius: number }[], range: { min: number; max: number }): string[] {
  return readings
    .filter((r) => r.celsius < range.min || r.celsius > range.max)
    .map((r) => `temperature ${r.celsius} °C at ${r.at} is outside ${range.min}–${range.max} °C`);
}
