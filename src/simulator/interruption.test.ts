/**
 * Bad options fail at once naming the option; an interrupted run leaves no file that looks
 * complete (only *.partial files and no manifest), and a stale manifest from an earlier run in
 * the same directory is removed before anything is written.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulate, SimulationAbortedError, SimulatorInputError, validateOptions } from './index.js';
import { removeDir, runInto, tempDir } from './testing.js';

const walk = (d: string): string[] =>
  readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)).map((x) => `${n}/${x}`) : [n]));

describe('bad options', () => {
  const base = { seed: 1, population: 1000, start: '2024-01-01', days: 10 };
  it.each([
    [{ population: -5 }, 'population'],
    [{ population: 12.5 }, 'population'],
    [{ seed: -1 }, 'seed'],
    [{ start: '2024-02-30' }, 'start'],
    [{ start: 'yesterday' }, 'start'],
    [{ days: 0 }, 'days'],
    [{ days: 100000 }, 'days'],
  ])('rejects %o naming %s', (bad, field) => {
    expect(() => validateOptions({ ...base, ...bad })).toThrow(SimulatorInputError);
    try {
      validateOptions({ ...base, ...bad });
    } catch (e) {
      expect((e as SimulatorInputError).field).toBe(field);
      expect((e as Error).message).toContain(field);
    }
  });

  it('rejects an output directory that cannot be written, naming it, before doing any work', async () => {
    const dir = tempDir('ro');
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(simulate({ ...base, outDir: join(file, 'out') })).rejects.toMatchObject({ field: 'outDir' });
    removeDir(dir);
  });
});

describe('interruption', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));

  it('leaves only *.partial files and no manifest when aborted', async () => {
    const dir = tempDir('abort');
    dirs.push(dir);
    const controller = new AbortController();
    const run = simulate({
      seed: 3,
      population: 2000,
      start: '2024-03-01',
      days: 120,
      outDir: dir,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.day === 20) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(SimulationAbortedError);
    const files = walk(dir);
    expect(files.length).toBeGreaterThan(0);
    expect(files).not.toContain('manifest.json');
    for (const f of files) expect(f, f).toMatch(/\.partial$/);
  });

  it('removes a stale manifest (and its files) from an earlier run before writing', async () => {
    const first = await runInto('rerun', { seed: 4, population: 1000, start: '2024-03-01', days: 10 });
    dirs.push(first.dir);
    expect(existsSync(join(first.dir, 'manifest.json'))).toBe(true);
    const controller = new AbortController();
    controller.abort();
    await expect(
      simulate({ seed: 4, population: 1000, start: '2024-03-01', days: 10, outDir: first.dir, signal: controller.signal }),
    ).rejects.toBeInstanceOf(SimulationAbortedError);
    expect(existsSync(join(first.dir, 'manifest.json'))).toBe(false);
    expect(existsSync(join(first.dir, 'fhir/Patient.ndjson'))).toBe(false);
  });
});
