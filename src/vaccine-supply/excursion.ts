/**
 * Temperature excursions, as pure functions with the clock passed in (no I/O).
 *
 * An episode starts with the first reading outside the range (2–8 °C by default) and ends once the
 * readings have stayed inside it for `episodeEndMinutes`; the time after a reading outside the
 * range counts as outside until the next reading (at most `maxGapMinutes`, so a long silence is
 * not counted as hours outside: the silent-sensor alarm covers it). The episode becomes an
 * excursion, with an alarm, when its cumulative time outside passes `excursionMinutes`, or at
 * once when a reading is at or below `freezingCelsius`. One excursion per episode: later readings
 * update its min, max and time outside; the episode's end closes it.
 */

export interface ColdChainRules {
  minCelsius: number;
  maxCelsius: number;
  excursionMinutes: number;
  freezingCelsius: number;
  episodeEndMinutes: number;
  maxGapMinutes: number;
  silentMinutes: number;
  escalateAfterMinutes: number;
}

export const DEFAULT_RULES: ColdChainRules = {
  minCelsius: 2,
  maxCelsius: 8,
  excursionMinutes: 30,
  freezingCelsius: 0,
  episodeEndMinutes: 30,
  maxGapMinutes: 15,
  silentMinutes: 30,
  escalateAfterMinutes: 60,
};

export type ExcursionKind = 'warm' | 'cold' | 'freezing';

export interface Episode {
  startedAt: number;
  lastOutsideAt: number;
  outsideMs: number;
  min: number;
  max: number;
  /** First reading back in range since the last one outside (null while outside). */
  inRangeSince: number | null;
  /** Set once the episode is an excursion. */
  kind: ExcursionKind | null;
  /** The stored excursion's id (the store fills it in after 'open'). */
  excursionId: number | null;
}

/** What the detector keeps per sensor (stored as JSON). */
export interface SensorState {
  last?: { at: number; celsius: number; outside: boolean };
  episode?: Episode;
}

export interface Reading {
  at: number;
  celsius: number;
}

export type DetectorEvent =
  | { type: 'open'; kind: ExcursionKind; episode: Episode; at: number }
  | { type: 'freezing'; episode: Episode; at: number }
  | { type: 'update'; episode: Episode }
  | { type: 'close'; episode: Episode; endedAt: number };

const MIN = 60_000;

export const isOutside = (celsius: number, rules: ColdChainRules) => celsius < rules.minCelsius || celsius > rules.maxCelsius;

/**
 * Feeds one reading, newer than the last one seen, to a sensor's detector. Returns the new state
 * and what happened. Readings older than `state.last` must not be fed (the caller stores them
 * and counts them late).
 */
export function step(state: SensorState, r: Reading, rules: ColdChainRules): { state: SensorState; events: DetectorEvent[] } {
  const events: DetectorEvent[] = [];
  let ep: Episode | undefined = state.episode ? { ...state.episode } : undefined;
  const outside = isOutside(r.celsius, rules);
  if (ep && state.last?.outside) ep.outsideMs += Math.min(r.at - state.last.at, rules.maxGapMinutes * MIN);
  let changed = false;
  if (outside) {
    if (!ep) {
      ep = {
        startedAt: r.at,
        lastOutsideAt: r.at,
        outsideMs: 0,
        min: r.celsius,
        max: r.celsius,
        inRangeSince: null,
        kind: null,
        excursionId: null,
      };
    } else {
      ep.min = Math.min(ep.min, r.celsius);
      ep.max = Math.max(ep.max, r.celsius);
      ep.lastOutsideAt = r.at;
      ep.inRangeSince = null;
    }
    changed = true;
  } else if (ep) {
    if (ep.inRangeSince === null) ep.inRangeSince = r.at;
    if (r.at - ep.inRangeSince >= rules.episodeEndMinutes * MIN) {
      if (ep.kind) events.push({ type: 'close', episode: ep, endedAt: ep.inRangeSince });
      return { state: { last: { at: r.at, celsius: r.celsius, outside } }, events };
    }
    changed = true;
  }
  if (ep) {
    if (!ep.kind) {
      if (ep.min <= rules.freezingCelsius) ep.kind = 'freezing';
      else if (ep.outsideMs > rules.excursionMinutes * MIN) ep.kind = ep.max > rules.maxCelsius ? 'warm' : 'cold';
      if (ep.kind) events.push({ type: 'open', kind: ep.kind, episode: ep, at: r.at });
    } else if (ep.kind !== 'freezing' && ep.min <= rules.freezingCelsius) {
      ep.kind = 'freezing';
      events.push({ type: 'freezing', episode: ep, at: r.at });
    } else if (changed) {
      events.push({ type: 'update', episode: ep });
    }
  }
  return { state: { last: { at: r.at, celsius: r.celsius, outside }, ...(ep ? { episode: ep } : {}) }, events };
}

/** Feeds readings in time order, skipping those not newer than the last seen (returned as late). */
export function feed(
  state: SensorState,
  readings: readonly Reading[],
  rules: ColdChainRules,
): { state: SensorState; events: DetectorEvent[]; late: Reading[] } {
  const sorted = [...readings].sort((a, b) => a.at - b.at);
  const events: DetectorEvent[] = [];
  const late: Reading[] = [];
  let s = state;
  for (const r of sorted) {
    if (s.last && r.at <= s.last.at) {
      late.push(r);
      continue;
    }
    const out = step(s, r, rules);
    s = out.state;
    events.push(...out.events);
  }
  return { state: s, events, late };
}

/** The time before which a sensor's last reading (or its registration) makes it silent now. */
export const silentBefore = (now: Date, rules: ColdChainRules) => new Date(now.getTime() - rules.silentMinutes * MIN);

export function isSilent(lastAt: Date | null, registeredAt: Date, now: Date, rules: ColdChainRules): boolean {
  return (lastAt ?? registeredAt).getTime() < silentBefore(now, rules).getTime();
}

/** Alarms raised before this time, neither acknowledged nor escalated, go to the CDC now. */
export const escalateBefore = (now: Date, rules: ColdChainRules) => new Date(now.getTime() - rules.escalateAfterMinutes * MIN);

export function isDueForEscalation(
  alarm: { raisedAt: Date; acknowledgedAt: Date | null; escalatedAt: Date | null },
  now: Date,
  rules: ColdChainRules,
): boolean {
  return !alarm.acknowledgedAt && !alarm.escalatedAt && alarm.raisedAt.getTime() <= escalateBefore(now, rules).getTime();
}

const KIND_ZH: Record<ExcursionKind, string> = { warm: '温度过高', cold: '温度过低', freezing: '冻结' };

/** The alarm's words for an excursion. */
export function excursionMessage(kind: ExcursionKind, fridgeName: string, ep: Episode, rules: ColdChainRules): string {
  const range = `${rules.minCelsius}–${rules.maxCelsius} °C`;
  if (kind === 'freezing')
    return `${fridgeName}: ${KIND_ZH.freezing} (reading ${ep.min} °C ≤ ${rules.freezingCelsius} °C): vaccines may be damaged at once`;
  return `${fridgeName}: ${KIND_ZH[kind]} (outside ${range} for ${Math.round(ep.outsideMs / MIN)} min, ${ep.min}–${ep.max} °C)`;
}
