/**
 * What the routes ask of the investigation module, one function per route: each reads the FHIR
 * store through its search and repository (Patient, Condition, Group, report-card Task), the
 * module's tables through store.ts, and writes in one transaction with its AuditEvent.
 */
import type { Condition, Group, Location, Organization, Patient, Questionnaire, Resource, Task } from '@medplum/fhirtypes';
import type { AuditAction } from '../fhir/audit.js';
import type { FhirRepository } from '../fhir/repository.js';
import { search } from '../fhir/search.js';
import { ROLE_PERMISSIONS, type AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../platform/errors.js';
import { facilityNames } from '../registry/index.js';
import { classDaysReported } from '../feeds/index.js';
import type { SmsTransport } from '../portal/index.js';
import { createHash } from 'node:crypto';
import { findChineseFont, investigationReportPdf, NO_FONT_MESSAGE } from './report.js';
import { addDays, chinaDateOf, todayInChina } from '../shared/dates.js';
import { buildChain, epiCurve, type Chain, type EpiCurveDay } from './chain.js';
import { caseStaysInWindow, fromGroups, fromStays } from './candidates.js';
import { answersOf, answersProblems, prefill, toResponse, type Answers } from './forms.js';
import { checkProblem, checkStatus, dayStart, dueDays, followUpWindow } from './follow-up.js';
import { contactWindow, deadlineHours, diseaseFor, type DiseaseRule, type InvestigationRules } from './rules.js';
import { hoursUnderMode } from './mode-deadline.js';
import type {
  Candidate,
  CandidateList,
  Check,
  Contact,
  ContactList,
  Form,
  Investigation,
  InvestigationList,
  OutsideContact,
  Trajectory,
  Worklist,
} from './schemas.js';
import * as store from './store.js';
import * as visitStore from './store-visits.js';
import { visitTask, type VisitState } from './visits.js';
import { patientDisplayName } from '../shared/patient-name.js';

export interface AuditEntry {
  action?: AuditAction;
  subtype: string;
  entities: string[];
  patients: string[];
  text: string;
}
/** Records a write's AuditEvent inside its transaction (the route adds who, from where and why). */
export type AuditWrite = (client: Queryable, entry: AuditEntry) => Promise<void>;

/** Who writes, and the request's checks: the audit writer and the access policy for the residents touched (403 otherwise). */
export interface Actor {
  user: AuthUser;
  audit: AuditWrite;
  /** Checks the access policy for writing these residents' records; called before a transaction opens. */
  allow(patientIds: string[]): Promise<void>;
}

export interface InvestigationDeps {
  db: Database;
  repo: FhirRepository;
  rules: InvestigationRules;
  forms: ReadonlyMap<string, Questionnaire>;
  /** Every Patient id of the resident's Person (the id itself when unlinked). */
  personPatients(patientId: string): Promise<string[]>;
  log(message: string): void;
  /** Contacts were confirmed or their windows changed: the follow-up job plans their visits now rather than at its next run. */
  onContactsChanged?(): void;
  /** Escalation notices were queued: the notice dispatcher sends their text messages now. */
  onNoticesQueued?(): void;
  /** Where escalation notices' text messages go (the portal's SMS transports; the server log when no gateway is set). */
  transport?: SmsTransport;
}

/** Identifier systems of the surveillance module's FHIR Tasks (report cards, alert responses). */
const REPORT_CARD_ID_SYSTEM = 'https://yifang.health/fhir/sid/report-card';
const ALERT_ID_SYSTEM = 'https://yifang.health/fhir/sid/alert';

const TRANSITIONS: Record<Investigation['status'], Investigation['status'][]> = {
  open: ['in-progress'],
  'in-progress': ['closed'],
  closed: [],
};

async function fhirSearch<T extends Resource>(db: Queryable, type: string, params: [string, string][]): Promise<T[]> {
  const r = await search(db, type, { params }, '');
  return (r.bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as T);
}

/** Holders of surveillance:write act on any investigation; others (hospital public health) on those assigned to them. */
function assertMayChange(user: AuthUser, inv: Investigation): void {
  const broad = user.roles.some((r) => (ROLE_PERMISSIONS[r] as readonly string[]).includes('surveillance:write'));
  if (!broad && inv.assignee !== user.username)
    throw forbidden(
      `investigation ${inv.id} is assigned to ${inv.assignee ?? 'nobody'}: only the investigator or an epidemiologist may change it / 仅调查人员可修改`,
    );
}

/** The role check and the access policy for the case's resident, before a write's transaction. */
async function mayChange(actor: Actor, inv: Investigation): Promise<void> {
  assertMayChange(actor.user, inv);
  await actor.allow([inv.patientId]);
}

function staleVersion(inv: Investigation, sent: number): never {
  throw conflict(
    `investigation ${inv.id} was changed by someone else (now version ${inv.version}, saved ${inv.updatedAt}; you sent version ${sent}): nothing of yours was saved and nothing of theirs was overwritten; reload, reapply your changes and save again / 该调查已被他人修改，请刷新后重新保存`,
  );
}

async function mustFind(c: Queryable, id: number, forUpdate = false): Promise<Investigation> {
  const inv = await store.findInvestigation(c, id, forUpdate);
  if (!inv) throw notFound(`investigation ${id} not found`);
  return inv;
}

function diseaseOf(deps: InvestigationDeps, inv: Investigation): DiseaseRule {
  const d = deps.rules.diseases.get(inv.diseaseKey);
  if (!d) throw conflict(`investigation ${inv.id}: disease '${inv.diseaseKey}' is no longer in config/investigation/rules.json`);
  return d;
}

async function readPatient(deps: InvestigationDeps, id: string, c?: Queryable): Promise<Patient> {
  return (await deps.repo.read('Patient', id, c ?? deps.db.pool)) as Patient;
}

/** The resident's Condition naming the disease (newest onset first). */
async function conditionFor(deps: InvestigationDeps, patients: string[], disease: DiseaseRule): Promise<Condition | undefined> {
  const list = await fhirSearch<Condition>(deps.db.pool, 'Condition', [
    [
      'subject',
      patients
        .slice(0, 100)
        .map((p) => `Patient/${p}`)
        .join(','),
    ],
    ['_count', '200'],
  ]);
  const matching = list.filter((c) => (c.code?.coding ?? []).some((x) => x.code && diseaseFor(deps.rules, x.code)?.key === disease.key));
  const onset = (c: Condition) => c.onsetDateTime ?? c.onsetPeriod?.start ?? c.recordedDate ?? '';
  return matching.sort((a, b) => onset(b).localeCompare(onset(a)))[0];
}

const dayOf = (v: string | undefined) => (!v ? undefined : v.length > 10 ? chinaDateOf(v) : v.slice(0, 10));

// ---------------------------------------------------------------------------------------------
// Investigations

export interface OpenInput {
  patientId?: string;
  diseaseCode?: string;
  alertId?: number;
  reportCardId?: string;
  assignee?: string;
  onsetDate?: string;
  note?: string;
}

async function openCase(
  deps: InvestigationDeps,
  input: OpenInput & { source?: Investigation['source']; sourceRef?: string; fromContactId?: number; autoRule?: string },
  actor: Actor,
  before?: (c: Queryable, inv: Investigation) => Promise<void>,
): Promise<Investigation> {
  const { user, audit } = actor;
  let { patientId, diseaseCode: code, onsetDate: onset } = input;
  let source: Investigation['source'] = input.source ?? 'manual';
  let sourceRef: string | null = input.sourceRef ?? null;
  if (input.reportCardId) {
    const [task] = await fhirSearch<Task>(deps.db.pool, 'Task', [['identifier', `${REPORT_CARD_ID_SYSTEM}|${input.reportCardId}`]]);
    if (!task) throw notFound(`report card ${input.reportCardId} not found / 未找到该报告卡`);
    const field = (name: string) => task.input?.find((i) => i.type?.coding?.some((c) => c.code === name))?.valueString;
    const fromCard = task.for?.reference?.startsWith('Patient/') ? task.for.reference.slice('Patient/'.length) : undefined;
    if (patientId && fromCard && patientId !== fromCard)
      throw badRequest(`patientId ${patientId} is not the resident of report card ${input.reportCardId} (${fromCard})`);
    patientId ??= fromCard;
    code ??= field('disease.icd10');
    onset ??= dayOf(field('onsetDate'));
    source = 'report-card';
    sourceRef = input.reportCardId;
  } else if (input.alertId) {
    source = 'alert';
    const [task] = await fhirSearch<Task>(deps.db.pool, 'Task', [['identifier', `${ALERT_ID_SYSTEM}|${input.alertId}`]]);
    sourceRef = task ? `alert ${input.alertId} (Task/${task.id})` : `alert ${input.alertId}`;
  }
  if (!patientId) throw badRequest('patientId: the resident (Patient id) is required unless the report card names one');
  if (!code) throw badRequest(`diseaseCode: required (one of ${[...deps.rules.diseases.keys()].join(', ')}, or an ICD-10 code)`);
  const disease = diseaseFor(deps.rules, code);
  if (!disease)
    throw badRequest(
      `diseaseCode '${code}' names no disease of config/investigation/rules.json (${[...deps.rules.diseases.keys()].join(', ')})`,
    );
  const patient = await readPatient(deps, patientId);
  await actor.allow([patientId]);
  const patients = await deps.personPatients(patientId);
  const existing = await store.openInvestigationOf(deps.db.pool, patients, disease.key);
  if (existing)
    throw Object.assign(
      conflict(
        `resident ${patientId} already has an open ${disease.name} investigation (${existing.id}, ${existing.status}): continue that one / 该居民已有进行中的${disease.name}流调`,
      ),
      { openInvestigation: existing },
    );
  if (!onset) {
    const cond = await conditionFor(deps, patients, disease);
    onset = dayOf(cond?.onsetDateTime ?? cond?.onsetPeriod?.start ?? cond?.recordedDate);
  }
  // Under an emergency mode for the resident's area the mode's hours hold when shorter (平急转换).
  const hours = await hoursUnderMode(deps.db, deadlineHours(deps.rules, disease, source === 'alert'), patient, new Date());
  const inv = await deps.db.transaction(async (c) => {
    const created = await store.insertInvestigation(c, {
      patientId: patientId!,
      diseaseKey: disease.key,
      diseaseName: disease.name,
      diseaseClass: disease.class,
      source,
      sourceRef,
      // Opened by the rules: the rules' investigator, else nobody until someone takes it.
      assignee: input.assignee ?? (input.autoRule ? null : user.username),
      organization: user.organization ?? null,
      onsetDate: onset ?? null,
      openedBy: user.username,
      deadlineAt: new Date(Date.now() + hours * 3_600_000).toISOString(),
      note: input.note ?? null,
      questionnaireId: disease.questionnaire,
      fromContactId: input.fromContactId ?? null,
      autoRule: input.autoRule ?? null,
    });
    await before?.(c, created);
    await audit(c, {
      action: 'C',
      subtype: 'investigation-open',
      entities: [`investigation ${created.id}`],
      patients: [patientId!],
      text: `investigation ${created.id} opened${input.autoRule ? ` automatically (${input.autoRule})` : ''} (${disease.name}, ${source}${sourceRef ? ` ${sourceRef}` : ''}), due in ${hours} h, assigned to ${created.assignee ?? 'nobody yet'}`,
    });
    return created;
  });
  try {
    await computeCandidates(deps, inv.id);
  } catch (e) {
    deps.log(`investigation ${inv.id}: contact candidates not computed: ${(e as Error).message}`);
  }
  return mustFind(deps.db.pool, inv.id);
}

export function openInvestigation(deps: InvestigationDeps, input: OpenInput, actor: Actor): Promise<Investigation> {
  return openCase(deps, input, actor);
}

/**
 * Opens the investigation a report card asks for by the rules (config/investigation/rules.json
 * autoOpen), as the system: the same checks, deadline, form and candidates as by hand, marked as
 * opened automatically by `rule`. 409 when the resident already has one open for the disease.
 */
export function openAutomatically(deps: InvestigationDeps, cardId: string, rule: string, actor: Actor): Promise<Investigation> {
  return openCase(deps, { reportCardId: cardId, assignee: deps.rules.autoOpen.assignee, autoRule: rule }, actor);
}

export async function listInvestigations(
  deps: InvestigationDeps,
  q: { status?: string; assignee?: string; patientId?: string; limit: number; offset: number },
): Promise<InvestigationList> {
  const statuses = q.status ? q.status.split(',').map((s) => s.trim()) : ['open', 'in-progress'];
  const bad = statuses.filter((s) => !(s in TRANSITIONS));
  if (bad.length) throw badRequest(`status: ${bad.join(', ')} is not one of open, in-progress, closed`);
  const r = await store.listInvestigations(deps.db.pool, { ...q, statuses });
  return { ...r, limit: q.limit, offset: q.offset };
}

export async function getInvestigation(deps: InvestigationDeps, id: number): Promise<Investigation> {
  return mustFind(deps.db.pool, id);
}

export async function updateInvestigation(
  deps: InvestigationDeps,
  id: number,
  body: {
    version: number;
    status?: Investigation['status'];
    classification?: Investigation['classification'];
    assignee?: string;
    note?: string;
    closeNote?: string;
  },
  actor: Actor,
): Promise<Investigation> {
  const { user, audit } = actor;
  await mayChange(actor, await mustFind(deps.db.pool, id));
  return deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    if (inv.version !== body.version) staleVersion(inv, body.version);
    if (inv.status === 'closed')
      throw conflict(`investigation ${id} was closed by ${inv.closedBy} at ${inv.closedAt}: it can no longer change / 调查已结案`);
    const to = body.status && body.status !== inv.status ? body.status : undefined;
    if (to && !TRANSITIONS[inv.status].includes(to))
      throw conflict(`investigation ${id} is '${inv.status}': it cannot move to '${to}' (allowed: ${TRANSITIONS[inv.status].join(', ')})`);
    const now = new Date().toISOString();
    const after = await store.updateInvestigationAt(c, id, body.version, {
      status: to,
      classification: body.classification !== inv.classification ? body.classification : undefined,
      assignee: body.assignee,
      note: body.note,
      closeNote: body.closeNote,
      ...(to === 'closed' ? { closedBy: user.username, closedAt: now } : {}),
    });
    if (!after) staleVersion((await store.findInvestigation(c, id))!, body.version);
    await audit(c, {
      subtype: 'investigation-update',
      entities: [`investigation ${id}`],
      patients: [inv.patientId],
      text: `investigation ${id} v${after!.version}${to ? `: ${inv.status} → ${to}` : ''}${body.classification && body.classification !== inv.classification ? `, classified ${body.classification}` : ''}${body.assignee ? `, assigned to ${body.assignee}` : ''}`,
    });
    return after!;
  });
}

// ---------------------------------------------------------------------------------------------
// Forms

function formOf(deps: InvestigationDeps, inv: Investigation): Questionnaire {
  const q = deps.forms.get(inv.questionnaireId);
  if (!q)
    throw conflict(`investigation ${inv.id}: form '${inv.questionnaireId}' is no longer shipped in config/investigation/questionnaires`);
  return q;
}

export async function getForm(deps: InvestigationDeps, id: number): Promise<Form> {
  const inv = await mustFind(deps.db.pool, id);
  const q = formOf(deps, inv);
  let answers: Answers;
  let prefilled: string[] = [];
  let response: Resource | null = null;
  if (inv.responseId) {
    response = await deps.repo.read('QuestionnaireResponse', inv.responseId);
    answers = answersOf(response as never);
  } else {
    const patient = await readPatient(deps, inv.patientId).catch(() => undefined);
    const condition = await conditionFor(deps, await deps.personPatients(inv.patientId), diseaseOf(deps, inv));
    answers = prefill(q, patient, condition, todayInChina());
    if (inv.onsetDate && !condition) answers['onset-date'] = inv.onsetDate;
    prefilled = Object.keys(answers);
  }
  return {
    investigationId: inv.id,
    patientId: inv.patientId,
    version: inv.version,
    questionnaire: q as unknown as Record<string, unknown>,
    response: response as unknown as Record<string, unknown> | null,
    answers,
    prefilled,
  };
}

export async function saveForm(
  deps: InvestigationDeps,
  id: number,
  body: { version: number; answers: Answers; complete: boolean },
  actor: Actor,
): Promise<Form> {
  const { user, audit } = actor;
  await mayChange(actor, await mustFind(deps.db.pool, id));
  await deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    if (inv.version !== body.version) staleVersion(inv, body.version);
    if (inv.status === 'closed') throw conflict(`investigation ${id} is closed: its form can no longer change / 调查已结案`);
    const q = formOf(deps, inv);
    const problems = answersProblems(q, body.answers);
    if (problems.length) throw badRequest(`form ${q.id}: ${problems.join('; ')}`);
    const responseId = inv.responseId ?? `inv-${id}-form`;
    const qr = toResponse(q, body.answers, {
      id: responseId,
      patientId: inv.patientId,
      investigationId: id,
      author: user.displayName || user.username,
      status: body.complete ? 'completed' : 'in-progress',
    });
    await deps.repo.update('QuestionnaireResponse', responseId, qr, {}, c);
    const after = await store.updateInvestigationAt(c, id, body.version, {
      responseId,
      ...(inv.status === 'open' ? { status: 'in-progress' as const } : {}),
    });
    if (!after) staleVersion((await store.findInvestigation(c, id))!, body.version);
    await audit(c, {
      subtype: 'investigation-form',
      entities: [`investigation ${id}`, `QuestionnaireResponse/${responseId}`],
      patients: [inv.patientId],
      text: `investigation ${id} form saved (${Object.keys(body.answers).length} answers${body.complete ? ', completed' : ''})`,
    });
  });
  return getForm(deps, id);
}

// ---------------------------------------------------------------------------------------------
// Contact candidates

/**
 * The school days of the case's classes as their schools reported them to the absence feed
 * (feeds' classDaysReported, by the class code on the Group's identifier), per Group id.
 */
async function reportedClassDays(
  db: Queryable,
  groups: Group[],
  window: { start: string; end: string },
): Promise<Map<string, Set<string>>> {
  const classes = groups.filter((g) => g.id && g.code?.coding?.some((c) => c.code === 'school-class'));
  const codesOf = (g: Group) => (g.identifier ?? []).map((i) => i.value).filter((v): v is string => !!v);
  const byCode = await classDaysReported(db, classes.flatMap(codesOf), window.start, window.end);
  const out = new Map<string, Set<string>>();
  for (const g of classes) {
    const days = new Set(codesOf(g).flatMap((c) => [...(byCode.get(c) ?? [])]));
    if (days.size) out.set(g.id!, days);
  }
  return out;
}

/** Computes (or recomputes) the candidates of an investigation; decisions already taken are kept. */
export async function computeCandidates(deps: InvestigationDeps, id: number): Promise<CandidateList> {
  const inv = await mustFind(deps.db.pool, id);
  const disease = diseaseOf(deps, inv);
  const now = new Date();
  const onset = inv.onsetDate ?? chinaDateOf(inv.openedAt);
  const window = contactWindow(disease, onset, now);
  const patients = await deps.personPatients(inv.patientId);
  const own = new Set(patients);
  const groups = await fhirSearch<Group>(deps.db.pool, 'Group', [
    [
      'member',
      patients
        .slice(0, 100)
        .map((p) => `Patient/${p}`)
        .join(','),
    ],
    ['_count', '100'],
  ]);
  const fromGroup = fromGroups(groups, own, disease, window, now, {
    onset,
    calendar: deps.rules.schoolCalendar,
    classDays: await reportedClassDays(deps.db.pool, groups, window),
  });
  const caseStays = caseStaysInWindow(await store.staysOfPatients(deps.db.pool, patients, window.start, window.end), disease, window, now);
  const others = await store.staysAtPlaces(deps.db.pool, caseStays);
  const list = [...fromGroup, ...fromStays(caseStays, others.stays, own, disease, now)];
  await deps.db.transaction(async (c) => {
    await store.saveCandidates(c, id, list);
    await store.markCandidatesComputed(c, id, others.truncated);
  });
  return listCandidates(deps, id);
}

/** Recomputation asked for by an investigator. */
export async function recomputeCandidates(deps: InvestigationDeps, id: number, actor: Actor): Promise<CandidateList> {
  await mayChange(actor, await mustFind(deps.db.pool, id));
  return computeCandidates(deps, id);
}

export async function listCandidates(deps: InvestigationDeps, id: number): Promise<CandidateList> {
  const inv = await mustFind(deps.db.pool, id);
  return {
    investigationId: id,
    patientId: inv.patientId,
    computedAt: inv.candidatesAt,
    truncated: await store.candidatesTruncated(deps.db.pool, id),
    items: await store.listCandidates(deps.db.pool, id),
  };
}

/** FHIR's geolocation extension on an address (the registry writes organisations' coordinates there). */
const GEOLOCATION = 'http://hl7.org/fhir/StructureDefinition/geolocation';

type Located = { resourceType?: string; position?: { longitude?: number; latitude?: number }; address?: unknown };

/** A resource's coordinates: Location.position, else the geolocation extension of an address. */
function positionOf(r: Located | undefined): [number, number] | undefined {
  if (!r) return undefined;
  if (typeof r.position?.longitude === 'number' && typeof r.position.latitude === 'number')
    return [r.position.longitude, r.position.latitude];
  const addresses = (Array.isArray(r.address) ? r.address : r.address ? [r.address] : []) as { extension?: Resource['meta'][] }[];
  for (const a of addresses as { extension?: { url?: string; extension?: { url?: string; valueDecimal?: number }[] }[] }[])
    for (const e of a.extension ?? [])
      if (e.url === GEOLOCATION) {
        const lat = e.extension?.find((x) => x.url === 'latitude')?.valueDecimal;
        const lon = e.extension?.find((x) => x.url === 'longitude')?.valueDecimal;
        if (typeof lat === 'number' && typeof lon === 'number') return [lon, lat];
      }
  return undefined;
}

/**
 * The case's trajectory (行动轨迹): every stay of every Patient of the case's Person, across
 * facilities, from the longest incubation before onset to now, oldest first; and for the map the
 * places with coordinates — each facility (its registry Organization) or referenced ward Location
 * where it stayed, then the registry places of the case's school class or care home (the Group's
 * managing organisation or place). A place without coordinates is named in `withoutPosition`.
 */
export async function trajectory(deps: InvestigationDeps, id: number): Promise<Trajectory> {
  const inv = await mustFind(deps.db.pool, id);
  const disease = diseaseOf(deps, inv);
  const onset = inv.onsetDate ?? chinaDateOf(inv.openedAt);
  const back = Math.max(disease.incubationDays.max, disease.contactWindow.daysBeforeOnset);
  const from = new Date(dayStart(addDays(onset, -back))).toISOString();
  const to = new Date().toISOString();
  const patients = await deps.personPatients(inv.patientId);
  const stays = (await store.staysOfPatients(deps.db.pool, patients, from, to)).sort(
    (a, b) => a.start.localeCompare(b.start) || (a.encounterId ?? '').localeCompare(b.encounterId ?? ''),
  );
  const facilities = [...new Set(stays.map((s) => s.placeKey.split('|')[1] ?? '').filter(Boolean))].slice(0, 100);
  const names = await facilityNames(deps.db.pool, facilities);
  // Facilities by FHIR id (or 'org-<code>') and by identifier (code); wards by their Location reference.
  const orgs = facilities.length
    ? [
        ...(await fhirSearch<Organization>(deps.db.pool, 'Organization', [
          ['_id', [...new Set(facilities.flatMap((f) => [f, `org-${f}`]))].join(',')],
          ['_count', '200'],
        ])),
        ...(await fhirSearch<Organization>(deps.db.pool, 'Organization', [
          ['identifier', facilities.join(',')],
          ['_count', '200'],
        ])),
      ]
    : [];
  const orgOf = (key: string) =>
    orgs.find((o) => o.id === key) ??
    orgs.find((o) => o.id === `org-${key}`) ??
    orgs.find((o) => o.identifier?.some((x) => x.value === key));
  const wardRefs = [
    ...new Set(
      stays
        .filter((s) => s.kind === 'ward')
        .map((s) => s.placeKey.split('|').slice(2).join('|'))
        .filter((r) => r.startsWith('Location/')),
    ),
  ].slice(0, 100);
  const wards = wardRefs.length
    ? await fhirSearch<Location>(deps.db.pool, 'Location', [
        ['_id', wardRefs.map((r) => r.slice('Location/'.length)).join(',')],
        ['_count', '200'],
      ])
    : [];
  const places: Trajectory['places'] = [];
  const placeIndex = new Map<string, number>();
  const addPlace = (p: Trajectory['places'][number]): number => {
    const known = placeIndex.get(p.key);
    if (known !== undefined) return known;
    placeIndex.set(p.key, places.length);
    places.push(p);
    return places.length - 1;
  };
  const withoutPosition = new Set<string>();
  const items: Trajectory['items'] = stays.map((s) => {
    const facility = s.placeKey.split('|')[1] ?? '';
    const facilityName = names.get(facility) ?? orgOf(facility)?.name ?? null;
    const ref = s.placeKey.split('|').slice(2).join('|');
    const ward = s.kind === 'ward' && ref.startsWith('Location/') ? wards.find((w) => `Location/${w.id}` === ref) : undefined;
    const wardAt = positionOf(ward);
    const org = facility ? orgOf(facility) : undefined;
    const orgAt = positionOf(org);
    let index: number | null = null;
    if (wardAt)
      index = addPlace({
        key: ref,
        name: `${facilityName ?? ''} ${ward?.name ?? s.label}`.trim(),
        kind: 'ward',
        source: 'visit',
        longitude: wardAt[0],
        latitude: wardAt[1],
      });
    else if (orgAt)
      index = addPlace({
        key: org?.id ? `Organization/${org.id}` : facility,
        name: facilityName ?? facility,
        kind: 'facility',
        source: 'visit',
        longitude: orgAt[0],
        latitude: orgAt[1],
      });
    else if (facility) withoutPosition.add(facilityName ?? facility);
    return {
      patientId: s.patientId,
      encounterId: s.encounterId ?? '',
      facility,
      facilityName,
      kind: s.kind as Trajectory['items'][number]['kind'],
      place: s.label,
      start: s.start,
      end: s.end,
      placeIndex: index,
    };
  });
  // Registry places: the school of the case's class, the care home it lives in.
  const groups = await fhirSearch<Group>(deps.db.pool, 'Group', [
    [
      'member',
      patients
        .slice(0, 100)
        .map((p) => `Patient/${p}`)
        .join(','),
    ],
    ['_count', '100'],
  ]);
  for (const g of groups) {
    const kind = g.code?.coding?.find((c) => c.code === 'school-class' || c.code === 'care-home-residents')?.code;
    const ref = g.managingEntity?.reference;
    if (!kind || !ref || !/^(Organization|Location)\//.test(ref)) continue;
    const [type, rid] = ref.split('/') as [string, string];
    const r = (await deps.repo.read(type, rid).catch(() => undefined)) as (Located & { name?: string }) | undefined;
    const at = positionOf(r);
    const name = r?.name ?? g.managingEntity?.display ?? g.name ?? ref;
    if (!at) {
      withoutPosition.add(name);
      continue;
    }
    addPlace({
      key: ref,
      name,
      kind: kind === 'school-class' ? 'school' : 'care-home',
      source: 'registry',
      longitude: at[0],
      latitude: at[1],
    });
  }
  return { investigationId: id, patientId: inv.patientId, from, to, items, places, withoutPosition: [...withoutPosition] };
}

// ---------------------------------------------------------------------------------------------
// Contacts and exposures

interface ExposureInput {
  type: string;
  place?: string;
  firstDate: string;
  lastDate: string;
}

function assertExposure(e: ExposureInput): void {
  if (e.lastDate < e.firstDate)
    throw badRequest(
      `lastDate ${e.lastDate} is before firstDate ${e.firstDate}: an exposure cannot end before it starts / 末次暴露日期早于首次暴露日期`,
    );
  if (e.firstDate > todayInChina()) throw badRequest(`firstDate ${e.firstDate} is in the future / 暴露日期不能晚于今天`);
}

/** The Patients of the case's and the contact's Persons, read before a transaction (PGlite has one connection). */
interface People {
  casePatients: string[];
  contactPatients: string[];
}

async function peopleOf(deps: InvestigationDeps, casePatientId: string, contactPatientId: string | undefined): Promise<People> {
  return {
    casePatients: await deps.personPatients(casePatientId),
    contactPatients: contactPatientId ? await deps.personPatients(contactPatientId) : [],
  };
}

/** Refuses a contact who is the case, is already a contact here, or is already a case of this disease. */
async function assertNewContact(c: Queryable, inv: Investigation, patientId: string, people: People): Promise<void> {
  const { casePatients, contactPatients } = people;
  if (contactPatients.some((p) => casePatients.includes(p)))
    throw conflict(`resident ${patientId} is the case of investigation ${inv.id}: a case cannot be its own contact / 该居民是本调查的病例`);
  const already = await store.contactOfPatient(c, inv.id, contactPatients);
  if (already)
    throw conflict(
      `resident ${patientId} is already a confirmed contact of investigation ${inv.id} (contact ${already.id}): add a further exposure to it (POST /api/investigations/contacts/${already.id}/exposures) / 该密接已确认`,
    );
  const asCase = await store.openInvestigationOf(c, contactPatients, inv.diseaseKey);
  if (asCase)
    throw conflict(
      `resident ${patientId} is already a ${inv.diseaseName} case (investigation ${asCase.id}): a case is not followed up as a contact / 该居民已是病例`,
    );
}

async function contactOut(c: Queryable, row: store.ContactRow): Promise<Contact | OutsideContact> {
  return store.contactAnswer(row, await store.exposuresOf(c, [row.id]));
}

async function newContact(
  deps: InvestigationDeps,
  c: Queryable,
  inv: Investigation,
  who: { patientId?: string; name?: string; phone?: string; handoverNote?: string },
  exposure: ExposureInput,
  candidateId: number | null,
  user: AuthUser,
  people: People,
): Promise<store.ContactRow> {
  const disease = diseaseOf(deps, inv);
  let organization: string | null = null;
  if (who.patientId) {
    await assertNewContact(c, inv, who.patientId, people);
    const p = await readPatient(deps, who.patientId, c);
    const org = p.managingOrganization?.reference;
    organization = org?.startsWith('Organization/') ? org.slice('Organization/'.length) : null;
  }
  const w = followUpWindow([exposure], disease.followUpDays);
  const row = await store.insertContact(c, {
    investigationId: inv.id,
    patientId: who.patientId ?? null,
    name: who.name ?? null,
    phone: who.phone ?? null,
    handoverNote: who.handoverNote ?? null,
    organization,
    followUpStart: w.start,
    followUpEnd: w.end,
    confirmedBy: user.username,
  });
  await store.insertExposure(c, {
    contactId: row.id,
    type: exposure.type,
    place: exposure.place ?? null,
    firstDate: exposure.firstDate,
    lastDate: exposure.lastDate,
    candidateId,
    recordedBy: user.username,
  });
  return row;
}

const KIND_TYPES: Record<Candidate['kind'], string> = {
  household: '共同居住 household',
  room: '同病室 same room',
  ward: '同病区 same ward',
  department: '同科室 same department',
  'school-class': '同班级 same class',
  'care-home': '同养老机构 same care home',
};

export async function confirmCandidate(
  deps: InvestigationDeps,
  id: number,
  candidateId: number,
  body: { type?: string; firstDate?: string; lastDate?: string },
  actor: Actor,
): Promise<Contact | OutsideContact> {
  const { user, audit } = actor;
  const known = await store.findCandidate(deps.db.pool, id, candidateId);
  if (!known) throw notFound(`candidate ${candidateId} of investigation ${id} not found`);
  const current = await mustFind(deps.db.pool, id);
  await mayChange(actor, current);
  await actor.allow([known.patientId]);
  const people = await peopleOf(deps, current.patientId, known.patientId);
  const done = await deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    if (inv.status === 'closed') throw conflict(`investigation ${id} is closed: no more contacts are confirmed / 调查已结案`);
    const cand = await store.findCandidate(c, id, candidateId);
    if (!cand) throw notFound(`candidate ${candidateId} of investigation ${id} not found`);
    if (cand.status === 'confirmed')
      throw conflict(
        `candidate ${candidateId} (resident ${cand.patientId}) was already confirmed by ${cand.decidedBy} at ${cand.decidedAt} as contact ${cand.contactId} / 该密接已确认`,
      );
    const exposure = {
      type: body.type ?? KIND_TYPES[cand.kind],
      place: cand.place,
      firstDate: body.firstDate ?? chinaDateOf(cand.windowStart),
      lastDate: body.lastDate ?? chinaDateOf(cand.windowEnd),
    };
    assertExposure(exposure);
    const row = await newContact(deps, c, inv, { patientId: cand.patientId }, exposure, cand.id, user, people);
    await store.decideCandidate(c, cand.id, { status: 'confirmed', by: user.username, reason: null, contactId: row.id });
    await audit(c, {
      action: 'C',
      subtype: 'investigation-contact',
      entities: [`investigation ${id}`, `contact ${row.id}`],
      patients: [inv.patientId, cand.patientId],
      text: `candidate ${cand.id} confirmed as contact ${row.id} (${cand.kind}, ${exposure.firstDate} – ${exposure.lastDate}); follow-up to ${row.followUpEnd}`,
    });
    return contactOut(c, row);
  });
  deps.onContactsChanged?.();
  return done;
}

export async function rejectCandidate(
  deps: InvestigationDeps,
  id: number,
  candidateId: number,
  body: { reason?: string },
  actor: Actor,
): Promise<Candidate> {
  const { user, audit } = actor;
  await mayChange(actor, await mustFind(deps.db.pool, id));
  return deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    const cand = await store.findCandidate(c, id, candidateId);
    if (!cand) throw notFound(`candidate ${candidateId} of investigation ${id} not found`);
    if (cand.status === 'confirmed')
      throw conflict(
        `candidate ${candidateId} is already confirmed as contact ${cand.contactId}: a confirmed contact is not rejected here`,
      );
    const after = await store.decideCandidate(c, cand.id, {
      status: 'rejected',
      by: user.username,
      reason: body.reason ?? null,
      contactId: null,
    });
    await audit(c, {
      subtype: 'investigation-candidate',
      entities: [`investigation ${id}`, `candidate ${cand.id}`],
      patients: [inv.patientId, cand.patientId],
      text: `candidate ${cand.id} rejected${body.reason ? `: ${body.reason}` : ''}`,
    });
    return after;
  });
}

export async function addContact(
  deps: InvestigationDeps,
  id: number,
  body: ExposureInput & { patientId?: string; name?: string; phone?: string; handoverNote?: string },
  actor: Actor,
): Promise<Contact | OutsideContact> {
  const { user, audit } = actor;
  if (!body.patientId && !body.name) throw badRequest('patientId (a resident) or name (a contact outside the district) is required');
  if (body.patientId && body.name) throw badRequest('give patientId for a resident or name for a contact outside the district, not both');
  if (!body.patientId && !body.handoverNote?.trim())
    throw badRequest('handoverNote: a contact outside the district needs a hand-over note for the district that will follow them (协查)');
  assertExposure(body);
  const current = await mustFind(deps.db.pool, id);
  await mayChange(actor, current);
  if (body.patientId) await actor.allow([body.patientId]);
  const people = await peopleOf(deps, current.patientId, body.patientId);
  const done = await deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    if (inv.status === 'closed') throw conflict(`investigation ${id} is closed: no more contacts are added / 调查已结案`);
    const row = await newContact(deps, c, inv, body, body, null, user, people);
    await audit(c, {
      action: 'C',
      subtype: 'investigation-contact',
      entities: [`investigation ${id}`, `contact ${row.id}`],
      patients: [inv.patientId, ...(body.patientId ? [body.patientId] : [])],
      text: `contact ${row.id} added by hand${body.patientId ? '' : ' (outside the district, handed over)'}; follow-up to ${row.followUpEnd}`,
    });
    return contactOut(c, row);
  });
  deps.onContactsChanged?.();
  return done;
}

export async function listContacts(deps: InvestigationDeps, id: number): Promise<ContactList> {
  const inv = await mustFind(deps.db.pool, id);
  const rows = await store.contactsOf(deps.db.pool, id);
  const exposures = await store.exposuresOf(
    deps.db.pool,
    rows.map((r) => r.id),
  );
  const all = rows.map((r) => store.contactAnswer(r, exposures));
  return {
    investigationId: id,
    patientId: inv.patientId,
    items: all.filter((x): x is Contact => 'patientId' in x),
    outOfDistrict: all.filter((x): x is OutsideContact => !('patientId' in x)),
  };
}

async function mustFindContact(c: Queryable, contactId: number): Promise<store.ContactRow> {
  const row = await store.findContact(c, contactId, true);
  if (!row) throw notFound(`contact ${contactId} not found`);
  return row;
}

/** A further exposure of a contact: the follow-up window is recomputed from all of them. */
export async function addExposure(
  deps: InvestigationDeps,
  contactId: number,
  body: ExposureInput,
  actor: Actor,
): Promise<Contact | OutsideContact> {
  const { user, audit } = actor;
  assertExposure(body);
  const known = await store.findContact(deps.db.pool, contactId);
  if (!known) throw notFound(`contact ${contactId} not found`);
  assertMayChange(user, await mustFind(deps.db.pool, known.investigationId));
  if (known.patientId) await actor.allow([known.patientId]);
  const done = await deps.db.transaction(async (c) => {
    const row = await mustFindContact(c, contactId);
    const inv = await mustFind(c, row.investigationId);
    assertMayChange(user, inv);
    if (row.status !== 'monitoring')
      throw conflict(`contact ${contactId} is no longer followed up (${row.status}): exposures are not added / 医学观察已结束`);
    await store.insertExposure(c, { contactId, ...body, place: body.place ?? null, candidateId: null, recordedBy: user.username });
    const all = await store.exposuresOf(c, [contactId]);
    const w = followUpWindow(all, diseaseOf(deps, inv).followUpDays);
    await store.setContactWindow(c, contactId, w.start, w.end);
    await audit(c, {
      subtype: 'investigation-exposure',
      entities: [`investigation ${inv.id}`, `contact ${contactId}`],
      patients: row.patientId ? [row.patientId] : [],
      text: `contact ${contactId}: exposure ${body.firstDate} – ${body.lastDate} added; follow-up ${w.start} – ${w.end}`,
    });
    return contactOut(c, { ...row, followUpStart: w.start, followUpEnd: w.end });
  });
  deps.onContactsChanged?.();
  return done;
}

// ---------------------------------------------------------------------------------------------
// Follow-up

export async function recordCheck(
  deps: InvestigationDeps,
  contactId: number,
  body: { day: string; symptoms: boolean; temperature?: number; note?: string },
  actor: Actor,
): Promise<Check> {
  const { user, audit } = actor;
  const known = await store.findContact(deps.db.pool, contactId);
  if (!known) throw notFound(`contact ${contactId} not found`);
  if (known.patientId) await actor.allow([known.patientId]);
  return deps.db.transaction(async (c) => {
    const row = await mustFindContact(c, contactId);
    const now = new Date();
    const problem = checkProblem({ start: row.followUpStart, end: row.followUpEnd }, row.status, body.day, now);
    if (problem) throw row.status !== 'monitoring' || todayInChina() > row.followUpEnd ? conflict(problem) : badRequest(problem);
    const check = await store.upsertCheck(c, {
      contactId,
      day: body.day,
      symptoms: body.symptoms,
      temperature: body.temperature ?? null,
      note: body.note ?? null,
      by: user.username,
    });
    // The day's monitoring Task is done (an escalated one too: its notice stays to be acknowledged).
    const visit = await visitStore.visitDone(c, contactId, body.day);
    if (visit) await setVisitTaskState(deps, c, visit.taskId, 'done');
    await audit(c, {
      action: 'C',
      subtype: 'investigation-check',
      entities: [`contact ${contactId}`],
      patients: row.patientId ? [row.patientId] : [],
      text: `contact ${contactId} check ${body.day}: ${body.symptoms ? 'symptoms' : 'no symptoms'}${body.temperature ? `, ${body.temperature} °C` : ''}`,
    });
    return check;
  });
}

export async function followUpWorklist(
  deps: InvestigationDeps,
  q: {
    organization?: string;
    team?: string;
    date?: string;
    status?: 'due' | 'overdue' | 'done' | 'open';
    limit?: number;
    offset?: number;
  },
): Promise<Worklist> {
  if (!q.organization && !q.team) throw badRequest('organization or team: one is required / 请指定机构或团队');
  const today = todayInChina();
  const date = q.date ?? today;
  const limit = q.limit ?? 200;
  const offset = q.offset ?? 0;
  const asOf = date >= today ? new Date() : new Date(dayStart(addDays(date, 1)) - 1);
  const contacts = await store.monitoredContacts(deps.db.pool, { organization: q.organization, team: q.team }, addDays(date, -1));
  const ids = contacts.map((k) => k.id);
  const done = await store.checkDays(deps.db.pool, ids);
  const earliest = contacts.reduce((m, k) => (k.followUpStart < m ? k.followUpStart : m), date);
  // The day's monitoring Task (team, member) and any escalation notice, by contact and day.
  const tasks = await visitStore.visitsOf(deps.db.pool, ids, earliest, date);
  const notices = await visitStore.escalationsOf(deps.db.pool, ids);
  const items: Worklist['items'] = [];
  for (const k of contacts) {
    if (!k.patientId) continue;
    for (const day of dueDays({ start: k.followUpStart, end: k.followUpEnd }, k.confirmedAt, asOf)) {
      if (day > date) continue;
      const symptoms = done.get(`${k.id}|${day}`);
      const status = checkStatus(day, symptoms !== undefined, asOf);
      if (status === 'done' && day !== date && q.status !== 'done') continue;
      if (q.status && (q.status === 'open' ? status === 'done' : status !== q.status)) continue;
      const task = tasks.get(`${k.id}|${day}`);
      const notice = notices.get(`${k.id}|${day}`);
      items.push({
        contactId: k.id,
        patientId: k.patientId,
        investigationId: k.investigationId,
        diseaseName: k.diseaseName,
        day,
        status,
        symptoms: symptoms ?? null,
        followUpEnd: k.followUpEnd,
        taskId: task?.taskId ?? null,
        team: task?.team ?? k.team ?? null,
        teamName: task?.teamName ?? null,
        assignee: task?.assignee ?? null,
        assigneeName: task?.assigneeName ?? null,
        escalation: notice
          ? { id: notice.id, createdAt: notice.createdAt, acknowledgedBy: notice.acknowledgedBy, acknowledgedAt: notice.acknowledgedAt }
          : null,
        note: task?.note ?? null,
      });
    }
  }
  items.sort((a, b) =>
    a.status === b.status
      ? a.day.localeCompare(b.day) || a.contactId - b.contactId
      : a.status === 'overdue'
        ? -1
        : b.status === 'overdue'
          ? 1
          : 0,
  );
  return {
    organization: q.organization ?? null,
    team: q.team ?? null,
    date,
    total: items.length,
    limit,
    offset,
    items: items.slice(offset, offset + limit),
  };
}

/** A contact with symptoms becomes a suspected case: their follow-up ends and an investigation opens for them. */
export async function contactToSuspect(
  deps: InvestigationDeps,
  contactId: number,
  body: { note?: string; assignee?: string },
  actor: Actor,
): Promise<Investigation> {
  const row = await store.findContact(deps.db.pool, contactId);
  if (!row) throw notFound(`contact ${contactId} not found`);
  if (!row.patientId)
    throw badRequest(`contact ${contactId} lives outside the district: the district following them opens the investigation (协查)`);
  if (row.status !== 'monitoring')
    throw conflict(
      `contact ${contactId} is no longer followed up (${row.status}${row.caseInvestigationId ? `, investigation ${row.caseInvestigationId}` : ''})`,
    );
  const source = await mustFind(deps.db.pool, row.investigationId);
  await mayChange(actor, source);
  return openCase(
    deps,
    {
      patientId: row.patientId,
      diseaseCode: source.diseaseKey,
      onsetDate: todayInChina(),
      assignee: body.assignee ?? source.assignee ?? undefined,
      note: body.note ?? `疑似病例：密接（调查 ${source.id}，密接 ${contactId}）出现症状`,
      source: 'contact',
      sourceRef: `investigation ${source.id} contact ${contactId}`,
      fromContactId: contactId,
    },
    actor,
    async (c, created) => {
      const locked = await mustFindContact(c, contactId);
      if (locked.status !== 'monitoring')
        throw conflict(`contact ${contactId} became a case at the same moment elsewhere (${locked.status})`);
      await store.setContactCase(c, contactId, created.id);
      for (const v of await visitStore.cancelVisits(c, contactId)) await setVisitTaskState(deps, c, v.taskId, 'cancelled');
      // The suspected diagnosis as a provisional Condition: surveillance drafts its report card
      // (疑似病例) from it as from any hospital's diagnosis, for the investigator to complete.
      const disease = diseaseOf(deps, source);
      await deps.repo.update(
        'Condition',
        `inv-suspect-${created.id}`,
        {
          resourceType: 'Condition',
          id: `inv-suspect-${created.id}`,
          clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
          verificationStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }],
          },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' }] }],
          code: {
            coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: disease.icd10[0], display: disease.name }],
            text: disease.name,
          },
          subject: { reference: `Patient/${row.patientId}` },
          onsetDateTime: created.onsetDate ?? todayInChina(),
          recordedDate: new Date().toISOString(),
          recorder: { display: actor.user.username },
          note: [{ text: `密接（调查 ${source.id}，密接 ${contactId}）出现症状，转为疑似病例` }],
        },
        {},
        c,
      );
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Transmission chains, epi curve, quarantine orders

/** The most people one chain answer draws (a district-wide outbreak view included). */
export const CHAIN_NODE_LIMIT = 10_000;

/** Residents' display names (official name, else the first; its text, else family + given), in one query. */
async function residentNames(deps: InvestigationDeps, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const found = await store.patientNameElements(deps.db.pool, [...new Set(ids)]);
  for (const [id, name] of found) {
    const text = patientDisplayName({ resourceType: 'Patient', name } as Patient);
    if (text) out.set(id, text);
  }
  return out;
}

/**
 * Which of these residents the reader may see (the access policy, decided by the route); a chain
 * names only those, the others are drawn without a name and counted in `namesWithheld`.
 */
export type VisibleResidents = (patientIds: string[]) => Promise<ReadonlySet<string>>;

/** The graph of the given investigations and everything connected to them, with the names the reader may see. */
async function chainFrom(
  deps: InvestigationDeps,
  start: number[],
  visible?: VisibleResidents,
): Promise<Chain & { truncated: boolean; namesWithheld: number }> {
  const ids = await store.chainInvestigationIds(deps.db.pool, start, CHAIN_NODE_LIMIT + 1);
  const cases = await store.investigationsByIds(deps.db.pool, ids.slice(0, CHAIN_NODE_LIMIT));
  const room = Math.max(0, CHAIN_NODE_LIMIT - cases.length);
  const contacts = await store.chainContacts(
    deps.db.pool,
    cases.map((c) => c.id),
    room + cases.length + 1,
  );
  const named = [
    ...new Set([
      ...cases.map((c) => c.patientId),
      ...contacts.flatMap((k) => (k.patientId && k.caseInvestigationId === null ? [k.patientId] : [])),
    ]),
  ];
  const allowed = visible ? await visible(named) : undefined;
  const shown = allowed ? named.filter((p) => allowed.has(p)) : named;
  const names = await residentNames(deps, shown);
  const chain = buildChain(
    cases.map((c) => ({
      investigationId: c.id,
      patientId: c.patientId,
      diseaseName: c.diseaseName,
      classification: c.classification,
      status: c.status,
      onsetDate: c.onsetDate,
      openedAt: c.openedAt,
      fromContactId: c.fromContactId,
    })),
    contacts.map((k) => ({
      contactId: k.id,
      investigationId: k.investigationId,
      patientId: k.patientId,
      name: k.name,
      caseInvestigationId: k.caseInvestigationId,
      followUpStart: k.followUpStart,
      types: k.types,
      firstDate: k.firstDate,
      lastDate: k.lastDate,
    })),
    names,
    CHAIN_NODE_LIMIT,
  );
  return { ...chain, truncated: chain.truncated || ids.length > CHAIN_NODE_LIMIT, namesWithheld: named.length - shown.length };
}

/** One investigation's transmission chain: every case and contact connected to it. */
export async function chainOf(
  deps: InvestigationDeps,
  id: number,
  visible?: VisibleResidents,
): Promise<Chain & { investigationId: number; patientId: string; truncated: boolean; namesWithheld: number }> {
  const inv = await mustFind(deps.db.pool, id);
  return { investigationId: id, patientId: inv.patientId, ...(await chainFrom(deps, [id], visible)) };
}

function assertPeriod(from: string, to: string): void {
  if (to < from) throw badRequest(`to (${to}) is before from (${from}) / 结束日期早于开始日期`);
  if (Date.parse(to) - Date.parse(from) > 3 * 366 * 86_400_000) throw badRequest('the period is longer than 3 years / 时间范围不超过3年');
}

/** The chains of a disease's investigations with onset in a period (district-wide outbreak view). */
export async function chainsInPeriod(
  deps: InvestigationDeps,
  q: { disease?: string; from: string; to: string },
  visible?: VisibleResidents,
): Promise<Chain & { truncated: boolean; namesWithheld: number }> {
  assertPeriod(q.from, q.to);
  const disease = q.disease ? diseaseFor(deps.rules, q.disease) : undefined;
  if (q.disease && !disease) throw badRequest(`disease: '${q.disease}' is not in config/investigation/rules.json / 未知病种`);
  const start = await store.investigationsInPeriod(deps.db.pool, {
    diseaseKey: disease?.key,
    from: q.from,
    to: q.to,
    limit: CHAIN_NODE_LIMIT,
  });
  return chainFrom(
    deps,
    start.map((i) => i.id),
    visible,
  );
}

/** Cases per onset day stacked by classification, for a disease and period, with the serial intervals of their chains. */
export async function epiCurveOf(
  deps: InvestigationDeps,
  q: { disease?: string; from: string; to: string },
): Promise<{ from: string; to: string; disease: string | null; cases: number; days: EpiCurveDay[] }> {
  assertPeriod(q.from, q.to);
  const disease = q.disease ? diseaseFor(deps.rules, q.disease) : undefined;
  if (q.disease && !disease) throw badRequest(`disease: '${q.disease}' is not in config/investigation/rules.json / 未知病种`);
  const cases = await store.investigationsInPeriod(deps.db.pool, {
    diseaseKey: disease?.key,
    from: q.from,
    to: q.to,
    limit: 100_000,
  });
  return { from: q.from, to: q.to, disease: disease?.name ?? null, cases: cases.length, days: epiCurve(cases) };
}

export interface OrderInput {
  contactId?: number;
  kind: store.OrderRow['kind'];
  place: string;
  startDate: string;
  endDate: string;
  reason: string;
}

/**
 * Issues an isolation order for the case or a quarantine / home-observation order for one of its
 * contacts. Refused: a period that ends before it starts, a contact of another investigation, an
 * active order of the same kind that overlaps, a closed investigation.
 */
export async function issueOrder(deps: InvestigationDeps, id: number, body: OrderInput, actor: Actor): Promise<store.OrderRow> {
  const { user, audit } = actor;
  if (body.endDate < body.startDate)
    throw badRequest(`endDate (${body.endDate}) is before startDate (${body.startDate}) / 结束日期早于开始日期`);
  const current = await mustFind(deps.db.pool, id);
  await mayChange(actor, current);
  const contact = body.contactId !== undefined ? await store.findContact(deps.db.pool, body.contactId) : undefined;
  if (body.contactId !== undefined && (!contact || contact.investigationId !== id))
    throw notFound(`contact ${body.contactId} is not a contact of investigation ${id} / 该密接不属于本调查`);
  const patientId = contact ? contact.patientId : current.patientId;
  if (patientId) await actor.allow([patientId]);
  return deps.db.transaction(async (c) => {
    const inv = await mustFind(c, id, true);
    assertMayChange(user, inv);
    if (inv.status === 'closed') throw conflict(`investigation ${id} is closed: no new orders / 调查已结案`);
    const clash = await store.overlappingOrder(c, {
      investigationId: id,
      contactId: contact?.id ?? null,
      kind: body.kind,
      start: body.startDate,
      end: body.endDate,
    });
    if (clash)
      throw conflict(
        `order ${clash.id} (${clash.startDate}–${clash.endDate}) of the same kind is already in force for this person: revoke it first / 同一人已有生效中的同类通知书`,
      );
    const row = await store.insertOrder(c, {
      investigationId: id,
      contactId: contact?.id ?? null,
      patientId: patientId ?? null,
      personName: contact && !contact.patientId ? contact.name : null,
      kind: body.kind,
      place: body.place,
      startDate: body.startDate,
      endDate: body.endDate,
      reason: body.reason,
      issuedBy: user.username,
    });
    await audit(c, {
      action: 'C',
      subtype: 'investigation-order',
      entities: [`investigation ${id}`, `order ${row.id}`],
      patients: patientId ? [patientId] : [],
      text: `${body.kind} order ${row.id} issued, ${body.startDate} to ${body.endDate}`,
    });
    return row;
  });
}

export async function listOrders(deps: InvestigationDeps, id: number): Promise<{ investigationId: number; items: store.OrderRow[] }> {
  await mustFind(deps.db.pool, id);
  return { investigationId: id, items: await store.ordersOf(deps.db.pool, id) };
}

export async function revokeOrder(deps: InvestigationDeps, orderId: number, reason: string, actor: Actor): Promise<store.OrderRow> {
  const { user, audit } = actor;
  const found = await store.findOrder(deps.db.pool, orderId);
  if (!found) throw notFound(`order ${orderId} not found / 未找到该通知书`);
  await mayChange(actor, await mustFind(deps.db.pool, found.investigationId));
  return deps.db.transaction(async (c) => {
    const row = (await store.findOrder(c, orderId, true))!;
    if (row.status === 'revoked') throw conflict(`order ${orderId} was already revoked by ${row.revokedBy} at ${row.revokedAt} / 已撤销`);
    const after = await store.revokeOrder(c, orderId, user.username, reason);
    await audit(c, {
      subtype: 'investigation-order',
      entities: [`investigation ${row.investigationId}`, `order ${orderId}`],
      patients: row.patientId ? [row.patientId] : [],
      text: `order ${orderId} revoked: ${reason}`,
    });
    return after;
  });
}

// ---------------------------------------------------------------------------------------------
// Report (流调报告)

/** Makes the investigation's report as a PDF from the screens' own queries, archives it and answers it. */
export async function generateReport(
  deps: InvestigationDeps,
  id: number,
  actor: Actor,
): Promise<{ report: store.ReportRow; pdf: Buffer; fileName: string }> {
  const font = findChineseFont();
  if (!font) throw new HttpError(503, NO_FONT_MESSAGE, 'not-supported');
  const inv = await getInvestigation(deps, id);
  const [form, traj, contacts, chain, orders, patient] = await Promise.all([
    getForm(deps, id),
    trajectory(deps, id),
    listContacts(deps, id),
    chainOf(deps, id),
    store.ordersOf(deps.db.pool, id),
    readPatient(deps, inv.patientId),
  ]);
  const names = await residentNames(deps, [
    inv.patientId,
    ...contacts.items.map((c) => c.patientId),
    ...orders.flatMap((o) => (o.patientId ? [o.patientId] : [])),
  ]);
  const facilities = await facilityNames(
    deps.db.pool,
    traj.items.map((s) => s.facility),
  );
  const generatedAt = new Date();
  const pdf = await investigationReportPdf(
    {
      inv,
      resident: { name: names.get(inv.patientId) ?? '（未具名）', gender: patient.gender, birthDate: patient.birthDate },
      form,
      trajectory: traj,
      contacts,
      chain,
      orders,
      names,
      facilityNames: facilities,
      generatedBy: actor.user.username,
      generatedAt,
    },
    font,
  );
  const sha256 = createHash('sha256').update(pdf).digest('hex');
  const report = await deps.db.transaction(async (c) => {
    const row = await store.insertReport(c, id, actor.user.username, sha256, pdf);
    await actor.audit(c, {
      action: 'C',
      subtype: 'investigation-report',
      entities: [`investigation ${id}`, `report ${row.id}`],
      patients: [inv.patientId],
      text: `report ${row.id} generated (${pdf.length} bytes, sha256 ${sha256.slice(0, 16)}…)`,
    });
    return row;
  });
  return { report, pdf, fileName: `流调报告-${inv.diseaseName}-${id}-${report.id}.pdf` };
}

export async function listReports(deps: InvestigationDeps, id: number): Promise<{ investigationId: number; items: store.ReportRow[] }> {
  await mustFind(deps.db.pool, id);
  return { investigationId: id, items: await store.reportsOf(deps.db.pool, id) };
}

export async function reportFile(deps: InvestigationDeps, reportId: number): Promise<{ pdf: Buffer; fileName: string; patientId: string }> {
  const row = await store.reportPdf(deps.db.pool, reportId);
  if (!row) throw notFound(`report ${reportId} not found / 未找到该报告`);
  const inv = await mustFind(deps.db.pool, row.investigationId);
  return { pdf: row.pdf, fileName: `流调报告-${inv.diseaseName}-${inv.id}-${row.id}.pdf`, patientId: inv.patientId };
}

// ---------------------------------------------------------------------------------------------
// Daily monitoring Tasks

/** Moves a daily monitoring Task to a visit state (read, changed, written in the caller's transaction). */
export async function setVisitTaskState(deps: InvestigationDeps, c: Queryable, taskId: string, state: VisitState): Promise<void> {
  const task = (await deps.repo.read('Task', taskId, c).catch(() => undefined)) as Task | undefined;
  if (!task) return;
  const shape = visitTask({
    contactId: 0,
    day: '2000-01-01',
    patientId: '',
    investigationId: 0,
    diseaseName: '',
    team: null,
    teamName: null,
    assignee: null,
    assigneeName: null,
    escalateAt: '',
    state,
  });
  await deps.repo.update(
    'Task',
    taskId,
    {
      ...task,
      status: shape.status,
      businessStatus: shape.businessStatus,
      priority: shape.priority,
      lastModified: new Date().toISOString(),
    },
    {},
    c,
  );
}
