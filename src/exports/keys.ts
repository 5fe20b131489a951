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
import path from 'node:path';
import { keyId, loadSecretKey } from '../platform/secret-keys.js';

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

/** Where the key goes when none is configured: the PGlite data directory, else YIFANG_DATA_DIR or ./data. */
export function defaultExportKeyDir(dbDataDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(path.resolve(dbDataDir || env.YIFANG_DATA_DIR || './data'), 'exports');
}

/** Loads the configured key, or the one under `keyDir`, making it there on first use. */
export function loadExportKey(keyDir: string, config: ExportKeyConfig = exportKeyConfig()): ExportKey {
  const { key, source, generated } = loadSecretKey({
    value: config.key,
    valueName: 'YIFANG_EXPORT_KEY',
    file: config.keyFile,
    generatedFile: path.join(keyDir, 'export-pseudonym.key'),
    what: 'the export pseudonym key',
  });
  return { key, keyId: keyId(key), source, generated };
}
