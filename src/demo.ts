/**
 * Demo data for `npm start`: on the first start (empty store) load the public Synthea data from
 * ../shared/data through the same import path as `yifang import`, then the synthetic district
 * when the simulator's output is available.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Database } from './platform/db.js';
import { importPath } from './fhir/import.js';
import type { FhirRepository } from './fhir/repository.js';

export async function loadDemoData(opts: { repo: FhirRepository; db: Database; sharedDir?: string; log: (m: string) => void }): Promise<void> {
  const { repo, db, log } = opts;
  const existing = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM r_patient');
  if (existing.rows[0]!.n > 0) {
    log(`[demo] store already holds ${existing.rows[0]!.n} patients; not loading demo data again`);
    return;
  }
  const shared = opts.sharedDir ?? path.resolve(process.cwd(), '../shared');
  for (const dir of ['data/synthea-fhir-r4-bundles', 'data/synthea-bulk-ndjson-10-patients']) {
    const full = path.join(shared, dir);
    if (!fs.existsSync(full)) {
      log(`[demo] ${full} not found; skipped`);
      continue;
    }
    const stats = await importPath(repo, full);
    log(`[demo] ${dir}: ${stats.resources} resources in ${stats.seconds.toFixed(1)} s${stats.errors.length ? `, ${stats.errors.length} rejected` : ''}`);
  }
}
