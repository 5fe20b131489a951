// Rewrites the README's configuration table from src/platform/config.ts (VARIABLES).
// usage: npx tsx scripts/config-table.ts [--check]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configTableMarkdown } from '../src/platform/config.js';

if (process.argv.includes('--help')) {
  console.log(
    'usage: npx tsx scripts/config-table.ts [--check]\nWrites (or with --check, compares) the README table between <!-- config:start --> and <!-- config:end -->.',
  );
  process.exit(0);
}
const readme = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md');
const text = fs.readFileSync(readme, 'utf8');
const re = /(<!-- config:start -->)[\s\S]*?(<!-- config:end -->)/;
if (!re.test(text)) throw new Error('README.md has no <!-- config:start --> … <!-- config:end --> section');
const next = text.replace(re, `$1\n${configTableMarkdown()}\n$2`);
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('README.md configuration table differs from src/platform/config.ts: run npx tsx scripts/config-table.ts');
    process.exit(1);
  }
} else fs.writeFileSync(readme, next);
