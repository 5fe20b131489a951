/** `npm start`: the platform on the embedded store (or DATABASE_URL) with the demo district. */
import { loadConfig } from '../platform/config.js';
import { startServer } from './server.js';

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    console.error(`yifang: ${(err as Error).message}`);
    process.exit(1);
  }
})();
const demo = !config.DATABASE_URL;
const loadDemo = demo && !config.YIFANG_NO_DEMO;
const server = await startServer({
  port: config.PORT,
  host: config.HOST,
  dataDir: config.YIFANG_DATA_DIR,
  databaseUrl: config.DATABASE_URL,
  adminPassword: config.YIFANG_ADMIN_PASSWORD,
  bodyLimitMb: config.YIFANG_BODY_LIMIT_MB,
  sharedDir: config.YIFANG_SHARED_DIR,
  mllpPort: config.MLLP_PORT,
  auditReadWal: config.YIFANG_AUDIT_READ_WAL,
  loadDemo,
  demo: { population: config.YIFANG_DEMO_POPULATION, days: config.YIFANG_DEMO_DAYS, hl7Days: config.YIFANG_DEMO_HL7_DAYS },
}).catch((err: Error) => {
  // A start-up failure (port in use, database unreachable) is a message, not a stack trace.
  console.error(`yifang: could not start: ${err.message}`);
  process.exit(1);
});

const line = '─'.repeat(64);
console.log(
  `\n${line}\n 医防 Yifang is running on ${server.db.kind === 'pglite' ? `PGlite (embedded, ${server.db.dataDir})` : 'PostgreSQL'}`,
);
console.log(` Web app:   ${server.url}/`);
console.log(` FHIR API:  ${server.url}/fhir   (CapabilityStatement: /fhir/metadata)`);
console.log(` API docs:  ${server.url}/api/docs`);
if (demo)
  console.log(` Demo login: admin / ${config.YIFANG_ADMIN_PASSWORD === 'yifang-admin' ? 'yifang-admin' : '(YIFANG_ADMIN_PASSWORD)'}`);
console.log(`${line}\n`);

const stop = async (signal: string) => {
  console.log(`[yifang] ${signal}: shutting down`);
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
