/**
 * Signal and fusion configuration (config/surveillance/signals.json, fusion.json), validated at
 * start: a signal the platform does not produce, or a detection method the registry does not
 * know, stops the server with a message naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { detectors } from './detectors/index.js';
import { loadNotifiableList, type NotifiableList } from './notifiable.js';
import { configDir } from './paths.js';
import { AREA_LEVELS, SignalConfig as SignalConfigSchema } from './schemas.js';
import { loadSyndromeRules, type SyndromeRules } from './syndromes/classify.js';

export { AREA_LEVELS };
export type AreaLevel = (typeof AREA_LEVELS)[number];

const signalSchema = SignalConfigSchema;
const signalsSchema = z.object({
  version: z.string(),
  weakEvidenceP: z.number().min(0).max(0.5).optional(),
  signals: z.array(signalSchema).min(1),
});
export type SignalConfig = z.infer<typeof signalSchema>;

const levelSchema = z.object({
  level: z.string().min(1),
  name: z.string().min(1),
  when: z.object({
    fixedThreshold: z.boolean().optional(),
    minSources: z.number().int().min(1).optional(),
    maxJointP: z.number().min(0).max(1).optional(),
    /** The evidence holds an alarm of one of these signals (e.g. a rule-based school class cluster). */
    signals: z.array(z.string().min(1)).min(1).optional(),
    /** Sources and joint p are computed over alarms and weak (sub-threshold) evidence together; otherwise over alarms only. */
    includeWeak: z.boolean().optional(),
  }),
});
const fusionSchema = z.object({
  version: z.string(),
  areaLevel: z.enum(AREA_LEVELS),
  windowDays: z.number().int().min(1).max(60),
  /** Window for fixed-threshold diseases (a later case within it is the same event); default windowDays. */
  fixedWindowDays: z.number().int().min(1).max(60).optional(),
  /** An alert gathers evidence for at most this many days from its first evidence, then is frozen. */
  maxSpanDays: z.number().int().min(1).max(366).optional(),
  /** Evidence of another area within this larger area, sharing a signal with an open alert, joins that alert. */
  spatialJoin: z.object({ level: z.enum(AREA_LEVELS) }).optional(),
  /**
   * How rules with includeWeak combine alarms and weak evidence: the last windowDays days, per
   * source the smallest p (× windowDays, Bonferroni over those days), sources at or below
   * truncation combined by the truncated product method over sourcesWatched sources (or Fisher).
   */
  jointEvidence: z
    .object({
      windowDays: z.number().int().min(1).max(14),
      truncation: z.number().gt(0).max(0.5),
      sourcesWatched: z.number().int().min(1),
      method: z.enum(['truncatedProduct', 'fisher']),
    })
    .partial()
    .optional(),
  levels: z.array(levelSchema).min(1),
  triageHours: z.record(z.string(), z.number().positive()),
  responseHours: z.record(z.string(), z.number().positive()),
  /** An alert still 新预警 whose newest evidence is older than this many days closes itself (with an event saying why). */
  autoCloseDays: z.number().int().min(1).max(3650).optional(),
});
export type FusionConfig = z.infer<typeof fusionSchema>;

export interface SurveillanceConfig {
  signals: SignalConfig[];
  fusion: FusionConfig;
  syndromes: SyndromeRules;
  notifiable: NotifiableList;
}

function zodMessage(file: string, err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`;
}

/** Signals the platform produces: exact keys and prefixes with their allowed suffixes. */
export function knownSignal(key: string, syndromes: SyndromeRules, notifiable: NotifiableList): boolean {
  if (key === 'ili' || key === 'school:illness_absence' || key === 'school:class_cluster' || key === 'public:report') return true;
  const [prefix, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  if (!rest) return false;
  if (prefix === 'syndrome') return rest === '*' || syndromes.syndromes.some((s) => s.key === rest && s.key !== 'ili');
  if (prefix === 'report') return rest === '*' || notifiable.diseases.some((d) => d.key === rest);
  if (prefix === 'lab' || prefix === 'pharmacy') return /^(\*|[A-Za-z0-9_-]+)$/.test(rest);
  // sentinel:<fever|respiratory|diarrhoea>:<site code>, each site its own series.
  if (prefix === 'sentinel') return rest === '*' || /^(fever|respiratory|diarrhoea)(:\*|:[^:\s]{1,64})?$/.test(rest);
  return false;
}

export function validateSurveillanceConfig(
  signalsJson: unknown,
  fusionJson: unknown,
  syndromes: SyndromeRules,
  notifiable: NotifiableList,
): { signals: SignalConfig[]; fusion: FusionConfig } {
  const s = signalsSchema.safeParse(signalsJson);
  if (!s.success) throw new Error(zodMessage('signals.json', s.error));
  const seen = new Set<string>();
  for (const [i, sig] of s.data.signals.entries()) {
    if (!knownSignal(sig.key, syndromes, notifiable)) throw new Error(`signals.json: signals.${i}: unknown signal '${sig.key}'`);
    if (!Object.prototype.hasOwnProperty.call(detectors, sig.method)) {
      throw new Error(
        `signals.json: signals.${i} (${sig.key}): unknown detection method '${sig.method}'; known: ${Object.keys(detectors).join(', ')}`,
      );
    }
    if (seen.has(sig.key)) throw new Error(`signals.json: signal '${sig.key}' is listed twice`);
    seen.add(sig.key);
    if (sig.derive && (sig.derive.from === sig.key || !knownSignal(sig.derive.from, syndromes, notifiable)))
      throw new Error(`signals.json: signals.${i} (${sig.key}): derive.from must name another signal (got '${sig.derive.from}')`);
  }
  const signals = s.data.signals.map((sig) => ({ ...sig, weakEvidenceP: sig.weakEvidenceP ?? s.data.weakEvidenceP }));
  const f = fusionSchema.safeParse(fusionJson);
  if (!f.success) throw new Error(zodMessage('fusion.json', f.error));
  const longestWindow = Math.max(f.data.windowDays, f.data.fixedWindowDays ?? 0);
  if (f.data.maxSpanDays !== undefined && f.data.maxSpanDays < longestWindow)
    throw new Error(`fusion.json: maxSpanDays (${f.data.maxSpanDays}) must be at least the longest window (${longestWindow} days)`);
  for (const l of f.data.levels)
    if (!(l.level in f.data.triageHours)) throw new Error(`fusion.json: level '${l.level}' has no triageHours`);
  return { signals, fusion: f.data };
}

export function loadSurveillanceConfig(dir = configDir): SurveillanceConfig {
  const syndromes = loadSyndromeRules();
  const notifiable = loadNotifiableList();
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as unknown;
  const { signals, fusion } = validateSurveillanceConfig(read('signals.json'), read('fusion.json'), syndromes, notifiable);
  return { signals, fusion, syndromes, notifiable };
}

/** The configuration entry that watches a signal: its exact key, else the longest matching 'prefix:*'. */
export function signalConfigFor(signals: readonly SignalConfig[], key: string): SignalConfig | undefined {
  const exact = signals.find((s) => s.key === key);
  if (exact) return exact;
  return signals.find((s) => s.key.endsWith(':*') && key.startsWith(s.key.slice(0, -1)));
}

/** The code of the area at `level` that contains a 12-digit community code ('' if unknown). */
export function areaAt(level: AreaLevel, code: string): string {
  if (!/^\d{12}$/.test(code)) return level === 'district' && /^\d{6}/.test(code) ? code.slice(0, 6) : '';
  if (level === 'community') return code;
  if (level === 'street') return `${code.slice(0, 9)}000`;
  return code.slice(0, 6);
}
