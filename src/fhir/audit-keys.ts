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
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createOnce, keyId, loadSecretKey } from '../platform/secret-keys.js';

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

/**
 * Loads the keys from the configuration, or (none configured) from `<dataDir>/audit/`, creating
 * them there on first use.
 */
export function loadAuditKeys(dataDir: string, config: AuditKeyConfig = auditKeyConfig()): AuditKeys {
  const keyDir = config.key || !config.keyFile ? path.join(dataDir, 'audit') : path.dirname(path.resolve(config.keyFile));
  const loaded = loadSecretKey({
    value: config.key,
    valueName: 'YIFANG_AUDIT_KEY',
    file: config.keyFile,
    generatedFile: path.join(keyDir, 'audit-hmac.key'),
    what: 'the audit key',
  });
  const { key: hmacKey, source } = loaded;
  let generated = loaded.generated;
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
