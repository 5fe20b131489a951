/**
 * The synthetic district simulator: `simulate()` builds a fictional district and writes its
 * records day by day (FHIR NDJSON, HL7 v2, CSV feeds, report cards), then truth.json,
 * district.json and, last, manifest.json. Same options → byte-identical output.
 */
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Acute } from './acute.js';
import { parseIsoDate } from './calendar.js';
import { Chronic } from './chronic.js';
import { Contracts } from './contracts.js';
import { districtJson } from './district-json.js';
import { registryFiles } from './registry-files.js';
import { Feeds } from './feeds.js';
import {
  areaLocation,
  careTeamResource,
  departmentLocation,
  groupResource,
  householdGroupJson,
  organizationResource,
  practitionerResources,
  type PostalAddress,
} from './fhir.js';
import { householdId, Identities } from './identity.js';
import { Immunizer } from './immunization.js';
import { ContactTruth } from './contacts.js';
import { jsonPieces, StreamedArray } from './json-stream.js';
import { Outbreaks } from './outbreaks/index.js';
import { Programmes, PROGRAMME_RATES } from './programmes.js';
import { FocusGroups } from './focus-groups.js';
import { addNewborn, FLAG } from './population.js';
import { Recorder } from './records/index.js';
import { Rng } from './rng.js';
import { Seasons } from './seasons.js';
import { emit, FileSink, TeeSink, type Sink } from './sink.js';
import { Truth } from './truth.js';
import { SCHOOL_CLASS_ID_SYSTEM } from './uris.js';
import type { World } from './types.js';
import { buildWorld } from './world.js';
import type { Deaths } from './deaths.js';
import { OutputDir, type ManifestFile } from './writers.js';

export const GENERATOR = 'yifang-simulator';
export const GENERATOR_VERSION = '1';

/**
 * A short hash of the simulator's own code (every source file of this directory, tests aside):
 * a cached simulation made by other code is not this simulator's output. Evaluations that keep
 * a simulated district between runs put it in the cache directory's name.
 */
export function simulatorFingerprint(): string {
  const root = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ts|js|mjs)$/.test(e.name) && !/\.test\./.test(e.name)) hash.update(full.slice(root.length)).update(readFileSync(full));
    }
  };
  walk(root);
  return hash.digest('hex').slice(0, 10);
}

export interface SimulateOptions {
  seed: number;
  population: number;
  /** First simulated day, YYYY-MM-DD. */
  start: string;
  days: number;
  outDir: string;
  onProgress?: (p: { day: number; days: number; records: number }) => void;
  /** Stops the run between days; the output is left as *.partial files without a manifest. */
  signal?: AbortSignal;
  /** Also write one FHIR transaction Bundle per simulated day under fhir/bundles/. */
  bundles?: boolean;
  /** An extra sink that sees every record (live mode). */
  sink?: Sink;
}

export interface Manifest {
  generator: string;
  version: string;
  args: { seed: number; population: number; start: string; days: number; bundles: boolean };
  fictional: true;
  files: ManifestFile[];
}

/** A bad option; `field` names it. */
export class SimulatorInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SimulatorInputError';
  }
}

export class SimulationAbortedError extends Error {
  constructor() {
    super('simulation interrupted: output left as *.partial files, no manifest written');
    this.name = 'SimulationAbortedError';
  }
}

export const LIMITS = { minPopulation: 200, maxPopulation: 10_000_000, maxDays: 3660 } as const;

/**
 * The default district for the demo (`npm start`): small enough to load in under two minutes
 * (about 180,000 FHIR resources, 30,000 HL7 messages), two years so that every season and every
 * kind of outbreak appears.
 */
export const DEMO_DEFAULTS = { seed: 1, population: 20000, start: '2024-01-01', days: 730 } as const;

/** Checks the options; throws SimulatorInputError naming the first bad one. */
export function validateOptions(o: Pick<SimulateOptions, 'seed' | 'population' | 'start' | 'days'>): void {
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    throw new SimulatorInputError('seed', `must be an integer from 0 to 4294967295 (got ${o.seed})`);
  if (!Number.isInteger(o.population) || o.population < LIMITS.minPopulation || o.population > LIMITS.maxPopulation)
    throw new SimulatorInputError(
      'population',
      `must be an integer from ${LIMITS.minPopulation} to ${LIMITS.maxPopulation} (got ${o.population})`,
    );
  if (typeof o.start !== 'string' || parseIsoDate(o.start) === null)
    throw new SimulatorInputError('start', `must be a real date written YYYY-MM-DD (got ${JSON.stringify(o.start)})`);
  const y = Number(o.start.slice(0, 4));
  if (y < 1990 || y > 2100) throw new SimulatorInputError('start', `must be between 1990 and 2100 (got ${o.start})`);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > LIMITS.maxDays)
    throw new SimulatorInputError('days', `must be an integer from 1 to ${LIMITS.maxDays} (got ${o.days})`);
}

/** Checks that the output directory can be created and written. */
export async function checkOutDir(dir: string, field = 'outDir'): Promise<void> {
  if (typeof dir !== 'string' || dir.trim() === '') throw new SimulatorInputError(field, 'must name a directory');
  const full = resolve(dir);
  try {
    await ensureDir(full);
    await access(full, constants.W_OK);
    const probe = join(full, `.yifang-write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw new SimulatorInputError(field, `cannot write to ${full} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Creates a directory and its missing parents one by one (mkdir's recursive mode can spin
 * forever on special file systems such as /proc in some Node versions).
 */
export async function ensureDir(full: string): Promise<void> {
  const missing: string[] = [];
  for (let p = full; ; p = dirname(p)) {
    try {
      const st = await stat(p);
      if (!st.isDirectory()) throw Object.assign(new Error(`${p} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw e;
      missing.push(p);
    }
  }
  for (const m of missing.reverse()) await mkdir(m);
}

export async function simulate(options: SimulateOptions): Promise<{ manifest: Manifest }> {
  validateOptions(options);
  await checkOutDir(options.outDir);
  const startDay = parseIsoDate(options.start)!;
  const out = new OutputDir(resolve(options.outDir));
  await out.prepare();
  const files = new FileSink(out, options.bundles ?? false);
  const sink: Sink = options.sink ? new TeeSink([files, options.sink]) : files;
  try {
    const world = buildWorld(options.seed, options.population, startDay, options.days);
    const truth = new Truth();
    const contacts = new ContactTruth(world);
    truth.follower = contacts;
    const identity = await run(world, sink, truth, options, () => out.recordCount);
    contacts.finish();
    await writeTruth(out, world, truth, identity, contacts, options);
    out.write('district.json', 'json', JSON.stringify(districtJson(world), null, 1) + '\n', 1);
    // The district as master-data registry files, imported as a real district's would be.
    for (const f of registryFiles(world)) out.write(f.path, f.type, f.text, f.records);
    const manifest = (await out.finish({
      generator: GENERATOR,
      version: GENERATOR_VERSION,
      args: {
        seed: options.seed,
        population: options.population,
        start: options.start,
        days: options.days,
        bundles: options.bundles ?? false,
      },
      fictional: true,
    })) as Manifest;
    return { manifest };
  } catch (e) {
    await out.abandon();
    throw e;
  }
}

/** Runs the simulation day by day; returns the identities, which truth.json lists. */
async function run(
  w: World & { deaths: Deaths },
  sink: Sink,
  truth: Truth,
  options: SimulateOptions,
  records: () => number,
): Promise<Identities> {
  const abortIfAsked = (): void => {
    if (options.signal?.aborted) throw new SimulationAbortedError();
  };
  const laterByDay = new Map<number, (() => void)[]>();
  const later = (day: number, fn: () => void): boolean => {
    if (day >= w.endDay) return false;
    const list = laterByDay.get(day);
    if (list) list.push(fn);
    else laterByDay.set(day, [fn]);
    return true;
  };
  const identity = new Identities(w, sink);
  const rec = new Recorder(w, sink, identity, truth, later);
  const seasons = new Seasons(w.seed, w.cal);
  const acute = new Acute(w, rec, seasons);
  const chronic = new Chronic(w, rec, sink);
  const immunizer = new Immunizer(w, rec);
  const contracts = new Contracts(w, sink);
  const feeds = new Feeds(w, sink, seasons);
  const outbreaks = new Outbreaks(w, rec, acute, feeds, immunizer, truth);
  const programmes = new Programmes(w, identity, sink, truth.follower);
  acute.onTuberculosis = (person, day) => programmes.tuberculosis(person, day);
  const focusGroups = new FocusGroups(w, identity, sink, truth.follower);
  // Registered cancer patients die at the excess rate of their years since diagnosis (deaths.ts).
  w.deaths.cancerSince = (person, year) => focusGroups.cancerSince(person, year);

  // Reference data first: places, facilities, staff, residents, households, classes, history.
  sink.beginDay(-1, 'reference');
  await reference(w, sink, identity, abortIfAsked);
  const pause = (): Promise<void> => {
    abortIfAsked();
    return sink.pause();
  };
  await chronic.start(pause);
  await sink.endDay(-1, 'reference');
  await immunizer.start(pause);
  await contracts.start(pause);
  await programmes.start(pause);
  await focusGroups.start(pause);
  await sink.endDay(-1, 'reference');
  outbreaks.plan();

  const births = new Rng(w.seed, 'births');
  const mch = w.district.facilities[w.district.byKind.get('mch-hospital')![0]!]!;
  const delivery = mch.departments.find((d) => d.code === 'ward-obstetrics')!;
  for (let d = 0; d < w.days; d++) {
    abortIfAsked();
    const day = w.startDay + d;
    const date = w.clock.iso(day);
    sink.beginDay(d, date);
    // Deaths are planned a calendar year at a time, before anything of the day is written.
    if (d === 0 || date.endsWith('-01-01')) w.deaths.planYear(day);
    // Births: crude birth rate 6.39 per 1,000 a year (国家统计局 2023).
    // Most mothers come from the pregnancies the programmes followed; the others registered nowhere.
    const followed = programmes.deliveriesOn(day);
    const nb = followed.length + births.poisson(((w.pop.n * 6.39) / 1000 / 365) * (1 - PROGRAMME_RATES.followedPregnancies));
    for (let k = 0; k < nb; k++) {
      let mother = followed[k] ?? -1;
      for (let t = 0; mother < 0 && t < 50; t++) {
        const p = births.int(w.pop.n);
        const age = w.pop.age(p, day);
        if (w.pop.sex[p] === 2 && age >= 21 && age <= 42 && w.pop.household[p]! >= 0 && w.deaths.alive(p, day)) {
          mother = p;
          break;
        }
      }
      if (mother < 0) continue;
      const child = addNewborn(w.pop, w.names, mother, day, births);
      if (child < 0) break;
      w.deaths.newborn(child);
      rec.visit({
        person: mother,
        facility: mch,
        dept: delivery,
        cls: 'IMP',
        visitType: 'inpatient',
        day: day - 1,
        losDays: 3 + births.int(3),
        complaint: `停经${38 + births.int(3)}周，下腹阵痛${births.range(3, 10)}小时`,
        temperature: 36.6,
        dx: [{ icd: births.chance(0.6) ? 'O80.0' : 'O82.0', display: births.chance(0.6) ? '单胎顺产' : '经选择性剖宫产术的分娩' }],
        onsetDay: day - 1,
      });
      sink.fhir('Patient', w.pop.patientId(child), identity.canonicalResource(child));
      immunizer.newborn(child);
      contracts.newborn(child, day);
      programmes.newborn(child);
      acute.addNewborn(child);
    }
    outbreaks.day(day);
    acute.day(day);
    chronic.day(day);
    immunizer.day(day);
    contracts.day(day);
    programmes.day(day);
    focusGroups.day(day);
    feeds.day(day);
    for (let list = laterByDay.get(day); list && list.length > 0; list = laterByDay.get(day)) {
      laterByDay.delete(day);
      for (const fn of list) fn();
    }
    // The day's deaths: the resident's Patient again, with the day of death (as a death registry gives it).
    for (const person of w.deaths.on(day)) sink.fhir('Patient', w.pop.patientId(person), identity.canonicalResource(person, date));
    truth.follower?.endDay(day);
    await sink.endDay(d, date);
    options.onProgress?.({ day: d + 1, days: w.days, records: records() });
  }
  return identity;
}

async function reference(w: World, sink: Sink, identity: Identities, abortIfAsked: () => void): Promise<void> {
  const d = w.district;
  for (const s of d.streets) emit(sink, areaLocation(s, null));
  for (const c of d.communities) emit(sink, areaLocation(c, d.streets[c.street]!));
  for (const f of d.facilities) {
    emit(sink, organizationResource(d, f, facilityAddress(w, f)));
    for (const dept of f.departments) emit(sink, departmentLocation(f, dept));
  }
  for (const p of d.practitioners) for (const r of practitionerResources(d, w.names, p)) emit(sink, r);
  for (const t of d.teams) emit(sink, careTeamResource(d, t));
  const pop = w.pop;
  for (let i = 0; i < pop.n; i++) {
    sink.fhir('Patient', pop.patientId(i), identity.canonicalResource(i));
    if ((i & 8191) === 8191) {
      abortIfAsked();
      await sink.endDay(-1, 'reference');
    }
  }
  for (let h = 0; h < pop.nHouseholds; h++) {
    const start = pop.hhStart[h]!;
    const members: string[] = [];
    for (let i = start; i < start + pop.hhSize[h]!; i++) members.push(pop.patientId(i));
    const head = w.names.fullName(pop.surname[start]!, pop.given[start]!);
    const gid = householdId(h);
    sink.fhir(
      'Group',
      gid,
      householdGroupJson(gid, `${d.communities[pop.hhCommunity[h]!]!.code}-${String(h + 1).padStart(7, '0')}`, `${head}户`, members),
    );
    if ((h & 8191) === 8191) await sink.endDay(-1, 'reference');
  }
  for (const c of w.schools.classes) {
    const f = d.facilities[c.school]!;
    const grades = c.stage === 'primary-school' ? 6 : 3;
    const members = [...w.schools.pupils(c.index)].map((p) => ({
      id: pop.patientId(p),
      start: `${c.entryYear}-09-01`,
      end: `${c.entryYear + grades}-06-30`,
    }));
    emit(
      sink,
      groupResource({
        id: `class-${c.code}`,
        kind: 'school-class',
        identifierSystem: SCHOOL_CLASS_ID_SYSTEM,
        identifier: c.code,
        name: `${f.name}${c.name}`,
        members,
        managingEntity: f.id,
      }),
    );
  }
  (d.byKind.get('care-home') ?? []).forEach((fi, h) => {
    const f = d.facilities[fi]!;
    emit(
      sink,
      groupResource({
        id: `carehome-${f.code}`,
        kind: 'care-home-residents',
        name: `${f.name}住养老人`,
        members: w.care.residents[h]!.map((p) => ({ id: pop.patientId(p) })),
        managingEntity: f.id,
      }),
    );
  });
}

export function facilityAddress(w: World, f: { community: number; address: string }): PostalAddress {
  const c = w.district.communities[f.community]!;
  const s = w.district.streets[c.street]!;
  return {
    areaCode: c.code,
    province: w.cfg.province.name,
    city: w.cfg.city.name,
    district: w.cfg.district.name,
    street: s.name,
    community: c.name,
    line: f.address.slice(s.name.length),
    postalCode: w.cfg.district.postalCode,
  };
}

/** Characters of truth.json handed to the writer at a time. */
const TRUTH_PIECE = 1 << 16;

/**
 * Writes truth.json a piece at a time (the long lists element by element), waiting for the
 * writer now and then: at a million residents the document is too large to build as one string.
 */
async function writeTruth(
  out: OutputDir,
  w: World,
  truth: Truth,
  identity: Identities,
  contacts: ContactTruth,
  o: SimulateOptions,
): Promise<void> {
  const pop = w.pop;
  let adults = 0;
  for (let i = 0; i < pop.n; i++) if (pop.age(i, w.startDay) >= 18 && pop.birthDay[i]! < w.startDay) adults++;
  const withFlag = function* (flag: number): Generator<string> {
    for (let i = 0; i < pop.n; i++) if (pop.hasFlag(i, flag)) yield pop.patientId(i);
  };
  const doc = {
    generator: GENERATOR,
    version: GENERATOR_VERSION,
    args: { seed: o.seed, population: o.population, start: o.start, days: o.days },
    note: 'Ground truth for a fictional district. Patient ids are canonical (pat-NNNNNNN); identities list every record that belongs to a person who has at least one variant record.',
    population: {
      residents: pop.n,
      residentsAtStart: o.population,
      adultsAtStart: adults,
      households: pop.nHouseholds,
      careHomeResidents: w.care.residents.reduce((a, r) => a + r.length, 0),
    },
    outbreaks: new StreamedArray(truth.outbreaks),
    transmission: new StreamedArray(truth.transmission),
    contacts: new StreamedArray(contacts.contacts(truth)),
    identities: new StreamedArray(identity.truth()),
    reportCardIssues: new StreamedArray(truth.reportCardIssues),
    chronic: { hypertension: new StreamedArray(withFlag(FLAG.HTN)), diabetes: new StreamedArray(withFlag(FLAG.DM)) },
  };
  let text = '';
  let records = 1;
  let pieces = 0;
  for (const piece of jsonPieces(doc)) {
    text += piece;
    if (text.length < TRUTH_PIECE) continue;
    out.write('truth.json', 'json', text, records);
    records = 0;
    text = '';
    if (++pieces % 32 === 0) await out.drain();
  }
  out.write('truth.json', 'json', text + '\n', records);
}

export type { Sink } from './sink.js';
export { LiveSink, type LiveFailure, type LiveOptions } from './live.js';
export { transactionBundle, ABSENTEEISM_HEADER, PHARMACY_HEADER } from './sink.js';
export { PHARMACY_CATEGORIES, ABSENCE_SYMPTOMS } from './feeds.js';
