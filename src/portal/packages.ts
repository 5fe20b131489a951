/** The service packages residents can sign online (config/portal/packages.json), checked at start. */
import fs from 'node:fs';
import { z } from 'zod';

const Service = z
  .object({
    code: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/),
    title: z.string().min(1).max(100),
    firstAfterDays: z.number().int().min(0).max(365),
    everyDays: z.number().int().min(1).max(366),
    count: z.number().int().min(1).max(52),
  })
  .strict();
const PackagesFile = z
  .object({
    $comment: z.string().optional(),
    packages: z.record(
      z.string().regex(/^[a-z-]{1,40}$/),
      z.object({ name: z.string().min(1).max(100), services: z.array(Service).min(1) }).strict(),
    ),
  })
  .strict();

export type Packages = z.infer<typeof PackagesFile>['packages'];

export const PACKAGES_FILE = new URL('../../config/portal/packages.json', import.meta.url);

/** Reads and checks the packages file; a bad file stops the server, naming the field. */
export function loadPackages(file: URL | string = PACKAGES_FILE): Packages {
  const parsed = PackagesFile.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`config/portal/packages.json: ${i.path.join('.')}: ${i.message}`);
  }
  return parsed.data.packages;
}
