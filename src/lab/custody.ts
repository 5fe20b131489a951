/**
 * Chain of custody (pure): every scan of a specimen is an event carrying the SHA-256 of the
 * previous event of that specimen, so an edited, removed or re-ordered event breaks the chain at
 * the first link that no longer fits. The hash covers the event's canonical JSON (keys sorted,
 * times as ISO strings) with the previous hash inside it.
 */
import { createHash } from 'node:crypto';

/** The hashed content of one custody event. */
export interface CustodyEvent {
  specimenId: string;
  seq: number;
  step: string;
  fromState: string | null;
  toState: string;
  /** When the step happened (as scanned), ISO. */
  at: string;
  /** When the server recorded it, ISO. */
  recordedAt: string;
  byUser: string;
  performer: string | null;
  unit: string;
  location: string | null;
  shipmentId: number | null;
  detail: Record<string, string | number | boolean | null>;
  prevHash: string;
}

/** JSON with object keys sorted at every level (the form that is hashed). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export function eventHash(e: CustodyEvent): string {
  return createHash('sha256').update(canonicalJson(e)).digest('hex');
}

export interface StoredCustodyEvent extends CustodyEvent {
  id: number;
  hash: string;
}

export interface BrokenLink {
  specimenId: string;
  barcode?: string;
  seq: number;
  eventId: number | null;
  problem: string;
}

/**
 * Checks one specimen's chain (events in seq order) against the head the specimen row keeps.
 * Returns the first broken link, or undefined when the chain holds.
 */
export function checkChain(
  specimenId: string,
  events: readonly StoredCustodyEvent[],
  head: { seq: number; hash: string },
): BrokenLink | undefined {
  let prev = '';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const link = (problem: string): BrokenLink => ({ specimenId, seq: e.seq, eventId: e.id, problem });
    if (e.seq !== i + 1) return link(`event ${e.id} is at position ${e.seq} where ${i + 1} was expected (an event is missing)`);
    if (e.prevHash !== prev) return link(`event ${e.id} (seq ${e.seq}) does not carry the hash of the event before it`);
    const { id: _id, hash, ...content } = e;
    if (eventHash(content) !== hash)
      return link(`event ${e.id} (seq ${e.seq}, ${e.step}) was changed after it was recorded: its hash no longer matches`);
    prev = hash;
  }
  if (events.length !== head.seq || prev !== head.hash)
    return {
      specimenId,
      seq: events.length + 1,
      eventId: null,
      problem: `the chain ends at seq ${events.length} but the specimen's head is seq ${head.seq}: events were removed from the end`,
    };
  return undefined;
}
