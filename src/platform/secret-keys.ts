/**
 * Symmetric keys kept outside the database (the audit chain's HMAC key, the export pseudonym
 * key): taken from a setting (base64), from a file (base64 text or raw bytes), or, with neither
 * (demo, tests), generated once as a file and reused from then on.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const BASE64 = /^[A-Za-z0-9+/=_-]+$/;

/** First 16 hex digits of SHA-256(key): names a key in logs and audit events without revealing it. */
export const keyId = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** Base64 text of at least 32 bytes, or an error naming where it came from and what the key is for. */
export function decodeKey(text: string, where: string, what: string): Buffer {
  const trimmed = text.trim();
  const bytes = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length >= 32) return bytes;
  throw new Error(`${where}: ${what} must be base64 of at least 32 bytes (got ${bytes.length}); make one with: openssl rand -base64 32`);
}

/** Writes a file (mode 600) only if it does not exist yet: two processes may start at once. True when this call wrote it. */
export function createOnce(file: string, content: string): boolean {
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

export interface SecretKeySource {
  /** The key as base64 text (an environment setting), and the setting's name for messages. */
  value?: string;
  valueName: string;
  /** A file holding it. */
  file?: string;
  /** Where to generate one when neither is set. */
  generatedFile: string;
  /** What the key is, for messages ("the audit key"). */
  what: string;
}

/** Loads a key from its setting, its file, or the generated file (made on first use). */
export function loadSecretKey(s: SecretKeySource): { key: Buffer; source: string; generated: boolean } {
  if (s.value) return { key: decodeKey(s.value, s.valueName, s.what), source: s.valueName, generated: false };
  if (s.file) {
    const raw = fs.readFileSync(s.file);
    const key = /^[\sA-Za-z0-9+/=_-]+$/.test(raw.toString('latin1')) ? decodeKey(raw.toString('latin1'), s.file, s.what) : raw;
    if (key.length < 32) throw new Error(`${s.file}: ${s.what} must be at least 32 bytes`);
    return { key, source: s.file, generated: false };
  }
  const generated = !fs.existsSync(s.generatedFile) && createOnce(s.generatedFile, randomBytes(32).toString('base64') + '\n');
  return { key: decodeKey(fs.readFileSync(s.generatedFile, 'latin1'), s.generatedFile, s.what), source: s.generatedFile, generated };
}
