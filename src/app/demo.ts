/**
 * Demo data for `npm start`: on the first start (empty store) load the public Synthea data from
 * ../shared/data, then generate the synthetic district (src/simulator) and send it in through
 * the same paths real systems use: FHIR NDJSON through bulk import, and HL7 v2 messages, school
 * and pharmacy feeds and report cards through the server's own HTTP endpoints.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Database } from '../platform/db.js';
import type { AuthService } from '../platform/auth.js';
import { importPath } from '../fhir/import.js';
import type { FhirRepository } from '../fhir/repository.js';
import { surveillanceRuntime } from '../surveillance/index.js';
import { loadDemoEmergency } from './demo-emergency.js';

export interface DemoOptions {
  repo: FhirRepository;
  db: Database;
  app: FastifyInstance;
  auth: AuthService;
  adminPassword: string;
  sharedDir?: string;
  log: (m: string) => void;
  /** Synthetic district size; defaults keep the first start under two minutes. */
  population?: number;
  days?: number;
  /** The last days of the district sent as hospital HL7 v2 messages (default 3). */
  hl7Days?: number;
  /** Also load the US Synthea sample patients from ../shared/data (an import example; off by default). */
  synthea?: boolean;
}

export const DEMO_SEED = 20261122;

export async function loadDemoData(opts: DemoOptions): Promise<void> {
  const { repo, db, log } = opts;
  const existing = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM r_patient');
  if (existing.rows[0]!.n > 0) {
    log(`[demo] the store already holds ${existing.rows[0]!.n} patients; demo data is not loaded again`);
    return;
  }
  const started = Date.now();
  // The default demo is the simulated district alone (Chinese residents, one record per facility);
  // the US Synthea samples stay an import example (opts.synthea, or yifang import ../shared/data/…).
  if (opts.synthea) {
    const shared = opts.sharedDir ?? path.resolve(process.cwd(), '../shared');
    for (const dir of ['data/synthea-fhir-r4-bundles', 'data/synthea-bulk-ndjson-10-patients']) {
      const full = path.join(shared, dir);
      if (!fs.existsSync(full)) {
        log(`[demo] ${full} not found; skipped`);
        continue;
      }
      const stats = await importPath(repo, full);
      log(
        `[demo] ${dir}: ${stats.resources} resources in ${stats.seconds.toFixed(1)} s${stats.errors.length ? `, ${stats.errors.length} rejected` : ''}`,
      );
    }
  }
  await loadSyntheticDistrict(opts);
  // The district's history came in at once: alerts nobody will act on any more close as the daily job would close them.
  const closed = await surveillanceRuntime.get(db)?.engine.closeStale();
  if (closed) log(`[demo] ${closed} alerts from past years closed (no one acted on them and their evidence is over 28 days old)`);
  log(`[demo] demo data loaded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function loadSyntheticDistrict(opts: DemoOptions): Promise<void> {
  const { db, log, app } = opts;
  const population = opts.population ?? 20000;
  const days = opts.days ?? 730;
  if (population <= 0) return;
  const { simulate } = await import('../simulator/index.js');
  const outDir = path.join(db.dataDir ?? path.resolve('data'), 'demo-district');
  const end = new Date();
  const start = new Date(end.getTime() - days * 86_400_000).toISOString().slice(0, 10);
  if (!fs.existsSync(path.join(outDir, 'manifest.json'))) {
    log(`[demo] generating the synthetic district: ${population} residents × ${days} days from ${start}`);
    const t0 = Date.now();
    await simulate({ seed: DEMO_SEED, population, start, days, outDir });
    log(`[demo] generated in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const fhir = await importPath(opts.repo, path.join(outDir, 'fhir'), {
    onProgress: (p) => process.stderr.write(`\r[demo] FHIR import: ${p.resources.toLocaleString()} resources`),
  });
  process.stderr.write('\n');
  log(
    `[demo] district FHIR: ${fhir.resources} resources in ${fhir.seconds.toFixed(0)} s${fhir.errors.length ? `, ${fhir.errors.length} rejected (first: ${fhir.errors[0]!.message})` : ''}`,
  );

  // The district's organizations, areas and places: the simulator's registry files, through the
  // import a user's upload goes through (after the FHIR import, so the registry's versions of the
  // facility Organizations and area Locations are the current ones).
  const { importRegistryDirectory } = await import('../registry/index.js');
  await importRegistryDirectory(opts.db, opts.repo, path.join(outDir, 'registry'), {
    username: 'demo',
    onFile: (file, r) =>
      opts.log(
        r
          ? `[demo] registry ${file}: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged in ${r.seconds.toFixed(1)} s`
          : `[demo] registry ${file} not found; skipped`,
      ),
  });

  // The rest goes through the HTTP endpoints the hospital, school and pharmacy systems use.
  const { token } = await opts.auth.login('admin', opts.adminPassword);
  const post = async (url: string, contentType: string, payload: string) => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      payload,
    });
    if (res.statusCode >= 400) log(`[demo] ${url}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
    return res;
  };
  for (const feed of ['school-absenteeism', 'pharmacy-sales']) {
    const file = path.join(outDir, 'feeds', `${feed}.csv`);
    if (fs.existsSync(file)) await post(`/api/feeds/${feed}`, 'text/csv', fs.readFileSync(file, 'utf8'));
  }
  const cards = path.join(outDir, 'report-cards.ndjson');
  if (fs.existsSync(cards)) {
    const list = fs
      .readFileSync(cards, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
    for (let i = 0; i < list.length; i += 500) await post('/api/report-cards', 'application/json', JSON.stringify(list.slice(i, i + 500)));
  }
  // The HL7 path stores each message in its own transaction with its ACK (tens of messages a
  // second on PGlite), so the demo sends only the most recent days of hospital messages.
  const hl7Days = opts.hl7Days ?? 3;
  const since = new Date(end.getTime() - hl7Days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const hl7Dir = path.join(outDir, 'hl7');
  let messages = 0;
  const t0 = Date.now();
  for (const f of fs.existsSync(hl7Dir) ? fs.readdirSync(hl7Dir) : []) {
    const lines = fs
      .readFileSync(path.join(hl7Dir, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && (l.split('|')[6] ?? '') >= since);
    for (let i = 0; i < lines.length; i += 200) {
      await post('/api/hl7', 'x-application/hl7-v2+er7', lines.slice(i, i + 200).join('\n'));
      messages += Math.min(200, lines.length - i);
      process.stderr.write(`\r[demo] HL7 v2: ${messages.toLocaleString()} messages`);
    }
  }
  process.stderr.write('\n');
  // The emergency side: units, teams, rota and reserves from the registry file, through /api/emergency.
  await loadDemoEmergency(
    outDir,
    async (url, body, method = 'POST') => {
      const res = await app.inject({
        method: method as 'POST' | 'PUT',
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      if (res.statusCode >= 400) log(`[demo] ${url}: HTTP ${res.statusCode} ${res.body.slice(0, 200)}`);
      return { statusCode: res.statusCode, body: res.body };
    },
    log,
  );
  log(
    `[demo] district HL7 v2 (last ${hl7Days} days): ${messages} messages in ${((Date.now() - t0) / 1000).toFixed(0)} s; feeds and ${fs.existsSync(cards) ? 'report cards' : 'no report cards'} loaded`,
  );
}
