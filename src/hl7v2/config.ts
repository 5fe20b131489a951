/**
 * The intake's settings (config/hl7v2/intake.json, or the file named by HL7V2_CONFIG): how
 * bytes are decoded when MSH-18 does not match them, the limits of POST /api/hl7, how the
 * MLLP listener shares its connections between hospitals, which addresses each sending
 * facility may send from, and the listener's TLS. Read and validated once at start (TLS
 * certificate and key files included): a bad value stops the server, naming the field.
 *
 * Charsets are written as in MSH-18 (HL7 table 0211: 'UNICODE UTF-8', 'GB 18030-2000', 'GBK'…).
 */
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
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
        /**
         * Per sending facility (MSH-4.1): the addresses (IPs or CIDR ranges) its MLLP messages
         * must come from. A facility without peers may send from anywhere.
         */
        facilities: z
          .record(
            z.string().min(1),
            z
              .object({ peers: z.array(z.string()).default([]) })
              .strict()
              .default({}),
          )
          .default({}),
        /** MLLP inside TLS (absent or null: plain TCP). Relative paths are from the settings file's folder. */
        tls: z
          .object({
            certFile: z.string().min(1),
            keyFile: z.string().min(1),
            /** CA certificates (PEM) that client certificates must chain to. */
            caFile: z.string().min(1).optional(),
            /** Mutual TLS: refuse a client that presents no certificate signed by `caFile`. */
            requireClientCertificate: z.boolean().default(false),
          })
          .strict()
          .nullable()
          .default(null),
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
    const facilityPeers = Object.values(m.facilities).flatMap((f) => f.peers);
    if (m.onlyAllowedPeers && !m.allowedPeers.length && !facilityPeers.length)
      ctx.addIssue({
        code: 'custom',
        path: ['mllp', 'onlyAllowedPeers'],
        message: 'is true but allowedPeers is empty (and no facility lists peers): nobody could connect',
      });
    try {
      peerAllowList(m.allowedPeers);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['mllp', 'allowedPeers'], message: (e as Error).message });
    }
    for (const [facility, f] of Object.entries(m.facilities)) {
      if (m.allowedFacilities.length && !m.allowedFacilities.includes(facility))
        ctx.addIssue({
          code: 'custom',
          path: ['mllp', 'facilities', facility],
          message: 'is not in allowedFacilities, so its messages would be refused whatever their address: add it there too',
        });
      f.peers.forEach((entry, i) => {
        try {
          peerAllowList([entry]);
        } catch (e) {
          ctx.addIssue({ code: 'custom', path: ['mllp', 'facilities', facility, 'peers', i], message: (e as Error).message });
        }
      });
    }
    if (m.tls?.requireClientCertificate && !m.tls.caFile)
      ctx.addIssue({
        code: 'custom',
        path: ['mllp', 'tls', 'requireClientCertificate'],
        message: "is true but caFile is not set: name the CA that signs the hospitals' client certificates",
      });
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
    /** Peers getting the reserve and the larger share: `allowedPeers` and every facility's `peers`. */
    allowedPeers: readonly string[];
    onlyAllowedPeers: boolean;
    /** Per sending facility with peers listed: the addresses (IPs, CIDR ranges) it must send from. */
    facilityPeers: ReadonlyMap<string, readonly string[]>;
    /** Listener TLS settings, files read (undefined: plain TCP). */
    tls?: MllpTlsSettings;
  };
}

/** The MLLP listener's TLS, as read from the files the settings name. */
export interface MllpTlsSettings {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requireClientCertificate: boolean;
  /** The files, for messages. */
  certFile: string;
  keyFile: string;
  caFile?: string;
}

/** The options `startMllpServer` takes for these TLS settings. */
export function mllpTlsOptions(t: MllpTlsSettings | undefined): tls.TlsOptions | undefined {
  if (!t) return undefined;
  return {
    cert: t.cert,
    key: t.key,
    ca: t.ca,
    requestCert: t.requireClientCertificate,
    rejectUnauthorized: t.requireClientCertificate,
  };
}

/**
 * Validates settings (the parsed JSON) and reads the TLS files they name (relative paths from
 * `baseDir`); throws one error naming every bad field.
 */
export function parseIntakeConfig(input: unknown, source = 'HL7 v2 intake settings', baseDir = process.cwd()): IntakeConfig {
  const r = IntakeConfigSchema.safeParse(input ?? {});
  const fail = (problems: string[]) => new Error(`${source} are invalid: ${problems.join('; ')}`);
  if (!r.success) throw fail(r.error.issues.map((i) => `${i.path.join('.') || '(top)'} ${i.message}`));
  const c = r.data;
  const tlsSettings = c.mllp.tls ? readTls(c.mllp.tls, baseDir) : undefined;
  if (tlsSettings && !('cert' in tlsSettings)) throw fail(tlsSettings.problems);
  const facilityPeers = new Map(Object.entries(c.mllp.facilities).flatMap(([f, v]) => (v.peers.length ? [[f, v.peers] as const] : [])));
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
      allowedPeers: [...new Set([...c.mllp.allowedPeers, ...[...facilityPeers.values()].flat()])],
      onlyAllowedPeers: c.mllp.onlyAllowedPeers,
      facilityPeers,
      tls: tlsSettings,
    },
  };
}

type TlsInput = NonNullable<z.output<typeof IntakeConfigSchema>['mllp']['tls']>;

/** Reads the certificate, key and CA files and checks that they make a usable TLS context. */
function readTls(t: TlsInput, baseDir: string): MllpTlsSettings | { problems: string[] } {
  const problems: string[] = [];
  const read = (key: 'certFile' | 'keyFile' | 'caFile'): [string, Buffer] | undefined => {
    const name = t[key];
    if (name === undefined) return undefined;
    const file = path.resolve(baseDir, name);
    try {
      return [file, fs.readFileSync(file)];
    } catch (e) {
      problems.push(`mllp.tls.${key} cannot be read (${file}): ${(e as Error).message}`);
      return undefined;
    }
  };
  const cert = read('certFile');
  const key = read('keyFile');
  const ca = read('caFile');
  if (problems.length || !cert || !key) return { problems };
  const settings: MllpTlsSettings = {
    cert: cert[1],
    key: key[1],
    ca: ca?.[1],
    requireClientCertificate: t.requireClientCertificate,
    certFile: cert[0],
    keyFile: key[0],
    caFile: ca?.[0],
  };
  try {
    tls.createSecureContext(mllpTlsOptions(settings));
  } catch (e) {
    return {
      problems: [`mllp.tls (${settings.certFile}, ${settings.keyFile}) is not a usable certificate and key: ${(e as Error).message}`],
    };
  }
  return settings;
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
  return parseIntakeConfig(json, `HL7 v2 intake settings in ${file}`, path.dirname(path.resolve(file)));
}
