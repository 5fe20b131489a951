/**
 * Results back (config/lab/results.json): the delivery defaults an MLLP endpoint takes when it
 * names none, MSH-3 of the ORU^R01, and which report cards a verified positive moves to
 * 确诊病例 (by test code → disease names). Parsed with zod; a bad file throws naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const RESULTS_FILE = path.join(repoRoot, 'config', 'lab', 'results.json');

const Ms = (min: number, max: number) => z.number().int().min(min).max(max);
export const DeliveryPolicy = z
  .object({
    ackTimeoutMs: Ms(50, 600_000),
    connectTimeoutMs: Ms(50, 120_000),
    maxAttempts: Ms(1, 100),
    maxAeAttempts: Ms(1, 100),
    backoffMs: Ms(10, 3_600_000),
    maxBackoffMs: Ms(10, 86_400_000),
  })
  .strict();
export type DeliveryPolicy = z.infer<typeof DeliveryPolicy>;

const ResultsFile = z
  .object({
    $comment: z.string().optional(),
    sendingApplication: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'letters, digits, ".", "_" or "-"'),
    delivery: DeliveryPolicy,
    classification: z.enum(['疑似病例', '临床诊断病例', '确诊病例', '病原携带者']),
    caseDiseases: z.record(z.string().min(1).max(64), z.array(z.string().min(1).max(100)).min(1)),
  })
  .strict();

export interface ResultsConfig {
  sendingApplication: string;
  delivery: DeliveryPolicy;
  classification: string;
  /** The disease names a positive of this test confirms (empty: none). */
  diseasesFor(testCode: string): string[];
}

export function parseResultsConfig(text: string, source = RESULTS_FILE): ResultsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = ResultsFile.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const f = parsed.data;
  const byCode = new Map(Object.entries(f.caseDiseases).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    sendingApplication: f.sendingApplication,
    delivery: f.delivery,
    classification: f.classification,
    diseasesFor: (code) => byCode.get(code.toLowerCase()) ?? [],
  };
}

let loaded: ResultsConfig | undefined;
export function loadResultsConfig(file = RESULTS_FILE): ResultsConfig {
  if (file !== RESULTS_FILE) return parseResultsConfig(fs.readFileSync(file, 'utf8'), file);
  loaded ??= parseResultsConfig(fs.readFileSync(file, 'utf8'), file);
  return loaded;
}

/** The wait before the next attempt after `attempt` failures in a round: doubling from backoffMs, capped. */
export function backoffAfter(policy: Pick<DeliveryPolicy, 'backoffMs' | 'maxBackoffMs'>, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
