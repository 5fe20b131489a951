/**
 * Basic public-health programmes benchmark (issue #21): a district of N residents (default
 * 1,000,000) in all fourteen programmes (0–6 children, maternal, 65+, severe mental disorders,
 * tuberculosis, hypertension, type 2 diabetes, dyslipidaemia, cancer, COPD and stroke screening,
 * disabled or demented older people, children with developmental disorders, cancer patients). It measures
 *   - the full recompute (`yifang programmes recompute`): every resident's enrolments, items and
 *     per-episode summaries derived again (target < 120 s on PostgreSQL);
 *   - a new record reaching an indicator: an elderly health check POSTed through /fhir, until
 *     the 65+ indicator counts it (incremental, from the change log; target < 60 s);
 *   - indicator queries, the dashboard's request, one at a time (target p95 < 300 ms): answers kept
 *     as records arrive (counts.ts; the first request of each query counts it), and beside them the
 *     same requests counted afresh with nothing kept (the first request after a full recompute).
 *
 *   node --import tsx bench/programmes.bench.ts [--residents N] [--stores pglite,postgres] [--chunk N] [--queries 100]
 *
 * Run directly it uses PostgreSQL at YIFANG_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/test.
 * The residents' facts are written straight into the programmes' fact tables (prog_person,
 * prog_fact) with COPY, as the change-log processor would have left them: this measures the
 * recompute and the indicators, not the FHIR import (the FHIR benchmark covers that).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { prepareTemplates, startTestServer, storeKinds, type StoreKind, useProductCache } from '../src/app/test-stores.js';
import { copyProgrammeFactRows, loadProgrammes, recomputeProgrammes } from '../src/primary-care/index.js';
import { addDays, todayInChina } from '../src/shared/dates.js';
import { percentile, printTable } from './table.js';
import { rng } from './rng.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

const USAGE = `node --import tsx bench/programmes.bench.ts [--residents N] [--stores pglite,postgres] [--chunk N] [--queries N]

  --residents N   district size (default 1000000)
  --stores list   pglite, postgres or both (default: PGlite, and PostgreSQL when YIFANG_TEST_PG_URL is set)
  --chunk N       residents per recompute transaction (default: the recompute's own)
  --queries N     indicator requests timed per programme (default 100)

Targets (issue #21, 1,000,000 residents, PostgreSQL): full recompute < 120 s; a new record in the
indicator < 60 s; indicator query p95 < 300 ms.`;

/** Milliseconds in each phase of the recompute (the recompute fills them in). */
type RecomputePhases = NonNullable<Exclude<Parameters<typeof recomputeProgrammes>[3], number | undefined>['phases']>;

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const ICD = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const ATC = 'http://www.whocc.no/atc';
const VISIT_TYPE = 'https://yifang.health/fhir/CodeSystem/visit-type';

interface Generated {
  tables: Record<string, { columns: string[]; lines: string[] }>;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Synthetic facts, with ages as a district's: 7 % aged 0–6 (checkups at 75 % of the scheduled
 * ages), 15 % aged 65+ (a yearly check in 60 % of years), women of 20–40 pregnant at 8 % a year
 * (antenatal and postpartum visits, a quarter high-risk), 0.6 % of adults with a severe mental
 * disorder (quarterly follow-ups with 病情), 0.06 % with pulmonary TB (monthly visits, an outcome),
 * and of those aged 35 and over 25 % with hypertension and 10 % with type 2 diabetes (a third of
 * them known by an A10 prescription only), 70 % of whom are followed up last year and this,
 * about quarterly (sooner after a poor reading, sometimes late), each an Encounter with its blood
 * pressure or fasting glucose linked to it (readings and encounter kept in prog_fact, as the
 * processor keeps them). Then 10 % of those aged 35 and over with dyslipidaemia (an LDL-C test in
 * 65 % of years, half-yearly follow-ups); each year 30 % of those aged 50–75 assessed for
 * colorectal cancer (12 % high-risk, 40 % of them a colonoscopy), 30 % of those aged 40 and over
 * given the COPD questionnaire (spirometry for half of those scoring 16 or more) and 30 % assessed
 * for stroke risk (15 % high-risk, 60 % of them an intervention visit); 8 % of those aged 65 and
 * over disabled or demented (a yearly Barthel index, home visits), 1.5 % of children aged 0–6 with
 * a developmental disorder (half-yearly follow-ups, referral), 0.4 % of those aged 40 and over with
 * cancer (half-yearly follow-ups, a pain score at half of them).
 */
export function generateFacts(n: number, today: string, seed = 1): Generated {
  const r = rng(seed);
  const year = Number(today.slice(0, 4));
  const t = (columns: string[]) => ({ columns, lines: [] as string[] });
  const tables = {
    prog_person: t(['patient_id', 'name', 'birth_date', 'gender', 'area_code', 'organization_id', 'deceased']),
    prog_fact: t([
      'ref',
      'patient_id',
      'resource_type',
      'codes',
      'start_on',
      'end_on',
      'active',
      'value_codes',
      'value_num',
      'readings',
      'encounter',
    ]),
  };
  let seq = 0;
  const fact = (
    id: string,
    type: string,
    code: string,
    start: string,
    end: string | null,
    active = true,
    value?: string,
    readings?: Record<string, number>,
    encounter?: string,
    num?: number,
  ): string | undefined => {
    if (start > today) return undefined;
    const ref = `${type}/f${++seq}`;
    // Joined, so each line is one flat string (a template with + keeps the pieces alive: millions of lines outgrew the heap).
    tables.prog_fact.lines.push(
      [
        ref,
        id,
        type,
        `{"${code}"}`,
        start,
        end ?? '\\N',
        active ? 't' : 'f',
        value ? `{"${value}"}` : '{}',
        num === undefined ? '\\N' : String(num),
        readings ? JSON.stringify(readings) : '\\N',
        encounter ?? '\\N',
      ].join('\t'),
    );
    return ref;
  };
  const visit = (id: string, code: string, on: string) => fact(id, 'Encounter', `${SERVICE}|${code}`, on, on);
  const dayIn = (y: number, m: number) => `${y}-${pad(m)}-${pad(1 + Math.floor(r() * 28))}`;
  const plusDays = (d: string, k: number) => addDays(d, k);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const plusMonths = (d: string, k: number) => {
    const [y, m, dd] = d.split('-').map(Number) as [number, number, number];
    const total = y * 12 + m - 1 + k;
    return `${Math.floor(total / 12)}-${pad((total % 12) + 1)}-${pad(dd)}`;
  };
  for (let i = 0; i < n; i++) {
    const id = `r${pad(i, 7)}`;
    const u = r();
    const age = u < 0.07 ? Math.floor(r() * 7) : u < 0.22 ? 65 + Math.floor(r() * 30) : 7 + Math.floor(r() * 58);
    const birth = dayIn(year - age - (r() < 0.5 ? 1 : 0), 1 + Math.floor(r() * 12));
    if (birth > today) continue;
    const gender = r() < 0.5 ? 'male' : 'female';
    const street = i % 10;
    const area = `339902${pad(street + 1, 3)}${pad(1 + (i % 7), 3)}`;
    tables.prog_person.lines.push(`${id}\t居民${i}\t${birth}\t${gender}\t${area}\torg-${street}\tf`);
    if (age <= 7) {
      if (r() < 0.8) visit(id, 'newborn-visit', plusDays(birth, 2 + Math.floor(r() * 20)));
      for (const m of [1, 3, 6, 8, 12, 18, 24, 30, 36, 48, 60, 72]) if (r() < 0.75) visit(id, 'child-checkup', plusMonths(birth, m));
    }
    if (age >= 66 || (age === 65 && r() < 0.5)) {
      for (const y of [year - 2, year - 1, year]) if (r() < 0.6) visit(id, 'elderly-health-check', dayIn(y, 1 + Math.floor(r() * 12)));
    }
    if (gender === 'female' && age >= 20 && age <= 40 && r() < 0.12) {
      const start = dayIn(year - 1 + (r() < 0.5 ? 1 : 0), 1 + Math.floor(r() * 12));
      const delivered = plusDays(start, 260 + Math.floor(r() * 30));
      const done = delivered <= today;
      fact(id, 'Condition', `${ICD}|${r() < 0.25 ? 'Z35.9' : 'Z34.0'}`, start, done ? delivered : null, !done);
      for (const w of [10, 18, 23, 30, 38]) if (r() < 0.75) visit(id, 'antenatal-care', plusDays(start, w * 7));
      if (done && r() < 0.8) visit(id, 'postpartum-visit', plusDays(delivered, 5));
      if (done && r() < 0.6) visit(id, 'postpartum-42d-check', plusDays(delivered, 42));
    }
    if (age >= 18 && r() < 0.006) {
      fact(id, 'Condition', `${ICD}|F20.0`, dayIn(year - 3 + Math.floor(r() * 3), 1 + Math.floor(r() * 12)), null);
      for (const y of [year - 1, year])
        for (const m of [2, 5, 8, 11])
          if (r() < 0.8) {
            const on = dayIn(y, m);
            visit(id, 'mental-follow-up', on);
            fact(
              id,
              'Observation',
              `${OBS}|mental-condition`,
              on,
              on,
              true,
              `https://yifang.health/fhir/CodeSystem/mental-condition|${r() < 0.7 ? 'stable' : 'unstable'}`,
            );
          }
    }
    if (age >= 35) {
      const htn = r() < 0.25;
      const dm = r() < 0.1;
      const onset = dayIn(year - 1 - Math.floor(r() * 6), 1 + Math.floor(r() * 12));
      if (htn) fact(id, 'Condition', `${ICD}|I10`, onset, null);
      if (dm) {
        if (r() < 0.67) fact(id, 'Condition', `${ICD}|E11.9`, onset, null);
        else fact(id, 'MedicationRequest', `${ATC}|A10BA02`, onset, null);
      }
      // About 70 % of them followed up (the rest registered only).
      if ((htn || dm) && r() < 0.7) {
        let on = dayIn(year - 1, 1 + Math.floor(r() * 3));
        while (on <= today) {
          const enc = fact(id, 'Encounter', `${VISIT_TYPE}|follow-up`, on, on)!;
          let poor = false;
          if (htn) {
            const sbp = 110 + Math.floor(r() * 60);
            const dbp = Math.min(sbp - 20, 65 + Math.floor(r() * 35));
            poor ||= sbp >= 140 || dbp >= 90;
            fact(
              id,
              'Observation',
              `${LOINC}|85354-9`,
              on,
              null,
              true,
              undefined,
              { [`${LOINC}|8480-6`]: sbp, [`${LOINC}|8462-4`]: dbp },
              enc,
            );
          }
          if (dm) {
            const fpg = Math.round(45 + r() * 60) / 10;
            poor ||= fpg >= 7;
            fact(id, 'Observation', `${LOINC}|1558-6`, on, null, true, undefined, { [`${LOINC}|1558-6`]: fpg }, enc);
          }
          on = plusDays(on, (poor && r() < 0.5 ? 14 : 85) + Math.floor(r() * 10) + (r() < 0.08 ? 30 : 0));
        }
      }
    }
    if (age >= 15 && r() < 0.0006) {
      const onset = dayIn(year - 1 + (r() < 0.5 ? 1 : 0), 1 + Math.floor(r() * 12));
      const end = plusMonths(onset, 6);
      fact(id, 'Condition', `${ICD}|A15.0`, onset, end <= today ? end : null, end > today);
      visit(id, 'tb-visit', plusDays(onset, 1));
      for (let m = 0; m < 6; m++) if (r() < 0.85) visit(id, 'tb-visit', plusDays(plusMonths(onset, m), 10));
      if (end <= today)
        fact(id, 'Observation', `${OBS}|tb-treatment-outcome`, end, end, true, `https://yifang.health/fhir/CodeSystem/tb-outcome|cured`);
    }
    // The focus groups and screening programmes (dyslipidaemia in 三高共管, cancer, COPD and
    // stroke screening, disabled or demented older people, children with developmental
    // disorders, cancer patients), at rates of the order a district reports.
    const num = (value: number) => Math.round(value * 10) / 10;
    const obs = (code: string, on: string, value?: string, n?: number) =>
      fact(id, 'Observation', code, on, on, true, value, undefined, undefined, n);
    if (age >= 35 && r() < 0.1) {
      fact(id, 'Condition', `${ICD}|E78.${r() < 0.6 ? '0' : '5'}`, dayIn(year - 1 - Math.floor(r() * 5), 1 + Math.floor(r() * 12)), null);
      if (r() < 0.1) fact(id, 'Condition', `${ICD}|I25.1`, dayIn(year - 2, 1 + Math.floor(r() * 12)), null);
      for (const y of [year - 1, year]) {
        if (r() < 0.65) {
          const ldl = num(1.6 + r() * 3);
          fact(
            id,
            'Observation',
            `${LOINC}|22748-8`,
            dayIn(y, 1 + Math.floor(r() * 12)),
            null,
            true,
            undefined,
            { [`${LOINC}|22748-8`]: ldl },
            undefined,
            ldl,
          );
        }
        for (const m of [3, 9]) if (r() < 0.5) visit(id, 'lipid-follow-up', dayIn(y, m));
      }
    }
    const RESULT = 'https://yifang.health/fhir/CodeSystem/screening-result';
    for (const y of [year - 1, year]) {
      if (age >= 50 && age <= 75 && r() < 0.3) {
        const on = dayIn(y, 1 + Math.floor(r() * 12));
        const high = r() < 0.12;
        obs(`${OBS}|crc-risk-assessment`, on, `${RESULT}|${high ? 'high-risk' : 'low-risk'}`);
        if (high && r() < 0.4) fact(id, 'Procedure', `http://snomed.info/sct|73761001`, plusDays(on, 20), plusDays(on, 20));
      }
      if (age >= 40 && r() < 0.3) {
        const on = dayIn(y, 1 + Math.floor(r() * 12));
        const score = Math.floor(r() * 30);
        obs(`${OBS}|copd-sq`, on, undefined, score);
        if (score >= 16 && r() < 0.5) obs(`${LOINC}|19926-5`, plusDays(on, 14), undefined, num(50 + r() * 40));
      }
      if (age >= 40 && r() < 0.3) {
        const on = dayIn(y, 1 + Math.floor(r() * 12));
        const high = r() < 0.15;
        obs(`${OBS}|stroke-risk-assessment`, on, `${RESULT}|${high ? 'high-risk' : 'low-risk'}`);
        if (high && r() < 0.6) visit(id, 'stroke-intervention', plusDays(on, 30));
      }
    }
    if (age >= 65 && r() < 0.08) {
      const since = dayIn(year - 1 - Math.floor(r() * 3), 1 + Math.floor(r() * 12));
      if (r() < 0.5) fact(id, 'Condition', `${ICD}|F03`, since, null);
      else obs(`${OBS}|barthel-index`, since, undefined, 20 + Math.floor(r() * 40));
      for (const y of [year - 1, year]) {
        if (r() < 0.7) obs(`${OBS}|barthel-index`, dayIn(y, 1 + Math.floor(r() * 12)), undefined, 15 + Math.floor(r() * 50));
        for (const m of [4, 10]) if (r() < 0.6) visit(id, 'home-health-service', dayIn(y, m));
      }
    }
    if (age <= 6 && r() < 0.015) {
      fact(id, 'Condition', `${ICD}|${r() < 0.4 ? 'F84.0' : 'F80.9'}`, plusMonths(birth, 18 + Math.floor(r() * 12)), null);
      for (const y of [year - 1, year]) for (const m of [3, 9]) if (r() < 0.7) visit(id, 'development-follow-up', dayIn(y, m));
      if (r() < 0.5) visit(id, 'rehabilitation-referral', dayIn(year, 1 + Math.floor(r() * 12)));
    }
    if (age >= 40 && r() < 0.004) {
      fact(
        id,
        'Condition',
        `${ICD}|${pick(['C16.9', 'C18.9', 'C34.9', 'C50.9', 'C22.0'])}`,
        dayIn(year - 1 - Math.floor(r() * 4), 1 + Math.floor(r() * 12)),
        null,
      );
      for (const y of [year - 1, year])
        for (const m of [2, 8])
          if (r() < 0.75) {
            const on = dayIn(y, m);
            visit(id, 'cancer-follow-up', on);
            if (r() < 0.5) obs(`${OBS}|pain-score`, on, undefined, Math.floor(r() * 8));
          }
    }
  }
  return { tables };
}

export async function runProgrammesBench(argv: string[] = []): Promise<void> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return;
  }
  const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const n = Number(arg('--residents') ?? 1_000_000);
  const chunk = arg('--chunk') ? Number(arg('--chunk')) : undefined;
  const queries = Number(arg('--queries') ?? 100);
  const stores = (arg('--stores')?.split(',') as StoreKind[] | undefined) ?? storeKinds();
  await prepareTemplates();
  const programmes = loadProgrammes();
  // The processor derives as of today: the recompute does too, so both write the same rows.
  const today = todayInChina();
  const t0 = Date.now();
  // Let go once the last store has it: two million lines kept alive make every collection on
  // this thread (the server's, and the recompute's database thread) mark them again.
  let data: Generated | undefined = generateFacts(n, today);
  const counts = Object.fromEntries(Object.entries(data.tables).map(([k, v]) => [k, v.lines.length]));
  console.log(`generated ${n} residents in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);
  const rows: Record<string, string | number>[] = [];
  const queryRows: Record<string, string | number>[] = [];
  for (const kind of stores) {
    const server = await startTestServer(kind);
    try {
      const l0 = Date.now();
      await copyProgrammeFactRows(server.db, data!.tables);
      if (kind === stores.at(-1)) data = undefined;
      const loadSeconds = (Date.now() - l0) / 1000;

      const load0 = os.loadavg()[0]!;
      const phases: RecomputePhases = { list: 0, load: 0, derive: 0, write: 0, commit: 0, analyze: 0 };
      const cpu0 = process.cpuUsage();
      const r0 = Date.now();
      const residents = await recomputeProgrammes(server.db, programmes, today, { phases, ...(chunk ? { chunk } : {}) });
      const recomputeSeconds = (Date.now() - r0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const loadAfter = os.loadavg()[0]!;
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      console.log(
        `[${kind}] recompute of ${residents} residents: ${recomputeSeconds.toFixed(1)} s at load ${load0.toFixed(2)} → ${loadAfter.toFixed(2)}; ` +
          `this process's CPU (both threads) ${secs((cpu.user + cpu.system) / 1000)}; phases (summed over the ranges in flight): ` +
          `list ${secs(phases.list)}, load ${secs(phases.load)}, derive (waiting for the worker) ${secs(phases.derive)}, ` +
          `write ${secs(phases.write)}, commit ${secs(phases.commit)}, analyze ${secs(phases.analyze)}`,
      );
      await server.db.query('ANALYZE');
      const enrolled = await server.db.query<{ programme: string; n: number }>(
        'SELECT programme, count(*)::int AS n FROM prog_enrolment GROUP BY 1 ORDER BY 1',
      );

      // Enrolled today as the programme list shows it (a screening's population of age included).
      const list = (await (await server.api('/api/programmes')).json()) as { rows: { code: string; enrolled: number }[] };
      const listed = new Map(list.rows.map((r) => [r.code, r.enrolled]));
      // Indicator queries, one at a time: each programme's dashboard (all its indicators), by organisation.
      for (const p of programmes) {
        // The dashboard's request by area and by organisation in turn, `n` times; sorted milliseconds.
        // `fresh`: nothing kept before each (counts.ts), as the first request of a query after a recompute.
        const indicatorTimes = async (n: number, fresh: boolean) => {
          const times: number[] = [];
          for (let k = 0; k < n; k++) {
            if (fresh) await server.db.query('DELETE FROM prog_count_cache');
            const s = performance.now();
            const res = await server.api(`/api/programmes/${p.code}/indicators?groupBy=${k % 2 ? 'organization' : 'area'}`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${p.code} indicators: ${res.status}`);
            times.push(performance.now() - s);
          }
          return times.sort((a, b) => a - b);
        };
        const cold = await indicatorTimes(Math.max(4, Math.ceil(queries / 5)), true);
        // The answers kept as records arrive (the first of each counts it).
        const latencies = await indicatorTimes(queries, false);
        // The first page of the worklist and of the registry (50 rows with their totals), as a doctor opens them.
        const pages = async (path: string) => {
          const times: number[] = [];
          for (let k = 0; k < Math.max(3, Math.ceil(queries / 4)); k++) {
            const s = performance.now();
            const res = await server.api(`/api/programmes/${p.code}/${path}?limit=50`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${p.code} ${path}: ${res.status}`);
            times.push(performance.now() - s);
          }
          return percentile(
            times.sort((a, b) => a - b),
            95,
          );
        };
        queryRows.push({
          store: kind,
          programme: p.code,
          enrolled: listed.get(p.code) ?? 0,
          'stored episodes': enrolled.rows.find((x) => x.programme === p.code)?.n ?? 0,
          requests: queries,
          'p50 ms': percentile(latencies, 50),
          'p95 ms': percentile(latencies, 95),
          'target p95 ms': 300,
          'counted afresh p50 ms': percentile(cold, 50),
          'counted afresh p95 ms': percentile(cold, 95),
          'worklist page p95 ms': await pages('worklist'),
          'registry page p95 ms': await pages('registry'),
        });
      }

      // A new record: an elderly health check for someone without one this year, until the indicator counts it.
      const url = '/api/programmes/elderly-65/indicators?indicator=elderly-health-management-rate';
      const figure = async () => ((await (await server.api(url)).json()) as { values: { numerator: number }[] }).values[0]!.numerator;
      const unchecked = await server.db.query<{ id: string }>(
        `SELECT e.patient_id AS id FROM prog_enrolment e
         WHERE e.programme = 'elderly-65' AND e.start_on < date_trunc('year', $1::date) AND e.end_on IS NULL
           AND NOT EXISTS (SELECT 1 FROM prog_fact f WHERE f.patient_id = e.patient_id AND f.resource_type = 'Encounter' AND f.start_on >= date_trunc('year', $1::date))
         LIMIT 1`,
        [today],
      );
      const who = unchecked.rows[0]?.id;
      let reflectSeconds: number | string = 'n/a';
      if (who) {
        // The FHIR store has no Patient behind the facts written with COPY: write theirs first, as it is in prog_person.
        const person = (
          await server.db.query<{ name: string; birth: string; gender: string; area: string; org: string }>(
            `SELECT name, to_char(birth_date, 'YYYY-MM-DD') AS birth, gender, area_code AS area, organization_id AS org FROM prog_person WHERE patient_id = $1`,
            [who],
          )
        ).rows[0]!;
        const put = await server.api(`/fhir/Patient/${who}`, {
          method: 'PUT',
          body: JSON.stringify({
            resourceType: 'Patient',
            id: who,
            name: [{ text: person.name }],
            gender: person.gender,
            birthDate: person.birth,
            managingOrganization: { reference: `Organization/${person.org}` },
            address: [
              { use: 'home', extension: [{ url: 'https://yifang.health/fhir/StructureDefinition/area-code', valueString: person.area }] },
            ],
          }),
        });
        if (put.status >= 300) throw new Error(`PUT Patient: ${put.status} ${await put.text()}`);
        await server.processors.drain();
        const before = await figure();
        const p0 = Date.now();
        const res = await server.api('/fhir/Encounter', {
          method: 'POST',
          body: JSON.stringify({
            resourceType: 'Encounter',
            status: 'finished',
            class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
            type: [{ coding: [{ system: SERVICE, code: 'elderly-health-check' }] }],
            subject: { reference: `Patient/${who}` },
            period: { start: `${today}T09:00:00+08:00` },
          }),
        });
        if (res.status !== 201) throw new Error(`POST Encounter: ${res.status} ${await res.text()}`);
        while ((await figure()) === before) {
          if (Date.now() - p0 > 300_000) throw new Error('the new record did not reach the indicator in 300 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        reflectSeconds = (Date.now() - p0) / 1000;
      }
      rows.push({
        store: kind,
        residents,
        'load s': loadSeconds,
        'recompute s': recomputeSeconds,
        'target recompute s': 120,
        'new record → indicator s': reflectSeconds,
        'target s': 60,
        'load avg (1 min) before/after recompute': `${load0.toFixed(2)} / ${loadAfter.toFixed(2)}`,
      });
    } finally {
      await server.dispose();
    }
  }
  printTable(`Programmes: full recompute and a new record (${n} residents, ${os.cpus().length} CPUs)`, rows);
  printTable('Programmes: indicator queries (all of a programme’s indicators, by area or organisation, one at a time)', queryRows);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.env.YIFANG_TEST_PG_URL ||= 'postgres://postgres@127.0.0.1:5432/test';
  const argv = process.argv.slice(2);
  if (argv.includes('--help')) {
    console.log(USAGE);
    process.exit(0);
  }
  await runProgrammesBench(argv);
  process.exit(0);
}
