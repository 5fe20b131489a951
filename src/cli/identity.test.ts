/**
 * `yifang identity …` run in-process against a running test server's database (both stores):
 * manual decisions are audited and reversible, the review queue and $match-like scoring print,
 * evaluate reports precision / recall on a small simulated district, and every bad argument is
 * named on stderr with its exit code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { describeEachStore } from '../app/testing.js';
import { simulate } from '../simulator/index.js';
import { registerIdentityCommands } from './identity.js';
import { runCommand } from './run-command.testutil.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'yifang-identity-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function patient(
  id: string,
  o: { name: string; birth: string; phone: string; line?: string; idNumber?: string; org?: string; sex?: Patient['gender'] },
): Patient {
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      {
        system: `https://yifang.health/fhir/sid/mrn/${o.org ?? 'org-A'}`,
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        value: `MRN-${id}`,
      },
      ...(o.idNumber ? [{ system: RESIDENT_ID_SYSTEM, value: o.idNumber }] : []),
    ],
    name: [{ use: 'official', text: o.name }],
    gender: o.sex ?? 'male',
    birthDate: o.birth,
    telecom: [{ system: 'phone', value: o.phone }],
    ...(o.line ? { address: [{ use: 'home' as const, line: [o.line] }] } : {}),
    managingOrganization: { reference: `Organization/${o.org ?? 'org-A'}` },
  };
}

describe('yifang identity (no store needed)', () => {
  const run = (args: string[]) => runCommand((p: Command) => void registerIdentityCommands(p), 'identity', args);

  it('--help lists every subcommand, and each subcommand has its own --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const sub of ['link', 'unlink', 'merge', 'undo', 'events', 'review', 'match', 'evaluate', 'households', 'fit'])
      expect(r.out).toMatch(new RegExp(`\\n\\s+${sub}\\b`));
    expect(r.out).toContain('AuditEvent');
    const expectations: [string, string[]][] = [
      ['link', ['--patient', '--person', '--reason', '--user']],
      ['unlink', ['--patient']],
      ['merge', ['--from', '--into']],
      ['undo', ['<event>']],
      ['review', ['--limit', '--json']],
      ['match', ['<file>', '--count', 'certain']],
      ['evaluate', ['<path>', 'truth.json', '--min-precision', '--min-recall', '--upper', '--lower']],
      ['households', ['--rebuild', 'Group?member=']],
      ['fit', ['--sample']],
    ];
    for (const [sub, words] of expectations) {
      const h = await run([sub, '--help']);
      expect(h.code, sub).toBe(0);
      for (const w of words) expect(h.out, `${sub} --help`).toContain(w);
    }
  });

  it('names missing and malformed arguments', async () => {
    const link = await run(['link', '--patient', 'x']);
    expect(link.code).toBe(1);
    expect(link.err).toMatch(/--person/);
    // arguments are checked before the store is opened
    const noStore = (args: string[]) =>
      runCommand(
        (p: Command) => void registerIdentityCommands(p, { openStore: () => Promise.reject(new Error('store opened')) }),
        'identity',
        args,
      );
    for (const [args, re] of [
      [['undo', 'abc'], /<event>: must be a positive integer, not 'abc'/],
      [['review', '--limit', '-1'], /--limit: must be a positive integer/],
      [['match', path.join(tmp, 'missing.json')], /<file>: cannot read/],
      [['fit', '--sample', '0'], /--sample: must be a positive integer/],
    ] as [string[], RegExp][]) {
      const r = await noStore(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
    const evalMissing = await run(['evaluate', path.join(tmp, 'nowhere')]);
    expect(evalMissing.code).toBe(2);
    expect(evalMissing.err).toMatch(/yifang identity evaluate: <path>: no truth\.json/);
  });

  describe('evaluate on a small simulated district', () => {
    const dir = path.join(tmp, 'district');
    beforeAll(async () => {
      await simulate({ seed: 5, population: 1500, start: '2026-01-01', days: 14, outDir: dir });
    }, 120_000);

    it('prints precision, recall and the confusion counts against truth.json', async () => {
      const r = await run(['evaluate', dir]);
      expect(r.code, r.err).toBe(0);
      for (const h of ['true pairs', 'TP', 'FP', 'FN', 'precision', 'recall', 'review (true)']) expect(r.out).toContain(h);
      const j = await run(['evaluate', path.join(dir, 'truth.json'), '--json']);
      const res = JSON.parse(j.out) as {
        records: number;
        truePositives: number;
        falsePositives: number;
        falseNegatives: number;
        precision: number;
        recall: number;
        truePairs: number;
      };
      expect(res.records).toBeGreaterThan(1000);
      expect(res.truePositives + res.falseNegatives).toBe(res.truePairs);
      expect(res.precision).toBeGreaterThanOrEqual(0.99);
      expect(res.recall).toBeGreaterThanOrEqual(0.98);
    }, 60_000);

    it('fails with exit code 1 below --min-precision / --min-recall, and 2 for bad values', async () => {
      const ok = await run(['evaluate', dir, '--min-precision', '0.5', '--min-recall', '0.5']);
      expect(ok.code).toBe(0);
      // with an impossible link threshold nothing links on score, so recall falls below 1
      const strict = await run(['evaluate', dir, '--upper', '1000', '--lower', '999', '--min-recall', '1']);
      expect(strict.code).toBe(1);
      expect(strict.err).toMatch(/recall .* < 1/);
      const bad: [string[], RegExp][] = [
        [['--min-precision', '2'], /--min-precision: must be a number between 0 and 1/],
        [['--upper', 'x'], /--upper: must be a number/],
        [['--upper', '0', '--lower', '5'], /--lower \(5\) must not be above --upper \(0\)/],
      ];
      for (const [args, re] of bad) {
        const r = await run(['evaluate', dir, ...args]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.err).toMatch(re);
      }
    }, 60_000);
  });
});

describeEachStore('yifang identity against the index', (server) => {
  const run = (args: string[]) =>
    runCommand(
      (p: Command) => void registerIdentityCommands(p, { openStore: async () => ({ db: server().db, close: async () => undefined }) }),
      'identity',
      args,
    );
  const put = async (p: Patient) =>
    expect((await server().api(`/fhir/Patient/${p.id}`, { method: 'PUT', body: JSON.stringify(p) })).status).toBeLessThan(300);
  const personOf = async (id: string) =>
    ((await (await server().api(`/api/identity/patients/${id}/person`)).json()) as { personId: string }).personId;
  const ID = makeIdNumber('339902', '1979-10-02', 17);

  beforeAll(async () => {
    await put(
      patient('cli-a', { name: '黄丽', sex: 'female', birth: '1979-10-02', phone: '13512340000', line: '人民路9号3幢201室', idNumber: ID }),
    );
    await put(
      patient('cli-b', { name: '黄麗', sex: 'female', birth: '1979-10-02', phone: '13512340000', line: '人民路9号3幢201室', org: 'org-B' }),
    );
    await put(patient('cli-z', { name: '孙浩', birth: '2001-04-05', phone: '13799990000', line: '西湖路2号' }));
    // between the thresholds: same birth date and phone, one character of the given name differs, nothing else
    await put(
      patient('cli-r1', { name: '高洋', birth: '1966-06-06', phone: '13100000077', idNumber: makeIdNumber('339902', '1966-06-06', 41) }),
    );
    await put(patient('cli-r2', { name: '高祥', birth: '1966-06-06', phone: '13100000077', org: 'org-B' }));
    await server().processors.drain();
  });

  it('unlink, merge and link are audited and each can be undone; undoing twice is refused', async () => {
    const together = await personOf('cli-a');
    expect(await personOf('cli-b')).toBe(together);

    const un = await run(['unlink', '--patient', 'cli-b', '--reason', 'different mothers', '--user', 'dr-wang']);
    expect(un.code, un.err).toBe(0);
    const unEvent = Number(/event (\d+)/.exec(un.out)![1]);
    const alone = await personOf('cli-b');
    expect(alone).not.toBe(together);
    expect(un.out).toContain(`Person/${alone}`);

    const undo = await run(['undo', String(unEvent)]);
    expect(undo.code, undo.err).toBe(0);
    expect(await personOf('cli-b')).toBe(together);
    const again = await run(['undo', String(unEvent)]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/yifang identity undo: Event \d+ was already undone/);

    const z = await personOf('cli-z');
    const merge = await run(['merge', '--from', z, '--into', together]);
    expect(merge.code, merge.err).toBe(0);
    expect(await personOf('cli-z')).toBe(together);
    await run(['undo', /event (\d+)/.exec(merge.out)![1]!]);
    expect(await personOf('cli-z')).toBe(z);

    const link = await run(['link', '--patient', 'cli-z', '--person', together]);
    expect(link.code, link.err).toBe(0);
    expect(await personOf('cli-z')).toBe(together);
    await run(['undo', /event (\d+)/.exec(link.out)![1]!]);
    expect(await personOf('cli-z')).toBe(z);

    const events = JSON.parse((await run(['events', '--json'])).out) as {
      items: { action: string; username: string; reason: string | null }[];
    };
    expect(events.items.map((e) => e.action)).toEqual(['undo', 'link', 'undo', 'merge', 'undo', 'unlink']);
    expect(events.items.at(-1)).toMatchObject({ username: 'dr-wang', reason: 'different mothers' });
    const audits = (await (await server().api('/fhir/AuditEvent?subtype=identity-unlink')).json()) as {
      entry?: { resource: { agent: { who?: { display?: string }; name?: string }[] } }[];
    };
    expect(JSON.stringify(audits.entry ?? [])).toContain('dr-wang');
    expect(
      ((await (await server().api('/fhir/AuditEvent?subtype=identity-undo')).json()) as { entry?: unknown[] }).entry?.length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('refuses unknown patients and persons with exit code 1, bad numbers with exit code 2', async () => {
    const cases: [string[], number, RegExp][] = [
      [['unlink', '--patient', 'nobody'], 1, /yifang identity unlink: Patient\/nobody is not in the person index/],
      [['link', '--patient', 'cli-a', '--person', 'no-such-person'], 1, /Person\/no-such-person has no records/],
      [['merge', '--from', 'p1', '--into', 'p1'], 1, /cannot be merged into itself/],
      [['undo', 'abc'], 2, /yifang identity undo: <event>: must be a positive integer, not 'abc'/],
      [['undo', '999999'], 1, /No identity event 999999/],
      [['review', '--limit', '0'], 2, /--limit: must be a positive integer/],
    ];
    for (const [args, code, re] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(re);
    }
  });

  it('lists the review queue, and link settles an item', async () => {
    const r = await run(['review']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/open item\(s\); thresholds/);
    expect(r.out).toContain('cli-r2');
    const items = (JSON.parse((await run(['review', '--json'])).out) as { items: { patient_id: string; candidate_person_id: string }[] })
      .items;
    const item = items.find((i) => i.patient_id === 'cli-r2')!;
    expect(item.candidate_person_id).toBe(await personOf('cli-r1'));
    expect((await run(['link', '--patient', 'cli-r2', '--person', item.candidate_person_id])).code).toBe(0);
    expect((await run(['review'])).out).not.toContain('cli-r2');
  });

  it('match scores a Patient file against the index', async () => {
    const file = path.join(tmp, `probe-${server().db.kind}.json`);
    writeFileSync(file, JSON.stringify(patient('probe', { name: 'HUANG LI', sex: 'female', birth: '1979-10-02', phone: '13512340000' })));
    const r = await run(['match', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^rank\s+person\s+patient\s+score\s+grade/);
    expect(r.out.split('\n')[1]).toMatch(/^1\s.*cli-[ab]\s.*probable/);
    const withId = path.join(tmp, `probe-id-${server().db.kind}.json`);
    writeFileSync(
      withId,
      JSON.stringify({
        resourceType: 'Parameters',
        parameter: [{ name: 'resource', resource: patient('probe2', { name: '王五', birth: '1979-10-02', phone: '1', idNumber: ID }) }],
      }),
    );
    const j = JSON.parse((await run(['match', withId, '--json', '--count', '1'])).out) as {
      matches: { grade: string; personId: string }[];
    };
    expect(j.matches).toHaveLength(1);
    expect(j.matches[0]).toMatchObject({ grade: 'certain', personId: await personOf('cli-a') });

    const notJson = path.join(tmp, 'not.json');
    writeFileSync(notJson, '{nope');
    const notPatient = path.join(tmp, 'obs.json');
    writeFileSync(notPatient, JSON.stringify({ resourceType: 'Observation' }));
    const cases: [string[], RegExp][] = [
      [['match', path.join(tmp, 'missing.json')], /<file>: cannot read .*ENOENT/],
      [['match', notJson], /<file>: .* is not valid JSON/],
      [['match', notPatient], /<file>: .* holds no Patient/],
      [['match', file, '--count', 'many'], /--count: must be a positive integer/],
    ];
    for (const [args, re] of cases) {
      const bad = await run(args);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.err).toMatch(re);
    }
  });

  it('households counts the address households and --rebuild rewrites their Groups', async () => {
    const groupOf = async (id: string) =>
      (
        (
          (await (await server().api(`/fhir/Group?member=Patient/${id}`)).json()) as {
            entry?: { resource: { id: string; member: unknown[] } }[];
          }
        ).entry ?? []
      ).map((e) => e.resource);
    const [g] = await groupOf('cli-a');
    expect(g!.member).toHaveLength(2); // cli-a and cli-b live at 人民路9号3幢201室
    await server().api(`/fhir/Group/${g!.id}`, { method: 'DELETE' });
    expect(await groupOf('cli-a')).toEqual([]);
    const r = await run(['households', '--rebuild', '--json']);
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as {
      households: number;
      persons: number;
      patients: number;
      largest: number;
      rebuilt: { households: number };
    };
    expect(s).toMatchObject({ households: 2, patients: 3, largest: 1 });
    expect(s.rebuilt.households).toBe(2);
    expect((await groupOf('cli-a')).map((x) => x.id)).toEqual([g!.id]);
    expect((await run(['households'])).out).toMatch(/^2 households; 2 residents \(3 Patients\); largest 1 residents/);
  });

  it('fit re-estimates the weights from the index and stores them', async () => {
    const r = await run(['fit', '--json']);
    expect(r.code, r.err).toBe(0);
    const fit = JSON.parse(r.out) as { pairs: number; parameters: Record<string, { m: number[] }> };
    expect(Object.keys(fit.parameters)).toEqual(['name', 'birth', 'sex', 'phone', 'address', 'id']);
    const stored = await server().db.query<{ n: number }>('SELECT count(*)::int AS n FROM mpi_weights');
    expect(stored.rows[0]!.n).toBe(1);
    // leave the shipped weights in force for the other tests of this store
    await server().db.query('DELETE FROM mpi_weights');
  });
});
