/**
 * The resident portal's operations: sign-in by ID number + phone with a one-time code, whose
 * record a session may open (own Person's Patients and wards under 18), the merged record in
 * words, the vaccination schedule, home readings, who read the record, consent choices, guardian
 * links, and online family-doctor contracts (signed by the resident, decided by the team).
 *
 * Whose record: the session's account holds the Patients its sign-in matched; the identity
 * module's merged record (personOfPatient) adds every Patient linked to the same Person; wards
 * are the children linked in portal_guardian while they are under 18 (`selfPatients`, which the
 * module installs in the access policy as the `self` scope's fact). Whether a request may open a
 * record is decided by the policy (rule resident-own-record-via-portal, scope self), not here.
 */
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type {
  AuditEvent,
  CareTeam,
  Consent,
  Contract,
  EpisodeOfCare,
  Observation,
  Organization,
  Patient,
  Resource,
  Task,
} from '@medplum/fhirtypes';
import type { AccessControl } from '../fhir/access.js';
import type { AuditLog } from '../fhir/audit.js';
import { CONSENT_CHOICE_DEFAULT, CONSENT_CHOICE_SYSTEM, residentConsentId } from '../fhir/policy.js';
import type { FhirRepository } from '../fhir/repository.js';
import { search } from '../fhir/search.js';
import { personOfPatient, type Mpi } from '../identity/index.js';
import type { AuthService, AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import { badRequest, conflict, forbidden, HttpError, notFound, unauthorized, unprocessable } from '../platform/errors.js';
import {
  childScheduleFor,
  dueServicesOfResident,
  vaccinesDue,
  type ChronicConfig,
  type DueItem,
  type Schedules,
} from '../primary-care/index.js';
import { addDays, ageOn, todayInChina } from '../shared/dates.js';
import { parseIdNumber } from '../shared/id-number.js';
import { LOINC_SYSTEM, UCUM_SYSTEM, VACCINE_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import type { Packages } from './packages.js';
import type {
  AccessLog,
  ConsentAnswer,
  ConsentBody,
  ContractBody,
  ContractRequestView,
  Me,
  MyContracts,
  PersonSummary,
  ReadingAnswer,
  RecordAnswer,
  RecordItem,
  ScheduleAnswer,
  TeamsAnswer,
  TeamRequestList,
} from './schemas.js';
import { CONSENT_CHOICES, RECORD_KINDS, RESIDENT_SERVICE_KINDS } from './schemas.js';
import * as store from './store.js';
import { describeForResident } from './words.js';
import { patientDisplayName } from '../shared/patient-name.js';

export interface PortalDeps {
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
  auth: AuthService;
  mpi: Mpi;
  schedules: Schedules;
  /** Primary care's rule sets, schedules and education items, for its due list. */
  chronic: ChronicConfig;
  packages: Packages;
  /** The access policy: decides whose record a resident may open (scope self); without it nothing is opened. */
  access?: AccessControl;
  /** Wakes the outbox dispatcher after a message is queued. */
  poke(): void;
  now(): Date;
}

export const CODE_TTL_MS = 5 * 60_000;
export const MAX_WRONG_CODES = 5;
export const LOCK_MS = 15 * 60_000;
/** A second code for the same number and phone within this time is not sent (the answer is the same). */
const RESEND_MS = 60_000;
export const SIGNATURE_METHOD = 'portal-sms-otp';
/** Code requests one source address may make in ADDRESS_WINDOW_MS (whoever they are for). */
export const ADDRESS_REQUESTS = 20;
const ADDRESS_WINDOW_MS = 15 * 60_000;

/** Published URIs of the portal (never change once used). */
export const PORTAL_SOURCE_TAG = `${YIFANG_BASE}/CodeSystem/record-source`;
export { CONSENT_CHOICE_SYSTEM };
export const CONTRACT_KIND_SYSTEM = `${YIFANG_BASE}/CodeSystem/portal-contract-kind`;
export const CONTRACT_TEAM_EXTENSION = `${YIFANG_BASE}/StructureDefinition/contract-team`;
export const PACKAGE_SERVICE_SYSTEM = `${YIFANG_BASE}/CodeSystem/package-service`;
// The shape primary care keeps contracts in (src/primary-care/chronic/uris.ts; published, fixed):
// an EpisodeOfCare written so makes its change-log processor list the contract like one made at the desk.
const CONTRACT_TYPE_SYSTEM = `${YIFANG_BASE}/CodeSystem/episode-type`;
const SERVICE_PACKAGE_SYSTEM = `${YIFANG_BASE}/CodeSystem/service-package`;
const SERVICE_PACKAGE_EXTENSION = `${YIFANG_BASE}/StructureDefinition/service-package`;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const idHashOf = (idNumber: string) => sha256(`yifang-portal-id|${idNumber.toUpperCase()}`);
const pairHashOf = (idNumber: string, phone: string) => sha256(`yifang-portal-pair|${idNumber.toUpperCase()}|${phone}`);
const normalPhone = (v: string | undefined) => (v ?? '').replace(/[\s-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Small FHIR helpers

async function searchAll<T extends Resource>(
  db: Queryable | Database,
  type: string,
  params: [string, string][],
): Promise<{ total: number; rows: T[] }> {
  const { bundle } = await search('pool' in db ? db.pool : db, type, { params }, '');
  const rows = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.resource).map((e) => e.resource as T);
  return { total: bundle.total ?? rows.length, rows };
}

async function readOr<T extends Resource>(repo: FhirRepository, type: string, id: string): Promise<T | undefined> {
  try {
    return (await repo.read(type, id)) as T;
  } catch {
    return undefined;
  }
}

export function nameOf(p: Patient | undefined): string {
  return patientDisplayName(p)?.trim() || '居民';
}

function summary(p: Patient, today: string): PersonSummary {
  return {
    residentId: p.id!,
    name: nameOf(p),
    gender: p.gender ?? null,
    birthDate: p.birthDate ?? null,
    ageYears: p.birthDate ? ageOn(p.birthDate, today) : null,
  };
}

function hasIdNumber(p: Patient, idNumber: string): boolean {
  return (p.identifier ?? []).some((i) => (i.value ?? '').trim().toUpperCase() === idNumber);
}

function phonesOf(p: Patient, withContacts: boolean): string[] {
  const own = (p.telecom ?? []).filter((t) => t.system === 'phone' || t.system === 'sms').map((t) => normalPhone(t.value));
  const contacts = withContacts
    ? (p.contact ?? []).flatMap((c) =>
        (c.telecom ?? []).filter((t) => t.system === 'phone' || t.system === 'sms').map((t) => normalPhone(t.value)),
      )
    : [];
  return [...own, ...contacts].filter(Boolean);
}

async function patientsWithIdNumber(db: Queryable | Database, idNumber: string): Promise<Patient[]> {
  const { rows } = await searchAll<Patient>(db, 'Patient', [
    ['identifier', idNumber],
    ['_count', '20'],
  ]);
  return rows.filter((p) => hasIdNumber(p, idNumber) && !p.deceasedBoolean && !p.deceasedDateTime);
}

// ---------------------------------------------------------------------------------------------
// Sign-in

export const START_MESSAGE =
  '若身份证号与手机号和健康档案一致，验证码已发送至该手机，5分钟内有效 / If the ID number and phone match a health record, a code has been sent to that phone (valid 5 minutes)';

function lockedError(until: Date, now: Date): HttpError {
  const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  const minutes = Math.ceil(seconds / 60);
  const e = new HttpError(
    429,
    `验证码错误次数过多，请 ${minutes} 分钟后再试 / Too many wrong codes: locked, try again in ${minutes} min`,
    'throttled',
  );
  e.headers = { 'Retry-After': String(seconds) };
  return e;
}

/**
 * Step 1: a code for an ID number and phone. Whether or not they match a resident, the answer,
 * the rows written and the work done are the same; only a matching pair gets an SMS.
 */
export async function startLogin(
  deps: PortalDeps,
  idNumberRaw: string,
  phone: string,
  address?: string,
): Promise<{ message: string; expiresInSeconds: number }> {
  const parsed = parseIdNumber(idNumberRaw);
  if (!parsed.ok) throw badRequest(`idNumber: ${parsed.reason}`);
  const idNumber = idNumberRaw.trim().toUpperCase();
  const now = deps.now();
  if (address) {
    const { requests, windowStart } = await store.countAddressRequest(deps.db, address, now, ADDRESS_WINDOW_MS);
    if (requests > ADDRESS_REQUESTS) {
      const seconds = Math.max(1, Math.ceil((windowStart.getTime() + ADDRESS_WINDOW_MS - now.getTime()) / 1000));
      const e = new HttpError(
        429,
        `获取验证码过于频繁，请 ${Math.ceil(seconds / 60)} 分钟后再试 / Too many code requests from this address: try again in ${Math.ceil(seconds / 60)} min`,
        'throttled',
      );
      e.headers = { 'Retry-After': String(seconds) };
      throw e;
    }
  }
  const lock = await store.lockOf(deps.db, idHashOf(idNumber));
  if (lock?.locked_until && new Date(lock.locked_until) > now) throw lockedError(new Date(lock.locked_until), now);
  const pairHash = pairHashOf(idNumber, phone);
  const answer = { message: START_MESSAGE, expiresInSeconds: CODE_TTL_MS / 1000 };
  const last = await store.lastCodeAt(deps.db, pairHash);
  if (last && now.getTime() - new Date(last).getTime() < RESEND_MS) return answer;
  const matched = (await patientsWithIdNumber(deps.db, idNumber)).filter((p) => phonesOf(p, false).includes(phone));
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const salt = randomBytes(16).toString('hex');
  await deps.db.transaction(async (c) => {
    await store.insertCode(c, {
      pairHash,
      salt,
      codeHash: sha256(`${salt}|${code}`),
      patientIds: matched.map((p) => p.id!),
      displayName: matched[0] ? nameOf(matched[0]) : null,
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
    });
    // An unknown pair gets its row too (discarded, no phone kept), so both take the same work.
    await store.enqueue(c, {
      channel: 'sms',
      kind: 'login-code',
      phone: matched.length ? phone : null,
      body: `【医防】您的居民健康门户登录验证码为 ${code}，5分钟内有效，请勿告诉他人。`,
      status: matched.length ? 'queued' : 'discarded',
    });
  });
  if (matched.length) deps.poke();
  return answer;
}

/** Step 2: the code → a resident session. Wrong, expired and unknown all count towards the lock. */
export async function finishLogin(
  deps: PortalDeps,
  idNumberRaw: string,
  phone: string,
  code: string,
  address: string | undefined,
): Promise<{ access_token: string; token_type: 'Bearer'; expires_in: number; displayName: string }> {
  const idNumber = idNumberRaw.trim().toUpperCase();
  const idHash = idHashOf(idNumber);
  const now = deps.now();
  const lock = await store.lockOf(deps.db, idHash);
  if (lock?.locked_until && new Date(lock.locked_until) > now) throw lockedError(new Date(lock.locked_until), now);
  const row = await store.liveCode(deps.db, pairHashOf(idNumber, phone), now);
  const given = Buffer.from(sha256(`${row?.salt ?? 'none'}|${code}`));
  const right = row ? timingSafeEqual(given, Buffer.from(row.code_hash)) : false;
  if (!row || !right || !row.patient_ids.length || !(await store.useCode(deps.db, row.id))) {
    const { failures, locked } = await store.countWrongCode(deps.db, idHash, MAX_WRONG_CODES, new Date(now.getTime() + LOCK_MS));
    audit(deps, { username: 'portal', displayName: '居民门户', roles: [] }, 'E', 'login', ['portal-login'], address, 'failure');
    if (locked) throw lockedError(new Date(now.getTime() + LOCK_MS), now);
    const left = MAX_WRONG_CODES - failures;
    throw unauthorized(`验证码错误或已过期，还可再试 ${left} 次 / Wrong or expired code: ${left} attempt(s) left before a 15-minute lock`);
  }
  await store.clearLock(deps.db, idHash);
  const username = `r.${idHash.slice(0, 24)}`;
  const existing = await store.accountOf(deps.db, username);
  const displayName = row.display_name ?? existing?.display_name ?? '居民';
  if (!existing)
    // The account's password is random and never told: a resident signs in only with codes.
    await deps.auth.addUser({ username, password: randomBytes(24).toString('base64url'), displayName, roles: ['resident'] });
  await store.saveAccount(deps.db, {
    username,
    id_hash: idHash,
    phone,
    phone_hash: sha256(phone),
    patient_ids: row.patient_ids,
    display_name: displayName,
  });
  const session = await deps.auth.openSession(username, address);
  audit(deps, session.user, 'E', 'login', [`user:${username}`], address, 'success');
  return { access_token: session.token, token_type: 'Bearer', expires_in: session.expiresIn, displayName };
}

function audit(
  deps: PortalDeps,
  user: AuthUser | { username: string; displayName: string; roles: string[] },
  action: 'C' | 'R' | 'U' | 'E',
  subtype: string,
  entities: string[],
  address: string | undefined,
  outcome: 'success' | 'failure' = 'success',
  patients: string[] = [],
): void {
  void deps.audit
    .record({
      user,
      action,
      subtype,
      entities,
      outcome,
      sourceAddress: address,
      purpose: 'PATRQT',
      patients: patients.map((p) => `Patient/${p}`),
    })
    .catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Whose record

export interface Scope {
  account: store.AccountRow;
  /** The resident's own Patients (every record linked to the same Person). */
  own: string[];
  wards: { patientId: string; relationship: string }[];
}

/** Every Patient of the same Person as these ones (the identity module's merged record). */
async function mergedPatients(deps: PortalDeps, ids: string[]): Promise<string[]> {
  const out = new Set(ids);
  for (const id of ids) {
    const view = await personOfPatient({ db: deps.db, repo: deps.repo, mpi: deps.mpi }, id);
    for (const p of view?.patients ?? []) out.add(p.patientId);
  }
  return [...out];
}

export async function scopeOf(deps: PortalDeps, user: AuthUser): Promise<Scope> {
  if (!user.roles.includes('resident')) throw forbidden('The portal is for residents signed in with a code / 仅限居民登录使用');
  const account = await store.accountOf(deps.db, user.username);
  if (!account) throw forbidden('No portal account for this user / 未找到居民账号');
  const own = await mergedPatients(deps, account.patient_ids);
  const wards = (await store.wardsOf(deps.db, user.username)).map((w) => ({ patientId: w.ward_patient_id, relationship: w.relationship }));
  return { account, own, wards };
}

export interface Target {
  /** The Patient the request is about (records are written here). */
  primary: Patient;
  /** Every Patient of that Person. */
  patientIds: string[];
  ward: boolean;
}

/**
 * The Patients a signed-in resident may act for, the `self` scope's fact: their own (every
 * Patient of the same Person) and their wards' while under 18 (a ward without a birth date
 * counts until it has one). Installed in the access policy by the module.
 */
export async function selfPatients(deps: PortalDeps, username: string): Promise<string[]> {
  const account = await store.accountOf(deps.db, username);
  if (!account) return [];
  const out = new Set(await mergedPatients(deps, account.patient_ids));
  const today = todayInChina(deps.now().getTime());
  for (const w of await store.wardsOf(deps.db, username)) {
    const child = await readOr<Patient>(deps.repo, 'Patient', w.ward_patient_id);
    if (child?.birthDate && ageOn(child.birthDate, today) >= 18) continue;
    for (const id of await mergedPatients(deps, [w.ward_patient_id])) out.add(id);
  }
  return [...out];
}

/**
 * The person a request is about: yourself, or a ward (`for`). The access policy decides
 * (scope self): anyone else, or a ward who has turned 18, is refused, and the refusal is in the
 * audit trail with the policy's reason.
 */
export async function targetOf(
  deps: PortalDeps,
  user: AuthUser,
  scope: Scope,
  forId: string | undefined,
  address?: string,
  action: 'read' | 'write' = 'read',
  resourceType = 'Patient',
): Promise<Target> {
  const own = !forId || scope.own.includes(forId);
  const primaryId = forId ?? scope.account.patient_ids[0] ?? scope.own[0];
  if (!primaryId) throw notFound('Your health record was not found / 未找到您的健康档案');
  const patientIds = own ? scope.own : await mergedPatients(deps, [primaryId]);
  const check = { action, resourceType, patientIds };
  let d = deps.access ? await deps.access.decision(user, check, undefined) : undefined;
  if (d && !d.allowed && deps.access) {
    // The self fact is cached briefly: a record linked or a ward added since is looked up once more.
    deps.access.forgetSelf(user.username);
    d = await deps.access.decision(user, check, undefined);
  }
  if (!d?.allowed) {
    const what = `portal:for=${primaryId.slice(0, 64)}`;
    if (d && deps.access) await deps.access.refuse({ ip: address }, user, d, what, patientIds);
    else audit(deps, user, 'E', 'access-denied', [what], address, 'failure', patientIds);
    const ward = scope.wards.some((w) => w.patientId === primaryId);
    if (ward) {
      const child = await readOr<Patient>(deps.repo, 'Patient', primaryId);
      if (child?.birthDate && ageOn(child.birthDate, todayInChina(deps.now().getTime())) >= 18)
        throw forbidden('该居民已满18周岁，监护关系不再适用；请本人登录查看 / This resident is 18 or older: they sign in themselves');
    }
    throw forbidden('只能查看本人及所监护儿童的健康档案 / You may open only your own record and those of children in your care');
  }
  const primary = await readOr<Patient>(deps.repo, 'Patient', primaryId);
  if (!primary)
    throw notFound(
      own ? 'Your health record was not found / 未找到您的健康档案' : 'The record of this child was not found / 未找到该儿童的健康档案',
    );
  return { primary, patientIds, ward: !own };
}

export async function me(deps: PortalDeps, user: AuthUser): Promise<Me> {
  const scope = await scopeOf(deps, user);
  const today = todayInChina(deps.now().getTime());
  const self = await targetOf(deps, user, scope, undefined);
  const wards = [];
  for (const w of scope.wards) {
    const p = await readOr<Patient>(deps.repo, 'Patient', w.patientId);
    if (p) wards.push({ ...summary(p, today), relationship: w.relationship });
  }
  return {
    displayName: scope.account.display_name,
    self: summary(self.primary, today),
    wards,
    unreadNotices: await store.unreadNotices(deps.db, user.username),
  };
}

// ---------------------------------------------------------------------------------------------
// The record in words

const RECORD_SEARCHES: { type: string; sort: string; kinds: RecordItem['kind'][] }[] = [
  { type: 'Encounter', sort: 'date', kinds: ['visit', 'follow-up'] },
  { type: 'Condition', sort: 'recorded-date', kinds: ['diagnosis'] },
  { type: 'Observation', sort: 'date', kinds: ['result', 'home-reading'] },
  { type: 'DiagnosticReport', sort: 'date', kinds: ['result'] },
  { type: 'Immunization', sort: 'date', kinds: ['immunization'] },
  { type: 'CarePlan', sort: 'date', kinds: ['care-plan'] },
];

async function organizationNames(deps: PortalDeps, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(ids.filter(Boolean)).values()) {
    const o = await readOr<Organization>(deps.repo, 'Organization', id);
    if (o?.name) out.set(id, o.name);
  }
  return out;
}

const orgRef = (ref: string | undefined) => (ref?.startsWith('Organization/') ? ref.slice('Organization/'.length) : undefined);

export async function record(
  deps: PortalDeps,
  user: AuthUser,
  q: { for?: string; kind?: RecordItem['kind']; _count: number; _offset: number },
  address?: string,
): Promise<RecordAnswer> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, q.for, address);
  const today = todayInChina(deps.now().getTime());
  const refs = target.patientIds.map((p) => `Patient/${p}`).join(',');
  const patients = (await Promise.all(target.patientIds.map((id) => readOr<Patient>(deps.repo, 'Patient', id)))).filter(
    (p): p is Patient => !!p,
  );
  const facilityOf = new Map(patients.map((p) => [p.id!, orgRef(p.managingOrganization?.reference)]));
  const candidates: { r: Resource; date: string }[] = [];
  let total = 0;
  const want = q.kind ? new Set([q.kind]) : new Set(RECORD_KINDS);
  for (const s of RECORD_SEARCHES) {
    if (!s.kinds.some((k) => want.has(k))) continue;
    const { total: n, rows } = await searchAll(deps.db, s.type, [
      ['patient', refs],
      ['_sort', `-${s.sort}`],
      ['_count', String(q._offset + q._count)],
    ]);
    total += n;
    for (const r of rows) candidates.push({ r, date: '' });
  }
  // Organisation names for "where": the record's own provider, else the facility of its Patient.
  const orgIds: string[] = [...facilityOf.values()].filter((x): x is string => !!x);
  for (const { r } of candidates) {
    const j = r as unknown as Json;
    const ref =
      (j.serviceProvider as { reference?: string } | undefined)?.reference ??
      ((j.performer as { reference?: string }[] | undefined) ?? [])[0]?.reference;
    const o = orgRef(ref);
    if (o) orgIds.push(o);
  }
  const names = await organizationNames(deps, orgIds);
  const place = (r: Resource): string | null => {
    const j = r as unknown as Json;
    const ref =
      (j.serviceProvider as { reference?: string } | undefined)?.reference ??
      ((j.performer as { reference?: string }[] | undefined) ?? []).find((p) => p.reference?.startsWith('Organization/'))?.reference;
    const own = orgRef(ref);
    if (own && names.get(own)) return names.get(own)!;
    const subject = ((j.subject ?? j.patient) as { reference?: string } | undefined)?.reference?.slice('Patient/'.length);
    const fac = subject ? facilityOf.get(subject) : undefined;
    return fac ? (names.get(fac) ?? null) : null;
  };
  const items = candidates
    .map((c) => describeForResident(c.r, place))
    .filter((x): x is RecordItem => !!x && want.has(x.kind))
    .sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '') || a.reference.localeCompare(b.reference))
    .slice(q._offset, q._offset + q._count);
  audit(deps, user, 'R', 'read', ['GET /api/portal/me/record'], address, 'success', target.patientIds);
  return { person: summary(target.primary, today), records: target.patientIds.length, total, items };
}

// ---------------------------------------------------------------------------------------------
// Vaccination schedule

async function dosesGiven(deps: PortalDeps, patientIds: string[]): Promise<{ vaccine: string; date: string; name: string }[]> {
  const { rows } = await searchAll<Resource>(deps.db, 'Immunization', [
    ['patient', patientIds.map((p) => `Patient/${p}`).join(',')],
    ['_count', '500'],
  ]);
  const out: { vaccine: string; date: string; name: string }[] = [];
  for (const r of rows) {
    const j = r as unknown as {
      status?: string;
      occurrenceDateTime?: string;
      vaccineCode?: { text?: string; coding?: { system?: string; code?: string; display?: string }[] };
    };
    const c = j.vaccineCode?.coding?.find((x) => x.system === VACCINE_SYSTEM);
    if (j.status !== 'completed' || !c?.code || !j.occurrenceDateTime) continue;
    out.push({ vaccine: c.code, date: j.occurrenceDateTime.slice(0, 10), name: c.display ?? j.vaccineCode?.text ?? c.code });
  }
  return out.sort((a, b) => a.date.localeCompare(b.date));
}

export async function schedule(deps: PortalDeps, user: AuthUser, forId: string | undefined, address?: string): Promise<ScheduleAnswer> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, forId, address, 'read', 'Immunization');
  const today = todayInChina(deps.now().getTime());
  const given = await dosesGiven(deps, target.patientIds);
  const child = childScheduleFor(deps.schedules, today);
  const nameOfVaccine = (code: string, fallback: string) => child.vaccines[code]?.name ?? fallback;
  const birthDate = target.primary.birthDate;
  const due = birthDate
    ? vaccinesDue(
        { birthDate, conditions: [] },
        given.map((g) => ({ vaccine: g.vaccine, date: g.date })),
        deps.schedules,
        today,
      ).map((v) => ({
        vaccine: v.vaccine,
        name: v.name,
        dose: v.dose,
        dueDate: v.dueDate,
        status: v.status,
        reason: v.reason,
      }))
    : [];
  const services = (await servicesDue(deps, target.patientIds, today)).map((i) => ({
    key: i.key,
    kind: i.kind as ScheduleAnswer['services'][number]['kind'],
    title: i.title,
    detail: i.detail,
    dueDate: i.dueDate,
    overdue: i.overdue,
  }));
  audit(deps, user, 'R', 'read', ['GET /api/portal/me/schedule'], address, 'success', target.patientIds);
  return {
    person: summary(target.primary, today),
    schedule: birthDate && ageOn(birthDate, today) < 18 ? child.version : null,
    given: given.map((g) => ({ vaccine: g.vaccine, name: nameOfVaccine(g.vaccine, g.name), date: g.date })),
    due,
    services,
  };
}

const SHOWN_KINDS: ReadonlySet<string> = new Set(RESIDENT_SERVICE_KINDS);
/** Words for residents where primary care's title is the clinic's (首诊测血压, 出院下转随访). */
const RESIDENT_TITLE: Partial<Record<DueItem['kind'], string>> = {
  'bp-screening': '测量血压（每年至少一次）',
  'referral-return': '出院后到社区随访',
};

/**
 * Primary care's due list for the Patients one resident's view joins, through its public entry
 * (no HTTP): chronic follow-ups, the yearly blood-pressure check and the return visit after a
 * hospital stay. The rest of that list is the clinic's own work (report cards, suspected cases to
 * confirm, education to hand out, the wait for an upward referral to come back) or is already
 * here (vaccines, from the doses of every joined record). An item due on several records (the
 * same disease registered at two centres) is listed once, with its earliest date.
 */
export async function servicesDue(deps: PortalDeps, patientIds: string[], today: string): Promise<DueItem[]> {
  const byKey = new Map<string, DueItem>();
  const care = { db: deps.db, repo: deps.repo, config: deps.chronic };
  for (const id of patientIds) {
    let items: DueItem[];
    try {
      items = await dueServicesOfResident(care, id, today);
    } catch (e) {
      // A joined record removed since the view was built.
      if (e instanceof HttpError && e.status === 404) continue;
      throw e;
    }
    for (const i of items) {
      if (!SHOWN_KINDS.has(i.kind)) continue;
      if (i.kind === 'referral-return' && i.i18n.title !== 'care.due.downReferral') continue;
      const seen = byKey.get(i.key);
      if (!seen || (i.dueDate ?? '9999') < (seen.dueDate ?? '9999')) byKey.set(i.key, { ...i, title: RESIDENT_TITLE[i.kind] ?? i.title });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.dueDate ?? '9999').localeCompare(b.dueDate ?? '9999') || a.key.localeCompare(b.key));
}

/**
 * What is due for some Patients this week: vaccines (schedule), primary care's services
 * (chronic follow-ups, the blood-pressure check, the return after a hospital stay) and open Tasks
 * (package services, referral returns).
 */
export async function dueThings(
  deps: PortalDeps,
  patient: Patient,
  patientIds: string[],
  today: string,
): Promise<{ key: string; title: string; dueDate: string | null; overdue: boolean }[]> {
  const out: { key: string; title: string; dueDate: string | null; overdue: boolean }[] = [];
  if (patient.birthDate) {
    const given = await dosesGiven(deps, patientIds);
    for (const v of vaccinesDue({ birthDate: patient.birthDate, conditions: [] }, given, deps.schedules, today))
      if (v.status !== 'upcoming')
        out.push({
          key: `vaccine:${v.vaccine}:${v.dose}`,
          title: `接种${v.name}第${v.dose}剂`,
          dueDate: v.dueDate,
          overdue: v.status === 'overdue',
        });
  }
  const soon = addDays(today, 7);
  for (const i of await servicesDue(deps, patientIds, today)) {
    // Follow-ups come within the week already; a return visit without a date is still due.
    if (i.dueDate && i.dueDate > soon) continue;
    out.push({ key: i.key, title: i.title, dueDate: i.dueDate, overdue: i.overdue });
  }
  const { rows } = await searchAll<Task>(deps.db, 'Task', [
    ['patient', patientIds.map((p) => `Patient/${p}`).join(',')],
    ['status', 'requested,accepted,ready,in-progress'],
    ['_count', '200'],
  ]);
  for (const t of rows) {
    const start = t.restriction?.period?.start?.slice(0, 10);
    const end = t.restriction?.period?.end?.slice(0, 10);
    const when = start ?? end;
    if (!when || when > soon) continue;
    // A referral's Task is already listed from primary care's due list.
    if (out.some((o) => o.key === `referral:${t.id}`)) continue;
    out.push({
      key: `task:${t.id}`,
      title: t.code?.coding?.[0]?.display ?? t.description ?? '健康服务',
      dueDate: end ?? start ?? null,
      overdue: !!end && end < today,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Home readings

export async function addReading(
  deps: PortalDeps,
  user: AuthUser,
  b: {
    for?: string;
    kind: 'blood-pressure' | 'glucose';
    systolic?: number;
    diastolic?: number;
    glucose?: number;
    fasting?: boolean;
    takenAt?: string;
    place: 'home' | 'kiosk';
  },
  address?: string,
): Promise<ReadingAnswer> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, b.for, address, 'write', 'Observation');
  const pid = target.primary.id!;
  const when = b.takenAt ?? deps.now().toISOString();
  const method = b.place === 'kiosk' ? '健康小屋自测' : '居家自测';
  const common = {
    resourceType: 'Observation' as const,
    status: 'final' as const,
    meta: { tag: [{ system: PORTAL_SOURCE_TAG, code: 'resident-portal', display: '居民门户自测' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    subject: { reference: `Patient/${pid}` },
    effectiveDateTime: when,
    // The resident measured it: a performer that is the Patient marks a reading entered at home.
    performer: [{ reference: `Patient/${pid}`, display: nameOf(target.primary) }],
    method: { text: method },
  };
  let obs: Observation;
  let text: string;
  let warning: string | undefined;
  if (b.kind === 'blood-pressure') {
    const q = (v: number) => ({ value: v, unit: 'mmHg', system: UCUM_SYSTEM, code: 'mm[Hg]' });
    obs = {
      ...common,
      code: { coding: [{ system: LOINC_SYSTEM, code: '85354-9', display: 'Blood pressure panel' }], text: '血压' },
      component: [
        {
          code: { coding: [{ system: LOINC_SYSTEM, code: '8480-6', display: 'Systolic blood pressure' }], text: '收缩压' },
          valueQuantity: q(b.systolic!),
        },
        {
          code: { coding: [{ system: LOINC_SYSTEM, code: '8462-4', display: 'Diastolic blood pressure' }], text: '舒张压' },
          valueQuantity: q(b.diastolic!),
        },
      ],
    };
    text = `血压 ${b.systolic}/${b.diastolic} mmHg（${method}）`;
    if (b.systolic! >= 180 || b.diastolic! >= 110) warning = '血压很高，请尽快就医或联系家庭医生 / Very high: see a doctor soon';
    else if (b.systolic! < 90 || b.diastolic! < 60) warning = '血压偏低，如有头晕请联系家庭医生 / Low: call your family doctor if dizzy';
  } else {
    const fasting = b.fasting === true;
    obs = {
      ...common,
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
      code: fasting
        ? { coding: [{ system: LOINC_SYSTEM, code: '1558-6', display: 'Fasting glucose' }], text: '空腹血糖' }
        : { coding: [{ system: LOINC_SYSTEM, code: '2339-0', display: 'Glucose' }], text: '血糖' },
      valueQuantity: { value: b.glucose!, unit: 'mmol/L', system: UCUM_SYSTEM, code: 'mmol/L' },
    };
    text = `${fasting ? '空腹血糖' : '血糖'} ${b.glucose} mmol/L（${method}）`;
    if (b.glucose! >= 16.7) warning = '血糖很高，请尽快就医或联系家庭医生 / Very high: see a doctor soon';
    else if (b.glucose! < 3.9) warning = '血糖偏低，请立即进食含糖食物，如不缓解请就医 / Low: eat something sweet now';
  }
  const stored = await deps.db.transaction(async (c) => {
    const r = await deps.repo.create(obs, c, 'Observation');
    await deps.audit.recordNow(c, {
      user,
      action: 'C',
      subtype: 'create',
      entities: [`Observation/${r.id}`],
      outcome: 'success',
      sourceAddress: address,
      purpose: 'PATRQT',
      patients: [`Patient/${pid}`],
    });
    return r;
  });
  return { observationId: stored.id!, text, ...(warning ? { warning } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Who read my record

const WHAT_WORDS: Record<string, string> = {
  read: '查看',
  search: '查询',
  everything: '调阅全部档案',
  vread: '查看',
  export: '导出',
  'access-denied': '查看被拒绝（超出授权或您已撤回授权）',
  'consent-override': '紧急情况下调阅（您已撤回的授权被越过）',
};

export async function accessLog(
  deps: PortalDeps,
  user: AuthUser,
  q: { for?: string; _count: number; _offset: number },
  address?: string,
): Promise<AccessLog> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, q.for, address);
  // Reads are durable before their answer, but may still be on their way into the table.
  await deps.audit.settle();
  const { total, events } = await store.readsOf(deps.db, target.patientIds, user.username, { count: q._count, offset: q._offset });
  const rows = events.map(logRow);
  // The organisation in words where it is a registered Organization (users carry its id).
  const names = await organizationNames(
    deps,
    rows.map((r) => r.organization ?? ''),
  );
  return {
    total,
    rows: rows.map((r) => (r.organization && names.has(r.organization) ? { ...r, organization: names.get(r.organization)! } : r)),
  };
}

function logRow(e: AuditEvent): AccessLog['rows'][number] {
  const agent = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const purpose = e.purposeOfEvent?.[0];
  const sub = e.subtype?.[0]?.code ?? '';
  return {
    when: e.recorded,
    who: agent?.name ?? agent?.who?.display ?? agent?.altId ?? '',
    roles: (agent?.role ?? []).map((r) => r.text ?? r.coding?.[0]?.code ?? '').filter(Boolean),
    organization: agent?.location?.display ?? null,
    purpose: purpose ? (purpose.coding?.[0]?.display ?? purpose.text ?? null) : null,
    purposeCode: purpose?.coding?.[0]?.code ?? null,
    what: WHAT_WORDS[sub] ?? sub,
  };
}

// ---------------------------------------------------------------------------------------------
// Consent choices

const CHOICE_LABEL: Record<(typeof CONSENT_CHOICES)[number], string> = {
  'share-with-hospitals': '允许就诊医院调阅我的健康档案',
  'share-with-family-doctor': '允许签约家庭医生查看我的自测数据',
  'share-for-research': '允许去标识化后用于医学研究',
};
const CHOICE_DEFAULT = CONSENT_CHOICE_DEFAULT;
const consentIdOf = residentConsentId;

function consentAnswer(c: Consent | undefined): ConsentAnswer {
  const chosen = new Map<string, boolean>();
  for (const p of c?.provision?.provision ?? []) {
    const code = p.code?.[0]?.coding?.find((x) => x.system === CONSENT_CHOICE_SYSTEM)?.code;
    if (code) chosen.set(code, p.type === 'permit');
  }
  return {
    consentId: c?.id ?? null,
    updated: c?.dateTime ?? null,
    choices: CONSENT_CHOICES.map((choice) => ({
      choice,
      allow: chosen.get(choice) ?? CHOICE_DEFAULT[choice],
      label: CHOICE_LABEL[choice],
    })),
  };
}

export async function consents(deps: PortalDeps, user: AuthUser, forId: string | undefined, address?: string): Promise<ConsentAnswer> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, forId, address, 'read', 'Consent');
  return consentAnswer(await readOr<Consent>(deps.repo, 'Consent', consentIdOf(target.primary.id!)));
}

export async function saveConsents(deps: PortalDeps, user: AuthUser, b: ConsentBody, address?: string): Promise<ConsentAnswer> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, b.for, address, 'write', 'Consent');
  const pid = target.primary.id!;
  const id = consentIdOf(pid);
  const before = consentAnswer(await readOr<Consent>(deps.repo, 'Consent', id));
  const next = new Map(before.choices.map((c) => [c.choice, c.allow]));
  for (const c of b.choices) next.set(c.choice, c.allow);
  const consent: Consent = {
    resourceType: 'Consent',
    id,
    status: 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }],
    },
    category: [{ coding: [{ system: LOINC_SYSTEM, code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${pid}` },
    dateTime: deps.now().toISOString(),
    performer: [{ reference: `Patient/${pid}`, display: target.ward ? `${scope.account.display_name}（监护人）` : nameOf(target.primary) }],
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN', display: 'opt-in' }] },
    provision: {
      type: 'permit',
      provision: CONSENT_CHOICES.map((choice) => ({
        type: next.get(choice) ? ('permit' as const) : ('deny' as const),
        code: [{ coding: [{ system: CONSENT_CHOICE_SYSTEM, code: choice, display: CHOICE_LABEL[choice] }] }],
      })),
    },
  };
  const stored = await deps.db.transaction(async (c) => {
    const r = await deps.repo.update('Consent', id, consent, {}, c);
    await deps.audit.recordNow(c, {
      user,
      action: r.created ? 'C' : 'U',
      subtype: r.created ? 'create' : 'update',
      entities: [`Consent/${id}`],
      outcome: 'success',
      sourceAddress: address,
      purpose: 'PATRQT',
      patients: [`Patient/${pid}`],
    });
    return r.resource as Consent;
  });
  // The policy reads the choices (cached briefly): from now on they are enforced.
  deps.access?.consentChanged();
  return consentAnswer(stored);
}

// ---------------------------------------------------------------------------------------------
// Guardians

/**
 * Links a child to the signed-in guardian. The child must be under 18 (known from the ID number
 * itself, before any lookup) and their record must list the guardian's phone (as the child's
 * own or a contact's): the same answer whether the child is unknown or lists another phone.
 */
export async function linkWard(
  deps: PortalDeps,
  user: AuthUser,
  b: { childIdNumber: string; relationship: 'parent' | 'guardian' },
  address?: string,
): Promise<Me> {
  const scope = await scopeOf(deps, user);
  const parsed = parseIdNumber(b.childIdNumber);
  if (!parsed.ok) throw badRequest(`childIdNumber: ${parsed.reason}`);
  const today = todayInChina(deps.now().getTime());
  const age = ageOn(parsed.value.birthDate, today);
  if (age >= 18)
    throw unprocessable(
      `监护关联只适用于未满18周岁的儿童；该身份证号的持有人已满18周岁（${age}岁），请其本人登录 / A guardian link is for children under 18; this person is ${age}: they sign in themselves`,
    );
  const idNumber = b.childIdNumber.trim().toUpperCase();
  const child = (await patientsWithIdNumber(deps.db, idNumber)).find((p) => phonesOf(p, true).includes(scope.account.phone));
  if (!child)
    throw notFound(
      '未找到登记了您手机号的该儿童档案；请携带户口本到社区卫生服务中心登记监护人联系方式 / No record of this child lists your phone: register it at your health centre',
    );
  if (scope.own.includes(child.id!)) throw conflict('This is your own record / 这是您本人的档案');
  await deps.db.transaction(async (c) => {
    await store.addWard(c, user.username, child.id!, b.relationship);
    await deps.audit.recordNow(c, {
      user,
      action: 'C',
      subtype: 'create',
      entities: ['portal:guardian-link'],
      outcome: 'success',
      sourceAddress: address,
      purpose: 'PATRQT',
      patients: [`Patient/${child.id}`],
    });
  });
  deps.access?.forgetSelf(user.username);
  return me(deps, user);
}

// ---------------------------------------------------------------------------------------------
// Online contracts

export async function teams(deps: PortalDeps): Promise<TeamsAnswer> {
  const { rows } = await searchAll<CareTeam>(deps.db, 'CareTeam', [['_count', '200']]);
  const active = rows.filter((t) => !t.status || t.status === 'active');
  const orgs = await organizationNames(
    deps,
    active.map((t) => orgRef(t.managingOrganization?.[0]?.reference) ?? ''),
  );
  return {
    teams: active
      .map((t) => {
        const org = orgRef(t.managingOrganization?.[0]?.reference) ?? null;
        return {
          teamId: t.id!,
          name: t.name ?? t.id!,
          organizationId: org,
          organizationName: org ? (orgs.get(org) ?? null) : null,
          members: (t.participant ?? []).map((p) => p.member?.display ?? '').filter(Boolean),
        };
      })
      .sort((a, b) => a.name.localeCompare(b.name)),
    packages: Object.entries(deps.packages).map(([code, p]) => ({ code, name: p.name, services: p.services.map((s) => s.title) })),
  };
}

async function activeEpisodes(deps: PortalDeps, patientIds: string[], db: Queryable | Database = deps.db): Promise<EpisodeOfCare[]> {
  const { rows } = await searchAll<EpisodeOfCare>(db, 'EpisodeOfCare', [
    ['patient', patientIds.map((p) => `Patient/${p}`).join(',')],
    ['status', 'active'],
    ['_count', '50'],
  ]);
  return rows.filter((e) =>
    e.type?.some((t) => t.coding?.some((c) => c.system === CONTRACT_TYPE_SYSTEM && c.code === 'family-doctor-contract')),
  );
}

const teamOf = (e: EpisodeOfCare) => e.team?.[0]?.reference?.replace(/^CareTeam\//, '') ?? null;
const packageOf = (e: EpisodeOfCare) => e.extension?.find((x) => x.url === SERVICE_PACKAGE_EXTENSION)?.valueCoding?.code ?? null;

function requestView(r: store.RequestRow): ContractRequestView {
  return {
    requestId: r.id,
    kind: r.kind,
    teamId: r.team_id,
    package: r.package,
    contractId: r.contract_id,
    signedAt: new Date(r.signed_at).toISOString(),
    signatureMethod: r.signature_method,
    status: r.status,
    decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
    reason: r.reason,
    episodeId: r.episode_id,
    tasks: r.task_ids.length,
  };
}

export async function myContracts(deps: PortalDeps, user: AuthUser, forId: string | undefined, address?: string): Promise<MyContracts> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, forId, address, 'read', 'Contract');
  const episodes = await activeEpisodes(deps, target.patientIds);
  return {
    current: episodes.map((e) => ({ episodeId: e.id!, teamId: teamOf(e), package: packageOf(e), end: e.period?.end ?? null })),
    requests: (await store.requestsOf(deps.db, target.patientIds)).map(requestView),
  };
}

/** The resident signs (or renews, or asks to move) a contract: a FHIR Contract with the signature, waiting for the team. */
export async function signContract(deps: PortalDeps, user: AuthUser, b: ContractBody, address?: string): Promise<ContractRequestView> {
  const scope = await scopeOf(deps, user);
  const target = await targetOf(deps, user, scope, b.for, address, 'write', 'Contract');
  const pid = target.primary.id!;
  const pkg = deps.packages[b.package];
  if (!pkg) throw badRequest(`package: '${b.package}' is not offered; choose one of ${Object.keys(deps.packages).join(', ')}`);
  const team = await readOr<CareTeam>(deps.repo, 'CareTeam', b.teamId);
  if (!team) throw notFound(`No family-doctor team '${b.teamId}' / 未找到该家庭医生团队`);
  if (await store.pendingRequestFor(deps.db, pid))
    throw conflict('已有一份签约申请正在等待团队确认 / A request is already waiting for the team');
  const episodes = await activeEpisodes(deps, target.patientIds);
  const withTeam = episodes.find((e) => teamOf(e) === b.teamId);
  const elsewhere = episodes.filter((e) => teamOf(e) !== b.teamId);
  if (b.kind === 'sign' && withTeam)
    throw conflict('您已与该团队签约；如需延长请选择续约 / Already contracted with this team: renew instead');
  if (b.kind === 'sign' && elsewhere.length)
    throw conflict('您已与其他团队签约；如需更换请选择转签 / Contracted with another team: ask to transfer instead');
  if (b.kind === 'renew' && !withTeam) throw conflict('与该团队没有生效中的签约，无法续约 / No active contract with this team to renew');
  if (b.kind === 'transfer' && withTeam) throw conflict('您已与该团队签约 / Already contracted with this team');
  if (b.kind === 'transfer' && !elsewhere.length) throw conflict('没有可转出的签约；请直接签约 / No contract to transfer: sign instead');
  const now = deps.now();
  const start = todayInChina(now.getTime());
  const org = orgRef(team.managingOrganization?.[0]?.reference) ?? null;
  const requestId = randomUUID();
  const contractId = randomUUID();
  const signer = target.ward ? `${scope.account.display_name}（${nameOf(target.primary)}的监护人）` : nameOf(target.primary);
  const statement = `本人${signer}已阅读并同意《家庭医生签约服务协议》（${pkg.name}，团队：${team.name ?? b.teamId}），于${now.toISOString()}通过居民健康门户短信验证码登录后在线签署。`;
  const KIND_WORDS = { sign: '签约', renew: '续约', transfer: '转签' } as const;
  const contract: Contract = {
    resourceType: 'Contract',
    id: contractId,
    status: 'offered',
    issued: now.toISOString(),
    applies: { start, end: addDays(addDays(start, 365), -1) },
    subject: [{ reference: `Patient/${pid}` }],
    ...(org ? { authority: [{ reference: `Organization/${org}` }] } : {}),
    title: '家庭医生签约服务协议',
    subtitle: pkg.name,
    type: { coding: [{ system: CONTRACT_KIND_SYSTEM, code: b.kind, display: KIND_WORDS[b.kind] }] },
    subType: [{ coding: [{ system: SERVICE_PACKAGE_SYSTEM, code: b.package, display: pkg.name }] }],
    extension: [{ url: CONTRACT_TEAM_EXTENSION, valueReference: { reference: `CareTeam/${b.teamId}`, display: team.name } }],
    term: pkg.services.map((s) => ({ text: `${s.title}：合同期内 ${s.count} 次`, offer: { text: s.title } })),
    signer: [
      {
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/contractsignertypecodes',
          code: target.ward ? 'GUARD' : 'PAT',
          display: target.ward ? 'Guardian' : 'Patient',
        },
        party: { reference: `Patient/${pid}`, display: signer },
        signature: [
          {
            type: [{ system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.7', display: 'Consent Signature' }],
            when: now.toISOString(),
            who: { reference: `Patient/${pid}`, display: signer },
            sigFormat: 'text/plain',
            data: Buffer.from(statement).toString('base64'),
          },
        ],
      },
    ],
  };
  await deps.db.transaction(async (c) => {
    await deps.repo.update('Contract', contractId, contract, {}, c);
    await store.insertRequest(c, {
      id: requestId,
      username: user.username,
      patient_id: pid,
      kind: b.kind,
      team_id: b.teamId,
      organization_id: org,
      package: b.package,
      contract_id: contractId,
      signed_at: now,
      signature_method: SIGNATURE_METHOD,
    });
    await deps.audit.recordNow(c, {
      user,
      action: 'C',
      subtype: 'create',
      entities: [`Contract/${contractId}`],
      outcome: 'success',
      sourceAddress: address,
      purpose: 'PATRQT',
      patients: [`Patient/${pid}`],
    });
  });
  return requestView((await store.requestById(deps.db, requestId))!);
}

export async function teamRequests(deps: PortalDeps, q: { status: string; team?: string }): Promise<TeamRequestList> {
  const rows = await store.requestsForTeams(deps.db, q.status, q.team);
  const names = new Map<string, string>();
  for (const r of rows)
    if (!names.has(r.patient_id)) names.set(r.patient_id, nameOf(await readOr<Patient>(deps.repo, 'Patient', r.patient_id)));
  return { rows: rows.map((r) => ({ ...requestView(r), patientId: r.patient_id, residentName: names.get(r.patient_id) ?? null })) };
}

/**
 * The team accepts or declines. Acceptance writes the contract as primary care keeps it (an
 * EpisodeOfCare its processor lists in care_contract; a transfer finishes the old one, a renewal
 * extends it) and schedules the package's services as FHIR Tasks owned by the team.
 */
export async function decide(
  deps: PortalDeps,
  user: AuthUser,
  requestId: string,
  d: { accept: boolean; reason?: string },
  address?: string,
): Promise<ContractRequestView> {
  const before = await store.requestById(deps.db, requestId);
  if (!before) throw notFound(`No contract request '${requestId}'`);
  if (!user.roles.includes('admin') && user.organization && before.organization_id && user.organization !== before.organization_id)
    throw forbidden(`Only the team's health centre (${before.organization_id}) decides this request / 仅签约团队所在机构可处理`);
  if (!d.accept && !d.reason) throw badRequest('reason: say why the request is declined (the resident reads it) / 请填写不同意的原因');
  const now = deps.now();
  const today = todayInChina(now.getTime());
  await deps.db.transaction(async (c) => {
    const r = await store.requestById(c, requestId, true);
    if (!r || r.status !== 'pending') throw conflict(`The request is already ${r?.status ?? 'gone'} / 该申请已处理`);
    const contract = (await deps.repo.read('Contract', r.contract_id, c)) as Contract;
    const entities = [`Contract/${r.contract_id}`];
    const taskIds: string[] = [];
    if (!d.accept) {
      await deps.repo.update('Contract', r.contract_id, { ...contract, status: 'rejected' }, {}, c);
      await store.decideRequest(c, requestId, {
        status: 'declined',
        by: user.username,
        reason: d.reason ?? null,
        episodeId: null,
        taskIds: [],
      });
      await store.enqueue(c, {
        channel: 'notice',
        kind: 'reminder',
        username: r.username,
        body: `您的家庭医生${r.kind === 'renew' ? '续约' : r.kind === 'transfer' ? '转签' : '签约'}申请未获同意：${d.reason}`,
        status: 'delivered',
      });
    } else {
      const episodes = await activeEpisodes(deps, [r.patient_id], c);
      const pkg = deps.packages[r.package]!;
      const team = (await deps.repo.read('CareTeam', r.team_id, c)) as CareTeam;
      let episodeId: string;
      if (r.kind === 'renew') {
        const ep = episodes.find((e) => teamOf(e) === r.team_id);
        if (!ep) throw conflict('The contract to renew is no longer active / 待续约的签约已不在有效期');
        const end = addDays(ep.period?.end ?? today, 365);
        await deps.repo.update('EpisodeOfCare', ep.id!, { ...ep, period: { ...ep.period, end } }, {}, c);
        episodeId = ep.id!;
      } else {
        if (r.kind === 'sign' && episodes.length) throw conflict('The resident has meanwhile been contracted / 该居民已有生效中的签约');
        for (const old of episodes) {
          await deps.repo.update(
            'EpisodeOfCare',
            old.id!,
            { ...old, status: 'finished', period: { ...old.period, end: addDays(today, -1) } },
            {},
            c,
          );
          entities.push(`EpisodeOfCare/${old.id}`);
        }
        episodeId = randomUUID();
        const ep: EpisodeOfCare = {
          resourceType: 'EpisodeOfCare',
          id: episodeId,
          extension: [
            { url: SERVICE_PACKAGE_EXTENSION, valueCoding: { system: SERVICE_PACKAGE_SYSTEM, code: r.package, display: pkg.name } },
          ],
          status: 'active',
          type: [{ coding: [{ system: CONTRACT_TYPE_SYSTEM, code: 'family-doctor-contract', display: '家庭医生签约' }] }],
          patient: { reference: `Patient/${r.patient_id}` },
          ...(team.managingOrganization?.[0] ? { managingOrganization: team.managingOrganization[0] } : {}),
          period: { start: today, end: addDays(addDays(today, 365), -1) },
          team: [{ reference: `CareTeam/${r.team_id}` }],
        };
        await deps.repo.update('EpisodeOfCare', episodeId, ep, {}, c);
      }
      entities.push(`EpisodeOfCare/${episodeId}`);
      for (const s of pkg.services)
        for (let i = 0; i < s.count; i++) {
          const start = addDays(today, s.firstAfterDays + i * s.everyDays);
          const id = randomUUID();
          const task: Task = {
            resourceType: 'Task',
            id,
            status: 'requested',
            intent: 'plan',
            priority: 'routine',
            code: { coding: [{ system: PACKAGE_SERVICE_SYSTEM, code: s.code, display: s.title }] },
            description: `${s.title}（${pkg.name}，第${i + 1}次）`,
            for: { reference: `Patient/${r.patient_id}` },
            basedOn: [{ reference: `Contract/${r.contract_id}` }],
            focus: { reference: `EpisodeOfCare/${episodeId}` },
            authoredOn: now.toISOString(),
            owner: { reference: `CareTeam/${r.team_id}` },
            restriction: { period: { start, end: addDays(start, 30) } },
          };
          await deps.repo.update('Task', id, task, {}, c);
          taskIds.push(id);
        }
      await deps.repo.update('Contract', r.contract_id, { ...contract, status: 'executed' }, {}, c);
      await store.decideRequest(c, requestId, { status: 'accepted', by: user.username, reason: d.reason ?? null, episodeId, taskIds });
      await store.enqueue(c, {
        channel: 'notice',
        kind: 'reminder',
        username: r.username,
        body: `您的家庭医生${r.kind === 'renew' ? '续约' : r.kind === 'transfer' ? '转签' : '签约'}已生效（${pkg.name}，${team.name ?? r.team_id}），已为您安排 ${taskIds.length} 项服务。`,
        status: 'delivered',
      });
    }
    await deps.audit.recordNow(c, {
      user,
      action: 'U',
      subtype: d.accept ? 'contract-accepted' : 'contract-declined',
      entities,
      outcome: 'success',
      sourceAddress: address,
      patients: [`Patient/${r.patient_id}`],
    });
  });
  return requestView((await store.requestById(deps.db, requestId))!);
}
