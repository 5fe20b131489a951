import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from './run-command.testutil.js';
import { simulateSeries, STANDARD_SCENARIOS } from '../surveillance/index.js';
import { evaluateAlarmSets, formatEvaluationTable, registerEvaluateCommand } from './evaluate.js';

const run = (args: string[]) => runCommand(registerEvaluateCommand, 'evaluate', args);

const tmp = mkdtempSync(path.join(tmpdir(), 'yifang-evaluate-'));

/** A simulated series written in the reference layout (observed, freq, start, range, truth). */
function writeSeries(name: string, seed: number): string {
  const s = simulateSeries(STANDARD_SCENARIOS[3]!, seed);
  const file = path.join(tmp, name);
  writeFileSync(
    file,
    JSON.stringify({ dataset: name, observed: s.observed, freq: s.freq, start: s.start, range: s.range, truth: s.truth }),
  );
  return file;
}

describe('yifang evaluate', () => {
  it('prints POD, FPR and median delay per method for series files with truth', async () => {
    const a = writeSeries('a.json', 1);
    const b = writeSeries('b.json', 2);
    const r = await run(['--series', a, b, '--methods', 'default,noufaily,earsC']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 series');
    for (const h of ['method', 'POD', 'POD week 1', 'FPR', 'median delay', 'alarms']) expect(r.out).toContain(h);
    const lines = r.out.trim().split('\n');
    expect(lines.filter((l) => /^(default|noufaily|earsC)\s/.test(l))).toHaveLength(3);
  });

  it('--json gives the numbers, and --control is passed per method', async () => {
    const a = writeSeries('c.json', 3);
    const loose = await run(['--series', a, '--methods', 'default', '--json', '--control', '{"default":{"h":0.5}}']);
    const strict = await run(['--series', a, '--methods', 'default', '--json', '--control', '{"default":{"h":20}}']);
    expect(loose.code).toBe(0);
    const l = JSON.parse(loose.out) as { results: { method: string; fpr: number; alarms: number }[] };
    const s = JSON.parse(strict.out) as { results: { method: string; fpr: number; alarms: number }[] };
    expect(l.results[0]!.method).toBe('default');
    expect(l.results[0]!.alarms).toBeGreaterThan(s.results[0]!.alarms);
  });

  it('--simulate N --seed S evaluates each scenario and the mean over scenarios, reproducibly', async () => {
    const args = ['--simulate', '2', '--seed', '7', '--scenarios', 'S2,S4', '--methods', 'default,noufaily'];
    const r1 = await run(args);
    const r2 = await run(args);
    expect(r1.code).toBe(0);
    expect(r1.out).toBe(r2.out);
    expect(r1.out).toContain('S2 low, flat');
    expect(r1.out).toContain('S4 medium, flat');
    expect(r1.out).toContain('mean over scenarios');
    expect(r1.out.split('\n').filter((l) => /\bnoufaily\b/.test(l))).toHaveLength(3);
  }, 30_000);

  it('--district replays a simulated district through the pipeline and prints fused, single-source and baseline rows', async () => {
    const dir = path.join(tmp, 'district');
    const r = await run(['--district', dir, '--district-seeds', '5', '--population', '300', '--days', '90']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('seeds 5; 300 residents, 90 days');
    for (const h of ['POD', 'POD day 1', 'median delay (d)', 'false/area/month', 'alerts/week']) expect(r.out).toContain(h);
    expect(r.out).toMatch(/^fused \(multi-point\)\s/m);
    expect(r.out).toMatch(/^baseline: CIDARS cidarsMpm on report cards\s/m);
  }, 300_000);

  it('--district refuses mixed or bad arguments, naming them', async () => {
    expect((await run(['--district', '--series', 'x.json'])).err).toContain('--district');
    const seeds = await run(['--district', '--district-seeds', 'one']);
    expect(seeds.code).toBe(2);
    expect(seeds.err).toContain('--district-seeds');
    const days = await run(['--simulate', '2', '--days', '30']);
    expect(days.code).toBe(2);
    expect(days.err).toContain('only with --district');
  });

  it('--help explains the measures and the options', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--series', '--methods', '--control', '--simulate', '--seed', 'POD', 'FPR', 'median delay', 'truth'])
      expect(r.out).toContain(s);
  });

  it('errors go to stderr with exit code 2, naming the argument', async () => {
    const noTruth = path.join(tmp, 'no-truth.json');
    writeFileSync(noTruth, JSON.stringify({ observed: [1, 2, 3], freq: 52, start: [2020, 1], range: [3] }));
    const cases: [string[], RegExp][] = [
      [[], /--series: required/],
      [['--series', noTruth], /--series: .*no "truth" array/],
      [['--series', path.join(tmp, 'missing.json')], /--series: cannot read/],
      [['--series', noTruth, '--methods', 'bayes'], /--methods: unknown detection method 'bayes'/],
      [['--simulate', 'x'], /--simulate: must be a positive integer/],
      [['--simulate', '1', '--scenarios', 'S99'], /--scenarios: unknown scenario 'S99'/],
      [['--simulate', '1', '--control', '{"earsC":{}}'], /--control: 'earsC' is not one of the methods/],
      [['--simulate', '1', '--control', 'nope'], /--control: not valid JSON/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
  });
});

describe('evaluateAlarmSets (the hook for other callers)', () => {
  it('pools alarm sets per method and formats a table', () => {
    const truth = [0, 0, 3, 1, 0, 0];
    const range = [1, 2, 3, 4, 5, 6];
    const res = evaluateAlarmSets([
      { method: 'a', alarm: [false, false, false, true, false, false], truth, range },
      { method: 'b', alarm: [true, false, true, false, false, false], truth, range },
      { method: 'a', alarm: [false, true, false, false, false, false], truth: [0, 0, 0, 0, 0, 0], range },
    ]);
    expect(res.map((r) => r.method)).toEqual(['a', 'b']);
    expect(res[0]!.summary.pod).toBe(1);
    expect(res[0]!.summary.medianDelay).toBe(1);
    expect(res[0]!.summary.fpr).toBeCloseTo(1 / 10, 15);
    expect(res[1]!.summary.podFirstWeek).toBe(1);
    expect(res[1]!.summary.fpr).toBeCloseTo(1 / 4, 15);
    const table = formatEvaluationTable(res.map((r) => ({ method: r.method, summary: r.summary })));
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toMatch(/^method/);
  });
});
