#!/usr/bin/env node
// The house figures of issue #13, counted from the source tree:
//   SQL call sites in route files (src/**/routes.ts, and register*Routes bodies in module.ts),
//   hand-written copies of server response or FHIR types in web/.
// `--check` exits 1 when a figure is above its target (0). Printed by `npm run lint`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

if (process.argv.includes('--help')) {
  console.log(
    'usage: node scripts/house-figures.mjs [--check]\nPrints SQL call sites in route files and hand-written type copies in web/; --check fails when any is not 0.',
  );
  process.exit(0);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const walk = (dir, out = []) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') walk(p, out);
    } else out.push(p);
  }
  return out;
};
const rel = (p) => path.relative(root, p);

// 1. SQL in route files: query calls, transactions, copy, and SQL keywords opening a string.
const routeFiles = walk(path.join(root, 'src')).filter(
  (f) => /(^|\/)(routes?|module)\.ts$|\/routes\/[^/]+\.ts$/.test(f) && !f.endsWith('.test.ts'),
);
const sqlPattern = /\.(query|transaction|copyFrom)\s*[(<]|[`'"]\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s/g;
const sqlSites = [];
for (const f of routeFiles) {
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (/^\s*(\/\/|\*)/.test(line)) return;
    const hits = line.match(sqlPattern);
    if (hits) sqlSites.push(`${rel(f)}:${i + 1}`);
  });
}

// 2. Hand-written type copies in web/: an interface or type alias in web/ named like an exported
//    server type or a FHIR resource type (the web app should import those with `import type`).
const serverTypes = new Set();
for (const f of walk(path.join(root, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
  for (const m of fs.readFileSync(f, 'utf8').matchAll(/^export (?:interface|type) ([A-Z][A-Za-z0-9]*)/gm)) serverTypes.add(m[1]);
}
const fhirTypesDir = path.join(root, 'node_modules/@medplum/fhirtypes/dist');
if (fs.existsSync(fhirTypesDir))
  for (const f of fs.readdirSync(fhirTypesDir)) if (f.endsWith('.d.ts')) serverTypes.add(f.replace(/\.d\.ts$/, ''));
const copies = [];
for (const f of walk(path.join(root, 'web/src')).filter((f) => /\.tsx?$/.test(f))) {
  const lines = fs.readFileSync(f, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const m = /^\s*(?:export\s+)?(?:interface\s+([A-Z][A-Za-z0-9]*)\b|type\s+([A-Z][A-Za-z0-9]*)\s*(?:<[^=]*>)?\s*=)/.exec(line);
    const name = m?.[1] ?? m?.[2];
    if (name && serverTypes.has(name) && !/=\s*import\(|from '/.test(line)) copies.push(`${rel(f)}:${i + 1} ${name}`);
  });
}

// 3. Module walls from dependency-cruiser: import cycles, and upward imports (platform/, fhir/ or
//    shared/ importing a capability, the CLI or the composition root, type-only imports included).
const cruise = spawnSync(
  process.execPath,
  [
    path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
    'src',
    'web/src',
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'json',
  ],
  { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
);
const cycles = [];
const upward = [];
const otherViolations = [];
try {
  const result = JSON.parse(cruise.stdout);
  for (const v of result.summary.violations) {
    if (v.rule.name === 'no-circular') cycles.push(`${v.from} → ${(v.cycle ?? []).map((c) => c.name ?? c).join(' → ')}`);
    else otherViolations.push(`${v.rule.name}: ${v.from} → ${v.to}`);
  }
  const lower = /^src\/(platform|fhir|shared)\//;
  const higher = /^src\/(?!platform\/|fhir\/|shared\/)/;
  for (const m of result.modules) {
    if (!lower.test(m.source) || /\.(test|testutil)\.ts$/.test(m.source)) continue;
    for (const d of m.dependencies)
      if (higher.test(d.resolved))
        upward.push(`${m.source} → ${d.resolved}${d.dependencyTypes.includes('type-only') ? ' (type only)' : ''}`);
  }
} catch {
  otherViolations.push(`dependency-cruiser did not run: ${cruise.stderr.slice(0, 300)}`);
}

const rows = [
  ['import cycles', cycles],
  ['imports from platform/, fhir/ or shared/ into a capability, the CLI or the app', upward.filter((u) => !u.endsWith('(type only)'))],
  ['other module-wall violations (dependency-cruiser)', otherViolations],
  ['SQL call sites in route files', sqlSites],
  ['hand-written copies of server or FHIR types in web/', copies],
];
let bad = false;
const typeOnly = upward.filter((u) => u.endsWith('(type only)'));
for (const [label, list] of rows) {
  console.log(`${label}: ${list.length} (target 0)`);
  for (const s of list.slice(0, 50)) console.log(`    ${s}`);
  if (list.length > 50) console.log(`    … and ${list.length - 50} more`);
  if (list.length) bad = true;
}
if (typeOnly.length) console.log(`(type-only names of the FHIR store in the module contract, allowed: ${typeOnly.length})`);
if (process.argv.includes('--check') && bad) process.exit(1);
