#!/usr/bin/env node
// `npm run lint`: tsc, ESLint, Prettier, dependency-cruiser (module walls) and the house figures,
// each named in the summary; exits 1 if any fails. CI (.ci/run) runs it before the tests.
import { spawnSync } from 'node:child_process';

if (process.argv.includes('--help')) {
  console.log(`usage: npm run lint [-- --fix]
Runs, in order: tsc --noEmit; eslint; prettier --check (--write with --fix); depcruise (rules in
.dependency-cruiser.cjs: no-circular, platform-imports-no-capability, capabilities-meet-through-their-entry,
web-imports-server-only-as-types, …); scripts/house-figures.mjs --check (SQL in route files, type copies in web/).`);
  process.exit(0);
}
const fix = process.argv.includes('--fix');
const code = ['src', 'web/src', 'bench', 'test', 'scripts'];
const prettierGlobs = [
  'src/**/*.{ts,tsx,mjs,js}',
  'web/**/*.{ts,tsx,css,html}',
  'bench/**/*.{ts,mjs}',
  'test/**/*.ts',
  'scripts/**/*.mjs',
  'bin/*.js',
];
const steps = [
  ['tsc', ['tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['eslint', ['eslint', ...(fix ? ['--fix'] : []), ...code]],
  ['prettier', ['prettier', fix ? '--write' : '--check', '--log-level', 'warn', ...prettierGlobs]],
  [
    'dependency-cruiser',
    ['depcruise', ...code.filter((d) => d !== 'scripts'), '--config', '.dependency-cruiser.cjs', '--output-type', 'err'],
  ],
  ['house figures', ['node', 'scripts/house-figures.mjs', '--check']],
];
const results = [];
for (const [name, [cmd, ...args]] of steps) {
  console.log(`\n── ${name} ──`);
  const t0 = Date.now();
  const bin = cmd === 'node' ? process.execPath : 'npx';
  const r = spawnSync(bin, cmd === 'node' ? args : ['--no-install', cmd, ...args], { stdio: 'inherit' });
  results.push([name, r.status === 0, Date.now() - t0]);
}
console.log('\nlint summary:');
for (const [name, ok, ms] of results) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name} (${(ms / 1000).toFixed(1)} s)`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
