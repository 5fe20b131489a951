/**
 * HL7 v2 intake: the MLLP listener (port options.mllpPort ?? MLLP_PORT ?? 2575) and the HTTP
 * endpoints (routes.ts: POST /api/hl7, the dead-letter list). Both feed Hl7Ingest, which stores
 * the raw message and its FHIR mapping in one transaction before acknowledging.
 */
import { sqlFile } from '../platform/migrations.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { Hl7Ingest } from './ingest.js';
import { startMllpServer, type MllpServer } from './mllp.js';
import { registerHl7Routes } from './routes.js';

export { HL7_CONTENT_TYPE } from './routes.js';

/** The port to listen on: explicit option, else MLLP_PORT, else 2575 (0 under the test runner). */
export function mllpPortFrom(option: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (option !== undefined) return option;
  if (env.MLLP_PORT !== undefined && env.MLLP_PORT !== '') {
    const n = Number(env.MLLP_PORT);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`MLLP_PORT must be a port number (0–65535), not '${env.MLLP_PORT}'`);
    return n;
  }
  // Test servers run side by side: let the OS pick so they never fight over 2575.
  return env.VITEST ? 0 : 2575;
}

/** The running listener of the last registered module (tests and the status route read it). */
export interface Hl7Runtime {
  ingest: Hl7Ingest;
  mllp: MllpServer;
}

const hl7Module: YifangModule & { runtime?: Hl7Runtime } = {
  name: 'hl7v2',
  migrations: {
    range: [100, 109],
    list: [{ version: 100, name: 'hl7v2-inbound', sql: sqlFile(new URL('./migrations/100_hl7_inbound.sql', import.meta.url)) }],
  },
  async register(ctx: ModuleContext) {
    const { db, repo, processors } = ctx;
    // Wake the change-log processors at most every 250 ms: waking them per message makes them
    // run one tiny batch per message and compete with the intake for the database.
    let pokeTimer: NodeJS.Timeout | undefined;
    const pokeSoon = () => {
      pokeTimer ??= setTimeout(() => {
        pokeTimer = undefined;
        processors.poke();
      }, 250);
    };
    ctx.onClose(async () => clearTimeout(pokeTimer));
    const ingest = new Hl7Ingest(db, repo, pokeSoon, () => processors.poke());

    const port = mllpPortFrom(ctx.options.mllpPort);
    const mllp = await startMllpServer({
      port,
      host: ctx.options.host ?? '0.0.0.0',
      handle: async (raw) => (await ingest.ingest(raw, 'mllp')).reply,
      pipelined: true,
      onEvent: (e) => {
        if (e.type === 'handler-error' || e.type === 'oversize' || e.type === 'too-many-connections')
          ctx.log(`[mllp] ${e.type} ${e.remote ?? ''} ${e.detail ?? ''}`);
      },
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new Error(`MLLP port ${port} is already in use: set MLLP_PORT to a free port (0 picks one)`);
      throw err;
    });
    ctx.log(`[mllp] HL7 v2 listener on port ${mllp.port}`);
    ctx.onClose(() => mllp.close());
    hl7Module.runtime = { ingest, mllp };

    registerHl7Routes(ctx, ingest, mllp);
  },
};

export default hl7Module;
