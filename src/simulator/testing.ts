/** Helpers for the simulator's tests: run into a temporary directory and read the output back. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate, type Manifest, type SimulateOptions } from './index.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `yifang-sim-${tag}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function runInto(tag: string, o: Omit<SimulateOptions, 'outDir'>): Promise<{ dir: string; manifest: Manifest }> {
  const dir = tempDir(tag);
  const { manifest } = await simulate({ ...o, outDir: dir });
  return { dir, manifest };
}

export function ndjson<T = Record<string, unknown>>(dir: string, path: string): T[] {
  const file = join(dir, path);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

export function fhir<T = Record<string, unknown>>(dir: string, type: string): T[] {
  return ndjson<T>(dir, `fhir/${type}.ndjson`);
}

/** HL7 messages from every hl7/*.hl7 file, each as an array of segments (fields split on |). */
export function hl7Messages(dir: string): { file: string; segments: string[][] }[] {
  const out: { file: string; segments: string[][] }[] = [];
  const d = join(dir, 'hl7');
  if (!existsSync(d)) return out;
  for (const f of readdirSync(d).sort()) {
    for (const m of readFileSync(join(d, f), 'utf8').split('\n')) {
      if (m) out.push({ file: f, segments: m.split('\r').map((s) => s.split('|')) });
    }
  }
  return out;
}

export function segment(m: { segments: string[][] }, name: string): string[] | undefined {
  return m.segments.find((s) => s[0] === name);
}

export function csvRows(dir: string, path: string): string[][] {
  return readFileSync(join(dir, path), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(','));
}

export function json<T = Record<string, unknown>>(dir: string, path: string): T {
  return JSON.parse(readFileSync(join(dir, path), 'utf8')) as T;
}
