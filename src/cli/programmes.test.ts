import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../app/test-stores.js';
import type { Database } from '../platform/db.js';
import { loadProgrammes } from '../primary-care/index.js';
import { registerProgrammeCommands } from './programmes.js';
import { runCommand } from './run-command.testutil.js';

describe('yifang programmes recompute', () => {
  let db: (Database & { dispose(): Promise<void> }) | undefined;
  let out = '';
  let progress = '';
  const all = loadProgrammes();
  beforeAll(async () => {
    db = await freshDatabase('pglite');
    // Facts as the processor keeps them: a woman of 75 and a man with a tuberculosis course; nothing derived yet.
    await db.query(
      `INSERT INTO prog_person (patient_id, name, birth_date, gender) VALUES ('p-old', '老人', '1950-03-01', 'female'), ('p-tb', '病人', '1980-05-05', 'male')`,
    );
    await db.query(
      `INSERT INTO prog_fact (ref, patient_id, resource_type, codes, start_on, active)
       VALUES ('Condition/c-tb', 'p-tb', 'Condition', ARRAY['http://hl7.org/fhir/sid/icd-10|A15.0'], '2025-11-20', true)`,
    );
  });
  afterAll(async () => {
    await db?.dispose();
    process.exitCode = undefined;
  });
  const run = (args: string[], programmes = () => all) => {
    out = '';
    progress = '';
    return runCommand(
      (p) => registerProgrammeCommands(p, { db, programmes, write: (s) => (out += s), progress: (s) => (progress += s) }),
      'programmes',
      args,
    );
  };
  const enrolments = async () =>
    // The two programmes these facts are about (both residents are also of the screening programmes' ages).
    (
      await db!.query<{ e: string }>(
        `SELECT programme || ':' || patient_id AS e FROM prog_enrolment WHERE programme IN ('elderly-65', 'tuberculosis') ORDER BY 1`,
      )
    ).rows.map((r) => r.e);

  it('derives every resident’s enrolments and items in chunks, with progress', async () => {
    expect(await enrolments()).toEqual([]);
    expect((await run(['recompute', '--as-of', '2025-12-01', '--chunk', '1'])).code).toBe(0);
    expect(process.exitCode ?? 0).toBe(0);
    const codes = all.map((p) => p.code).sort();
    expect(codes).toEqual(expect.arrayContaining(['child-0-6', 'diabetes', 'elderly-65', 'hypertension', 'maternal', 'tuberculosis']));
    expect(out).toMatch(
      new RegExp(`^recomputed 2 residents for ${codes.length} programmes \\(${codes.join(', ')}\\) in 2 transactions, \\d+\\.\\d s\\n$`),
    );
    expect(progress).toContain('recompute 0/2 residents');
    expect(progress).toContain('recompute 2/2 residents');
    expect(await enrolments()).toEqual(['elderly-65:p-old', 'tuberculosis:p-tb']);
    const items = await db!.query<{ item: string }>(
      `SELECT item FROM prog_item WHERE patient_id = 'p-tb' AND programme = 'tuberculosis' ORDER BY window_from`,
    );
    expect(items.rows.map((r) => r.item)).toEqual(['first-visit', 'month-1', 'month-2', 'month-3', 'month-4', 'month-5', 'month-6']);
  });

  it('after a programme file changes, a recompute re-derives everyone by the new files', async () => {
    await run(['recompute', '--as-of', '2025-12-01'], () => all.filter((p) => p.code !== 'elderly-65'));
    expect(await enrolments()).toEqual(['tuberculosis:p-tb']);
    await run(['recompute', '--as-of', '2025-12-01']);
    expect(await enrolments()).toEqual(['elderly-65:p-old', 'tuberculosis:p-tb']);
  });

  it('refuses a bad chunk, date or programme file with exit code 2, naming it', async () => {
    await run(['recompute', '--chunk', '0']);
    expect(process.exitCode).toBe(2);
    expect(progress).toContain("--chunk must be a positive integer, not '0'");
    process.exitCode = undefined;
    await run(['recompute', '--as-of', '2025-02-30']);
    expect(process.exitCode).toBe(2);
    expect(progress).toContain("--as-of must be a date YYYY-MM-DD, not '2025-02-30'");
    process.exitCode = undefined;
    await run(['recompute'], () => {
      throw new Error('config/programmes/maternal.json:12: unknown code system "x"');
    });
    expect(process.exitCode).toBe(2);
    expect(progress).toContain('maternal.json:12');
    process.exitCode = undefined;
  });

  it('--help describes the command', async () => {
    const r = await runCommand((p) => registerProgrammeCommands(p), 'programmes', ['recompute', '--help']);
    expect(r.out).toContain('config/programmes');
    expect(r.out).toContain('--chunk');
  });
});
