/**
 * Per-episode summaries for indicators. The processor and the full recompute store, with each
 * enrolment, what its indicators ask of it as sets of days (PostgreSQL multiranges), so that an
 * indicator for any period and asOf is a SQL aggregate over one row per episode instead of the
 * engine run again over every enrolled resident's facts:
 *
 * - `item_ends`: the last day of each scheduled item; `missed_ends`: of each item never delivered
 *   (规范管理 in a period: some item ended in it and none of them was missed);
 * - marks, one per criterion the programme's indicators use, keyed by what they ask:
 *   `s:<kinds>` the days a service of the kinds was given in the episode (at least one in the
 *   period); `k:<kinds>:<n>` [the day of the n-th such service of the episode, ∞) (n in the
 *   episode), `k:<kinds>:<n>:<within>` the same when that day comes before the episode's start
 *   plus the offset, else empty (n in the episode within an offset of its start); `m:<measure>:<values>` the days on which the latest value of the measure is one of
 *   the values; `df:<item>` [the item's window start, ∞) and `dd:<item>:<within>` [the day it
 *   was delivered (within the offset), ∞) (an item of an episode schedule, which has one per episode);
 * - for a programme whose 规范管理 is a chain of follow-ups (`managed.followUps`, hypertension and
 *   diabetes): `chain_dates`, the day of every follow-up of the chain in order (a sorted array, so
 *   the number in a period is two binary searches, `width_bucket`), the mark `cl:<service>` (the
 *   days of follow-ups that came late: none may fall in the period) and, for `controlled` with
 *   `atLastService`, the mark `ct:<service>` (the days on which the latest follow-up so far met
 *   its targets; with a follow-up in the period that is the period's last one);
 * - for `controlled` by targets on the latest measure (no `atLastService`), the mark `mt:<measure>`:
 *   the days on which the latest day the measure was taken met the targets in force that day.
 *
 * Each set is exactly the engine's answer as a function of the period's judged end (see
 * `meets` and `managedIn` in engine.ts), or of asOf for a criterion `measuredBy: asOf` (the same
 * set, read on another day). "At least n services" counts days (`serviceDays`): in the period it
 * is the number of days of the `s:` mark inside the period, summed in SQL. What cannot be put so
 * (an item of a yearly schedule as `delivered`, `atLastService` on a service that is not a
 * chain) leaves the programme's indicators to the engine at query time. Pure: no I/O.
 */
import type { Criterion, Programme } from './definition.js';
import { addDays, addOffset, atTargetOn, followUpChain, type Episode } from './engine.js';

export type Mark =
  | { kind: 'days'; key: string; kinds: string[] }
  | { kind: 'nth'; key: string; kinds: string[]; n: number; within?: string }
  | { kind: 'measure'; key: string; measure: string; values: string[] }
  | { kind: 'item-from'; key: string; item: string }
  | { kind: 'item-delivered'; key: string; item: string; within?: string }
  | { kind: 'chain-late'; key: string; service: string }
  | { kind: 'at-target'; key: string; service: string }
  | { kind: 'measure-target'; key: string; measure: string };

const kindsOf = (c: { services: string | string[] }) => [c.services].flat();
const kindsKey = (kinds: string[]) => [...kinds].sort().join('+');

export const daysKey = (kinds: string[]) => `s:${kindsKey(kinds)}`;
export const nthKey = (kinds: string[], n: number, within?: string) => `k:${kindsKey(kinds)}:${n}${within ? `:${within}` : ''}`;
export const measureKey = (measure: string, values: string[]) => `m:${measure}:${[...values].sort().join('+')}`;
export const itemFromKey = (item: string) => `df:${item}`;
export const itemDeliveredKey = (item: string, within?: string) => `dd:${item}:${within ?? ''}`;
export const chainLateKey = (service: string) => `cl:${service}`;
export const atTargetKey = (service: string) => `ct:${service}`;
export const measureTargetKey = (measure: string) => `mt:${measure}`;

/** The one service whose follow-ups chain (every version's managed.followUps names it), null when none; undefined when versions differ. */
export function chainService(p: Programme): string | null | undefined {
  // Asked for every resident of every programme (the summary, the next follow-up): once per programme object.
  if (chainCache.has(p)) return chainCache.get(p);
  const services = new Set(p.versions.map((v) => v.managed.followUps?.service ?? null));
  const out = services.size !== 1 ? undefined : [...services][0]!;
  chainCache.set(p, out);
  return out;
}
const chainCache = new WeakMap<Programme, string | null | undefined>();

/** Whether an item code is scheduled in a yearly cycle in some version (then several per episode). */
const yearlyItem = (p: Programme, item: string) =>
  p.versions.some((v) => v.schedule.cycle === 'year' && v.schedule.items.some((it) => it.code === item));

/** The marks one criterion needs; null when it cannot be answered from marks. */
function marksOfCriterion(p: Programme, c: Criterion): Mark[] | null {
  if ('services' in c) {
    const kinds = kindsOf(c);
    if (c.in === 'episode') return [{ kind: 'nth', key: nthKey(kinds, c.min, c.within), kinds, n: c.min, within: c.within }];
    // At least n in the period: the days in the period counted in SQL (the engine counts days too).
    return [{ kind: 'days', key: daysKey(kinds), kinds }];
  }
  if ('delivered' in c) {
    if (yearlyItem(p, c.delivered)) return null;
    return [
      { kind: 'item-from', key: itemFromKey(c.delivered), item: c.delivered },
      { kind: 'item-delivered', key: itemDeliveredKey(c.delivered, c.within), item: c.delivered, within: c.within },
    ];
  }
  if ('controlled' in c) {
    // The readings of the period's last follow-up of a chain against the targets of its day.
    const last = p.controlled?.atLastService;
    if (p.controlled?.byTargets && last && last === chainService(p))
      return [
        { kind: 'at-target', key: atTargetKey(last), service: last },
        { kind: 'days', key: daysKey([last]), kinds: [last] },
      ];
    // The latest reading of the measure against the targets of its day (dyslipidaemia's LDL-C).
    if (p.controlled?.byTargets && !last)
      return [{ kind: 'measure-target', key: measureTargetKey(p.controlled.measure), measure: p.controlled.measure }];
    // Other last services: not a set of days.
    if (p.controlled && (!p.controlled.values || p.controlled.atLastService)) return null;
    return p.controlled?.values
      ? [
          {
            kind: 'measure',
            key: measureKey(p.controlled.measure, p.controlled.values),
            measure: p.controlled.measure,
            values: p.controlled.values,
          },
        ]
      : [];
  }
  if ('measure' in c) return [{ kind: 'measure', key: measureKey(c.measure, c.values), measure: c.measure, values: c.values }];
  if ('managed' in c) {
    const marks: Mark[] = [];
    for (const v of p.versions) {
      // A chain of follow-ups due from one another: its dates and late days (one chained service, no other rule in any version).
      if (v.managed.followUps) {
        if (!chainService(p) || v.managed.allItemsDelivered || v.managed.minServices) return null;
        marks.push({ kind: 'chain-late', key: chainLateKey(v.managed.followUps.service), service: v.managed.followUps.service });
        continue;
      }
      const m = v.managed.minServices;
      if (!m) continue;
      marks.push({ kind: 'days', key: daysKey([m.service]), kinds: [m.service] });
    }
    return marks;
  }
  return [];
}

const criteriaOf = (p: Programme) => p.indicators.flatMap((i) => [...i.denominator.where, ...i.numerator.where]);

/** The marks a programme's indicators need (distinct by key); null when some criterion cannot use marks. */
export function marksOf(p: Programme): Mark[] | null {
  const byKey = new Map<string, Mark>();
  for (const c of criteriaOf(p)) {
    const ms = marksOfCriterion(p, c);
    if (!ms) return null;
    for (const m of ms) byKey.set(m.key, m);
  }
  return [...byKey.values()];
}

const cache = new WeakMap<Programme, Mark[] | null>();
/** marksOf, once per programme object. */
export function programmeMarks(p: Programme): Mark[] | null {
  if (!cache.has(p)) cache.set(p, marksOf(p));
  return cache.get(p)!;
}

// ---- day sets as multirange text ------------------------------------------------------------

export const EMPTY = '{}';
const from = (d: string | null | undefined) => (d ? `{[${d},)}` : EMPTY);

/** Single days (sorted or not, repeated or not). */
function days(ds: string[]): string {
  if (!ds.length) return EMPTY;
  return (
    sortedDays(ds) ??
    `{${[...new Set(ds)]
      .sort()
      .map((d) => `[${d},${addDays(d, 1)})`)
      .join(',')}}`
  );
}

/**
 * `days` of a list already in order (repeats allowed), without the set and the sort; null when
 * the list is out of order, for `days` to sort it. Most lists (services, chains) come sorted.
 */
function sortedDays(ds: readonly string[]): string | null {
  let out = '{';
  let last: string | undefined;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    if (last !== undefined) {
      if (d === last) continue;
      if (d < last) return null;
      out += ',';
    }
    out += `[${d},${addDays(d, 1)})`;
    last = d;
  }
  return last === undefined ? EMPTY : out + '}';
}

/**
 * The days on which the latest day the measure was taken met the targets in force that day
 * (`controlledOn` by targets without `atLastService`: the readings of the latest day measured).
 */
function measureTargetDays(p: Programme, ep: Episode, measure: string, birthDate: string | null): string {
  const dates = [...new Set(ep.measures.filter((m) => m.measure === measure).map((m) => m.date))].sort();
  return daysWhileLatestOk(dates.map((date) => ({ date, ok: atTargetOn(p, ep, birthDate, { date }) === true })));
}

/** The days on which the latest value of a measure (by date, then record) is one of the values. */
function measureDays(ep: Episode, measure: string, values: string[]): string {
  // ep.measures is sorted by date then ref: the last entry of a day is that day's latest.
  return daysWhileLatestOk(
    ep.measures.filter((m) => m.measure === measure).map((m) => ({ date: m.date, ok: m.codes.some((c) => values.includes(c)) })),
  );
}

/**
 * The days on which the latest of dated yes/no states (in date order; the last of a day is that
 * day's) says yes, as a multirange: from each day it turns yes to the next day with a state.
 */
function daysWhileLatestOk(events: readonly { date: string; ok: boolean }[]): string {
  const states: { date: string; ok: boolean }[] = [];
  for (const e of events) {
    if (states.at(-1)?.date === e.date) states.at(-1)!.ok = e.ok;
    else states.push({ date: e.date, ok: e.ok });
  }
  const spans: string[] = [];
  states.forEach((s, k) => {
    if (s.ok) spans.push(`[${s.date},${states[k + 1]?.date ?? ''})`);
  });
  return spans.length ? `{${spans.join(',')}}` : EMPTY;
}

export interface EpisodeSummary {
  item_ends: string;
  missed_ends: string;
  mark_keys: string[];
  mark_days: string[];
  chain_dates: string[];
}

/** The days on which the latest follow-up so far (by date, then record) met its targets. */
function atTargetDays(chain: { date: string; atTarget: boolean | null }[]): string {
  return daysWhileLatestOk(chain.map((g) => ({ date: g.date, ok: g.atTarget === true })));
}

/**
 * The summary of one episode. `since`: the stored range starts here (the stored yearly items
 * start in its year), so service days before it are left out: no period the summaries answer
 * starts earlier.
 */
export function summarise(p: Programme, ep: Episode, since: string, birthDate: string | null = null): EpisodeSummary {
  const marks = programmeMarks(p) ?? [];
  const mark_keys: string[] = [];
  const mark_days: string[] = [];
  const service = usesChain(p, marks) ? chainService(p) : null;
  // The chain from the episode's first follow-up (due dates run on from before `since`); stored from `since` on.
  const chain = service ? followUpChain(p, ep, birthDate, service).filter((g) => g.date >= since) : [];
  const picked = scratch;
  for (const m of marks) {
    mark_keys.push(m.key);
    if (m.kind === 'chain-late') {
      picked.length = 0;
      for (const g of chain) if (!g.onTime) picked.push(g.date);
      mark_days.push(days(picked));
    } else if (m.kind === 'at-target') mark_days.push(atTargetDays(chain));
    else if (m.kind === 'days') {
      picked.length = 0;
      for (const s of ep.services) if (s.date >= since && m.kinds.includes(s.service)) picked.push(s.date);
      mark_days.push(days(picked));
    } else if (m.kind === 'nth') {
      // The n-th day with such a service (serviceDays in engine.ts: a day counts once).
      const nth = nthDay(ep, m.kinds, m.n);
      // within: only when the n-th came before the episode's start plus the offset (else never).
      mark_days.push(from(nth !== undefined && (m.within === undefined || nth < addOffset(ep.start, m.within)) ? nth : null));
    } else if (m.kind === 'measure') mark_days.push(measureDays(ep, m.measure, m.values));
    else if (m.kind === 'measure-target') mark_days.push(measureTargetDays(p, ep, m.measure, birthDate));
    else {
      const it = ep.items.find((i) => i.code === m.item);
      if (m.kind === 'item-from') mark_days.push(from(it?.from));
      else
        mark_days.push(
          from(it?.deliveredOn && (m.within === undefined || it.deliveredOn < addOffset(it.base, m.within)) ? it.deliveredOn : null),
        );
    }
  }
  picked.length = 0;
  for (const it of ep.items) picked.push(addDays(it.to, -1));
  const item_ends = days(picked);
  picked.length = 0;
  for (const it of ep.items) if (!it.deliveredOn) picked.push(addDays(it.to, -1));
  const missed_ends = days(picked);
  picked.length = 0;
  const chain_dates: string[] = new Array<string>(chain.length);
  for (let i = 0; i < chain.length; i++) chain_dates[i] = chain[i]!.date;
  return { item_ends, missed_ends, mark_keys, mark_days, chain_dates };
}

/** One list of days reused by every summary (read at once by `days`), so that none is allocated per mark. */
const scratch: string[] = [];

const chainMarks = new WeakMap<Programme, boolean>();
/** Whether a programme's marks read its chain of follow-ups, once per programme object. */
function usesChain(p: Programme, marks: readonly Mark[]): boolean {
  let out = chainMarks.get(p);
  if (out === undefined) chainMarks.set(p, (out = marks.some((m) => m.kind === 'chain-late' || m.kind === 'at-target')));
  return out;
}

/**
 * The n-th distinct day (from the first) of the episode's services of the kinds. Services come in
 * date order, so distinct days are counted as they come; out of order, the days are sorted first.
 */
function nthDay(ep: Episode, kinds: readonly string[], n: number): string | undefined {
  let last: string | undefined;
  let nth: string | undefined;
  let count = 0;
  // Read to the end even once found: a later service out of order would change which day is n-th.
  for (const s of ep.services) {
    if (s.date === last || !kinds.includes(s.service)) continue;
    if (last !== undefined && s.date < last) {
      const dates = [...new Set(ep.services.filter((x) => kinds.includes(x.service)).map((x) => x.date))].sort();
      return dates[n - 1];
    }
    last = s.date;
    if (++count === n) nth = last;
  }
  return nth;
}
