/**
 * A server in its own process for the kill -9 tests (src/app/kill.test.ts): started on
 * DATABASE_URL or the PGlite data directory in YIFANG_DATA_DIR, with an administrator whose
 * password is KILL_TEST_PASSWORD; prints `{"url":"http://…"}` once listening, then serves until
 * killed. SIGKILL runs no shutdown hook (the point of the test); SIGTERM closes the store cleanly.
 */
import { startServer } from './server.js';

const password = process.env.KILL_TEST_PASSWORD || 'kill-test-pw';
const server = await startServer({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.YIFANG_DATA_DIR || undefined,
  port: 0,
  mllpPort: 0,
  quiet: true,
  adminPassword: password,
});
// With a database URL the server creates no administrator (production): the test needs one.
if (process.env.DATABASE_URL) await server.auth.addUser({ username: 'admin', password, roles: ['admin'] });
process.once('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
