/** Commands for the hub itself: start the server, import files, manage users. */
import fs from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadDefinitions } from '../fhir/definitions.js';
import { importPath, listImportFiles } from '../fhir/import.js';
import { FhirRepository } from '../fhir/repository.js';
import { AuthService, ROLES } from '../platform/auth.js';
import { loadConfig } from '../platform/config.js';
import { openDatabase } from '../platform/db.js';
import { migrateAll } from '../app/modules.js';

async function openStore() {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.YIFANG_DATA_DIR });
  await migrateAll(db);
  return db;
}

function fail(message: string): never {
  console.error(`yifang: ${message}`);
  process.exit(2);
}

export function registerPlatformCommands(program: Command): void {
  program
    .command('import')
    .description('Import FHIR NDJSON files (one resource per line) and Bundle JSON files into the store')
    .argument('<path>', 'a .ndjson or .json file, or a directory of them')
    .option('--batch-size <n>', 'NDJSON resources per database transaction (default: 10000 on PostgreSQL, 5000 embedded)')
    .addHelpText(
      'after',
      '\nUses DATABASE_URL when set, else the embedded store in YIFANG_DATA_DIR (./data).\nBad lines are reported with file and line number and skipped; good lines are kept.',
    )
    .action(async (target: string, opts: { batchSize?: string }) => {
      if (!fs.existsSync(target)) fail(`path '${target}' does not exist`);
      const batchSize = opts.batchSize === undefined ? undefined : Number(opts.batchSize);
      if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1))
        fail(`--batch-size must be a positive integer, not '${opts.batchSize}'`);
      loadDefinitions();
      const files = listImportFiles(target);
      const totalBytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
      const db = await openStore();
      const repo = new FhirRepository(db);
      const bar = new cliProgress.SingleBar(
        { format: 'import |{bar}| {percentage}% | {resources} resources | {file}', stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(totalBytes, 0, { resources: 0, file: '' });
      let doneBytes = 0;
      let lastFile = '';
      let fileBytes = 0;
      const stats = await importPath(repo, target, {
        batchSize,
        onProgress: (p) => {
          if (p.file !== lastFile) {
            doneBytes += fs.existsSync(lastFile) ? fs.statSync(lastFile).size : 0;
            lastFile = p.file;
          }
          fileBytes = p.bytes;
          bar.update(Math.min(totalBytes, doneBytes + fileBytes), { resources: p.resources, file: p.file.split('/').pop() });
        },
      });
      bar.update(totalBytes);
      bar.stop();
      await db.close();
      for (const e of stats.errors.slice(0, 50)) console.error(`${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`);
      if (stats.errors.length > 50) console.error(`… and ${stats.errors.length - 50} more errors`);
      console.log(
        `${stats.resources} resources from ${stats.files} files in ${stats.seconds.toFixed(1)} s (${Math.round(stats.resources / Math.max(stats.seconds, 0.001))}/s); ${stats.errors.length} rejected`,
      );
      if (stats.errors.length) process.exitCode = 1;
    });

  const user = program.command('user').description('Manage users');
  user
    .command('add')
    .description('Create a user, or update one with the same username')
    .requiredOption('--username <name>', 'login name')
    .requiredOption('--password <password>', 'at least 12 characters, not the username, not a common password')
    .requiredOption('--role <role...>', `one or more of: ${ROLES.join(', ')}`)
    .option('--name <display>', 'display name, e.g. 王医生')
    .option('--organization <org>', 'organization the user belongs to, e.g. Organization/123 or its name')
    .action(async (opts: { username: string; password: string; role: string[]; name?: string; organization?: string }) => {
      const db = await openStore();
      try {
        await new AuthService(db).addUser({
          username: opts.username,
          password: opts.password,
          roles: opts.role,
          displayName: opts.name,
          organization: opts.organization,
          enforcePolicy: true,
        });
        console.log(`user ${opts.username} saved with roles ${opts.role.join(', ')}`);
      } catch (err) {
        fail((err as Error).message);
      } finally {
        await db.close();
      }
    });

  program
    .command('serve')
    .description('Start the HTTP server (like npm start, without building the web app)')
    .option('--port <port>', 'HTTP port (default PORT or 8080)')
    .option('--no-demo', 'do not load demo data on first start')
    .action(async (opts: { port?: string; demo: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (!opts.demo) process.env.YIFANG_NO_DEMO = '1';
      await import('../app/main.js');
    });
}
