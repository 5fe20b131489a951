import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown, loadConfig, VARIABLES } from './config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('configuration', () => {
  it('has defaults for everything but the database', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(8080);
    expect(c.MLLP_PORT).toBe(2575);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.YIFANG_NO_DEMO).toBe(false);
    expect(c.YIFANG_DEMO_POPULATION).toBe(20000);
  });

  it('refuses bad values, naming each variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', MLLP_PORT: '70000' })).toThrow(/PORT: .*MLLP_PORT: /s);
    expect(() => loadConfig({ YIFANG_NO_DEMO: 'maybe' })).toThrow(/YIFANG_NO_DEMO: expected 1\/true/);
    expect(() => loadConfig({ YIFANG_ADMIN_PASSWORD: 'short' })).toThrow(/YIFANG_ADMIN_PASSWORD/);
    expect(loadConfig({ YIFANG_NO_DEMO: 'yes', PORT: '' }).YIFANG_NO_DEMO).toBe(true);
  });

  it("is what the README's table says (regenerate with npx tsx scripts/config-table.ts)", () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const table = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(readme)?.[1];
    expect(table).toBe(configTableMarkdown());
  });

  it('is the only reader of settings from the environment in the server', () => {
    const names = new Set<string>(VARIABLES.map((v) => v.name));
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.ts$/.test(e.name) && !/\.(test|testutil)\.ts$/.test(e.name) && !p.endsWith(path.join('platform', 'config.ts'))) {
          const text = fs.readFileSync(p, 'utf8');
          for (const m of text.matchAll(/process\.env(?:\.([A-Z_]+)|\[['"]([A-Z_]+)['"]\])/g)) {
            const name = m[1] ?? m[2]!;
            if (names.has(name)) offenders.push(`${path.relative(root, p)}: ${name}`);
          }
        }
      }
    };
    walk(path.join(root, 'src'));
    // The CLI's `serve` sets PORT/YIFANG_NO_DEMO for main.ts to read through loadConfig; mllpPortFrom
    // keeps its env default for test servers that do not pass a port.
    expect(offenders.filter((o) => !/^src\/cli\/platform-commands\.ts|^src\/hl7v2\//.test(o))).toEqual([]);
  });
});
