/**
 * HL7 v2 intake: the MLLP listener (port options.mllpPort ?? MLLP_PORT ?? 2575) and the HTTP
 * endpoints (routes.ts: POST /api/hl7, the dead-letter list). Both feed Hl7Ingest, which stores
 * the raw message and its FHIR mapping in one transaction before acknowledging. Settings
 * (charsets, HTTP limits, MLLP connection shares and allow-lists) come from
 * config/hl7v2/intake.json (or HL7V2_CONFIG), validated at start (config.ts).
 */
import { sqlFile } from '../platform/migrations.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { loadIntakeConfig, mllpTlsOptions, type IntakeConfig } from './config.js';
import { Hl7Ingest } from './ingest.js';
import { MllpHangUp, startMllpServer, type MllpPeer, type MllpServer, type MllpServerOptions } from './mllp.js';
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

/**
 * The MLLP side of the intake: each message goes through the ingest; a lost database connection
 * closes the connection without an ACK (the sender resends), and a peer that sends an accepted
 * message from an allowed facility becomes an allowed sender (reserve, larger share).
 */
export function mllpIntake(ingest: Hl7Ingest, config: IntakeConfig): Omit<MllpServerOptions, 'port' | 'host'> {
  const m = config.mllp;
  return {
    handle: async (raw: Buffer, peer: MllpPeer) => {
      const r = await ingest.ingest(raw, 'mllp', undefined, peer.address);
      if (r.transient)
        throw new MllpHangUp(
          `database unavailable: ${r.outcome.error instanceof Error ? r.outcome.error.message : String(r.outcome.error)}`,
        );
      if (m.allowedFacilities.size && r.ack.ackCode === 'AA' && !peer.trusted) peer.trust();
      return r.reply;
    },
    pipelined: true,
    idleTimeoutMs: m.idleTimeoutMs,
    maxConnections: m.maxConnections,
    reservedForAllowedPeers: m.reservedForAllowedPeers,
    maxConnectionsPerPeer: m.maxConnectionsPerPeer,
    maxConnectionsPerAllowedPeer: m.maxConnectionsPerAllowedPeer,
    allowedPeers: m.allowedPeers,
    onlyAllowedPeers: m.onlyAllowedPeers,
    tls: mllpTlsOptions(m.tls),
  };
}

/** The running listener of the last registered module (tests and the status route read it). */
export interface Hl7Runtime {
  ingest: Hl7Ingest;
  mllp: MllpServer;
}

/** MLLP events worth a log line (not every connect and idle close). */
const LOGGED = new Set(['handler-error', 'oversize', 'too-many-connections', 'peer-limit', 'peer-not-allowed', 'hang-up', 'tls-error']);

const hl7Module: YifangModule & { runtime?: Hl7Runtime } = {
  name: 'hl7v2',
  migrations: {
    range: [100, 109],
    list: [
      { version: 100, name: 'hl7v2-inbound', sql: sqlFile(new URL('./migrations/100_hl7_inbound.sql', import.meta.url)) },
      {
        version: 101,
        name: 'hl7v2-charset-warning',
        sql: sqlFile(new URL('./migrations/101_hl7_charset_warning.sql', import.meta.url)),
      },
    ],
  },
  async register(ctx: ModuleContext) {
    const { db, repo, processors } = ctx;
    // First, so bad settings stop the start before anything listens.
    const config = loadIntakeConfig();
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
    const ingest = new Hl7Ingest(db, repo, pokeSoon, () => processors.poke(), {
      charsets: config.charsets,
      allowedFacilities: config.mllp.allowedFacilities,
      facilityPeers: config.mllp.facilityPeers,
      httpConcurrency: config.http.concurrency,
    });

    const port = mllpPortFrom(ctx.options.mllpPort);
    const mllp = await startMllpServer({
      port,
      host: ctx.options.host ?? '0.0.0.0',
      ...mllpIntake(ingest, config),
      onEvent: (e) => {
        if (LOGGED.has(e.type)) ctx.log(`[mllp] ${e.type} ${e.remote ?? ''} ${e.detail ?? ''}`);
      },
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new Error(`MLLP port ${port} is already in use: set MLLP_PORT to a free port (0 picks one)`);
      throw err;
    });
    ctx.log(`[mllp] HL7 v2 listener on port ${mllp.port}${config.mllp.tls ? ' (TLS)' : ''}`);
    ctx.onClose(() => mllp.close());
    hl7Module.runtime = { ingest, mllp };

    registerHl7Routes(ctx, ingest, mllp, config.http);
  },
};

export default hl7Module;
