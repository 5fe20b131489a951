/**
 * The intake's settings (config/hl7v2/intake.json, or the file named by HL7V2_CONFIG): how
 * bytes are decoded when MSH-18 does not match them, the limits of POST /api/hl7, and how the
 * MLLP listener shares its connections between hospitals. Read and validated once at start: a
 * bad value stops the server, naming the field.
 *
 * Charsets are written as in MSH-18 (HL7 table 0211: 'UNICODE UTF-8', 'GB 18030-2000', 'GBK'…).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { encodingForCharset, type CharsetPolicy } from './charset.js';
import { peerAllowList } from './mllp.js';

export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/hl7v2/intake.json', import.meta.url));

const charset = z.string().refine((v) => encodingForCharset(v) !== undefined, {
  message: "is not a character set this hub can decode (HL7 table 0211, e.g. 'UNICODE UTF-8', 'GB 18030-2000', 'GBK')",
});
const count = (max: number) => z.number().int().min(0).max(max);

const IntakeConfigSchema = z
  .object({
    charsets: z
      .object({
        /** What an empty MSH-18 stands for. */
        default: charset.default('UNICODE UTF-8'),
        /** Tried when the bytes do not match the declared (or default) character set. */
        fallback: charset.default('GB18030'),
        /** Per sending facility (MSH-4.1): the character set to try instead of `fallback`. */
        facilities: z.record(z.string().min(1), charset).default({}),
      })
      .strict()
      .default({}),
    http: z
      .object({
        maxMessagesPerRequest: count(1_000_000).min(1).default(10_000),
        maxBodyMb: z.number().positive().max(1024).default(16),
        /** Messages of one body parsed and waiting for a group commit at once. */
        concurrency: count(10_000).min(1).default(400),
      })
      .strict()
      .default({}),
    mllp: z
      .object({
        maxConnections: count(100_000).min(1).default(256),
        reservedForAllowedPeers: count(100_000).default(32),
        maxConnectionsPerPeer: count(100_000).min(1).default(16),
        maxConnectionsPerAllowedPeer: count(100_000).min(1).default(64),
        idleTimeoutMinutes: z
          .number()
          .positive()
          .max(24 * 60)
          .default(5),
        allowedFacilities: z.array(z.string().min(1)).default([]),
        allowedPeers: z.array(z.string()).default([]),
        onlyAllowedPeers: z.boolean().default(false),
      })
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const m = c.mllp;
    if (m.reservedForAllowedPeers >= m.maxConnections)
      ctx.addIssue({
        code: 'custom',
        path: ['mllp', 'reservedForAllowedPeers'],
        message: `must be less than maxConnections (${m.maxConnections}), or no peer off the allow-list could connect`,
      });
    if (m.maxConnectionsPerPeer > m.maxConnections - m.reservedForAllowedPeers)
      ctx.addIssue({
        code: 'custom',
        path: ['mllp', 'maxConnectionsPerPeer'],
        message: `must be at most maxConnections − reservedForAllowedPeers (${m.maxConnections - m.reservedForAllowedPeers})`,
      });
    if (m.onlyAllowedPeers && !m.allowedPeers.length)
      ctx.addIssue({
        code: 'custom',
        path: ['mllp', 'onlyAllowedPeers'],
        message: 'is true but allowedPeers is empty: nobody could connect',
      });
    try {
      peerAllowList(m.allowedPeers);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['mllp', 'allowedPeers'], message: (e as Error).message });
    }
  });

export type IntakeConfigFile = z.input<typeof IntakeConfigSchema>;

/** The validated settings, in the units the code uses. */
export interface IntakeConfig {
  charsets: CharsetPolicy;
  http: { maxMessagesPerRequest: number; maxBodyBytes: number; concurrency: number };
  mllp: {
    maxConnections: number;
    reservedForAllowedPeers: number;
    maxConnectionsPerPeer: number;
    maxConnectionsPerAllowedPeer: number;
    idleTimeoutMs: number;
    /** Empty: every sending facility is admitted. */
    allowedFacilities: ReadonlySet<string>;
    allowedPeers: readonly string[];
    onlyAllowedPeers: boolean;
  };
}

/** Validates settings (the parsed JSON); throws one error naming every bad field. */
export function parseIntakeConfig(input: unknown, source = 'HL7 v2 intake settings'): IntakeConfig {
  const r = IntakeConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(top)'} ${i.message}`);
    throw new Error(`${source} are invalid: ${problems.join('; ')}`);
  }
  const c = r.data;
  const enc = (v: string) => encodingForCharset(v)!;
  return {
    charsets: {
      defaultEncoding: enc(c.charsets.default),
      fallbackEncoding: enc(c.charsets.fallback),
      facilityEncodings: Object.fromEntries(Object.entries(c.charsets.facilities).map(([f, v]) => [f, enc(v)])),
    },
    http: {
      maxMessagesPerRequest: c.http.maxMessagesPerRequest,
      maxBodyBytes: Math.round(c.http.maxBodyMb * 1024 * 1024),
      concurrency: c.http.concurrency,
    },
    mllp: {
      maxConnections: c.mllp.maxConnections,
      reservedForAllowedPeers: c.mllp.reservedForAllowedPeers,
      maxConnectionsPerPeer: c.mllp.maxConnectionsPerPeer,
      maxConnectionsPerAllowedPeer: c.mllp.maxConnectionsPerAllowedPeer,
      idleTimeoutMs: Math.round(c.mllp.idleTimeoutMinutes * 60_000),
      allowedFacilities: new Set(c.mllp.allowedFacilities),
      allowedPeers: c.mllp.allowedPeers,
      onlyAllowedPeers: c.mllp.onlyAllowedPeers,
    },
  };
}

/** Reads and validates the settings file: HL7V2_CONFIG if set, else config/hl7v2/intake.json. */
export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env): IntakeConfig {
  const file = env.HL7V2_CONFIG || DEFAULT_CONFIG_FILE;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`HL7 v2 intake settings ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return parseIntakeConfig(json, `HL7 v2 intake settings in ${file}`);
}
