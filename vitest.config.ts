import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * The tests' temporary folder, in memory where the machine has a RAM disk (Linux's /dev/shm) with
 * room to spare. Every storage test copies the migrated PGlite template (about 80 MB, 3,000 files)
 * into the temporary folder and writes its store there, the kill tests restart servers on such
 * copies, and the browser tests copy their seeded stores: on this project's 2-core machine one
 * copy took about 2.8 s on its disk and 0.1 s in /dev/shm, and a store's start 3.4 s against 1.3 s.
 * A killed process leaves in memory exactly what it leaves on a disk (the page cache survives it),
 * so the crash tests assert the same. YIFANG_TEST_TMPDIR names another folder ('' keeps the
 * system's). Set here, before the global setup runs and the forks start, so every process of the
 * run (workers, servers they spawn, Chromium) shares the one folder and its templates.
 */
function testTmpdir(): string | undefined {
  const asked = process.env.YIFANG_TEST_TMPDIR;
  if (asked !== undefined) return asked || undefined;
  const shm = '/dev/shm';
  try {
    const { bavail, bsize } = fs.statfsSync(shm);
    // Room for the template, the cached seeded stores and two workers' stores at a district's size.
    if (bavail * bsize < 6 * 1024 ** 3) return undefined;
    fs.accessSync(shm, fs.constants.W_OK);
  } catch {
    return undefined;
  }
  return path.join(shm, `yifang-tests-${os.userInfo().uid}`);
}

const tmp = testTmpdir();
if (tmp) {
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = tmp;
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // PGlite is in-process WebAssembly (about 1 GB at scale): two forks suit the 2-core CI machine.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // Migrated store templates, and the browser tests' web build.
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        // Web components beside their files (web/src/**/x.test.tsx), in happy-dom: no server, no browser.
        extends: true,
        esbuild: { jsx: 'automatic' },
        test: {
          name: 'web',
          include: ['web/**/*.test.{ts,tsx}'],
          environment: 'happy-dom',
          setupFiles: ['web/test-setup.ts'],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
