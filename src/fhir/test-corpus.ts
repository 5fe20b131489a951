/**
 * The shared test corpus for the compiled FHIR paths: every resource of the R4 examples (and the
 * entries of example Bundles), the Synthea NDJSON export and the Synthea Bundle entries, plus a
 * small seeded PRNG for mutation tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Resource } from '@medplum/fhirtypes';

export const DATA =
  process.env['YIFANG_SHARED_DATA'] ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../shared/data');

export interface Sample {
  src: string;
  resource: Resource;
}

/** Every resource of the shared data: examples (and the entries of example Bundles), Synthea NDJSON, Synthea Bundle entries. */
export function corpus(): Sample[] {
  const out: Sample[] = [];
  const examples = path.join(DATA, 'fhir-r4-examples');
  for (const f of fs
    .readdirSync(examples)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const r = JSON.parse(fs.readFileSync(path.join(examples, f), 'utf8')) as Resource;
    out.push({ src: f, resource: r });
    if (r.resourceType === 'Bundle') (r.entry ?? []).forEach((e, i) => e.resource && out.push({ src: `${f}#${i}`, resource: e.resource }));
  }
  const ndjson = path.join(DATA, 'synthea-bulk-ndjson-10-patients');
  for (const f of fs
    .readdirSync(ndjson)
    .filter((x) => x.endsWith('.ndjson') && !x.startsWith('log'))
    .sort()) {
    fs.readFileSync(path.join(ndjson, f), 'utf8')
      .split('\n')
      .forEach((line, i) => line.trim() && out.push({ src: `${f}:${i + 1}`, resource: JSON.parse(line) as Resource }));
  }
  const bundles = path.join(DATA, 'synthea-fhir-r4-bundles');
  for (const f of fs
    .readdirSync(bundles)
    .filter((x) => x.endsWith('.json'))
    .sort()) {
    const b = JSON.parse(fs.readFileSync(path.join(bundles, f), 'utf8')) as { entry?: { resource: Resource }[] };
    (b.entry ?? []).forEach((e, i) => out.push({ src: `${f}#${i}`, resource: e.resource }));
  }
  return out;
}

/** mulberry32 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
