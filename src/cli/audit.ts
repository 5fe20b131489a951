/**
 * `yifang audit verify`: checks the audit chain (every link's HMAC, stored content, sequence,
 * head, every checkpoint's Ed25519 signature, optionally checkpoints held by a second party) and
 * names the first broken event. `yifang audit checkpoints`: exports the signed checkpoints and the
 * public key as JSON. Both use the same keys as the server (YIFANG_AUDIT_KEY / _KEY_FILE, or the
 * key files under the data directory).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { exportCheckpoints, verifyAuditChain, type CheckpointExport } from '../fhir/audit-chain.js';
import { defaultAuditKeyDir, loadAuditKeys } from '../fhir/audit-keys.js';
import { loadDefinitions } from '../fhir/definitions.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase, type Database } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';

export interface AuditCommandOptions {
  /** An open store (tests); otherwise DATABASE_URL or YIFANG_DATA_DIR. */
  db?: Database;
  write?: (s: string) => void;
}

export function registerAuditCommands(program: Command, options: AuditCommandOptions = {}): void {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const open = async (): Promise<{ db: Database; owned: boolean }> => {
    if (options.db) return { db: options.db, owned: false };
    const config = loadConfig();
    const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
    await migrateAll(db);
    return { db, owned: true };
  };
  const audit = program.command('audit').description('The audit trail: verify its hash chain, export its signed checkpoints');

  audit
    .command('verify')
    .description("Check every link's HMAC, the stored events, the sequence and every checkpoint's signature; name the first broken event")
    .option('--checkpoints <file>', 'also check checkpoints held elsewhere (a JSON export of GET /api/audit/checkpoints)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { checkpoints?: string; json?: boolean }) => {
      loadDefinitions();
      const { db, owned } = await open();
      try {
        const keys = loadAuditKeys(defaultAuditKeyDir(db.dataDir));
        const external = opts.checkpoints
          ? (JSON.parse(fs.readFileSync(opts.checkpoints, 'utf8')) as CheckpointExport).checkpoints
          : undefined;
        const report = await verifyAuditChain(db.pool, keys, { external });
        if (opts.json) write(JSON.stringify(report, null, 2) + '\n');
        else {
          write(
            `audit chain: ${report.events} events, ${report.checkpoints} checkpoints checked in ${report.seconds.toFixed(1)} s (HMAC key ${report.hmacKeyId}, signing key ${report.publicKeyId})\n`,
          );
          if (report.legacyEvents) write(`${report.legacyEvents} events from before the chain began are not covered\n`);
          if (report.ok) write('OK: every link and checkpoint verifies\n');
          else {
            const f = report.firstBroken!;
            write(`BROKEN: first broken event seq ${f.seq ?? '?'} id ${f.eventId ?? '?'}: ${f.problem}\n`);
            for (const p of report.problems) write(`  seq ${p.seq ?? '-'} ${p.eventId ?? ''}: ${p.problem}\n`);
          }
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        if (owned) await db.close();
      }
    });

  audit
    .command('checkpoints')
    .description('Export the signed checkpoints and the public key as JSON (for a second party to hold)')
    .option('--out <file>', 'write to a file instead of standard output')
    .option('--since <seq>', 'only checkpoints after this chain position', '0')
    .action(async (opts: { out?: string; since: string }) => {
      loadDefinitions();
      const { db, owned } = await open();
      try {
        const keys = loadAuditKeys(defaultAuditKeyDir(db.dataDir));
        const json = JSON.stringify(await exportCheckpoints(db.pool, keys, Number(opts.since) || 0), null, 2) + '\n';
        if (opts.out) fs.writeFileSync(opts.out, json);
        else write(json);
      } finally {
        if (owned) await db.close();
      }
    });
}
