import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../app/test-stores.js';
import type { Database } from '../platform/db.js';
import { registerLabCommands } from './lab.js';
import { runCommand } from './run-command.testutil.js';

describe('yifang lab verify', () => {
  let db: (Database & { dispose(): Promise<void> }) | undefined;
  let out = '';
  beforeAll(async () => {
    db = await freshDatabase('pglite');
  });
  afterAll(async () => {
    await db?.dispose();
    process.exitCode = undefined;
  });
  const run = (args: string[]) => runCommand((p) => registerLabCommands(p, { db, write: (s) => (out += s) }), 'lab', args);

  it('checks every custody chain and says so; --json gives the report', async () => {
    out = '';
    expect((await run(['verify'])).code).toBe(0);
    expect(out).toMatch(/^custody: 0 specimens, 0 hand-overs checked in \d+\.\d s\nOK: every chain verifies\n$/);
    out = '';
    await run(['verify', '--json']);
    expect(JSON.parse(out)).toMatchObject({ ok: true, specimens: 0, brokenChains: 0, firstBroken: null });
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('--help describes the command', async () => {
    const r = await runCommand((p) => registerLabCommands(p), 'lab', ['verify', '--help']);
    expect(r.out).toContain('custody chain');
  });
});
