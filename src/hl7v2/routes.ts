/**
 * HL7 v2 over HTTP: POST /api/hl7 (one or more ER7 messages, answered with their ACKs), the MLLP
 * status, the dead-letter list, one message, correcting and reprocessing a dead letter. Intake
 * is in ingest.ts, the queries in store.ts, the schemas in schemas.ts.
 */
import { z } from 'zod';
import { badRequest, HttpError, notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import type { IntakeConfig } from './config.js';
import { DatabaseUnavailable, messageStarts, type Hl7Ingest } from './ingest.js';
import type { MllpServer } from './mllp.js';
import { DeadLetterList, Hl7MessageView, Hl7Status, MessageIdParams, ReprocessResult } from './schemas.js';
import { correctDeadLetter, getMessage, listDeadLetters, messageCounts } from './store.js';

export const HL7_CONTENT_TYPE = 'x-application/hl7-v2+er7';

const TAG = 'hl7v2';

/** The corrected text of a dead letter: text/plain (or HL7) bytes, or JSON {"text": "..."}; segments end in CR. */
function correctionText(body: unknown): string {
  const text = Buffer.isBuffer(body)
    ? body.toString('utf8')
    : typeof body === 'string'
      ? body
      : body && typeof body === 'object' && typeof (body as { text?: unknown }).text === 'string'
        ? (body as { text: string }).text
        : undefined;
  if (!text || !text.trim()) throw badRequest('Send the corrected message as text/plain, or JSON {"text": "..."}');
  return text.replace(/\r?\n/g, '\r');
}

const DEFAULT_HTTP_LIMITS: IntakeConfig['http'] = { maxMessagesPerRequest: 10_000, maxBodyBytes: 16 * 1024 * 1024, concurrency: 400 };

const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

export function registerHl7Routes(
  ctx: ModuleContext,
  ingest: Hl7Ingest,
  mllp: MllpServer,
  limits: IntakeConfig['http'] = DEFAULT_HTTP_LIMITS,
): void {
  const { db } = ctx;
  const app = typed(ctx.app);
  const tooLarge = (what: string) =>
    new HttpError(
      413,
      `${what}; POST /api/hl7 takes at most ${limits.maxMessagesPerRequest} messages and ${mb(limits.maxBodyBytes)} per request: split the file, or send it over MLLP`,
      'too-costly',
    );

  app.post(
    '/api/hl7',
    {
      bodyLimit: limits.maxBodyBytes,
      // Refuse an announced oversize body before reading it, with the limit named.
      onRequest: async (req) => {
        const length = Number(req.headers['content-length']);
        if (Number.isFinite(length) && length > limits.maxBodyBytes) throw tooLarge(`The body is ${mb(length)}`);
      },
      schema: {
        summary:
          'HL7 v2 messages (ER7, one or more, each starting with MSH; Content-Type x-application/hl7-v2+er7 or text/plain); answers the ACK of each, in order, separated by a blank line. 413 over the per-request limits (10,000 messages by default); 503 when the database connection was lost (messages acknowledged before are stored; resending the body is safe, messages are recognised by facility + MSH-10)',
        tags: [TAG],
        response: {
          200: z
            .custom<Buffer>((v) => Buffer.isBuffer(v))
            .describe('ACK text (x-application/hl7-v2+er7); AA = stored, AE/AR with ERR = rejected and kept as a dead letter'),
        },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'import');
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0)
        throw badRequest(`Send HL7 v2 text with Content-Type ${HL7_CONTENT_TYPE} (or text/plain)`);
      if (body.length > limits.maxBodyBytes) throw tooLarge(`The body is ${mb(body.length)}`);
      // Counted on the bytes (offsets only) before any message is parsed.
      const starts = messageStarts(body);
      if (starts.length > limits.maxMessagesPerRequest) throw tooLarge(`The body holds ${starts.length} messages`);
      let acks: Buffer | undefined;
      try {
        acks = await ingest.receive(body, starts);
      } catch (e) {
        if (!(e instanceof DatabaseUnavailable)) throw e;
        const err = new HttpError(
          503,
          `The database connection was lost while storing the messages: ${e.acknowledged} were stored, the others were not (nothing half-stored). Send the body again shortly; messages already stored are recognised by facility + MSH-10 and not stored twice.`,
          'transient',
        );
        err.headers = { 'Retry-After': '5' };
        throw err;
      }
      if (!acks) throw badRequest('The body holds no HL7 v2 message (expected a segment starting with MSH)');
      return reply.type(HL7_CONTENT_TYPE).send(acks);
    },
  );

  app.get(
    '/api/hl7/status',
    { schema: { summary: 'MLLP port, open connections and message counts by status', tags: [TAG], response: { 200: Hl7Status } } },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return { mllpPort: mllp.port, connections: mllp.connections, messages: await messageCounts(db) };
    },
  );

  app.get(
    '/api/hl7/dead-letters',
    {
      schema: {
        summary: 'Rejected HL7 v2 messages waiting for correction (newest first, at most 200)',
        tags: [TAG],
        response: { 200: DeadLetterList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return { items: await listDeadLetters(db) };
    },
  );

  app.get(
    '/api/hl7/messages/:id',
    {
      schema: {
        summary: 'One inbound HL7 v2 message with its status and the resources it wrote',
        tags: [TAG],
        params: MessageIdParams,
        response: { 200: Hl7MessageView },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      const m = await getMessage(db, req.params.id);
      if (!m) throw notFound(`No HL7 message ${req.params.id}`);
      return m;
    },
  );

  app.put(
    '/api/hl7/dead-letters/:id',
    {
      schema: {
        summary:
          'Save a corrected text for a dead letter (text/plain, or JSON {"text": "..."}); the original bytes are kept. 404 when there is no such dead letter',
        tags: [TAG],
        params: MessageIdParams,
        response: { 200: Hl7MessageView },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const { id } = req.params;
      const m = await correctDeadLetter(db, id, correctionText(req.body), (client) =>
        ctx.audit.recordNow(client, {
          user,
          action: 'U',
          subtype: 'hl7-dead-letter-correct',
          entities: [`hl7_message ${id}`],
          outcome: 'success',
          sourceAddress: req.ip,
        }),
      );
      if (!m) throw notFound(`No dead letter ${id}`);
      return m;
    },
  );

  app.post(
    '/api/hl7/dead-letters/:id/reprocess',
    {
      schema: {
        summary: 'Run a dead letter (its corrected text if any) through the pipeline again. 404 when there is no such dead letter',
        tags: [TAG],
        params: MessageIdParams,
        response: { 200: ReprocessResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const { id } = req.params;
      const r = await ingest.reprocessDeadLetter(id, (client, o) =>
        ctx.audit.recordNow(client, {
          user,
          action: 'U',
          subtype: 'hl7-dead-letter-reprocess',
          entities: [`hl7_message ${id}`],
          outcome: o.ok ? 'success' : 'failure',
          outcomeText: o.outcomeText,
          sourceAddress: req.ip,
        }),
      );
      if (!r) throw notFound(`No dead letter ${id}`);
      return r;
    },
  );
}
