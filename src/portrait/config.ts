/**
 * The portrait's settings as data (config/portrait/portrait.json), checked at start: which roles
 * are the CDC's, the smallest cell shown outside it, and the standard population of direct age
 * standardisation. A bad file stops the server naming the file and the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ROLE_PERMISSIONS } from '../shared/roles.js';

export const PORTRAIT_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/portrait/portrait.json');

const Band = z.object({ from: z.number().int().min(0), to: z.number().int().nullable(), weight: z.number().positive() });

const PortraitConfigSchema = z.object({
  $comment: z.string().optional(),
  cdcRoles: z.array(z.string()).min(1),
  minCell: z.number().int().min(1).max(100),
  standardPopulation: z.object({ name: z.string(), source: z.string(), bands: z.array(Band).min(2) }),
});
export type PortraitConfig = z.infer<typeof PortraitConfigSchema>;

export class PortraitConfigError extends Error {}

/** Checks a parsed file: known roles, and age bands from 0 that follow each other to an open top band. */
export function parsePortraitConfig(json: unknown, file: string): PortraitConfig {
  const r = PortraitConfigSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new PortraitConfigError(`${file}: ${i.path.join('.')}: ${i.message}`);
  }
  const c = r.data;
  for (const role of c.cdcRoles)
    if (!(role in ROLE_PERMISSIONS)) throw new PortraitConfigError(`${file}: cdcRoles: unknown role '${role}'`);
  const bands = c.standardPopulation.bands;
  if (bands[0]!.from !== 0)
    throw new PortraitConfigError(`${file}: standardPopulation.bands: the first band starts at ${bands[0]!.from}, not 0`);
  for (let i = 0; i < bands.length; i++) {
    const b = bands[i]!;
    const last = i === bands.length - 1;
    if (last && b.to !== null)
      throw new PortraitConfigError(`${file}: standardPopulation.bands.${i}: the last band must be open (to: null)`);
    if (!last && (b.to === null || b.to < b.from))
      throw new PortraitConfigError(`${file}: standardPopulation.bands.${i}: 'to' must be an age at or above ${b.from}`);
    if (!last && bands[i + 1]!.from !== b.to! + 1)
      throw new PortraitConfigError(`${file}: standardPopulation.bands.${i + 1}: starts at ${bands[i + 1]!.from}, expected ${b.to! + 1}`);
  }
  return c;
}

export function loadPortraitConfig(file = PORTRAIT_CONFIG): PortraitConfig {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PortraitConfigError(`${file}: ${(e as Error).message}`);
  }
  return parsePortraitConfig(json, file);
}
