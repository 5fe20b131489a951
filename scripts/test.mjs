#!/usr/bin/env node
// `npm test`: runs the whole suite with vitest against PGlite and, where reachable, PostgreSQL
// (DATABASE_URL, or the local server on 127.0.0.1:5432), then prints "N passed, N failed, N skipped" (skipped: suites that could not run here, such as
// browser tests without Chromium or PostgreSQL-only tests without a server).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

async function reachable(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const candidates = [process.env.DATABASE_URL, 'postgres://postgres@127.0.0.1:5432/test'].filter(Boolean);
let pgUrl;
for (const url of candidates) {
  if (await reachable(url)) {
    pgUrl = url;
    break;
  }
}
console.log(
  pgUrl
    ? `Storage tests run on PGlite and on PostgreSQL (${pgUrl.replace(/:[^:@/]*@/, ':***@')})`
    : 'Storage tests run on PGlite only (no PostgreSQL reachable)',
);

const report = path.join(os.tmpdir(), `yifang-vitest-${process.pid}.json`);
const env = { ...process.env, YIFANG_TEST_RUN: String(process.pid) };
if (pgUrl) env.YIFANG_TEST_PG_URL = pgUrl;
delete env.DATABASE_URL;
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: 'inherit', env });
const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  failed = r.numFailedTests + (r.numFailedTestSuites && !r.numFailedTests ? r.numFailedTestSuites : 0);
} catch {
  // No report: vitest itself failed before or while running.
}
if (code !== 0 && failed === 0) {
  console.log('vitest exited with an error outside any test (see above); counted as one failure');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code === 0 && failed === 0 ? 0 : 1);
