/**
 * `evaluateContacts(dir, options)`: how well the investigation module proposes close contacts,
 * scored against the simulator's contact truth (truth.json `contacts`).
 *
 * 1. The simulated district (simulated into `dir` when it has no manifest.json) goes in through
 *    the product's import paths, as `evaluateDistrict` does: a fresh database and `startServer`
 *    with every module, the registry files, FHIR NDJSON through `importPath`, HL7 v2 through
 *    `POST /api/hl7`; then the background processors are drained once (identity linkage and
 *    address households, the investigation module's stays index).
 * 2. For every symptomatic case of an injected outbreak whose disease has investigation rules,
 *    an investigation is opened with `openInvestigationAs` (the case's canonical Patient, the
 *    disease, the true onset), which computes its candidates; they are read back through
 *    `GET /api/investigations/:id/candidates`.
 * 3. Each candidate's Patient is traced to its true resident (simulator ids directly; an HL7
 *    Patient through its resident ID number or its facility MRN and truth.json `identities`),
 *    and the candidates are scored per contact kind (score.ts).
 *
 * Cases not scored: carriers (no onset, never investigated), outbreaks whose disease has no
 * rules in config/investigation/rules.json (the foodborne salmonellosis outbreaks), and a
 * resident who is a case twice of one disease (the second investigation is refused, 409).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { importPath } from '../../fhir/import.js';
import { openDatabase } from '../../platform/db.js';
import { startServer, type RunningServer } from '../../app/server.js';
import { simulate } from '../../simulator/index.js';
import { importRegistryDirectory } from '../../registry/index.js';
import { openInvestigationAs, type CandidateList } from '../../investigation/index.js';
import type { AuthUser } from '../../platform/auth.js';
import { FACILITY_MRN_SYSTEM_PREFIX, RESIDENT_ID_SYSTEM } from '../../shared/uris.js';
import { scoreContacts, type CaseCandidates, type CaseTruth, type ContactScore } from './score.js';

export { formatContactTable, scoreContacts, TARGETS, type ContactScore } from './score.js';

/** The investigation rule (config/investigation/rules.json key) of each outbreak kind; none for salmonellosis. */
export const DISEASE_OF_OUTBREAK: Record<string, string | undefined> = {
  'school-influenza': 'ili-outbreak',
  'care-home-norovirus': 'norovirus',
  'community-measles': 'measles',
  'class-a-cholera': 'cholera',
};

export interface ContactEvaluationOptions {
  seed?: number;
  population?: number;
  start?: string;
  days?: number;
  /** PostgreSQL URL; default a fresh PGlite database in a temporary directory. */
  databaseUrl?: string;
  log?: (message: string) => void;
}

export interface ContactEvaluation extends ContactScore {
  dir: string;
  residents: number;
  /** Cases per outbreak kind: scored, and skipped with why. */
  skipped: { carriers: number; noRule: number; refused: number };
  perOutbreak: { id: string; kind: string; cases: number }[];
  seconds: { simulate: number; load: number; investigate: number };
  /** Candidate computation per case (opening the investigation), ms. */
  openMs: number[];
}

interface TruthFile {
  population: { residents: number };
  outbreaks: { id: string; kind: string; cases: { patientId: string; onsetDate: string | null }[] }[];
  contacts?: { outbreakId: string; patientId: string; contacts: { patientId: string; kind: string }[] }[];
  identities: { personId: string; records: { source: string; facility: string; id: string }[] }[];
}

const EVALUATOR: AuthUser = { username: 'contact-evaluation', displayName: '密接推荐评估', roles: ['epidemiologist'] };
const SIM_PATIENT = /^(pat-\d+)(-v\d+)?$/;
const MRN_PREFIX = `${FACILITY_MRN_SYSTEM_PREFIX}/`;

function splitHl7(text: string): string[] {
  return text
    .split(/(?=^MSH\|)/m)
    .map((m) => m.trim())
    .filter((m) => m.startsWith('MSH|'));
}

/** Loads a simulator output directory through the product's import paths; the server is left running. */
export async function loadDistrict(server: RunningServer, token: string, dir: string, log: (m: string) => void): Promise<void> {
  const t = Date.now();
  await server.processors.stop();
  await importRegistryDirectory(server.db, server.repo, path.join(dir, 'registry'));
  const fhir = await importPath(server.repo, path.join(dir, 'fhir'));
  log(`FHIR: ${fhir.resources} resources, ${fhir.errors.length} errors (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  const hl7Dir = path.join(dir, 'hl7');
  let count = 0;
  for (const f of fs.existsSync(hl7Dir) ? fs.readdirSync(hl7Dir).filter((x) => x.endsWith('.hl7')) : []) {
    const messages = splitHl7(fs.readFileSync(path.join(hl7Dir, f), 'utf8'));
    for (let i = 0; i < messages.length; i += 300) {
      const r = await fetch(`${server.url}/api/hl7`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7' },
        body: messages.slice(i, i + 300).join('\r'),
      });
      if (!r.ok) log(`HL7 ${f}: HTTP ${r.status}`);
      await r.arrayBuffer();
      count += Math.min(300, messages.length - i);
    }
    log(`HL7 ${f}: ${count} messages so far (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  }
  log(`draining processors (identity linkage, households, stays)`);
  await server.processors.drain();
  log(`district loaded (${((Date.now() - t) / 1000).toFixed(1)} s)`);
}

/** Traces store Patients to the simulated residents they belong to. */
export class PersonTracer {
  private readonly byIdNumber = new Map<string, string>();
  private readonly byMrn = new Map<string, string>();
  private readonly cache = new Map<string, string | null>();

  constructor(
    dir: string,
    truth: Pick<TruthFile, 'identities'>,
    private readonly read: (id: string) => Promise<Patient | undefined>,
  ) {
    for (const line of fs.readFileSync(path.join(dir, 'fhir', 'Patient.ndjson'), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const p = JSON.parse(line) as Patient;
      if (!p.id || !/^pat-\d+$/.test(p.id)) continue;
      const idn = p.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value;
      if (idn) this.byIdNumber.set(idn, p.id);
    }
    for (const person of truth.identities)
      for (const r of person.records)
        if (r.source === 'hl7v2') this.byMrn.set(`${r.facility.replace(/^org-/, '')}|${r.id}`, person.personId);
  }

  async person(patientId: string): Promise<string | null> {
    const m = SIM_PATIENT.exec(patientId);
    if (m) return m[1]!;
    if (this.cache.has(patientId)) return this.cache.get(patientId)!;
    const p = await this.read(patientId);
    let found: string | null = null;
    for (const i of p?.identifier ?? []) {
      if (i.system?.startsWith(MRN_PREFIX) && i.value) found ??= this.byMrn.get(`${i.system.slice(MRN_PREFIX.length)}|${i.value}`) ?? null;
    }
    const idn = p?.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value;
    if (!found && idn) found = this.byIdNumber.get(idn) ?? null;
    this.cache.set(patientId, found);
    return found;
  }
}

export async function evaluateContacts(dir: string, options: ContactEvaluationOptions = {}): Promise<ContactEvaluation> {
  const log = options.log ?? (() => undefined);
  const seconds = { simulate: 0, load: 0, investigate: 0 };
  let t = Date.now();
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) {
    log(`simulating ${options.population ?? 20000} residents × ${options.days ?? 365} days into ${dir}`);
    await simulate({
      seed: options.seed ?? 7,
      population: options.population ?? 20000,
      start: options.start ?? '2024-01-01',
      days: options.days ?? 365,
      outDir: dir,
    });
  }
  seconds.simulate = (Date.now() - t) / 1000;
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as TruthFile;
  if (!truth.contacts)
    throw new Error(`${dir}/truth.json has no contacts: it was written by an older simulator; simulate the district again`);
  const dataDir = options.databaseUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-contacts-'));
  const db = await openDatabase(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir });
  const server = await startServer({ db, port: 0, quiet: true, adminPassword: 'evaluation-pw', mllpPort: 0 });
  try {
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'evaluation-pw' }),
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    t = Date.now();
    await loadDistrict(server, token, dir, log);
    seconds.load = (Date.now() - t) / 1000;
    t = Date.now();
    const result = await investigateCases(server, token, dir, truth, log);
    seconds.investigate = (Date.now() - t) / 1000;
    return { dir, residents: truth.population.residents, ...result, seconds };
  } finally {
    await server.close();
    await db.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** GET with the token; a kept-alive socket the server closed meanwhile (ECONNRESET) is retried. */
async function getWithRetry(url: string, token: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
}

/** Opens an investigation for every scorable case of the truth, reads its candidates and scores them. */
export async function investigateCases(
  server: RunningServer,
  token: string,
  dir: string,
  truth: TruthFile,
  log: (m: string) => void,
): Promise<Omit<ContactEvaluation, 'dir' | 'residents' | 'seconds'>> {
  const tracer = new PersonTracer(
    dir,
    truth,
    async (id) => (await server.repo.read('Patient', id).catch(() => undefined)) as Patient | undefined,
  );
  const contactsOf = new Map((truth.contacts ?? []).map((c) => [`${c.outbreakId}|${c.patientId}`, c.contacts]));
  const skipped = { carriers: 0, noRule: 0, refused: 0 };
  const scored: { truth: CaseTruth; found: CaseCandidates }[] = [];
  const perOutbreak: ContactEvaluation['perOutbreak'] = [];
  const openMs: number[] = [];
  const total = truth.outbreaks.reduce((a, o) => a + o.cases.length, 0);
  let done = 0;
  for (const o of truth.outbreaks) {
    const disease = DISEASE_OF_OUTBREAK[o.kind];
    let n = 0;
    for (const c of o.cases) {
      done++;
      if (!disease) {
        skipped.noRule++;
        continue;
      }
      if (!c.onsetDate) {
        skipped.carriers++;
        continue;
      }
      const t0 = performance.now();
      let inv: { id: number };
      try {
        inv = await openInvestigationAs(
          server.db,
          { patientId: c.patientId, diseaseCode: disease, onsetDate: c.onsetDate, note: `${o.id} (simulated)` },
          EVALUATOR,
          'contact evaluation on a simulated district',
        );
      } catch (e) {
        skipped.refused++;
        log(`${o.id} ${c.patientId}: not opened (${(e as Error).message.slice(0, 120)})`);
        continue;
      }
      openMs.push(performance.now() - t0);
      const r = await getWithRetry(`${server.url}/api/investigations/${inv.id}/candidates`, token);
      if (!r.ok) throw new Error(`GET candidates of investigation ${inv.id}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
      const list = (await r.json()) as CandidateList;
      const candidates: CaseCandidates['candidates'] = [];
      for (const x of list.items) candidates.push({ person: await tracer.person(x.patientId), kind: x.kind });
      scored.push({
        truth: { patientId: c.patientId, contacts: contactsOf.get(`${o.id}|${c.patientId}`) ?? [] },
        found: { candidates },
      });
      n++;
      if (scored.length % 25 === 0) log(`investigated ${scored.length} cases (${done}/${total} looked at)`);
    }
    perOutbreak.push({ id: o.id, kind: o.kind, cases: n });
  }
  log(
    `investigated ${scored.length} cases; skipped ${skipped.carriers} carriers, ${skipped.noRule} without rules, ${skipped.refused} refused`,
  );
  return { ...scoreContacts(scored), skipped, perOutbreak, openMs };
}
