/** The excursion detector (pure, the clock in the readings): episodes, the 30-minute rule, freezing at once, the end. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, feed, isDueForEscalation, isSilent, type DetectorEvent } from './excursion.js';

const M = 60_000;
const t0 = Date.UTC(2026, 5, 1, 8);
const series = (temps: number[], everyMin = 5, from = t0) => temps.map((celsius, i) => ({ at: from + i * everyMin * M, celsius }));
const types = (events: DetectorEvent[]) => events.map((e) => (e.type === 'open' ? `open:${e.kind}` : e.type));

describe('excursion detector', () => {
  it('stays quiet inside 2–8 °C and for a short warm spell', () => {
    expect(feed({}, series([4, 5, 6, 5, 4]), DEFAULT_RULES).events).toEqual([]);
    // 9 °C for 25 min (5 readings, 5 min apart → 20–25 min outside), then back: an episode, no excursion.
    const r = feed({}, series([4, 9, 9.5, 10, 9, 9, 5, 5, 5, 5, 5, 5, 5, 5]), DEFAULT_RULES);
    expect(r.events).toEqual([]);
    expect(r.state.episode).toBeUndefined();
  });

  it('opens one excursion after 30 min outside, cumulative within the episode, and closes it after 30 min back in range', () => {
    // Warm 20 min, in range 10 min (the episode goes on), warm 15 min more: 35 min outside.
    const temps = [5, 9, 9, 9, 9, 6, 6, 9.5, 11, 10, 7, 6, 5, 5, 5, 5, 5, 5, 5];
    const r = feed({}, series(temps), DEFAULT_RULES);
    const seen = types(r.events);
    expect(seen[0]).toBe('open:warm');
    expect(seen.at(-1)).toBe('close');
    expect(new Set(seen.slice(1, -1))).toEqual(new Set(['update']));
    const open = r.events[0] as Extract<DetectorEvent, { type: 'open' }>;
    expect(open.episode.startedAt).toBe(t0 + 5 * M);
    expect(open.episode.outsideMs).toBeGreaterThan(30 * M);
    const close = r.events.at(-1) as Extract<DetectorEvent, { type: 'close' }>;
    expect(close.endedAt).toBe(t0 + 10 * 5 * M);
    expect(close.episode).toMatchObject({ min: 9, max: 11 });
    expect(r.state.episode).toBeUndefined();
  });

  it('opens at once on a reading at or below 0 °C, and turns a warm excursion into a freezing one', () => {
    const r = feed({}, series([5, 1, -0.5]), DEFAULT_RULES);
    expect(types(r.events)).toEqual(['open:freezing']);
    expect(r.events[0]!.episode).toMatchObject({ min: -0.5, startedAt: t0 + 5 * M });
    const warm = feed({}, series([9, 9, 9, 9, 9, 9, 9, 9]), DEFAULT_RULES);
    expect(types(warm.events)[0]).toBe('open:warm');
    const frozen = feed(warm.state, series([0], 5, t0 + 60 * M), DEFAULT_RULES);
    expect(types(frozen.events)).toEqual(['freezing']);
  });

  it('does not count a long silence as time outside, and skips readings older than the last', () => {
    const r = feed(
      {},
      [
        { at: t0, celsius: 9 },
        { at: t0 + 3 * 60 * M, celsius: 9 },
      ],
      DEFAULT_RULES,
    );
    expect(r.state.episode!.outsideMs).toBe(DEFAULT_RULES.maxGapMinutes * M);
    expect(r.events).toEqual([]);
    const late = feed(r.state, [{ at: t0 + M, celsius: -5 }], DEFAULT_RULES);
    expect(late.late).toHaveLength(1);
    expect(late.events).toEqual([]);
  });

  it('decides silence and escalation from the clock it is given', () => {
    const now = new Date(t0 + 60 * M);
    expect(isSilent(new Date(t0 + 29 * M), new Date(t0), now, DEFAULT_RULES)).toBe(true);
    expect(isSilent(new Date(t0 + 31 * M), new Date(t0), now, DEFAULT_RULES)).toBe(false);
    expect(isSilent(null, new Date(t0 + 40 * M), now, DEFAULT_RULES)).toBe(false);
    const raised = new Date(t0);
    expect(isDueForEscalation({ raisedAt: raised, acknowledgedAt: null, escalatedAt: null }, now, DEFAULT_RULES)).toBe(true);
    expect(isDueForEscalation({ raisedAt: raised, acknowledgedAt: now, escalatedAt: null }, now, DEFAULT_RULES)).toBe(false);
    expect(isDueForEscalation({ raisedAt: new Date(t0 + M), acknowledgedAt: null, escalatedAt: null }, now, DEFAULT_RULES)).toBe(false);
  });
});
