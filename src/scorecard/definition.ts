/**
 * Scorecard definitions as data (config/scorecard/*.json), checked at start: an unknown
 * indicator, weights that do not sum to 100, or traffic-light bands that overlap, leave a gap or
 * do not span 0–100 refuse the file, naming it and the item.
 *
 * Bands are half-open intervals [from, to) of the rate in percent; the band ending at 100 includes 100.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { INDICATOR_CATALOGUE } from './indicators.js';

export const COLOURS = ['green', 'yellow', 'red'] as const;
export type Colour = (typeof COLOURS)[number];

const Band = z.object({ colour: z.enum(COLOURS), from: z.number().min(0).max(100), to: z.number().min(0).max(100) });
export type Band = z.infer<typeof Band>;

const Item = z.object({
  key: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a key of lower-case letters, digits and -'),
  name: z.string().min(1),
  weight: z.number().positive(),
  /** An indicator of the catalogue (indicators.ts). */
  indicator: z.string().min(1),
  /** The figure aimed at (percent): at or above it for `higher`, at or below it for `lower`. */
  target: z.number().min(0).max(100),
  targetSource: z.string().min(1),
  bands: z.array(Band).min(2),
  /** Where the item comes from (which assessment list names it, and how far that was checked). */
  source: z.string().min(1),
});
export type ScorecardItem = z.infer<typeof Item> & { better: 'higher' | 'lower' };

const Definition = z.object({
  id: z.string().regex(/^[a-z0-9-]{1,64}$/),
  name: z.string().min(1),
  description: z.string().optional(),
  items: z.array(Item).min(1),
});
export interface ScorecardDefinition {
  id: string;
  name: string;
  description?: string;
  file: string;
  items: ScorecardItem[];
}

export class ScorecardConfigError extends Error {}

/** Checks one definition (parsed JSON); throws naming the file and the item. */
export function parseScorecard(json: unknown, file: string): ScorecardDefinition {
  const r = Definition.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const items = (json as { items?: { key?: string }[] } | null)?.items;
    const item = i.path[0] === 'items' && typeof i.path[1] === 'number' ? items?.[i.path[1]]?.key : undefined;
    throw new ScorecardConfigError(`${file}: ${item ? `item '${item}': ` : ''}${i.path.join('.')}: ${i.message}`);
  }
  const d = r.data;
  const seen = new Set<string>();
  const items: ScorecardItem[] = [];
  for (const it of d.items) {
    const where = `${file}: item '${it.key}'`;
    if (seen.has(it.key)) throw new ScorecardConfigError(`${where}: the key appears twice`);
    seen.add(it.key);
    const ind = INDICATOR_CATALOGUE[it.indicator];
    if (!ind)
      throw new ScorecardConfigError(
        `${where}: unknown indicator '${it.indicator}'; known: ${Object.keys(INDICATOR_CATALOGUE).join(', ')}`,
      );
    const bands = [...it.bands].sort((a, b) => a.from - b.from);
    for (const b of bands) if (b.to <= b.from) throw new ScorecardConfigError(`${where}: band ${b.colour} ${b.from}–${b.to} is empty`);
    if (bands[0]!.from !== 0) throw new ScorecardConfigError(`${where}: bands must start at 0 (first starts at ${bands[0]!.from})`);
    if (bands.at(-1)!.to !== 100) throw new ScorecardConfigError(`${where}: bands must end at 100 (last ends at ${bands.at(-1)!.to})`);
    for (let i = 1; i < bands.length; i++) {
      const a = bands[i - 1]!;
      const b = bands[i]!;
      if (b.from < a.to)
        throw new ScorecardConfigError(`${where}: bands overlap: ${a.colour} ${a.from}–${a.to} and ${b.colour} ${b.from}–${b.to}`);
      if (b.from > a.to) throw new ScorecardConfigError(`${where}: bands leave a gap between ${a.to} and ${b.from}`);
    }
    items.push({ ...it, bands, better: ind.better });
  }
  const sum = d.items.reduce((s, it) => s + it.weight, 0);
  if (Math.abs(sum - 100) > 1e-9)
    throw new ScorecardConfigError(`${file}: weights sum to ${sum}, not 100 (${d.items.map((i) => `${i.key} ${i.weight}`).join(', ')})`);
  return { id: d.id, name: d.name, description: d.description, file, items };
}

export const SCORECARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/scorecard');

/** Every definition in a directory (default config/scorecard/); a bad file or a repeated id throws. */
export function loadScorecards(dir = SCORECARD_DIR): ScorecardDefinition[] {
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const out: ScorecardDefinition[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ScorecardConfigError(`${file}: not JSON (${(e as Error).message})`);
    }
    const def = parseScorecard(json, file);
    const twin = out.find((d) => d.id === def.id);
    if (twin) throw new ScorecardConfigError(`${file}: scorecard id '${def.id}' is also defined in ${twin.file}`);
    out.push(def);
  }
  return out;
}
