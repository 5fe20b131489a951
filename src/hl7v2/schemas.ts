/**
 * The HL7 v2 HTTP API as zod schemas (validation, serialization, the OpenAPI document); the web
 * app may `import type` the response types. Imports nothing but zod. Message bodies themselves
 * are HL7 ER7 text, not JSON, and have no schema here.
 */
import { z } from 'zod';

/** hl7_message.status: stored, rejected (a dead letter), resolved (a dead letter fixed by a later resend or reprocess). */
export const Hl7MessageStatus = z.enum(['stored', 'rejected', 'resolved']);
export type Hl7MessageStatus = z.infer<typeof Hl7MessageStatus>;

/** A rejected message waiting for correction. */
export const DeadLetter = z.object({
  id: z.number().int(),
  facility: z.string().nullable(),
  controlId: z.string().nullable(),
  messageType: z.string().nullable(),
  /** How it came in: mllp, http or reprocess. */
  channel: z.string(),
  /** AA, AE or AR as sent back. */
  ackCode: z.string(),
  error: z.string().nullable(),
  receivedAt: z.string(),
  updatedAt: z.string(),
  attempts: z.number().int(),
  /** The text as received (decoded as UTF-8, else Latin-1, for display). */
  text: z.string(),
  /** The corrected text, if someone edited it. */
  correctedText: z.string().nullable(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** One inbound message with its status and the resources it wrote (Patient/…, Encounter/…). */
export const Hl7MessageView = DeadLetter.extend({
  status: Hl7MessageStatus,
  resources: z.array(z.string()),
  /** Set when the bytes did not match MSH-18 and another character set was used (acknowledged AA with an ERR of severity W). */
  charsetWarning: z.string().nullable(),
});
export type Hl7MessageView = z.infer<typeof Hl7MessageView>;

export const DeadLetterList = z.object({ items: z.array(DeadLetter) });
export type DeadLetterList = z.infer<typeof DeadLetterList>;

export const Hl7Status = z.object({
  mllpPort: z.number().int(),
  connections: z.number().int(),
  /** Messages by status (stored, rejected, resolved). */
  messages: z.record(z.number().int()),
});
export type Hl7Status = z.infer<typeof Hl7Status>;

/** The outcome of running a dead letter through the pipeline again. */
export const ReprocessResult = z.object({
  ackCode: z.string(),
  /** The ACK text. */
  ack: z.string(),
  /** The hl7_message row now holding the message. */
  messageId: z.number().int().optional(),
  /** Why it was rejected again (absent when stored). */
  error: z.string().nullable().optional(),
});
export type ReprocessResult = z.infer<typeof ReprocessResult>;

export const MessageIdParams = z.object({
  id: z.coerce
    .number({ message: 'Dead-letter id must be a positive integer' })
    .int({ message: 'Dead-letter id must be a positive integer' })
    .positive({ message: 'Dead-letter id must be a positive integer' }),
});
export type MessageIdParams = z.infer<typeof MessageIdParams>;
