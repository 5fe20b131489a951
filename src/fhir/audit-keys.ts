/**
 * The audit trail's keys, kept outside the database: the HMAC-SHA256 key that links the chain
 * and the Ed25519 key pair that signs its checkpoints. A database administrator who can rewrite
 * every table still cannot make a changed chain verify without them.
 *
 * Configuration (environment; listed here because config.ts belongs to the platform):
 *   YIFANG_AUDIT_KEY               the HMAC key, base64, at least 32 bytes
 *   YIFANG_AUDIT_KEY_FILE          or a file holding it (base64 text, or ≥ 32 raw bytes)
 *   YIFANG_AUDIT_SIGNING_KEY_FILE  the Ed25519 private key (PKCS#8 PEM); default: beside the
 *                                  HMAC key file, audit-signing.pem
 * Without a configured key (demo, tests) both are generated on first start under
 * <data directory>/audit/ and the log says so.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface AuditKeyConfig {
  key?: string;
  keyFile?: string;
  signingKeyFile?: string;
}

/** The audit key settings from the environment (names above). */
export function auditKeyConfig(env: NodeJS.ProcessEnv = process.env): AuditKeyConfig {
  return {
    ...(env.YIFANG_AUDIT_KEY ? { key: env.YIFANG_AUDIT_KEY } : {}),
    ...(env.YIFANG_AUDIT_KEY_FILE ? { keyFile: env.YIFANG_AUDIT_KEY_FILE } : {}),
    ...(env.YIFANG_AUDIT_SIGNING_KEY_FILE ? { signingKeyFile: env.YIFANG_AUDIT_SIGNING_KEY_FILE } : {}),
  };
}

export interface AuditKeys {
  hmacKey: Buffer;
  /** First 16 hex digits of SHA-256(hmacKey): names the key without revealing it. */
  hmacKeyId: string;
  signingKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key: what a second party needs to check checkpoints. */
  publicKeyPem: string;
  publicKeyId: string;
  /** Where the keys came from, for the log and the verify report. */
  source: string;
  /** True when this call generated them. */
  generated: boolean;
}

const keyId = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

function decodeHmacKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const b = /^[A-Za-z0-9+/=_-]+$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (b.length >= 32) return b;
  throw new Error(`${where}: the audit key must be base64 of at least 32 bytes (got ${b.length}); make one with: openssl rand -base64 32`);
}

/** Writes a file only if it does not exist yet (another process may be writing the same one). */
function createOnce(file: string, content: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Loads the keys from the configuration, or (none configured) from `<dataDir>/audit/`, creating
 * them there on first use.
 */
export function loadAuditKeys(dataDir: string, config: AuditKeyConfig = auditKeyConfig()): AuditKeys {
  let generated = false;
  let hmacKey: Buffer;
  let source: string;
  let keyDir: string;
  if (config.key) {
    hmacKey = decodeHmacKey(config.key, 'YIFANG_AUDIT_KEY');
    source = 'YIFANG_AUDIT_KEY';
    keyDir = path.join(dataDir, 'audit');
  } else if (config.keyFile) {
    const raw = fs.readFileSync(config.keyFile);
    hmacKey = /^[\sA-Za-z0-9+/=_-]+$/.test(raw.toString('latin1')) ? decodeHmacKey(raw.toString('latin1'), config.keyFile) : raw;
    if (hmacKey.length < 32) throw new Error(`${config.keyFile}: the audit key must be at least 32 bytes`);
    source = config.keyFile;
    keyDir = path.dirname(path.resolve(config.keyFile));
  } else {
    keyDir = path.join(dataDir, 'audit');
    const file = path.join(keyDir, 'audit-hmac.key');
    if (!fs.existsSync(file)) generated = createOnce(file, randomBytes(32).toString('base64') + '\n') || generated;
    hmacKey = decodeHmacKey(fs.readFileSync(file, 'latin1'), file);
    source = file;
  }
  const signingFile = config.signingKeyFile ?? path.join(keyDir, 'audit-signing.pem');
  if (!fs.existsSync(signingFile)) {
    if (config.signingKeyFile) throw new Error(`YIFANG_AUDIT_SIGNING_KEY_FILE ${signingFile} does not exist`);
    const { privateKey } = generateKeyPairSync('ed25519');
    generated = createOnce(signingFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) || generated;
  }
  const signingKey = createPrivateKey(fs.readFileSync(signingFile));
  if (signingKey.asymmetricKeyType !== 'ed25519') throw new Error(`${signingFile}: the checkpoint signing key must be Ed25519`);
  const publicKey = createPublicKey(signingKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const pubFile = signingFile.replace(/\.pem$/, '') + '.pub.pem';
  if (!fs.existsSync(pubFile)) createOnce(pubFile, publicKeyPem);
  return {
    hmacKey,
    hmacKeyId: keyId(hmacKey),
    signingKey,
    publicKey,
    publicKeyPem,
    publicKeyId: keyId(publicKey.export({ type: 'spki', format: 'der' })),
    source,
    generated,
  };
}

/** Where keys go when none are configured: the PGlite data directory, else YIFANG_DATA_DIR or ./data. */
export function defaultAuditKeyDir(dbDataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(dbDataDir || env.YIFANG_DATA_DIR || './data');
}
