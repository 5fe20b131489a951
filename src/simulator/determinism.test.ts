/** Same seed and arguments → byte-identical output; another seed → different output. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, runInto } from './testing.js';

describe('determinism', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  it('writes byte-identical files for the same seed and arguments', async () => {
    const args = { seed: 42, population: 1500, start: '2024-11-20', days: 75, bundles: true };
    const a = await runInto('det-a', args);
    const b = await runInto('det-b', args);
    dirs.push(a.dir, b.dir);
    expect(b.manifest).toEqual(a.manifest);
    expect(readFileSync(join(b.dir, 'manifest.json'))).toEqual(readFileSync(join(a.dir, 'manifest.json')));
    for (const f of a.manifest.files)
      expect(readFileSync(join(b.dir, f.path)).equals(readFileSync(join(a.dir, f.path))), f.path).toBe(true);
    expect(a.manifest.files.some((f) => f.type === 'fhir-bundle')).toBe(true);
  });

  it('writes something else for another seed', async () => {
    const c = await runInto('det-c', { seed: 43, population: 1500, start: '2024-11-20', days: 75 });
    const d = await runInto('det-d', { seed: 42, population: 1500, start: '2024-11-20', days: 75 });
    dirs.push(c.dir, d.dir);
    const sha = (m: typeof c.manifest, p: string): string | undefined => m.files.find((f) => f.path === p)?.sha256;
    expect(sha(c.manifest, 'fhir/Patient.ndjson')).not.toBe(sha(d.manifest, 'fhir/Patient.ndjson'));
  });
});
