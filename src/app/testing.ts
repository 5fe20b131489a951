/** Test support: a running server per store kind, logged in as an administrator. */
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from './test-stores.js';

export { freshDatabase, startTestServer, storeKinds, type StoreKind, type TestServer } from './test-stores.js';

/** Runs the suite once per available store, with a running server on a fresh database. */
export function describeEachStore(name: string, fn: (get: () => TestServer) => void): void {
  // Both kinds are always declared: without PostgreSQL its suite shows as skipped, not absent.
  const available = storeKinds();
  for (const kind of ['pglite', 'postgres'] as const) {
    describe.skipIf(!available.includes(kind))(`${name} [${kind}]`, () => {
      let server: (TestServer & { dispose(): Promise<void> }) | undefined;
      beforeAll(async () => {
        server = await startTestServer(kind);
      });
      afterAll(async () => {
        await server?.dispose();
      });
      fn(() => server!);
    });
  }
}

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');
