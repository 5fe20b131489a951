import { defineConfig } from 'vitest/config';

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
