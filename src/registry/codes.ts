/**
 * The registry's codes (config/registry/codes.json): organization types, hospital levels, place
 * types, the nine sentinel place types and area levels, each a FHIR CodeSystem. Checked when
 * first used; a bad file throws naming the problem. Words, not codes: every concept has a
 * Chinese display and an English designation, and names in either language are accepted on import.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CODES_FILE = path.join(repoRoot, 'config', 'registry', 'codes.json');

const Concept = z
  .object({
    code: z.string().min(1),
    display: z.string().min(1),
    designation: z.array(z.object({ language: z.string(), value: z.string() }).strict()).min(1),
  })
  .strict();
const CodeSystem = z
  .object({
    resourceType: z.literal('CodeSystem'),
    id: z.string(),
    url: z.string().url(),
    name: z.string(),
    title: z.string(),
    status: z.literal('active'),
    content: z.literal('complete'),
    concept: z.array(Concept).min(1),
  })
  .strict();
const CodesFile = z.object({ $comment: z.string().optional(), codeSystems: z.array(CodeSystem) }).strict();

export type CodeSystemResource = z.infer<typeof CodeSystem>;
export type CodeSystemId =
  'registry-organization-type' | 'registry-hospital-level' | 'registry-place-type' | 'registry-sentinel-type' | 'registry-area-level';
const REQUIRED: CodeSystemId[] = [
  'registry-organization-type',
  'registry-hospital-level',
  'registry-place-type',
  'registry-sentinel-type',
  'registry-area-level',
];

export interface Codes {
  systems: Map<CodeSystemId, CodeSystemResource>;
  /** The code for a code, Chinese display or English name (case-insensitive), or undefined. */
  resolve(system: CodeSystemId, text: string): string | undefined;
  display(system: CodeSystemId, code: string): string;
  url(system: CodeSystemId): string;
  codes(system: CodeSystemId): string[];
}

export function parseCodes(text: string, source = CODES_FILE): Codes {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`, { cause: e });
  }
  const parsed = CodesFile.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${source}: ${i.path.join('.')}: ${i.message}`);
  }
  const systems = new Map<CodeSystemId, CodeSystemResource>();
  const lookup = new Map<string, Map<string, string>>();
  for (const cs of parsed.data.codeSystems) {
    if (systems.has(cs.id as CodeSystemId)) throw new Error(`${source}: CodeSystem ${cs.id} is listed twice`);
    systems.set(cs.id as CodeSystemId, cs);
    const m = new Map<string, string>();
    for (const c of cs.concept) {
      if (m.get(c.code.toLowerCase()) === c.code) throw new Error(`${source}: ${cs.id}: code ${c.code} is listed twice`);
      // "街道/乡镇" is also found as 街道 and as 乡镇.
      const words = [c.code, c.display, ...c.display.split('/'), ...c.designation.map((d) => d.value)];
      for (const word of words) if (!m.has(word.toLowerCase()) || word === c.code) m.set(word.toLowerCase(), c.code);
    }
    lookup.set(cs.id, m);
  }
  for (const id of REQUIRED) if (!systems.has(id)) throw new Error(`${source}: CodeSystem ${id} is missing`);
  return {
    systems,
    resolve: (system, text) => lookup.get(system)!.get(text.trim().toLowerCase()),
    display: (system, code) => systems.get(system)!.concept.find((c) => c.code === code)?.display ?? code,
    url: (system) => systems.get(system)!.url,
    codes: (system) => systems.get(system)!.concept.map((c) => c.code),
  };
}

let cached: Codes | undefined;
export function registryCodes(): Codes {
  cached ??= parseCodes(fs.readFileSync(CODES_FILE, 'utf8'));
  return cached;
}
