/**
 * A server in its own process for the audit crash test: started on DATABASE_URL or the PGlite
 * data directory in YIFANG_DATA_DIR, it prints `{"url":…}` once listening and then waits to be
 * killed (SIGKILL: no shutdown hook, no flush).
 */
import { startServer } from '../app/server.js';

const server = await startServer({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.YIFANG_DATA_DIR || undefined,
  port: 0,
  mllpPort: 0,
  quiet: true,
  adminPassword: 'audit-kill-test-pw',
});
await server.auth.addUser({ username: 'admin', password: 'audit-kill-test-pw', roles: ['admin'] });
if (process.env.YIFANG_AUDIT_READS === 'buffered') server.audit.readMode = 'buffered';
process.stdout.write(JSON.stringify({ url: server.url }) + '\n');
