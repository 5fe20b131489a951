import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareTemplates } from '../src/app/test-stores.js';
import { CHROMIUM, ensureWebBuild } from './e2e/harness.js';

export default async function setup(): Promise<void> {
  sweepLeftovers();
  await prepareTemplates();
  // Build the web app once, before browser tests in parallel workers could race to build it.
  if (fs.existsSync(CHROMIUM)) ensureWebBuild();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The temporary folder may be a RAM disk (vitest.config.ts): stores that a crashed or interrupted
 * run left there would hold memory until the machine restarts. Removed here: test stores of
 * workers that are gone (yifang_test_<pid>_…), and, in the tests' own folder, other scratch
 * folders of the tests untouched for three days (caches such as a simulated district are rebuilt
 * when next needed). Kept: the migrated templates, the browser tests' cached stores (fixture.ts
 * replaces them itself) and web build, and everything of a run still going.
 */
function sweepLeftovers(): void {
  const tmp = os.tmpdir();
  const old = Date.now() - 3 * 86_400_000;
  // Scratch folders by age only in the tests' own folder (the system's may hold others' work).
  const ours = path.basename(tmp).startsWith('yifang-tests-');
  for (const name of fs.readdirSync(tmp)) {
    const full = path.join(tmp, name);
    try {
      const pid = /^yifang_test_(\d+)_/.exec(name)?.[1];
      if (pid) {
        if (!isAlive(Number(pid))) fs.rmSync(full, { recursive: true, force: true });
        continue;
      }
      if (!ours || !name.startsWith('yifang-') || /^yifang-(test-template|e2e-store|e2e-web)-/.test(name)) continue;
      if (fs.statSync(full).mtimeMs < old) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove.
    }
  }
}
