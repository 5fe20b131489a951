/**
 * The pseudonym key of de-identified exports, kept outside the database (like the audit chain's
 * key, src/fhir/audit-keys.ts): whoever holds a copy of the database but not this key cannot
 * turn a known ID number into its pseudonym, nor undo a date shift. Changing the key changes
 * every pseudonym and shift, so keep it for as long as releases must stay linkable.
 *
 * Configuration (environment; named here since config.ts belongs to the platform):
 *   YIFANG_EXPORT_KEY       the HMAC key, base64, at least 32 bytes
 *   YIFANG_EXPORT_KEY_FILE  or a file holding it (base64 text, or ≥ 32 raw bytes)
 * With neither (demo, tests) a key is generated on first start as
 * <data directory>/exports/export-pseudonym.key and the log says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ExportKeyConfig {
  key?: string;
  keyFile?: string;
}

/** The key settings from the environment (names above). */
export function exportKeyConfig(env: NodeJS.ProcessEnv = process.env): ExportKeyConfig {
  return {
    ...(env.YIFANG_EXPORT_KEY ? { key: env.YIFANG_EXPORT_KEY } : {}),
    ...(env.YIFANG_EXPORT_KEY_FILE ? { keyFile: env.YIFANG_EXPORT_KEY_FILE } : {}),
  };
}

export interface ExportKey {
  key: Buffer;
  /** First 16 hex digits of SHA-256(key): names the key in audit events without revealing it. */
  keyId: string;
  source: string;
  generated: boolean;
}

const BASE64 = /^[A-Za-z0-9+/=_-]+$/;

function decode(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const bytes = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length >= 32) return bytes;
  throw new Error(
    `${where}: the export pseudonym key must be base64 of at least 32 bytes (got ${bytes.length}); make one with: openssl rand -base64 32`,
  );
}

/** Creates the file with this content unless it exists (two processes may start at once). */
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

/** Where the key goes when none is configured: the PGlite data directory, else YIFANG_DATA_DIR or ./data. */
export function defaultExportKeyDir(dbDataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.resolve(dbDataDir || env.YIFANG_DATA_DIR || './data'), 'exports');
}

/** Loads the configured key, or the one under `keyDir`, making it there on first use. */
export function loadExportKey(keyDir: string, config: ExportKeyConfig = exportKeyConfig()): ExportKey {
  let key: Buffer;
  let source: string;
  let generated = false;
  if (config.key) {
    key = decode(config.key, 'YIFANG_EXPORT_KEY');
    source = 'YIFANG_EXPORT_KEY';
  } else if (config.keyFile) {
    const raw = fs.readFileSync(config.keyFile);
    key = /^[\sA-Za-z0-9+/=_-]+$/.test(raw.toString('latin1')) ? decode(raw.toString('latin1'), config.keyFile) : raw;
    if (key.length < 32) throw new Error(`${config.keyFile}: the export pseudonym key must be at least 32 bytes`);
    source = config.keyFile;
  } else {
    const file = path.join(keyDir, 'export-pseudonym.key');
    if (!fs.existsSync(file)) generated = createOnce(file, randomBytes(32).toString('base64') + '\n');
    key = decode(fs.readFileSync(file, 'latin1'), file);
    source = file;
  }
  return { key, keyId: createHash('sha256').update(key).digest('hex').slice(0, 16), source, generated };
}
