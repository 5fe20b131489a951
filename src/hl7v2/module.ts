/**
 * HL7 v2 intake: the MLLP listener (port options.mllpPort ?? MLLP_PORT ?? 2575) and the HTTP
 * endpoints (POST /api/hl7, the dead-letter list). Both feed Hl7Ingest, which stores the raw
 * message and its FHIR mapping in one transaction before acknowledging.
 */
import { sqlFile } from '../platform/migrations.js';
import type { FastifyRequest } from 'fastify';
import { badRequest, notFound } from '../platform/errors.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { describeRoute } from '../platform/openapi.js';
import { Hl7Ingest, splitMessages } from './ingest.js';
import { startMllpServer, type MllpServer } from './mllp.js';

export const HL7_CONTENT_TYPE = 'x-application/hl7-v2+er7';

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

function idParam(req: FastifyRequest): number {
  const id = Number((req.params as { id: string }).id);
  if (!Number.isInteger(id) || id <= 0)
    throw badRequest(`Dead-letter id must be a positive integer, not '${(req.params as { id: string }).id}'`);
  return id;
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
    const { app, db, repo, audit, processors } = ctx;
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
    const ingest = new Hl7Ingest(db, repo, pokeSoon);

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

    describeRoute({
      method: 'post',
      path: '/api/hl7',
      summary: 'HL7 v2 messages (ER7, one or more, each starting with MSH); answers the ACK of each, in order, separated by a blank line',
      tag: 'hl7v2',
      requestBody: { contentType: HL7_CONTENT_TYPE, schema: { type: 'string' } },
      responses: {
        '200': 'ACK text (x-application/hl7-v2+er7); AA = stored, AE/AR with ERR = rejected and kept as a dead letter',
        '400': 'Empty body',
        '403': 'Role may not import',
      },
    });
    app.post('/api/hl7', async (req, reply) => {
      await ctx.guard(req, 'import');
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw badRequest(`Send HL7 v2 text with Content-Type ${HL7_CONTENT_TYPE} (or text/plain)`);
      // All at once: they share group commits, and the ingest keeps each patient's messages in order.
      const results = await Promise.all(splitMessages(body).map((message) => ingest.ingest(message, 'http')));
      const acks = results.flatMap((r) => (r.reply ? [r.reply] : []));
      if (acks.length === 0) throw badRequest('The body holds no HL7 v2 message (expected a segment starting with MSH)');
      const sep = Buffer.from('\r\n');
      return reply.type(HL7_CONTENT_TYPE).send(Buffer.concat(acks.flatMap((a, i) => (i ? [sep, a] : [a]))));
    });

    describeRoute({ method: 'get', path: '/api/hl7/status', summary: 'MLLP port and message counts by status', tag: 'hl7v2' });
    app.get('/api/hl7/status', async (req) => {
      await ctx.guard(req, 'fhir:read');
      return { mllpPort: mllp.port, connections: mllp.connections, messages: await ingest.counts() };
    });

    describeRoute({
      method: 'get',
      path: '/api/hl7/dead-letters',
      summary: 'Rejected HL7 v2 messages waiting for correction (newest first)',
      tag: 'hl7v2',
      responses: { '200': '{"items":[{"id","facility","controlId","messageType","ackCode","error","text","correctedText",...}]}' },
    });
    app.get('/api/hl7/dead-letters', async (req) => {
      await ctx.guard(req, 'import');
      return { items: await ingest.listDeadLetters() };
    });

    describeRoute({
      method: 'get',
      path: '/api/hl7/messages/{id}',
      summary: 'One inbound HL7 v2 message with its status and the resources it wrote',
      tag: 'hl7v2',
    });
    app.get('/api/hl7/messages/:id', async (req) => {
      await ctx.guard(req, 'import');
      const m = await ingest.getMessage(idParam(req));
      if (!m) throw notFound(`No HL7 message ${idParam(req)}`);
      return m;
    });

    describeRoute({
      method: 'put',
      path: '/api/hl7/dead-letters/{id}',
      summary: 'Save a corrected text for a dead letter (the original bytes are kept)',
      tag: 'hl7v2',
      requestBody: { contentType: 'text/plain', schema: { type: 'string' } },
      responses: { '200': 'The dead letter', '404': 'No such dead letter' },
    });
    app.put('/api/hl7/dead-letters/:id', async (req) => {
      const user = await ctx.guard(req, 'import');
      const id = idParam(req);
      const body = req.body;
      const text = Buffer.isBuffer(body)
        ? body.toString('utf8')
        : typeof body === 'string'
          ? body
          : body && typeof body === 'object' && typeof (body as { text?: unknown }).text === 'string'
            ? (body as { text: string }).text
            : undefined;
      if (!text || !text.trim()) throw badRequest('Send the corrected message as text/plain, or JSON {"text": "..."}');
      if (!(await ingest.correct(id, text.replace(/\r?\n/g, '\r')))) throw notFound(`No dead letter ${id}`);
      await db.transaction((c) =>
        audit.recordNow(c, {
          user,
          action: 'U',
          subtype: 'hl7-dead-letter-correct',
          entities: [`hl7_message ${id}`],
          outcome: 'success',
          sourceAddress: req.ip,
        }),
      );
      return ingest.getMessage(id);
    });

    describeRoute({
      method: 'post',
      path: '/api/hl7/dead-letters/{id}/reprocess',
      summary: 'Run a dead letter (its corrected text if any) through the pipeline again',
      tag: 'hl7v2',
      responses: { '200': '{"ackCode","ack","error","messageId"}', '404': 'No such dead letter' },
    });
    app.post('/api/hl7/dead-letters/:id/reprocess', async (req) => {
      const user = await ctx.guard(req, 'import');
      const id = idParam(req);
      const r = await ingest.reprocess(id);
      if (!r) throw notFound(`No dead letter ${id}`);
      const ok = r.ack.ackCode === 'AA';
      await db.transaction((c) =>
        audit.recordNow(c, {
          user,
          action: 'U',
          subtype: 'hl7-dead-letter-reprocess',
          entities: [`hl7_message ${id}`],
          outcome: ok ? 'success' : 'failure',
          outcomeText: ok ? undefined : String(r.outcome.error ?? r.ack.text),
          sourceAddress: req.ip,
        }),
      );
      processors.poke();
      return {
        ackCode: r.ack.ackCode,
        ack: r.ack.text,
        messageId: r.messageId,
        error: ok ? undefined : (await ingest.getMessage(id))?.error,
      };
    });
  },
};

export default hl7Module;
