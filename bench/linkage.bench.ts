/**
 * Master patient index benchmark (issue #4).
 *
 *  1. Quality: the simulator's district (messy identities: look-alike and homophone characters,
 *     traditional forms, pinyin names, day/month swaps, missing and wrong ID numbers, old phones,
 *     newborns registered as "<mother>之子") linked with the production matcher and thresholds;
 *     pairwise confusion counts against truth.json. Two seeds: 7 (the one the shipped weights
 *     were fitted on) and 11 (held out), plus an EM re-fit on the held-out district.
 *  2. Throughput: 1,000,000 synthetic persons COPYed into the index tables (then VACUUM ANALYZE),
 *     then 20,000 incoming Patients (half of them new records of indexed persons, with
 *     variations; half newcomers) linked in batches of 500 through Mpi.linkPatients (one
 *     candidate query per batch + scoring + COPY of the new rows; Person resources and household
 *     Groups not written, as the index is what is measured), with the confusion counts of the
 *     links against the generator's truth; then 10,000 more through the processor's full path,
 *     which also writes the Person resources and household Groups.
 *
 *   node --import tsx bench/linkage.bench.ts [--persons 1000000] [--population 20000] [--only pglite|postgres]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Patient } from '@medplum/fhirtypes';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { FhirRepository } from '../src/fhir/repository.js';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../src/shared/id-number.js';
import {
  blockingKeys,
  evaluateLinkage,
  fitWeights,
  linkageQualityColumns,
  loadLinkageConfig,
  loadSimulatedIdentities,
  Mpi,
  PINYIN_GROUPS,
  toIdentityRecord,
  weightsOf,
} from '../src/identity/index.js';
import { openDatabase, type Database } from '../src/platform/db.js';
import { migrateAll } from '../src/app/modules.js';
import { simulate } from '../src/simulator/index.js';
import { printTable } from './table.js';
import { rng } from './rng.js';

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

async function quality(population: number): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const cfg = loadLinkageConfig();
  for (const seed of [7, 11]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `yifang-linkage-${seed}-`));
    try {
      await simulate({ seed, population, start: '2026-01-01', days: 60, outDir: dir } as Parameters<typeof simulate>[0]);
      const labelled = loadSimulatedIdentities(dir);
      const variants = [['shipped weights', weightsOf(cfg.defaults)] as const];
      const runs: (readonly [string, ReturnType<typeof weightsOf>])[] = [...variants];
      if (seed === 11) runs.push(['EM re-fit on this district', weightsOf(fitWeights(labelled.map((l) => l.record)).parameters)]);
      for (const [name, w] of runs) {
        const r = evaluateLinkage(labelled, w);
        rows.push({
          district: `seed ${seed}${seed === 7 ? ' (fit)' : ' (held out)'}`,
          weights: name,
          records: r.records,
          ...linkageQualityColumns(r),
        });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(
    `Linkage quality vs truth.json (pairwise; thresholds upper ${cfg.thresholds.upper}, lower ${cfg.thresholds.lower}; targets precision ≥ 0.995, recall ≥ 0.99)`,
    rows,
  );
}

// ---------------------------------------------------------------------------------- synthetic persons

const CHARS = PINYIN_GROUPS.split(/\s+/)
  .filter(Boolean)
  .flatMap((g) => [...g.split(':')[1]!]);
const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤',
];

/** A synthetic resident; `area` is the ID number's area code (newcomers get another county's, so their ID numbers never collide with indexed ones). */
export function syntheticPatient(i: number, facility: string, vary: boolean, area = '339902'): Patient {
  const r = rng(i * 7919 + 13);
  const family = SURNAMES[Math.floor(r() * SURNAMES.length)]!;
  let given = CHARS[Math.floor(r() * CHARS.length)]! + (r() < 0.7 ? CHARS[Math.floor(r() * CHARS.length)]! : '');
  const y = 1930 + Math.floor(r() * 95);
  const m = 1 + Math.floor(r() * 12);
  const d = 1 + Math.floor(r() * 28);
  let birth = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const seq = 1 + Math.floor(r() * 998);
  let id: string | undefined = makeIdNumber(area, birth, seq);
  let phone = `1${3 + Math.floor(r() * 6)}${String(Math.floor(r() * 1e9)).padStart(9, '0')}`;
  const line = `路${1 + Math.floor(r() * 400)}号${1 + Math.floor(r() * 30)}幢${1 + Math.floor(r() * 4)}单元${1 + Math.floor(r() * 18)}0${1 + Math.floor(r() * 4)}室`;
  if (vary) {
    const v = rng(i * 31 + 7);
    const kind = Math.floor(v() * 4);
    if (kind === 0) id = undefined;
    if (kind === 1) given = [...given].map((c, k) => (k === 0 ? CHARS[Math.floor(v() * CHARS.length)]! : c)).join('');
    if (kind === 2 && d <= 12) birth = `${y}-${String(d).padStart(2, '0')}-${String(m).padStart(2, '0')}`;
    if (kind === 3) phone = `139${String(Math.floor(v() * 1e8)).padStart(8, '0')}`;
  }
  return {
    resourceType: 'Patient',
    id: `${facility}-${i}`,
    identifier: id ? [{ system: RESIDENT_ID_SYSTEM, value: id }] : [],
    name: [{ use: 'official', text: family + given, family, given: [given] }],
    gender: r() < 0.5 ? 'male' : 'female',
    birthDate: birth,
    telecom: [{ system: 'phone', value: phone }],
    address: [{ use: 'home', line: [line] }],
    managingOrganization: { reference: `Organization/${facility}` },
  };
}

const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

export async function fillIndex(db: Database, persons: number): Promise<number> {
  const t0 = performance.now();
  const chunk = 50_000;
  for (let start = 0; start < persons; start += chunk) {
    let rec = '';
    let blk = '';
    for (let i = start; i < Math.min(persons, start + chunk); i++) {
      const r = toIdentityRecord(syntheticPatient(i, 'base', false));
      rec += `${r.patientId}\tpsn-${i}\tlevel4\t\\N\t${esc(JSON.stringify(r))}\n`;
      for (const k of blockingKeys(r)) blk += `${esc(k)}\t${r.patientId}\n`;
    }
    const client = await db.pool.connect();
    try {
      await db.copyFrom(client, 'mpi_record', ['patient_id', 'person_id', 'assurance', 'score', 'data'], rec);
      await db.copyFrom(client, 'mpi_block', ['key', 'patient_id'], blk);
    } finally {
      client.release();
    }
  }
  // A bulk load is followed by VACUUM ANALYZE (as after any bulk import): statistics, and the
  // visibility map that lets the blocking lookup read mpi_block's index without its heap.
  // PostgreSQL's autovacuum would do the same later; PGlite has no autovacuum.
  await db.query('VACUUM ANALYZE mpi_record');
  await db.query('VACUUM ANALYZE mpi_block');
  // And its dirty pages written out, as the store's own checkpoints would in the minutes after a
  // bulk load: otherwise a checkpoint of the whole load (up to PGlite's 512 MB cache) can fall
  // inside the few seconds the full path below is timed.
  await db.query('CHECKPOINT');
  return (performance.now() - t0) / 1000;
}

/** Patients linked through the processor's full path (Person and household Group writes too). */
const FULL_PATH_PATIENTS = 10_000;

async function throughput(
  kind: 'pglite' | 'postgres',
  url: string | undefined,
  persons: number,
  incoming: number,
): Promise<Record<string, string | number>> {
  let db: Database;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const name = `yifang_linkbench_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(url!);
    u.pathname = `/${name}`;
    db = await openDatabase({ databaseUrl: u.toString() });
    cleanup = async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    };
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-linkbench-'));
    db = await openDatabase({ dataDir: dir });
    cleanup = async () => {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  try {
    await migrateAll(db);
    const fillSeconds = await fillIndex(db, persons);
    const mpi = new Mpi(db, new FhirRepository(db), { writePersons: false });
    const patients: Patient[] = [];
    /** The indexed person each incoming Patient really is (undefined: someone new). */
    const truePerson = new Map<string, string>();
    for (let k = 0; k < incoming; k++) {
      // even: a new record of an indexed person (with a variation); odd: someone new
      if (k % 2 === 0) {
        const idx = Math.floor((k * 48271) % persons);
        patients.push({ ...syntheticPatient(idx, 'hosp', true), id: `hosp-${k}` });
        truePerson.set(`hosp-${k}`, `psn-${idx}`);
      } else patients.push(syntheticPatient(persons + k, 'hosp', false, '339903'));
    }
    const counts: Record<string, number> = {};
    const linkedTo = new Map<string, string>();
    const t0 = performance.now();
    for (let i = 0; i < patients.length; i += 500) {
      const out = await db.transaction((client) => mpi.linkPatients(client, patients.slice(i, i + 500)));
      for (const o of out) {
        counts[o.decision] = (counts[o.decision] ?? 0) + 1;
        linkedTo.set(o.patientId, o.personId);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    // Links to indexed persons against the generator's truth (a review item counts as not linked).
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const p of patients) {
      const want = truePerson.get(p.id!);
      const got = linkedTo.get(p.id!);
      const linkedToIndexed = !!got && got.startsWith('psn-');
      if (want && got === want) tp++;
      else {
        if (linkedToIndexed) fp++;
        if (want) fn++;
      }
    }
    // The processor's full path also writes the Person resources and household Groups.
    const full = new Mpi(db, new FhirRepository(db));
    const more: Patient[] = [];
    for (let k = 0; k < FULL_PATH_PATIENTS; k++) {
      more.push(
        k % 2 === 0
          ? { ...syntheticPatient(Math.floor((k * 69621 + 17) % persons), 'clinic', true), id: `clinic-${k}` }
          : syntheticPatient(persons + incoming + k, 'clinic', false, '339903'),
      );
    }
    const t1 = performance.now();
    for (let i = 0; i < more.length; i += 500) await db.transaction((client) => full.linkPatients(client, more.slice(i, i + 500)));
    const fullRate = Math.round(more.length / ((performance.now() - t1) / 1000));
    return {
      store: kind,
      'persons in index': persons.toLocaleString(),
      'index fill (COPY) s': fillSeconds.toFixed(1),
      'patients linked': incoming,
      'patients/s': Math.round(incoming / seconds),
      'target /s': 2000,
      'with Person + Group writes /s': fullRate,
      'TP / FP / FN': `${tp} / ${fp} / ${fn}`,
      precision: (tp / Math.max(1, tp + fp)).toFixed(4),
      recall: (tp / Math.max(1, tp + fn)).toFixed(4),
      decisions: Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      'load avg': os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    };
  } finally {
    await cleanup();
  }
}

export async function runLinkageBench(argv: string[] = []): Promise<void> {
  loadDefinitions();
  const persons = Number(arg(argv, 'persons', '1000000'));
  const population = Number(arg(argv, 'population', '20000'));
  const only = arg(argv, 'only', '');
  if (!argv.includes('--no-quality')) await quality(population);
  const rows: Record<string, string | number>[] = [];
  const pgUrl = process.env.YIFANG_TEST_PG_URL ?? process.env.DATABASE_URL;
  if (pgUrl && only !== 'pglite') rows.push(await throughput('postgres', pgUrl, persons, 20_000));
  if (only !== 'postgres') rows.push(await throughput('pglite', undefined, persons, 20_000));
  printTable(
    `Linkage throughput (${os.cpus().length} cores; one candidate query and COPY of new rows per batch of 500; links to indexed persons vs the generator's truth)`,
    rows,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await runLinkageBench(process.argv.slice(2));
}
