/**
 * A server in its own process for the audit crash test: started on DATABASE_URL or the PGlite
 * data directory in YIFANG_DATA_DIR, it prints `{"url":…}` once listening and then waits to be
 * killed (SIGKILL: no shutdown hook, no flush). YIFANG_AUDIT_READ_WAL=1/0 turns the read
 * write-ahead file on or off (default: the server's, on for PGlite); YIFANG_TEST_WAL_HOLD=1
 * keeps its drain from running, so every answered read is only in the file when the kill comes.
 */
import { startServer } from '../app/server.js';

const wal = process.env.YIFANG_AUDIT_READ_WAL;
const server = await startServer({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.YIFANG_DATA_DIR || undefined,
  port: 0,
  mllpPort: 0,
  quiet: true,
  adminPassword: 'audit-kill-test-pw',
  ...(wal ? { auditReadWal: wal === '1' } : {}),
});
await server.auth.addUser({ username: 'admin', password: 'audit-kill-test-pw', roles: ['admin'] });
if (process.env.YIFANG_AUDIT_READS === 'buffered') server.audit.readMode = 'buffered';
if (process.env.YIFANG_TEST_WAL_HOLD === '1' && server.audit.wal)
  Object.assign(server.audit.wal.options, { drainMs: 1e9, drainIdleMs: 1e9, drainBatch: 1e9 });
// Gone with the test process (its end of stdin closes), should it die before killing this one.
process.stdin.on('end', () => process.exit(1)).resume();
process.stdout.write(
  JSON.stringify({ url: server.url, wal: Boolean(server.audit.wal), replayed: server.audit.replayed?.replayed ?? 0 }) + '\n',
);
