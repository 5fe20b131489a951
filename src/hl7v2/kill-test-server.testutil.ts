/**
 * A server in its own process for the crash test: started on DATABASE_URL or the PGlite data
 * directory in YIFANG_DATA_DIR, it prints `{"mllpPort":N}` once listening and then waits to be
 * killed (SIGKILL: no shutdown hook runs).
 */
import { startServer } from '../app/server.js';

const server = await startServer({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.YIFANG_DATA_DIR || undefined,
  port: 0,
  mllpPort: 0,
  quiet: true,
  adminPassword: 'crash-test-pw',
});
const { default: hl7 } = await import('./module.js');
process.stdout.write(
  JSON.stringify({ mllpPort: (hl7 as { runtime?: { mllp: { port: number } } }).runtime!.mllp.port, url: server.url }) + '\n',
);
