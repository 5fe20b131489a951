/**
 * Multi-point triggering: turns detector alarms into alerts (config/surveillance/fusion.json).
 * `assessEvidence` is pure: which level a set of alarms in one area and window deserves.
 * `fuseDays` walks days in order (live: the touched days; replay: every day), so an alert is
 * created on the first day its rule matches and then grows with later evidence instead of
 * being duplicated.
 *
 * Space-time scan clusters (alerts/scan.ts, surv_scan_cluster) are evidence too: each cluster
 * with p ≤ the scan's evidenceAlpha (0.01; clusters up to alpha 0.05 are only listed) is an
 * alarm in every area it covers, on its run day, under the key
 * 'scan:<signal>' and with the SIGNAL'S OWN SOURCE, not a source kind of its own. Why: the scan
 * reads the very cases the signal's detector reads, so it is not an independent data stream;
 * as a source of its own, one stream's cases would count twice towards "two sources agree"
 * (orange) and a lone syndrome could raise itself. As the same source it adds what the
 * per-area detectors cannot see — a rise spread over several neighbouring streets, each too
 * small to alarm alone — and its p (Monte Carlo, at least 1/(replicates + 1) = 0.001) takes the
 * source's place in the joint p when smaller. So a cluster extends an open alert in its areas,
 * joins a neighbour's alert on the same event, and with another source's alarm in one of its
 * areas opens an orange alert when their joint p reaches the raise gate (events.raiseMaxJointP);
 * alone it never reaches the single-source rule (p ≤ 1e-4), for the same reason as a lone
 * detector alarm at p = 0.001 does not.
 *
 * Events (fusion.json "events", below): alarms of neighbouring streets that share a syndrome
 * group are one event and one alert; a statistical picture is raised only when its joint p
 * reaches raiseMaxJointP, otherwise it stays evidence.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { z } from 'zod';
import type { Database } from '../../platform/db.js';
import { areaAt, type FusionConfig } from '../config.js';
import { configDir } from '../paths.js';
import { addDays } from '../../shared/dates.js';
import type { DetectionAlarm } from './detect.js';
import { areaFeatures } from '../../registry/index.js';
import { areaNeighbours, type Neighbours } from './places.js';
import { scanEvidence, scannedSignal } from './scan.js';
import { fisherCombine, truncatedProductP } from './stats.js';

// ------------------------------------------------------------------------------------ events

/**
 * The "events" section of fusion.json (its reasons and the tuning evidence in that file's
 * "$comment" and in src/surveillance/README.md): when alarms are the same event, and how strong a
 * statistical picture must be before it is raised as an alert.
 * - groups: syndrome groups (gastrointestinal, respiratory, rash, …), each a list of signal keys
 *   or 'prefix:*'. A signal may be in several groups; a signal in none (school absences of any
 *   cause, public reports) is unspecific. Two signals are the same event when they are the same
 *   signal (or its scan cluster) or share a group (relatedSignals): an alarm of a street joins
 *   the open alert of a neighbouring street that holds evidence of the same event within the
 *   window, instead of opening an alert of its own (before, only the very same signal joined, so
 *   one outbreak seen as diarrhoea visits in one street and norovirus positives next door made
 *   two alerts).
 * - splitByGroup (off): sources would agree only within one group (each group's evidence judged
 *   on its own, an alert holding one group's evidence). Measured on the tuned seeds it raised
 *   more alerts, not fewer (a street's gastrointestinal and respiratory chance alarms became two
 *   alerts), so it is kept only to compare with.
 * - raiseMaxJointP: an alert of a statistical rule (minSources, without fixedThreshold or
 *   signals) is raised only when the joint p of its alarms (Fisher over the sources' smallest p,
 *   as the level rules compute it) is at most this; a weaker picture stays evidence in
 *   surv_detection, and may be raised on a later day with more evidence. Fixed-threshold cases
 *   and rule-based events (school:class_cluster) are never gated, nor is the joint weak-evidence
 *   rule (includeWeak): its truncated product already allows for p-values kept for being small,
 *   which Fisher's method on alarms does not. A gated rule that fails the gate is passed over and
 *   the next rule tried (assessEvidence's `gate`).
 * Without the section (or for a FusionConfig given with `events: {}` by a caller): no groups and
 * no gate, the behaviour before 2026-12.
 */
export const EventConfigSchema = z
  .object({
    /** Syndrome group → signal keys or 'prefix:*'. */
    groups: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
    /** Judge each group's evidence on its own (sources agree only within a group). */
    splitByGroup: z.boolean(),
    /** A statistical alert is raised only when its joint p is at most this. */
    raiseMaxJointP: z.number().gt(0).max(1),
  })
  .strict();
export type EventConfig = z.infer<typeof EventConfigSchema>;

export const NO_EVENT_GROUPS: Readonly<EventConfig> = Object.freeze({ groups: {}, splitByGroup: false, raiseMaxJointP: 1 });

/** The "events" section of fusion.json; a bad value stops with a message naming it. */
export function parseEventConfig(raw: unknown): EventConfig {
  if (raw === undefined || raw === null) return NO_EVENT_GROUPS;
  const { $comment: _reasons, ...settings } = raw as Record<string, unknown>;
  const r = EventConfigSchema.partial().safeParse(settings);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`fusion.json: events.${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  return { ...NO_EVENT_GROUPS, ...r.data };
}

const loadedEvents = new Map<string, EventConfig>();

/** The "events" section of config/surveillance/fusion.json (read once per directory). */
export function loadEventConfig(dir = configDir): EventConfig {
  let out = loadedEvents.get(dir);
  if (!out) {
    const fusion = JSON.parse(fs.readFileSync(path.join(dir, 'fusion.json'), 'utf8')) as { events?: unknown };
    out = parseEventConfig(fusion.events);
    loadedEvents.set(dir, out);
  }
  return out;
}

/**
 * The event settings fusion uses with `cfg`: its own "events" when the object carries them (a
 * caller's variant; config.ts's schema does not keep the section), else fusion.json's.
 */
export function eventConfigOf(cfg: FusionConfig): EventConfig {
  const own = (cfg as { events?: unknown }).events;
  return own !== undefined ? parseEventConfig(own) : loadEventConfig();
}

/** The groups a signal belongs to (a scan cluster's: its signal's); empty = unspecific. */
export function signalGroups(events: EventConfig, signal: string): Set<string> {
  const base = scannedSignal(signal);
  const out = new Set<string>();
  for (const [group, keys] of Object.entries(events.groups))
    if (keys.some((k) => (k.endsWith(':*') ? base.startsWith(k.slice(0, -1)) : k === base))) out.add(group);
  return out;
}

/** Groups common to every specific signal of a set; null when none is specific (any group goes). */
export function commonGroups(events: EventConfig, signals: Iterable<string>): Set<string> | null {
  if (!events.splitByGroup) return null;
  const specific = [...signals].map((s) => signalGroups(events, s)).filter((g) => g.size > 0);
  if (!specific.length) return null;
  return new Set([...specific[0]!].filter((x) => specific.every((g) => g.has(x))));
}

/** Whether a signal may go with evidence of these groups (see commonGroups). */
export function fitsGroups(events: EventConfig, signal: string, groups: Set<string> | null): boolean {
  if (groups === null) return true;
  const g = signalGroups(events, signal);
  return !g.size || [...g].some((x) => groups.has(x));
}

/** Two signals tell of the same event: the same signal (or its scan cluster), or a shared group. */
export function relatedSignals(events: EventConfig, a: string, b: string): boolean {
  if (scannedSignal(a) === scannedSignal(b)) return true;
  const ga = signalGroups(events, a);
  return [...signalGroups(events, b)].some((x) => ga.has(x));
}

/** Evidence split by group: each group's signals with the unspecific ones ([null, all] without groups). */
function byGroup(events: EventConfig, evidence: readonly DetectionAlarm[]): [string | null, DetectionAlarm[]][] {
  if (!events.splitByGroup) return [[null, [...evidence]]];
  const names = Object.keys(events.groups);
  const groupsOf = new Map<string, Set<string>>();
  for (const e of evidence) if (!groupsOf.has(e.signal)) groupsOf.set(e.signal, signalGroups(events, e.signal));
  const present = names.filter((g) => [...groupsOf.values()].some((x) => x.has(g)));
  if (!present.length) return [[null, [...evidence]]];
  return present.map((g) => [g, evidence.filter((e) => !groupsOf.get(e.signal)!.size || groupsOf.get(e.signal)!.has(g))]);
}

export interface Assessment {
  /** The syndrome group whose evidence the assessment judged (null without groups). */
  group: string | null;
  /** The matching rule is statistical (agreeing sources, joint p of alarms by Fisher): the raise gate applies to it. */
  statistical: boolean;
  level: string;
  /** Every source in the evidence the assessment saw (alarms and, for a joint rule, weak evidence). */
  sources: string[];
  jointP: number;
  score: number;
  fixed: boolean;
  /** The matching rule counted weak (sub-threshold) evidence. */
  weak: boolean;
}

/** Levels in order of severity (first listed = most severe). */
export function levelOrder(cfg: FusionConfig): string[] {
  return [...new Set(cfg.levels.map((l) => l.level))];
}

/** Joint-evidence settings when fusion.json gives none. */
export const DEFAULT_JOINT_EVIDENCE = { windowDays: 3, truncation: 0.05, sourcesWatched: 6, method: 'truncatedProduct' as const };

interface Picture {
  sources: string[];
  jointP: number;
}

/** Alarms only: per source the smallest p, combined by Fisher's method. */
function alarmPicture(alarms: readonly DetectionAlarm[]): Picture {
  const bySource = new Map<string, number>();
  for (const e of alarms) bySource.set(e.source, Math.min(bySource.get(e.source) ?? 1, e.pValue));
  return { sources: [...bySource.keys()].sort(), jointP: fisherCombine([...bySource.values()]) };
}

/**
 * Alarms and weak evidence of the last jointEvidence.windowDays days up to `day`: per source the
 * smallest p, Bonferroni-corrected for the days looked at; the sources whose corrected p is at
 * most the truncation are combined by the truncated product method over the sources watched
 * (only p-values below the truncation are stored, so Fisher's method on them would overstate
 * the evidence), or by Fisher's method when configured so.
 */
export function jointPicture(cfg: FusionConfig, evidence: readonly DetectionAlarm[], day: string): Picture {
  const j = { ...DEFAULT_JOINT_EVIDENCE, ...cfg.jointEvidence };
  const lo = addDays(day, -(j.windowDays - 1));
  const bySource = new Map<string, number>();
  for (const e of evidence)
    if (!e.fixed && e.day >= lo && e.day <= day) bySource.set(e.source, Math.min(bySource.get(e.source) ?? 1, e.pValue));
  const kept = [...bySource.entries()].map(([s, p]) => [s, Math.min(1, p * j.windowDays)] as const).filter(([, p]) => p <= j.truncation);
  const ps = kept.map(([, p]) => p);
  return {
    sources: kept.map(([s]) => s).sort(),
    jointP: j.method === 'fisher' ? fisherCombine(ps) : truncatedProductP(ps, j.sourcesWatched, j.truncation),
  };
}

/**
 * The level a set of evidence (one area, one window) deserves, by the first matching rule (with
 * events.splitByGroup: per syndrome group, the most severe group's, then the highest score's).
 * Rules see alarms only, unless they say includeWeak: then the joint picture of alarms and weak
 * evidence of the last jointEvidence.windowDays days before `day` (default: the latest evidence day).
 * With `gate` (fuseDays opening an alert: events.raiseMaxJointP) a statistical rule whose joint p
 * is above the gate does not match, and the next rule is tried.
 */
export function assessEvidence(
  cfg: FusionConfig,
  evidence: readonly DetectionAlarm[],
  day?: string,
  events: EventConfig = eventConfigOf(cfg),
  gate?: number,
): Assessment | null {
  if (!evidence.length) return null;
  const order = levelOrder(cfg);
  let best: Assessment | null = null;
  const last = day ?? evidence.reduce((m, e) => (e.day > m ? e.day : m), evidence[0]!.day);
  for (const [group, ev] of byGroup(events, evidence)) {
    const a = assessGroup(cfg, ev, last, group, gate);
    if (!a) continue;
    const [ra, rb] = best ? [order.indexOf(a.level), order.indexOf(best.level)] : [0, 0];
    if (!best || ra < rb || (ra === rb && a.score > best.score)) best = a;
  }
  return best;
}

function assessGroup(
  cfg: FusionConfig,
  evidence: readonly DetectionAlarm[],
  day: string,
  group: string | null,
  gate?: number,
): Assessment | null {
  if (!evidence.length) return null;
  const alarms = evidence.filter((e) => !e.weak);
  const fixed = alarms.some((e) => e.fixed);
  const strict = alarmPicture(alarms);
  let joint: Picture | undefined;
  const allSources = [...new Set(evidence.map((e) => e.source))].sort();
  for (const rule of cfg.levels) {
    const w = rule.when;
    if (w.includeWeak) joint ??= jointPicture(cfg, evidence, day);
    const pic = w.includeWeak ? joint! : strict;
    if (!pic.sources.length) continue;
    if (w.fixedThreshold !== undefined && w.fixedThreshold !== fixed) continue;
    if (w.signals !== undefined && !alarms.some((e) => w.signals!.includes(e.signal))) continue;
    if (w.minSources !== undefined && pic.sources.length < w.minSources) continue;
    if (w.maxJointP !== undefined && !(pic.jointP <= w.maxJointP)) continue;
    // With a gate (opening an alert: events.raiseMaxJointP), a statistical rule whose picture is
    // too weak is passed over and the next rule is tried, so that a rule-based event (a school
    // class cluster) is not lost because a chance alarm of another source made the picture
    // 'two sources agreeing' first. The joint weak-evidence rule is not gated: its truncated
    // product already allows for p-values kept for being small (Fisher on alarms does not).
    const statistical = w.fixedThreshold === undefined && w.signals === undefined && w.includeWeak !== true;
    if (gate !== undefined && statistical && !fixed && !(pic.jointP <= gate)) continue;
    return {
      group,
      statistical,
      level: rule.level,
      sources: allSources,
      jointP: pic.jointP,
      score: -Math.log10(Math.max(pic.jointP, 1e-300)),
      fixed,
      weak: w.includeWeak === true,
    };
  }
  return null;
}

const OPEN = ['new', 'triage', 'suspected', 'confirmed', 'response'];

/** Evidence span of one alert when fusion.json gives none (days from its first evidence). */
export const DEFAULT_MAX_SPAN_DAYS = 28;

/**
 * First evidence day an alert may have and still take evidence of `day`: an alert gathers
 * evidence for at most maxSpanDays from its first evidence; after that it is frozen (its
 * workflow goes on, its evidence no longer grows) and new signals open a new alert.
 */
export function spanStart(cfg: FusionConfig, day: string): string {
  return addDays(day, -((cfg.maxSpanDays ?? DEFAULT_MAX_SPAN_DAYS) - 1));
}

interface AlertRow {
  id: number;
  area_code: string;
  status: string;
  level: string;
  last_evidence_day: string;
  first_evidence_day: string;
}

interface OpenAlert extends AlertRow {
  /** Signals of all its evidence, and of its evidence within the fusion window. */
  signals: string[];
  recent: string[];
  /** Its syndrome groups (commonGroups of its evidence; null: any). */
  groups: Set<string> | null;
}

export interface FusionResult {
  created: number[];
  updated: number[];
}

async function evidenceOf(c: pg.PoolClient, alertId: number): Promise<DetectionAlarm[]> {
  const r = await c.query<{
    signal: string;
    source: string;
    area_code: string;
    day: string;
    method: string;
    observed: number;
    threshold: number | null;
    expected: number;
    p_value: number;
    weak: boolean;
  }>(
    'SELECT signal, source, area_code, day::text AS day, method, observed, threshold, expected, p_value, weak FROM surv_alert_evidence WHERE alert_id = $1',
    [alertId],
  );
  return r.rows.map((x) => ({
    signal: x.signal,
    source: x.source,
    areaCode: x.area_code,
    day: x.day,
    method: x.method,
    observed: x.observed,
    threshold: x.threshold,
    expected: x.expected,
    pValue: x.p_value,
    fixed: x.method === 'cidarsFixed' && x.signal.startsWith('report:'),
    ...(x.weak ? { weak: true } : {}),
  }));
}

async function addEvidence(c: pg.PoolClient, alertId: number, ev: readonly DetectionAlarm[]): Promise<number> {
  if (!ev.length) return 0;
  const r = await c.query(
    `INSERT INTO surv_alert_evidence (alert_id, signal, area_code, day, method, source, observed, threshold, expected, p_value, weak)
     SELECT $1, s, a, d, m, src, o, th, e, p, w FROM unnest($2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::bool[]) AS u(s, a, d, m, src, o, th, e, p, w)
     ON CONFLICT DO NOTHING`,
    [
      alertId,
      ev.map((e) => e.signal),
      ev.map((e) => e.areaCode),
      ev.map((e) => e.day),
      ev.map((e) => e.method),
      ev.map((e) => e.source),
      ev.map((e) => e.observed),
      ev.map((e) => e.threshold),
      ev.map((e) => e.expected),
      ev.map((e) => e.pValue),
      ev.map((e) => e.weak === true),
    ],
  );
  return r.rowCount ?? 0;
}

export type AlertListener = (event: { alertId: number; kind: 'created' | 'updated'; level: string; areaCode: string }) => void;

/** Length of the area-code prefix that identifies an area at `level` (district 6, street 9, community 12). */
const PREFIX_LENGTH = { district: 6, street: 9, community: 12 } as const;

/**
 * Which open alerts of other areas a statistical alarm may join (spatialJoin):
 * - 'neighbours' (the default): alerts whose own area is a neighbour of the alarm's area
 *   (alerts/places.ts: touching boundaries, else near centroids, from the registry), within the
 *   spatialJoin level. An alert's place is then its street and the neighbouring streets its
 *   evidence comes from; it spans the district only when its own evidence is district-level.
 * - 'district': any alert of the district with the same signal (the join before 2026-12; kept to
 *   compare with — on the district-size evaluation such alerts gathered chance alarms of many
 *   streets and scored as well at placebo outbreaks as at the real ones).
 * Fixed-threshold cases always join their disease's alert anywhere in the district (rule 1 of
 * fusion.json: one alert per disease; each case is significant by itself, so its street is exact).
 */
export type SpatialJoinScope = 'neighbours' | 'district';

/** The registry's areas at `level` as a neighbour map (alerts/places.ts). */
export async function loadAreaNeighbours(db: Database, level: string): Promise<Neighbours> {
  const areas = await areaFeatures(db.pool, level);
  return areaNeighbours(areas.map((a) => ({ code: a.code, centroid: a.centroid, boundary: a.boundary })));
}

/**
 * Fuses alarms for the given areas (at the fusion level) on each day of [from, to]. Reads alarms
 * from surv_detection; writes surv_alert, surv_alert_evidence and surv_alert_event. Days are
 * walked in order and, within a day, areas in code order, so that an alert opened in one street
 * is there for the evidence of a neighbouring street on the same or a later day (spatial join).
 */
export async function fuseDays(
  db: Database,
  cfg: FusionConfig,
  opts: {
    from: string;
    to: string;
    areas?: string[];
    labels?: (signal: string) => string;
    areaName?: (code: string) => string;
    onAlert?: AlertListener;
    now?: () => Date;
    /** Neighbouring areas (default: the registry's areas at the fusion level, loaded once per call). */
    neighbours?: Neighbours;
    /** Which alerts of other areas an alarm may join (default 'neighbours'). */
    spatialJoinScope?: SpatialJoinScope;
  },
): Promise<FusionResult> {
  const result: FusionResult = { created: [], updated: [] };
  const windowStart = addDays(opts.from, -(Math.max(cfg.windowDays, cfg.fixedWindowDays ?? 0) - 1));
  // Alarms, and weak (sub-threshold) evidence when some rule can use it.
  const withWeak = cfg.levels.some((l) => l.when.includeWeak);
  const r = await db.query<{
    signal: string;
    source: string;
    area_code: string;
    day: string;
    method: string;
    observed: number;
    threshold: number | null;
    expected: number;
    p_value: number;
    alarm: boolean;
  }>(
    `SELECT signal, source, area_code, day::text AS day, method, observed, threshold, expected, p_value, alarm FROM surv_detection
     WHERE ${withWeak ? 'true' : 'alarm'} AND day BETWEEN $1::date AND $2::date ORDER BY day`,
    [windowStart, opts.to],
  );
  const byArea = new Map<string, DetectionAlarm[]>();
  const addToArea = (e: DetectionAlarm) => {
    const area = areaAt(cfg.areaLevel, e.areaCode.length === 12 ? e.areaCode : e.areaCode.padEnd(12, '0'));
    if (!area || (opts.areas && !opts.areas.includes(area))) return;
    const list = byArea.get(area) ?? [];
    list.push(e);
    byArea.set(area, list);
  };
  for (const e of await scanEvidence(db, windowStart, opts.to)) addToArea(e);
  for (const x of r.rows) {
    addToArea({
      signal: x.signal,
      source: x.source,
      areaCode: x.area_code,
      day: x.day,
      method: x.method,
      observed: x.observed,
      threshold: x.threshold,
      expected: x.expected,
      pValue: x.p_value,
      fixed: x.method === 'cidarsFixed' && x.signal.startsWith('report:'),
      ...(x.alarm ? {} : { weak: true }),
    });
  }
  if (!byArea.size) return result;
  const areas = [...byArea.keys()].sort();
  const order = levelOrder(cfg);
  const joinPrefix = cfg.spatialJoin ? PREFIX_LENGTH[cfg.spatialJoin.level] : null;
  const scope = opts.spatialJoinScope ?? 'neighbours';
  const neighbours = joinPrefix && scope === 'neighbours' ? (opts.neighbours ?? (await loadAreaNeighbours(db, cfg.areaLevel))) : undefined;
  /** Areas whose open alerts an alarm of `area` may join: null = any area within the join prefix. */
  const joinable = (area: string, fixed: boolean): string[] | null => {
    if (fixed || !neighbours) return null;
    return [...(neighbours.get(area) ?? [])].filter((n) => n !== area && n.slice(0, joinPrefix!) === area.slice(0, joinPrefix!));
  };
  const key = (e: DetectionAlarm) => `${e.signal}|${e.areaCode}|${e.day}`;
  const events = eventConfigOf(cfg);
  // The district-wide join is kept to compare with the join before 2026-12: the same signal only
  // (by group, one alert would gather every street's alarms of a syndrome group).
  const sameEvent = (a: string, b: string): boolean =>
    scope === 'district' ? scannedSignal(a) === scannedSignal(b) : relatedSignals(events, a, b);
  await db.transaction(async (c) => {
    // Alarms already attached to an alert (they never start a second one).
    const attached = new Set(
      (
        await c.query<{ k: string }>(
          `SELECT e.signal || '|' || e.area_code || '|' || e.day::text AS k FROM surv_alert_evidence e WHERE e.day >= $1::date`,
          [windowStart],
        )
      ).rows.map((x) => x.k),
    );
    /**
     * Open alerts of the given areas (null: any area sharing `prefix`'s first characters but
     * `prefix`'s own) of one disease key (null: statistical) whose span reaches `span` and whose
     * evidence reaches `lo`, newest first, with their syndrome groups (commonGroups of their
     * evidence) and the signals of their evidence since `lo`.
     */
    const openAlerts = async (
      c: pg.PoolClient,
      q: { areas: string[] | null; prefix?: [string, number]; lo: string; disease: string | null; span: string },
    ): Promise<OpenAlert[]> => {
      const rows = (
        await c.query<AlertRow & { signals: string[]; recent: string[] }>(
          `SELECT a.id, a.status, a.level, a.area_code, a.last_evidence_day::text AS last_evidence_day, a.first_evidence_day::text AS first_evidence_day,
                  array(SELECT DISTINCT e.signal FROM surv_alert_evidence e WHERE e.alert_id = a.id) AS signals,
                  array(SELECT DISTINCT e.signal FROM surv_alert_evidence e WHERE e.alert_id = a.id AND e.day >= $3::date) AS recent
             FROM surv_alert a
            WHERE ($1::text[] IS NULL OR a.area_code = ANY($1::text[]))
              AND ($6::int IS NULL OR (left(a.area_code, $6) = left($7, $6) AND a.area_code <> $7))
              AND a.status = ANY($2::text[]) AND a.last_evidence_day >= $3::date
              AND a.disease_key IS NOT DISTINCT FROM $4 AND a.first_evidence_day >= $5::date
            ORDER BY a.id DESC FOR UPDATE OF a`,
          [q.areas, OPEN, q.lo, q.disease, q.span, q.prefix?.[1] ?? null, q.prefix?.[0] ?? null],
        )
      ).rows;
      return rows.map((r) => ({ ...r, groups: commonGroups(events, r.signals) }));
    };
    /** Adds alarms of `area` to an open alert: evidence, level, score, an event saying so. */
    const extend = async (c: pg.PoolClient, open: OpenAlert, fresh: DetectionAlarm[], area: string, day: string): Promise<void> => {
      await addEvidence(c, open.id, fresh);
      fresh.forEach((e) => attached.add(key(e)));
      const all = await evidenceOf(c, open.id);
      const a = assessEvidence(cfg, all, day, events);
      const level = a && order.indexOf(a.level) < order.indexOf(open.level) ? a.level : open.level;
      const first = all.reduce((m, e) => (e.day < m ? e.day : m), open.first_evidence_day);
      const last = all.reduce((m, e) => (e.day > m ? e.day : m), open.last_evidence_day);
      await c.query(
        `UPDATE surv_alert SET level = $2, sources = $3, score = $4, joint_p = $5, first_evidence_day = $6, last_evidence_day = $7, updated_at = now(), version = version + 1 WHERE id = $1`,
        [open.id, level, a?.sources ?? [...new Set(all.map((e) => e.source))].sort(), a?.score ?? 0, a?.jointP ?? null, first, last],
      );
      const where = open.area_code !== area ? ` from ${opts.areaName?.(area) ?? area}` : '';
      await c.query(`INSERT INTO surv_alert_event (alert_id, action, actor, reason, detail) VALUES ($1, 'evidence', 'system', $2, $3)`, [
        open.id,
        `${fresh.length} new signal(s)${where}${level !== open.level ? `, level ${open.level} → ${level}` : ''}`,
        JSON.stringify({ signals: fresh.map((e) => `${e.signal}@${e.areaCode}@${e.day}`) }),
      ]);
      // Later evidence of the same day sees the alert as it now is.
      open.level = level;
      open.first_evidence_day = first;
      open.last_evidence_day = last;
      for (const e of fresh) if (!open.recent.includes(e.signal)) open.recent.push(e.signal);
      open.groups = commonGroups(events, [...open.signals, ...fresh.map((e) => e.signal)]);
      open.signals = [...new Set([...open.signals, ...fresh.map((e) => e.signal)])];
      result.updated.push(open.id);
      opts.onAlert?.({ alertId: open.id, kind: 'updated', level, areaCode: open.area_code });
    };
    for (let day = opts.from; day <= opts.to; day = addDays(day, 1)) {
      const span = spanStart(cfg, day);
      // Two passes per day: first every area's own open alert takes its new evidence, then the
      // rest joins a neighbour's alert or opens a new one — so a join sees the whole day's evidence.
      for (const [phase, area] of (['own', 'join-or-create'] as const).flatMap((p) => areas.map((a) => [p, a] as const))) {
        const alarms = byArea.get(area)!;
        const todays = alarms.filter((e) => e.day === day);
        if (!todays.length) continue;
        // A case of a fixed-threshold disease is its own alert (one per disease), so it is never
        // hidden inside an unrelated statistical alert; statistical evidence fuses.
        const groups: { disease: string | null; lo: string; windowEv: DetectionAlarm[] }[] = [];
        const fixedLo = addDays(day, -((cfg.fixedWindowDays ?? cfg.windowDays) - 1));
        for (const d of new Set(todays.filter((e) => e.fixed).map((e) => e.signal.slice('report:'.length)))) {
          groups.push({
            disease: d,
            lo: fixedLo,
            windowEv: alarms.filter((e) => e.fixed && e.signal === `report:${d}` && e.day >= fixedLo && e.day <= day),
          });
        }
        const lo = addDays(day, -(cfg.windowDays - 1));
        if (todays.some((e) => !e.fixed))
          groups.push({ disease: null, lo, windowEv: alarms.filter((e) => !e.fixed && e.day >= lo && e.day <= day) });
        for (const { disease, lo, windowEv } of groups) {
          const unattached = windowEv.filter((e) => !attached.has(key(e)));
          // Alarms extend and join alerts; weak evidence only helps open one (joint rule below).
          let candidates = unattached.filter((e) => !e.weak);
          if (!unattached.length) continue;
          // The area's own open alerts (one per syndrome group at most, with groups): each takes
          // the alarms of its group inside its span.
          const own = await openAlerts(c, { areas: [area], lo, disease, span });
          for (const open of own) {
            // Only evidence inside the alert's span joins it (older unattached alarms stay out).
            const fresh = candidates.filter((e) => e.day >= open.first_evidence_day && fitsGroups(events, e.signal, open.groups));
            if (!fresh.length) continue;
            await extend(c, open, fresh, area, day);
            candidates = candidates.filter((e) => !fresh.includes(e));
          }
          if (phase === 'own') continue;
          // Spatial join: the same event (the same signal, or one of its syndrome group) rising in
          // a neighbouring street within the window joins that street's alert (cases living across
          // a street boundary, a canteen, a spreading outbreak); a fixed-threshold disease's case
          // joins its disease's alert anywhere in the district.
          const near = joinable(area, disease !== null);
          const joined: (Set<string> | null)[] = [];
          if (candidates.length && joinPrefix && (near === null || near.length)) {
            const others = await openAlerts(c, { areas: near, prefix: [area, joinPrefix], lo, disease, span });
            // The newest alert that has evidence of the same event since `lo` takes the alarms of
            // its group (all of them without groups).
            const open = others.find((o) => candidates.some((e) => o.recent.some((r) => sameEvent(e.signal, r))));
            if (open) {
              joined.push(open.groups);
              const fresh = candidates.filter((e) => e.day >= open.first_evidence_day && fitsGroups(events, e.signal, open.groups));
              if (fresh.length) await extend(c, open, fresh, area, day);
            }
          }
          const rest = unattached.filter((e) => !attached.has(key(e)));
          if (!rest.length) continue;
          // Raise gate (inside the assessment): a statistical picture too weak to raise stays
          // evidence (it may be raised later, with more) unless a later rule raises it on its own
          // terms; so does one whose group already has an open alert in this area.
          const assessed = assessEvidence(cfg, rest, day, events, events.raiseMaxJointP);
          if (!assessed) continue;
          const a = assessed;
          const groupOnly = a.group === null ? null : new Set([a.group]);
          const overlaps = (g: Set<string> | null) => g === null || groupOnly === null || [...groupOnly].some((x) => g.has(x));
          if (own.some((o) => overlaps(o.groups)) || joined.some(overlaps)) continue;
          // Weak evidence is kept only when the opening rule used it, and only its joint window;
          // the alert holds its group's evidence only (and the unspecific signals).
          const jointLo = addDays(day, -((cfg.jointEvidence?.windowDays ?? DEFAULT_JOINT_EVIDENCE.windowDays) - 1));
          const opening = rest.filter((e) => (!e.weak || (a.weak && e.day >= jointLo)) && fitsGroups(events, e.signal, groupOnly));
          // An alert opens on a day that brings evidence of its own.
          if (!opening.some((e) => e.day === day)) continue;
          // An open alert of this area whose span has ended is frozen: say where its story goes on.
          const frozen = (
            await c.query<{ id: number }>(
              `SELECT id FROM surv_alert WHERE area_code = $1 AND status = ANY($2::text[]) AND last_evidence_day >= $3::date AND disease_key IS NOT DISTINCT FROM $4
                 AND first_evidence_day < $5::date ORDER BY id DESC LIMIT 1`,
              [area, OPEN, lo, disease, span],
            )
          ).rows[0];
          const first = opening.reduce((m, e) => (e.day < m ? e.day : m), day);
          const topSignals = [
            ...new Set(
              [...opening]
                .filter((e) => !e.weak)
                .concat(opening.filter((e) => e.weak))
                .sort((x, y) => x.pValue - y.pValue)
                .map((e) => e.signal),
            ),
          ].slice(0, 3);
          const labelOf = (sig: string) => {
            const base = scannedSignal(sig);
            const text = opts.labels?.(base) ?? base;
            return base !== sig ? `${text}（时空聚集）` : text;
          };
          const title = `${opts.areaName?.(area) ?? area}：${topSignals.map(labelOf).join(' + ')}`;
          const now = opts.now?.() ?? new Date();
          const triage = cfg.triageHours[a.level] ?? 24;
          const ins = await c.query<{ id: number }>(
            `INSERT INTO surv_alert (status, level, area_code, title, disease_key, sources, score, joint_p, first_evidence_day, trigger_day, last_evidence_day, due_at)
             VALUES ('new', $1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id`,
            [
              a.level,
              area,
              title,
              disease,
              a.sources,
              a.score,
              a.jointP,
              first,
              day,
              new Date(now.getTime() + triage * 3_600_000).toISOString(),
            ],
          );
          const id = ins.rows[0]!.id;
          await addEvidence(c, id, opening);
          opening.forEach((e) => attached.add(key(e)));
          await c.query(
            `INSERT INTO surv_alert_event (alert_id, action, to_status, actor, reason, detail) VALUES ($1, 'created', 'new', 'system', $2, $3)`,
            [
              id,
              `${a.sources.length} source(s): ${a.sources.join(', ')}; joint p ${a.jointP.toExponential(2)}${a.weak ? ' (with sub-threshold evidence)' : ''}`,
              JSON.stringify({
                level: a.level,
                signals: opening.map((e) => `${e.signal}@${e.areaCode}@${e.day}${e.weak ? ' (weak)' : ''}`),
              }),
            ],
          );
          if (frozen) {
            await c.query(
              `INSERT INTO surv_alert_event (alert_id, action, actor, reason, detail) VALUES ($1, 'frozen', 'system', $2, $3)`,
              [
                frozen.id,
                `evidence span reached ${cfg.maxSpanDays ?? DEFAULT_MAX_SPAN_DAYS} days; new signals from ${day} form alert #${id}`,
                JSON.stringify({ continuedBy: id }),
              ],
            );
          }
          result.created.push(id);
          opts.onAlert?.({ alertId: id, kind: 'created', level: a.level, areaCode: area });
        }
      }
    }
  });
  return result;
}
