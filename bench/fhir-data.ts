/**
 * Benchmark data: the shared Synthea NDJSON and Bundles repeated with fresh ids until the
 * requested number of resources is reached, written as NDJSON files (streamed, bounded memory).
 */
import fs from 'node:fs';
import path from 'node:path';

const shared = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../shared/data');

/** All Synthea resources (NDJSON export + Bundles), with references normalised to Type/id. */
export function syntheaResources(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const nd = path.join(shared, 'synthea-bulk-ndjson-10-patients');
  for (const f of fs.readdirSync(nd)) {
    if (!f.endsWith('.ndjson') || f.startsWith('log')) continue;
    for (const line of fs.readFileSync(path.join(nd, f), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line));
  }
  const bd = path.join(shared, 'synthea-fhir-r4-bundles');
  for (const f of fs.readdirSync(bd).filter((x) => x.endsWith('.json'))) {
    const b = JSON.parse(fs.readFileSync(path.join(bd, f), 'utf8')) as { entry: { fullUrl: string; resource: Record<string, unknown> }[] };
    const ids = new Map(b.entry.map((e) => [e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`]));
    for (const e of b.entry) {
      const text = JSON.stringify(e.resource).replace(/"reference":"([^"]+)"/g, (m, ref: string) =>
        ids.has(ref) ? `"reference":"${ids.get(ref)}"` : ref.includes('?') ? '"display":"conditional"' : m,
      );
      out.push(JSON.parse(text));
    }
  }
  // The export and the Bundles share some organisations and practitioners: keep one of each.
  const seen = new Set<string>();
  return out.filter((r) => {
    const key = `${r.resourceType}/${r.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Writes `total` resources as NDJSON, copy k of each resource getting id "<id>-k" (and its references too). */
export function writeRepeatedNdjson(file: string, total: number, firstCopy = 0): number {
  const base = syntheaResources().map((r) => JSON.stringify(r));
  const fd = fs.openSync(file, 'w');
  let written = 0;
  for (let k = firstCopy; written < total; k++) {
    const chunk: string[] = [];
    for (const line of base) {
      if (written >= total) break;
      chunk.push(
        line
          .replace(/"id":"([A-Za-z0-9\-.]+)"/, (_m, id: string) => `"id":"${id.slice(0, 56)}-${k}"`)
          .replace(
            /"reference":"([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]+)"/g,
            (_m, t: string, id: string) => `"reference":"${t}/${id.slice(0, 56)}-${k}"`,
          )
          .replace(/"reference":"urn:uuid:([A-Za-z0-9\-.]+)"/g, (_m, id: string) => `"reference":"Patient/${id.slice(0, 56)}-${k}"`),
      );
      written++;
    }
    fs.writeSync(fd, chunk.join('\n') + '\n');
  }
  fs.closeSync(fd);
  return written;
}
