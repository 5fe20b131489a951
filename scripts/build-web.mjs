#!/usr/bin/env node
/**
 * Builds the web app into one folder (default web/dist): the staff app, then the resident portal
 * (/portal/) in its own build, whose React is Preact's compatible layer (web/vite.config.ts,
 * mode "portal"). Used by `npm run build:web`, the browser tests' harness and the portal bench.
 *
 *   node scripts/build-web.mjs [--out DIR] [--quiet]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
if (argv.includes('--help')) {
  console.log(
    'Usage: node scripts/build-web.mjs [--out DIR] [--quiet]\nBuilds the staff app and the resident portal into DIR (default web/dist).',
  );
  process.exit(0);
}
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outAt = argv.indexOf('--out');
const out = outAt >= 0 ? path.resolve(argv[outAt + 1]) : path.join(repoRoot, 'web/dist');
const quiet = argv.includes('--quiet') ? ['--logLevel', 'warn'] : [];
const vite = path.join(repoRoot, 'node_modules/vite/bin/vite.js');

for (const [label, extra] of [
  ['staff app', ['--emptyOutDir']],
  ['resident portal', ['--mode', 'portal']],
]) {
  if (!quiet.length) console.log(`build-web: ${label}`);
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', ...quiet, '--outDir', out, ...extra], {
    cwd: repoRoot,
    stdio: quiet.length ? 'pipe' : 'inherit',
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (quiet.length) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    console.error(`build-web: the ${label} build failed`);
    process.exit(r.status ?? 1);
  }
}
