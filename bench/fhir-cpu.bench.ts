/**
 * CPU cost per resource of validation and search-value extraction, reference vs compiled.
 *
 * Run directly:  node --import tsx bench/fhir-cpu.bench.ts [--rounds 5]
 * Or from a bench runner: `runFhirCpuBench(['--rounds', '5'])`.
 *
 * Data: every resource of the shared Synthea sample (the bulk NDJSON export and the entries of
 * the patient Bundles, about 4,900 resources of 19 types). Rows: medplum's `validateResource`
 * against `fastValidateResource`, extract.ts's `extractSearchValues` against
 * `fastExtractSearchValues`, and both together, which is the per-resource CPU work of a bulk
 * import before PostgreSQL. Each row: one warm-up pass, then `rounds` timed passes over the data;
 * the wall-clock median and the best process CPU time (user + system, which is steadier on a busy
 * machine) per resource. The last row is a bulk import's whole preparation of an NDJSON line
 * (prepareNdjsonLine: depth check, JSON.parse, validation, extraction and COPY encoding).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { extractSearchValues } from '../src/fhir/extract.js';
import { fastExtractSearchValues } from '../src/fhir/fast-extract.js';
import { fastValidateResource } from '../src/fhir/fast-validate.js';
import { prepareNdjsonLine } from '../src/fhir/import.js';
import { printTable } from './table.js';

const SHARED = process.env['YIFANG_SHARED_DATA'] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/data');

/** The Synthea resources: NDJSON export (without log.ndjson) and the entries of the Bundles. */
export function syntheaSample(dir = SHARED): Resource[] {
  const out: Resource[] = [];
  const nd = path.join(dir, 'synthea-bulk-ndjson-10-patients');
  for (const f of fs.readdirSync(nd).sort()) {
    if (!f.endsWith('.ndjson') || f.startsWith('log')) continue;
    for (const line of fs.readFileSync(path.join(nd, f), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as Resource);
  }
  const bd = path.join(dir, 'synthea-fhir-r4-bundles');
  for (const f of fs
    .readdirSync(bd)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const b = JSON.parse(fs.readFileSync(path.join(bd, f), 'utf8')) as { entry?: { resource: Resource }[] };
    for (const e of b.entry ?? []) out.push(e.resource);
  }
  return out;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function measure<T>(resources: T[], rounds: number, fn: (r: T) => unknown): Timing {
  for (const r of resources) fn(r);
  const walls: number[] = [];
  let cpu = Infinity;
  for (let i = 0; i < rounds; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const r of resources) fn(r);
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  walls.sort((a, b) => a - b);
  return { wallMs: walls[Math.floor(walls.length / 2)]! / resources.length, cpuMs: cpu / resources.length };
}

/** medplum's validateResource, reporting rather than throwing (the data is valid). */
function referenceValidate(r: Resource): boolean {
  try {
    validateResource(r);
    return true;
  } catch {
    return false;
  }
}

export async function runFhirCpuBench(argv: string[] = []): Promise<{ rows: Array<Record<string, string | number>> }> {
  const at = argv.indexOf('--rounds');
  const requested = at >= 0 ? Number(argv[at + 1]) : 5;
  const rounds = Number.isInteger(requested) && requested > 0 ? requested : 5;
  loadDefinitions();
  const resources = syntheaSample();

  // The fast paths must agree with the reference on this data before their timing means anything.
  for (const r of resources) {
    if (!referenceValidate(r) || fastValidateResource(r).length) throw new Error(`Validators disagree on ${r.resourceType}/${r.id}`);
    if (JSON.stringify(extractSearchValues(r)) !== JSON.stringify(fastExtractSearchValues(r)))
      throw new Error(`Extractors disagree on ${r.resourceType}/${r.id}`);
  }

  const cases: [string, string, (r: Resource) => unknown][] = [
    ['validate', 'medplum validateResource', referenceValidate],
    ['validate', 'fastValidateResource', fastValidateResource],
    ['extract', 'extractSearchValues', (r) => extractSearchValues(r)],
    ['extract', 'fastExtractSearchValues', fastExtractSearchValues],
    ['validate + extract', 'reference', (r) => (referenceValidate(r), extractSearchValues(r))],
    ['validate + extract', 'fast', (r) => (fastValidateResource(r), fastExtractSearchValues(r))],
  ];
  const rows: Array<Record<string, string | number>> = [];
  const reference = new Map<string, Timing>();
  for (const [step, impl, fn] of cases) {
    const t = measure(resources, rounds, fn);
    const ref = reference.get(step);
    if (!ref) reference.set(step, t);
    rows.push({
      step,
      implementation: impl,
      'ms/resource (wall, median)': t.wallMs.toFixed(4),
      'ms/resource (CPU, best)': t.cpuMs.toFixed(4),
      'resources/s per core (CPU)': Math.round((1 / t.cpuMs) * 1000),
      speedup: ref ? `${(ref.cpuMs / t.cpuMs).toFixed(1)}×` : '',
    });
  }
  // The whole of a bulk import's CPU work on one NDJSON line before PostgreSQL: depth check and
  // JSON.parse, validation, the meta stamp, extraction and the COPY lines (no reference to compare).
  const lines = resources.map((r) => JSON.stringify(r));
  const lastUpdated = new Date().toISOString();
  const t = measure(lines, rounds, (line) => prepareNdjsonLine(line, lastUpdated));
  rows.push({
    step: 'prepare (whole NDJSON line: parse, depth check, validate, extract, encode)',
    implementation: 'prepareNdjsonLine',
    'ms/resource (wall, median)': t.wallMs.toFixed(4),
    'ms/resource (CPU, best)': t.cpuMs.toFixed(4),
    'resources/s per core (CPU)': Math.round((1 / t.cpuMs) * 1000),
    speedup: '',
  });
  printTable(`FHIR CPU work per resource (${resources.length} Synthea resources, ${rounds} rounds)`, rows);
  return { rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await runFhirCpuBench(process.argv.slice(2));
}
