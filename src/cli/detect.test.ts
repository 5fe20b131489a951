import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from './run-command.testutil.js';
import { loadRef, refDir } from '../surveillance/detectors/refs.testutil.js';
import { registerDetectCommand } from './detect.js';

const run = (args: string[]) => runCommand(registerDetectCommand, 'detect', args);

const tmp = mkdtempSync(path.join(tmpdir(), 'yifang-detect-'));
const refPath = (name: string) => path.join(refDir, name);

describe('yifang detect', () => {
  it('prints full-length alarm and upperbound matching the R reference', async () => {
    const name = 'salmonella.agona__earsC_C2_alpha0.05.json';
    const r = await run(['--method', 'earsC', '--control', '{"method":"C2","alpha":0.05}', '--input', refPath(name)]);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out) as { alarm: (boolean | null)[]; upperbound: (number | null)[] };
    expect(Object.keys(got)).toEqual(['alarm', 'upperbound']);
    const ref = loadRef(name);
    expect(got.alarm.length).toBe(ref.observed.length);
    got.alarm.forEach((a, i) => expect(a).toBe(ref.alarm[i] === null ? null : Boolean(ref.alarm[i])));
    got.upperbound.forEach((u, i) => {
      const v = ref.upperbound[i];
      if (v === null) expect(u).toBeNull();
      else expect(Math.abs((u as number) - v)).toBeLessThan(1e-9);
    });
  });
  it("takes a dated series in R's layout (epochAsDate with epoch) and matches R's Farrington on it", async () => {
    const dated = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../surveillance/detectors/fixtures/dated');
    const series = JSON.parse(readFileSync(path.join(dated, 'series-sim53.json'), 'utf8')) as {
      observed: number[];
      dates: string[];
      freq: number;
      start: number[];
    };
    const ref = JSON.parse(readFileSync(path.join(dated, 'sim53__farrington_b5w3.json'), 'utf8')) as {
      control: { range: number[] };
      alarm: number[];
      upperbound: number[];
    };
    const input = path.join(tmp, 'sim53-epoch.json');
    writeFileSync(
      input,
      JSON.stringify({
        observed: series.observed,
        freq: series.freq,
        start: series.start,
        range: ref.control.range,
        epochAsDate: true,
        epoch: series.dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 86_400_000),
      }),
    );
    const r = await run(['--method', 'farrington', '--control', '{"b":5,"w":3}', '--input', input]);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out) as { alarm: (boolean | null)[]; upperbound: (number | null)[] };
    ref.control.range.forEach((t, i) => {
      expect(got.alarm[t - 1]).toBe(Boolean(ref.alarm[i]));
      expect(Math.abs(got.upperbound[t - 1]! - ref.upperbound[i]!)).toBeLessThan(1e-9);
    });
  });
  it('reads --control from @file and supports --verbose', async () => {
    const ctl = path.join(tmp, 'ctl.json');
    writeFileSync(ctl, JSON.stringify({ m: 'glm', trans: 'rossi' }));
    const r = await run([
      '--method',
      'cusum',
      '--control',
      `@${ctl}`,
      '--input',
      refPath('salmonella.agona__cusum_glm_rossi.json'),
      '--verbose',
    ]);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.out) as { alarm: unknown[]; extra: Record<string, unknown[]>; messages: string[] };
    expect(got.alarm.filter((a) => a === true).length).toBe(11);
    expect(got.extra['m']!.length).toBe(104);
  });
  it('--help lists the methods and their controls', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const m of ['farringtonFlexible', 'earsC3cdc', 'cusum', 'glrnb', 'essence', 'cidarsMpm', 'cidarsFixed', 'default'])
      expect(r.out).toContain(m);
    expect(r.out).toContain('c.ARL');
  });
  it('errors go to stderr with exit code 2, naming the argument', async () => {
    const input = refPath('salmonella.agona__cusum_default.json');
    const cases: [string[], RegExp][] = [
      [['--input', input], /--method: required/],
      [['--method', 'nope', '--input', input], /--method: unknown detection method 'nope'/],
      [['--method', 'cusum', '--control', '{bad', '--input', input], /--control: not valid JSON/],
      [['--method', 'cusum', '--control', '[1]', '--input', input], /--control: must be a JSON object/],
      [['--method', 'cusum', '--control', '{"trans":"log"}', '--input', input], /--control: control\.trans/],
      [['--method', 'cusum'], /--input: required/],
      [['--method', 'cusum', '--input', path.join(tmp, 'missing.json')], /--input: cannot read/],
      [['--method', 'cusum', '--control', '@' + path.join(tmp, 'missing.json'), '--input', input], /--control: cannot read/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
      expect(r.out).toBe('');
    }
  });
  it('bad counts in the input are reported with their index', async () => {
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ observed: [1, 2, -1, 3], freq: 52, start: [2020, 1], range: [4] }));
    const r = await run(['--method', 'cidarsFixed', '--input', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--input: series\.observed\[2\]/);
    const notJson = path.join(tmp, 'x.json');
    writeFileSync(notJson, 'observed: 1');
    expect((await run(['--method', 'cidarsFixed', '--input', notJson])).err).toMatch(/--input: .* is not valid JSON/);
  });
  it('gaps pass, with notes on stderr', async () => {
    const gap = path.join(tmp, 'gap.json');
    writeFileSync(gap, JSON.stringify({ observed: [0, 1, null, 2], freq: 365, start: [2024, 1], range: [1, 2, 3, 4] }));
    const r = await run(['--method', 'cidarsFixed', '--input', gap]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ alarm: [false, true, null, true], upperbound: [1, 1, null, 1] });
    expect(r.err).toMatch(/note: missing or invalid/);
  });
});
