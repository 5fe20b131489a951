/**
 * Report-card storage and workflow: ingest (POST /api/report-cards), drafts from diagnoses,
 * submit, CDC review (审核), correction (订正) and return (退卡). Each card is a FHIR Task
 * (see README.md) plus a row in surv_report_card indexing the queried fields; both are written
 * in one transaction together with the event row and the count delta.
 */
import type { Patient, Task, Condition } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { FhirRepository } from '../../fhir/repository.js';
import { RESIDENT_ID_SYSTEM } from '../../shared/id-number.js';
import type { Database, Queryable } from '../../platform/db.js';
import { conflict, notFound, badRequest, HttpError } from '../../platform/errors.js';
import { facilityNames } from '../../registry/index.js';
import { chinaDateTimeOf, todayInChina } from '../../shared/dates.js';
import { tableFile, type TableFile, type TableFormat } from '../../shared/table-file.js';
import { findNotifiable, findNotifiableByName, type NotifiableDisease, type NotifiableList } from '../notifiable.js';
import { applyCountDeltas, type TouchListener } from '../signals/counts.js';
import { personKey, validateCard, type FieldIssue, type ReportCard } from './card.js';
import { syncReportQuality } from './quality.js';
import { reportDeadline } from './deadline.js';
import type {
  CardEvent,
  FacilityStat,
  IngestBatch,
  IngestResult,
  PatientReportCard,
  ReportCardDetail,
  ReportCardList,
  ReportCardRecord,
  ReportCardStatus,
} from '../schemas.js';

export const REPORT_CARD_ID_SYSTEM = 'https://yifang.health/fhir/sid/report-card';
export const REPORT_CARD_TASK_CODE_SYSTEM = 'https://yifang.health/fhir/CodeSystem/surveillance-task';
export const REPORT_CARD_FIELD_SYSTEM = 'https://yifang.health/fhir/CodeSystem/report-card-field';
const AREA_CODE_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/area-code';
const OCCUPATION_CLASS_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/occupation-class';

/** Days within which a second initial card for the same person and disease is a duplicate (重卡). */
export const DUPLICATE_WINDOW_DAYS = 365;

/**
 * Records the AuditEvent of a write inside the writing transaction (the route builds it from
 * the signed-in user), so the card change and its audit trail commit or roll back together.
 */
export type WriteAudit = (client: pg.PoolClient, what: { subtype: string; entities: string[]; outcomeText?: string }) => Promise<void>;

export interface ReportingDeps {
  db: Database;
  repo: FhirRepository;
  notifiable: NotifiableList;
  touch?: TouchListener;
}

export type CardStatus = ReportCardStatus;

/** A surv_report_card row as read (snake_case); callers get `ReportCardRecord` (camelCase). */
interface CardRow {
  id: string;
  status: CardStatus;
  card_type: string;
  corrects_card_id: string | null;
  patient_id: string | null;
  disease_key: string;
  disease_name: string;
  disease_class: string | null;
  icd10: string | null;
  fixed_threshold: boolean;
  case_classification: string | null;
  area_code: string | null;
  facility_code: string | null;
  facility_name: string | null;
  onset_date: string | null;
  diagnosed_at: string | null;
  deadline_at: string | null;
  submitted_at: string | null;
  reviewed_at: string | null;
  reviewed_by: string | null;
  return_reason: string | null;
  late: boolean;
  incomplete: boolean;
  duplicate_of: string | null;
  counted_day: string | null;
  card: Partial<ReportCard>;
  version: number;
  created_at: string;
  updated_at: string;
}

const CARD_COLUMNS = `id, status, card_type, corrects_card_id, patient_id, disease_key, disease_name, disease_class, icd10, fixed_threshold,
  case_classification, area_code, facility_code, facility_name, onset_date::text AS onset_date, diagnosed_at, deadline_at, submitted_at,
  reviewed_at, reviewed_by, return_reason, late, incomplete, duplicate_of, counted_day::text AS counted_day, card, version, created_at, updated_at`;

export type { IngestResult };

/** The card as the API answers it (camelCase). */
function cardRecord(r: CardRow): ReportCardRecord {
  return {
    id: r.id,
    status: r.status,
    cardType: r.card_type,
    correctsCardId: r.corrects_card_id,
    patientId: r.patient_id,
    diseaseKey: r.disease_key,
    diseaseName: r.disease_name,
    diseaseClass: r.disease_class,
    icd10: r.icd10,
    fixedThreshold: r.fixed_threshold,
    caseClassification: r.case_classification,
    areaCode: r.area_code,
    facilityCode: r.facility_code,
    facilityName: r.facility_name,
    onsetDate: r.onset_date,
    diagnosedAt: r.diagnosed_at,
    deadlineAt: r.deadline_at,
    submittedAt: r.submitted_at,
    reviewedAt: r.reviewed_at,
    reviewedBy: r.reviewed_by,
    returnReason: r.return_reason,
    late: r.late,
    incomplete: r.incomplete,
    duplicateOf: r.duplicate_of,
    countedDay: r.counted_day,
    card: r.card as Record<string, unknown>,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const taskId = (cardId: string) => `rc-${cardId.replace(/[^A-Za-z0-9.-]/g, '-')}`.slice(0, 64);
const hoursBetween = (a: string, b: string) => (new Date(b).getTime() - new Date(a).getTime()) / 3_600_000;
const signalFor = (diseaseKey: string) => `report:${diseaseKey}`;

function taskStatus(status: CardStatus): Task['status'] {
  return ({ draft: 'draft', submitted: 'requested', reviewed: 'accepted', returned: 'rejected', superseded: 'cancelled' } as const)[status];
}

const BUSINESS_STATUS: Record<CardStatus, string> = {
  draft: '草稿',
  submitted: '已报告待审核',
  reviewed: '已审核',
  returned: '已退卡',
  superseded: '已订正',
};

/** Flattens the card into Task.input entries, one per field path (value as text). */
function cardInputs(card: Partial<ReportCard>): NonNullable<Task['input']> {
  const out: NonNullable<Task['input']> = [];
  const walk = (prefix: string, v: unknown) => {
    if (v === null || v === undefined || v === '') return;
    if (typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(prefix ? `${prefix}.${k}` : k, x);
      return;
    }
    out.push({ type: { coding: [{ system: REPORT_CARD_FIELD_SYSTEM, code: prefix }] }, valueString: String(v) });
  };
  walk('', card);
  return out;
}

async function writeTask(
  repo: FhirRepository,
  client: pg.PoolClient,
  row: {
    id: string;
    status: CardStatus;
    card: Partial<ReportCard>;
    patientId: string | null;
    conditionId: string | null;
    deadline: string | null;
    facilityName: string | null;
  },
): Promise<string> {
  const id = taskId(row.id);
  const task: Task = {
    resourceType: 'Task',
    id,
    identifier: [{ system: REPORT_CARD_ID_SYSTEM, value: row.id }],
    status: taskStatus(row.status),
    businessStatus: { text: BUSINESS_STATUS[row.status] },
    intent: 'order',
    code: { coding: [{ system: REPORT_CARD_TASK_CODE_SYSTEM, code: 'notifiable-disease-report', display: '传染病报告卡' }] },
    ...(row.conditionId ? { focus: { reference: `Condition/${row.conditionId}` } } : {}),
    ...(row.patientId ? { for: { reference: `Patient/${row.patientId}` } } : {}),
    authoredOn: new Date().toISOString(),
    lastModified: new Date().toISOString(),
    ...(row.facilityName ? { requester: { display: row.facilityName } } : {}),
    ...(row.deadline ? { restriction: { period: { end: row.deadline } } } : {}),
    input: cardInputs(row.card),
  };
  await repo.update('Task', id, task, {}, client);
  return id;
}

async function addEvent(
  client: pg.PoolClient,
  cardId: string,
  action: string,
  actor: string,
  reason?: string | null,
  detail?: unknown,
): Promise<void> {
  await client.query('INSERT INTO surv_report_card_event (card_id, action, actor, reason, detail) VALUES ($1, $2, $3, $4, $5)', [
    cardId,
    action,
    actor,
    reason ?? null,
    detail === undefined ? null : JSON.stringify(detail),
  ]);
}

async function count(
  client: pg.PoolClient,
  deps: ReportingDeps,
  diseaseKey: string,
  day: string | null,
  areaCode: string | null,
  facility: string | null,
  n: number,
): Promise<void> {
  if (!day) return;
  await applyCountDeltas(
    client,
    [{ signal: signalFor(diseaseKey), day, areaCode: areaCode ?? '', facility: facility ?? '', n }],
    deps.touch,
  );
}

async function findDuplicate(
  client: pg.PoolClient,
  key: string,
  diseaseKey: string,
  diagnosedAt: string,
  selfId: string,
): Promise<string | null> {
  const r = await client.query<{ id: string }>(
    `SELECT id FROM surv_report_card WHERE person_key = $1 AND disease_key = $2 AND id <> $3 AND card_type = 'initial'
       AND status IN ('submitted', 'reviewed') AND duplicate_of IS NULL
       AND abs(extract(epoch FROM (diagnosed_at - $4::timestamptz))) < $5 * 86400
     ORDER BY diagnosed_at LIMIT 1`,
    [key, diagnosedAt ? diseaseKey : diseaseKey, selfId, diagnosedAt, DUPLICATE_WINDOW_DAYS],
  );
  return r.rows[0]?.id ?? null;
}

function resolveDisease(deps: ReportingDeps, card: ReportCard): NotifiableDisease | undefined {
  return findNotifiableByName(
    deps.notifiable,
    card.disease.name,
    card.disease.subtype,
    card.disease.icd10,
    card.diagnosisDateTime.slice(0, 10),
  );
}

async function readRow(client: pg.PoolClient | Database, id: string, lock = false): Promise<CardRow | undefined> {
  const r = await (client as Database).query<CardRow>(
    `SELECT ${CARD_COLUMNS} FROM surv_report_card WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return r.rows[0];
}

/** Accepts complete cards from another system (the simulator's report-cards.ndjson shape). */
export async function ingestCards(deps: ReportingDeps, inputs: unknown[], actor: string, audit?: WriteAudit): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const raw = inputs[index];
    const rawId =
      raw && typeof raw === 'object' && typeof (raw as { cardId?: unknown }).cardId === 'string'
        ? (raw as { cardId: string }).cardId
        : null;
    const facility = (raw as { reportingOrganization?: { code?: unknown } } | null)?.reportingOrganization?.code;
    const { card, issues, warnings } = validateCard(raw, 'submit');
    const disease = card ? resolveDisease(deps, card) : undefined;
    if (card && !disease)
      issues.push({
        field: 'disease',
        message: `'${card.disease.name}' (${card.disease.icd10}) is not a notifiable disease on ${card.diagnosisDateTime.slice(0, 10)}`,
      });
    if (!card || !disease) {
      await deps.db.transaction(async (c) => {
        for (const i of issues.slice(0, 5))
          await c.query(
            'INSERT INTO surv_report_card_rejection (card_id, facility_code, field, message, raw) VALUES ($1, $2, $3, $4, $5)',
            [rawId, typeof facility === 'string' ? facility : null, i.field, i.message, JSON.stringify(raw ?? null)],
          );
      });
      results.push({ index, cardId: rawId, status: 'rejected', errors: issues });
      continue;
    }
    try {
      results.push(
        await deps.db.transaction(async (c) => {
          const r = await storeSubmittedCard(deps, c, card, disease, warnings, actor, index);
          if (r.status === 'accepted')
            await audit?.(c, {
              subtype: 'report-card-submit',
              entities: [`Task/${taskId(card.cardId)}`, ...(card.correctsCardId ? [`Task/${taskId(card.correctsCardId)}`] : [])],
              outcomeText: `report card ${card.cardId} received${card.cardType === 'correction' ? ` (订正 of ${card.correctsCardId})` : ''}`,
            });
          return r;
        }),
      );
    } catch (e) {
      results.push({ index, cardId: card.cardId, status: 'rejected', errors: [{ field: 'cardId', message: (e as Error).message }] });
    }
  }
  return results;
}

/**
 * POST /api/report-cards: one card (answered 201 when accepted, 200 when unchanged, 400 naming
 * the fields when rejected) or an array of them (200 with per-card results).
 */
export async function receiveCards(
  deps: ReportingDeps,
  input: Record<string, unknown> | unknown[],
  actor: string,
  audit?: WriteAudit,
): Promise<{ status: 200 | 201; body: IngestResult | IngestBatch }> {
  const results = await ingestCards(deps, Array.isArray(input) ? input : [input], actor, audit);
  if (Array.isArray(input))
    return {
      status: 200,
      body: {
        accepted: results.filter((r) => r.status === 'accepted').length,
        rejected: results.filter((r) => r.status === 'rejected').length,
        results,
      },
    };
  const r = results[0]!;
  if (r.status === 'rejected')
    throw new HttpError(
      400,
      `Report card rejected: ${r.errors!.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      'invalid',
      r.errors!.map((e) => ({ severity: 'error', code: 'invalid', expression: [e.field], diagnostics: `${e.field}: ${e.message}` })),
    );
  return { status: r.status === 'accepted' ? 201 : 200, body: r };
}

async function storeSubmittedCard(
  deps: ReportingDeps,
  c: pg.PoolClient,
  card: ReportCard,
  disease: NotifiableDisease,
  warnings: FieldIssue[],
  actor: string,
  index: number,
): Promise<IngestResult> {
  const existing = await readRow(c, card.cardId, true);
  if (existing) {
    if (JSON.stringify(existing.card) === JSON.stringify(card)) return { index, cardId: card.cardId, status: 'unchanged' };
    throw conflict(
      `card ${card.cardId} already exists (status ${existing.status}); send a correction card (cardType 'correction') to change it`,
    );
  }
  const diagnosedAt = new Date(card.diagnosisDateTime).toISOString();
  const submittedAt = card.reportDate ? new Date(card.reportDate).toISOString() : new Date().toISOString();
  const { at: deadline, hours } = await reportDeadline(deps.db, c, disease, diagnosedAt, card.address?.areaCode);
  const late = hoursBetween(diagnosedAt, submittedAt) > hours;
  const key = personKey(card);
  let duplicateOf: string | null = null;
  if (card.cardType === 'correction' && card.correctsCardId) {
    const original = await readRow(c, card.correctsCardId, true);
    if (original && original.status !== 'superseded') {
      if (original.counted_day)
        await count(c, deps, original.disease_key, original.counted_day, original.area_code, original.facility_code, -1);
      await c.query(
        `UPDATE surv_report_card SET status = 'superseded', counted_day = NULL, version = version + 1, updated_at = now() WHERE id = $1`,
        [original.id],
      );
      await addEvent(c, original.id, 'superseded', actor, `订正 by ${card.cardId}`);
    }
  } else {
    duplicateOf = await findDuplicate(c, key, disease.key, diagnosedAt, card.cardId);
  }
  const day = card.diagnosisDateTime.slice(0, 10);
  const countedDay = duplicateOf ? null : day;
  const patientId = card.patientRef?.replace(/^Patient\//, '') ?? null;
  const id = await writeTask(deps.repo, c, {
    id: card.cardId,
    status: 'submitted',
    card,
    patientId,
    conditionId: null,
    deadline,
    facilityName: card.reportingOrganization.name,
  });
  await c.query(
    `INSERT INTO surv_report_card (id, task_id, status, card_type, corrects_card_id, patient_id, person_key, disease_key, disease_name, disease_class, icd10,
       fixed_threshold, case_classification, area_code, facility_code, facility_name, onset_date, diagnosed_at, deadline_at, submitted_at, late, incomplete,
       duplicate_of, counted_day, card)
     VALUES ($1,$2,'submitted',$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)`,
    [
      card.cardId,
      id,
      card.cardType,
      card.correctsCardId,
      patientId,
      key,
      disease.key,
      card.disease.name,
      disease.class,
      card.disease.icd10,
      disease.fixedThreshold ?? false,
      card.caseClassification,
      card.address.areaCode,
      card.reportingOrganization.code,
      card.reportingOrganization.name,
      card.onsetDate,
      diagnosedAt,
      deadline,
      submittedAt,
      late,
      warnings.length > 0,
      duplicateOf,
      countedDay,
      JSON.stringify(card),
    ],
  );
  await addEvent(c, card.cardId, 'submit', actor, null, { late, duplicateOf, warnings });
  if (countedDay) await count(c, deps, disease.key, countedDay, card.address.areaCode, card.reportingOrganization.code, 1);
  await syncReportQuality(c, [card.cardId, card.correctsCardId ?? '']);
  return { index, cardId: card.cardId, status: 'accepted', duplicateOf, late, ...(warnings.length ? { warnings } : {}) };
}

// ---------------------------------------------------------------------------------------
// Drafts from diagnoses

function patientCardFields(p: Patient | undefined): Partial<ReportCard> {
  if (!p) return {};
  const idNumber = p.identifier?.find((i) => i.system === RESIDENT_ID_SYSTEM)?.value ?? null;
  const home = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const area = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION);
  const areaCode = (area?.valueCode ?? area?.valueString ?? '') as string;
  const occ = p.extension?.find((e) => e.url === OCCUPATION_CLASS_EXTENSION)?.valueCoding;
  const name = p.name?.[0];
  return {
    name: name?.text ?? `${name?.family ?? ''}${(name?.given ?? []).join('')}`,
    idType: idNumber ? '01' : '99',
    idNumber,
    sex: p.gender === 'male' ? '1' : p.gender === 'female' ? '2' : p.gender === 'other' ? '9' : '0',
    birthDate: p.birthDate ?? null,
    phone: p.telecom?.find((t) => t.system === 'phone')?.value ?? null,
    residenceCategory: areaCode.startsWith('339902') || areaCode ? '本县区' : undefined,
    address: {
      province: home?.state ?? '',
      city: home?.city ?? '',
      county: home?.district ?? '',
      township: home?.line?.[0] ?? '',
      village: home?.line?.[0] ?? '',
      houseNumber: home?.line?.[1] ?? home?.text ?? '',
      areaCode,
    },
    ...(occ ? { occupationClass: { code: occ.code ?? '', name: occ.display ?? '' } } : {}),
  } as Partial<ReportCard>;
}

/**
 * Creates the draft card for a newly recorded notifiable diagnosis (idempotent per Condition).
 * Returns the card id, or null when the code is not notifiable or a card exists already.
 */
export async function createDraftFromCondition(deps: ReportingDeps, client: pg.PoolClient, condition: Condition): Promise<string | null> {
  if (!condition.id) return null;
  const verification = condition.verificationStatus?.coding?.[0]?.code;
  if (verification === 'refuted' || verification === 'entered-in-error') return null;
  const category = condition.category?.flatMap((c) => c.coding ?? []).map((c) => c.code) ?? [];
  if (category.includes('problem-list-item') && !condition.encounter) return null;
  const code = condition.code?.coding?.find((c) => c.system === 'http://hl7.org/fhir/sid/icd-10' || /icd-?10/i.test(c.system ?? ''))?.code;
  if (!code) return null;
  const recorded = condition.recordedDate ?? (condition.onsetDateTime as string | undefined) ?? new Date().toISOString();
  const disease = findNotifiable(deps.notifiable, code, recorded.slice(0, 10));
  if (!disease) return null;
  const exists = await client.query('SELECT 1 FROM surv_report_card WHERE condition_id = $1', [condition.id]);
  if (exists.rows.length) return null;
  const patientId = condition.subject?.reference?.startsWith('Patient/') ? condition.subject.reference.slice(8) : null;
  let patient: Patient | undefined;
  if (patientId) {
    try {
      patient = (await deps.repo.read('Patient', patientId, client)) as Patient;
    } catch {
      patient = undefined;
    }
  }
  let facility: { code: string; name: string; id: string } | undefined;
  if (condition.encounter?.reference?.startsWith('Encounter/')) {
    const r = await client.query<{ org: string | null }>(
      `SELECT content->'serviceProvider'->>'reference' AS org FROM resource_history WHERE resource_type = 'Encounter' AND id = $1 ORDER BY version_id DESC LIMIT 1`,
      [condition.encounter.reference.slice(10)],
    );
    const org = r.rows[0]?.org?.replace(/^Organization\//, '');
    // Named from the registry or the hub's Organization; never the id in the name's place.
    if (org) facility = { id: org, code: org.replace(/^org-/, ''), name: (await facilityNames(client, [org])).get(org) ?? '' };
  }
  const diagnosedAt = new Date(recorded).toISOString();
  const cardId = `D${condition.id}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
  const onset = typeof condition.onsetDateTime === 'string' ? condition.onsetDateTime.slice(0, 10) : recorded.slice(0, 10);
  const card: Partial<ReportCard> = {
    cardId,
    cardType: 'initial',
    correctsCardId: null,
    ...patientCardFields(patient),
    caseClassification: verification === 'provisional' || verification === 'differential' ? '疑似病例' : '临床诊断病例',
    onsetDate: onset,
    diagnosisDateTime: recorded,
    disease: { name: disease.name, icd10: code, subtype: disease.subtype ?? null, class: disease.class },
    ...(facility ? { reportingOrganization: facility } : {}),
    reportingDoctor: condition.recorder?.display ?? '',
    patientRef: patientId ? `Patient/${patientId}` : null,
  };
  const { at: deadline } = await reportDeadline(deps.db, client, disease, diagnosedAt, card.address?.areaCode);
  const task = await writeTask(deps.repo, client, {
    id: cardId,
    status: 'draft',
    card,
    patientId,
    conditionId: condition.id,
    deadline,
    facilityName: facility?.name || null,
  });
  await client.query(
    `INSERT INTO surv_report_card (id, task_id, condition_id, status, card_type, patient_id, person_key, disease_key, disease_name, disease_class, icd10, fixed_threshold,
       area_code, facility_code, facility_name, onset_date, diagnosed_at, deadline_at, card)
     VALUES ($1,$2,$3,'draft','initial',$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) ON CONFLICT DO NOTHING`,
    [
      cardId,
      task,
      condition.id,
      patientId,
      personKey(card as ReportCard),
      disease.key,
      disease.name,
      disease.class,
      code,
      disease.fixedThreshold ?? false,
      card.address?.areaCode || null,
      facility?.code ?? null,
      facility?.name ?? null,
      onset,
      diagnosedAt,
      deadline,
      JSON.stringify(card),
    ],
  );
  await addEvent(client, cardId, 'draft', 'system', `diagnosis ${code} recorded (Condition/${condition.id})`);
  return cardId;
}

// ---------------------------------------------------------------------------------------
// Workflow on stored cards

export async function getCard(db: Database, id: string): Promise<ReportCardDetail> {
  const row = await readRow(db, id);
  if (!row) throw notFound(`report card ${id} not found`);
  const events = await db.query<CardEvent>(
    'SELECT action, actor, at, reason, detail FROM surv_report_card_event WHERE card_id = $1 ORDER BY at, id',
    [id],
  );
  return { ...cardRecord(row), events: events.rows };
}

export interface CardQuery {
  status?: string;
  facility?: string;
  disease?: string;
  overdue?: boolean;
  limit?: number;
  offset?: number;
}

/** A facility name that is more than its code or FHIR id (drafts once stored the id as the name). */
function realName(name: string | null | undefined, code: string | null | undefined): name is string {
  return !!name && name !== code && name !== `org-${code ?? ''}`;
}

export async function listCards(db: Database, q: CardQuery): Promise<ReportCardList> {
  // Facility and disease filter both the list and the tabs' counts; status and overdue only the list.
  const other: string[] = [];
  const params: unknown[] = [];
  if (q.facility) other.push(`facility_code = $${params.push(q.facility)}`);
  if (q.disease) other.push(`disease_key = $${params.push(q.disease)}`);
  const otherParams = [...params];
  const where = [...other];
  if (q.status) where.push(`status = ANY($${params.push(q.status.split(','))})`);
  if (q.overdue) where.push(`status = 'draft' AND deadline_at < now()`);
  const sqlWhere = (w: string[]) => (w.length ? `WHERE ${w.join(' AND ')}` : '');
  const w = sqlWhere(where);
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM surv_report_card ${w}`, params);
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  const rows = await db.query<CardRow>(
    `SELECT ${CARD_COLUMNS} FROM surv_report_card ${w} ORDER BY created_at DESC, id DESC LIMIT ${limit} OFFSET ${Math.max(q.offset ?? 0, 0)}`,
    params,
  );
  // The tabs' counts: per status under the other filters (one pass over the status index).
  const byStatus = await db.query<{ status: string; n: number; overdue: number }>(
    `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE status = 'draft' AND deadline_at < now())::int AS overdue
     FROM surv_report_card ${sqlWhere(other)} GROUP BY status`,
    otherParams,
  );
  const counts: Record<string, number> = { all: 0, overdue: 0 };
  for (const r of byStatus.rows) {
    counts[r.status] = r.n;
    counts.all! += r.n;
    counts.overdue! += r.overdue;
  }
  // Facilities in words where the card did not name its facility (drafts from a diagnosis).
  const cards = rows.rows.map(cardRecord);
  const unnamed = cards.filter((c) => c.facilityCode && !realName(c.facilityName, c.facilityCode));
  const names = await facilityNames(
    db.pool,
    unnamed.map((c) => c.facilityCode!),
  );
  for (const c of unnamed) c.facilityName = names.get(c.facilityCode!) ?? null;
  return { total: total.rows[0]!.n, cards, counts };
}

function checkVersion(row: CardRow, version: unknown): void {
  if (version === undefined || version === null)
    throw badRequest('version is mandatory (optimistic concurrency): send the version you read');
  if (Number(version) !== row.version)
    throw conflict(
      `report card ${row.id} was changed by someone else (now version ${row.version}, you sent ${String(version)}): reload and try again`,
    );
}

/** Saves changes to a draft (no validation of mandatory fields yet). */
export async function updateDraft(
  deps: ReportingDeps,
  id: string,
  patch: Partial<ReportCard>,
  version: unknown,
  actor: string,
  audit?: WriteAudit,
): Promise<ReportCardRecord> {
  return deps.db.transaction(async (c) => {
    const row = await readRow(c, id, true);
    if (!row) throw notFound(`report card ${id} not found`);
    checkVersion(row, version);
    if (row.status !== 'draft' && row.status !== 'returned')
      throw conflict(`report card ${id} is ${row.status}: only drafts and returned cards can be edited`);
    const card = { ...row.card, ...patch, cardId: row.id } as Partial<ReportCard>;
    const { issues } = validateCard(card, 'draft');
    if (issues.length)
      throw badRequest(
        `${issues[0]!.field}: ${issues[0]!.message}`,
        issues.map((i) => ({ severity: 'error', code: 'invalid', expression: [i.field], diagnostics: i.message })),
      );
    await c.query('UPDATE surv_report_card SET card = $2, version = version + 1, updated_at = now() WHERE id = $1', [
      id,
      JSON.stringify(card),
    ]);
    await addEvent(c, id, 'edit', actor);
    await audit?.(c, { subtype: 'report-card-edit', entities: [`Task/${taskId(id)}`], outcomeText: `report card ${id} draft saved` });
    return cardRecord((await readRow(c, id))!);
  });
}

/** The doctor submits a draft (or a returned card) after completing it. */
export async function submitCard(
  deps: ReportingDeps,
  id: string,
  patch: Partial<ReportCard> | undefined,
  version: unknown,
  actor: string,
  audit?: WriteAudit,
): Promise<ReportCardRecord> {
  return deps.db.transaction(async (c) => {
    const row = await readRow(c, id, true);
    if (!row) throw notFound(`report card ${id} not found`);
    checkVersion(row, version);
    if (row.status !== 'draft' && row.status !== 'returned')
      throw conflict(`report card ${id} is ${row.status}: only a draft or a returned card can be submitted`);
    const merged = { ...row.card, ...(patch ?? {}), cardId: row.id, cardType: row.card.cardType ?? 'initial' };
    const { card, issues, warnings } = validateCard(merged, 'submit');
    if (!card)
      throw badRequest(
        `${issues[0]!.field}: ${issues[0]!.message}`,
        issues.map((i) => ({ severity: 'error', code: 'invalid', expression: [i.field], diagnostics: i.message })),
      );
    const disease = resolveDisease(deps, card);
    if (!disease) throw badRequest(`disease: '${card.disease.name}' is not notifiable`);
    const now = new Date().toISOString();
    const diagnosedAt = new Date(card.diagnosisDateTime).toISOString();
    const { at: deadline } = await reportDeadline(deps.db, c, disease, diagnosedAt, card.address?.areaCode);
    const late = now > deadline;
    const key = personKey(card);
    const duplicateOf = await findDuplicate(c, key, disease.key, diagnosedAt, id);
    const day = card.diagnosisDateTime.slice(0, 10);
    const countedDay = duplicateOf ? null : day;
    await c.query(
      `UPDATE surv_report_card SET status = 'submitted', card = $2, person_key = $3, disease_key = $4, disease_name = $5, disease_class = $6, icd10 = $7,
         fixed_threshold = $8, case_classification = $9, area_code = $10, facility_code = $11, facility_name = $12, onset_date = $13, diagnosed_at = $14,
         deadline_at = $15, submitted_at = $16, late = $17, incomplete = $18, duplicate_of = $19, counted_day = $20, return_reason = NULL,
         version = version + 1, updated_at = now() WHERE id = $1`,
      [
        id,
        JSON.stringify(card),
        key,
        disease.key,
        card.disease.name,
        disease.class,
        card.disease.icd10,
        disease.fixedThreshold ?? false,
        card.caseClassification,
        card.address.areaCode,
        card.reportingOrganization.code,
        card.reportingOrganization.name,
        card.onsetDate,
        diagnosedAt,
        deadline,
        now,
        late,
        warnings.length > 0,
        duplicateOf,
        countedDay,
      ],
    );
    await writeTask(deps.repo, c, {
      id,
      status: 'submitted',
      card,
      patientId: row.patient_id,
      conditionId: null,
      deadline,
      facilityName: card.reportingOrganization.name,
    });
    await addEvent(c, id, 'submit', actor, null, { late, duplicateOf });
    await syncReportQuality(c, [id]);
    if (countedDay) await count(c, deps, disease.key, countedDay, card.address.areaCode, card.reportingOrganization.code, 1);
    await audit?.(c, {
      subtype: 'report-card-submit',
      entities: [`Task/${taskId(id)}`],
      outcomeText: `report card ${id} submitted${late ? ' (late)' : ''}`,
    });
    return { ...cardRecord((await readRow(c, id))!), duplicateOf };
  });
}

export type ReviewAction = 'approve' | 'correct' | 'return';

/** CDC review: 审核 (approve), 订正 (correct fields, then approved) or 退卡 (return with a reason). */
export async function reviewCard(
  deps: ReportingDeps,
  id: string,
  input: { action: ReviewAction; reason?: string; corrections?: Partial<ReportCard>; version: unknown },
  actor: string,
  audit?: WriteAudit,
): Promise<ReportCardRecord> {
  return deps.db.transaction(async (c) => {
    const row = await readRow(c, id, true);
    if (!row) throw notFound(`report card ${id} not found`);
    checkVersion(row, input.version);
    if (row.status !== 'submitted') throw conflict(`report card ${id} is ${row.status}: only a submitted card can be reviewed`);
    if (input.action === 'approve') {
      await c.query(
        `UPDATE surv_report_card SET status = 'reviewed', reviewed_at = now(), reviewed_by = $2, version = version + 1, updated_at = now() WHERE id = $1`,
        [id, actor],
      );
    } else if (input.action === 'return') {
      if (!input.reason?.trim()) throw badRequest('reason: 退卡原因 is mandatory when returning a card');
      if (row.counted_day) await count(c, deps, row.disease_key, row.counted_day, row.area_code, row.facility_code, -1);
      await c.query(
        `UPDATE surv_report_card SET status = 'returned', return_reason = $2, reviewed_at = now(), reviewed_by = $3, counted_day = NULL, version = version + 1, updated_at = now() WHERE id = $1`,
        [id, input.reason.trim(), actor],
      );
    } else if (input.action === 'correct') {
      return cardRecord(
        await correctLocked(deps, c, row, { corrections: input.corrections, reason: input.reason, reviewer: true }, actor, audit),
      );
    } else {
      throw badRequest(`action must be approve, correct or return (got ${JSON.stringify(input.action)})`);
    }
    const updated = (await readRow(c, id))!;
    await writeTask(deps.repo, c, {
      id,
      status: updated.status,
      card: updated.card,
      patientId: updated.patient_id,
      conditionId: null,
      deadline: updated.deadline_at,
      facilityName: updated.facility_name,
    });
    await addEvent(c, id, input.action, actor, input.reason ?? null);
    await syncReportQuality(c, [id]);
    await audit?.(c, {
      subtype: input.action === 'approve' ? 'report-card-review' : 'report-card-return',
      entities: [`Task/${taskId(id)}`],
      outcomeText: `report card ${id} ${input.action === 'approve' ? '审核 approved' : `退卡: ${input.reason}`}`,
    });
    return cardRecord(updated);
  });
}

/** Field paths whose value differs between two cards (nested objects compared field by field). */
export function changedFields(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  prefix = '',
): { field: string; before: unknown; after: unknown }[] {
  const out: { field: string; before: unknown; after: unknown }[] = [];
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[k];
    const b = after[k];
    const field = prefix ? `${prefix}.${k}` : k;
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b))
      out.push(...changedFields(a as Record<string, unknown>, b as Record<string, unknown>, field));
    else if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push({ field, before: a ?? null, after: b ?? null });
  }
  return out;
}

export interface CorrectionInput {
  corrections?: Partial<ReportCard>;
  reason?: string;
  version: unknown;
}

/**
 * 订正: corrects fields of a submitted or reviewed card, with a reason. The prior version stays
 * visible: the event keeps every changed field before and after, and the FHIR Task keeps its
 * history. A correction by the CDC (reviewer) leaves the card reviewed; one by the reporting
 * doctor sends it back to the CDC for review (status submitted). Counts move with the card.
 */
export async function correctCard(
  deps: ReportingDeps,
  id: string,
  input: CorrectionInput,
  actor: string,
  opts: { reviewer: boolean },
  audit?: WriteAudit,
): Promise<ReportCardRecord> {
  return deps.db.transaction(async (c) => {
    const row = await readRow(c, id, true);
    if (!row) throw notFound(`report card ${id} not found`);
    checkVersion(row, input.version);
    return cardRecord(
      await correctLocked(deps, c, row, { corrections: input.corrections, reason: input.reason, reviewer: opts.reviewer }, actor, audit),
    );
  });
}

async function correctLocked(
  deps: ReportingDeps,
  c: pg.PoolClient,
  row: CardRow,
  input: { corrections: Partial<ReportCard> | undefined; reason: string | undefined; reviewer: boolean },
  actor: string,
  audit?: WriteAudit,
): Promise<CardRow> {
  const id = row.id;
  if (row.status !== 'submitted' && row.status !== 'reviewed')
    throw conflict(`report card ${id} is ${row.status}: only a submitted or reviewed card can be corrected (订正)`);
  if (!input.corrections || typeof input.corrections !== 'object' || Array.isArray(input.corrections))
    throw badRequest('corrections: 订正 needs the corrected fields as an object');
  if (!input.reason?.trim()) throw badRequest('reason: 订正原因 is mandatory');
  const corrections = input.corrections;
  const merged = { ...row.card, ...corrections, cardId: row.id } as Partial<ReportCard>;
  for (const k of ['address', 'disease', 'reportingOrganization'] as const) {
    if (corrections[k] && row.card[k])
      (merged as Record<string, unknown>)[k] = { ...(row.card[k] as object), ...(corrections[k] as object) };
  }
  if (corrections.disease?.name && corrections.disease.name !== row.card.disease?.name)
    merged.correctedDiseaseName = corrections.disease.name;
  const changes = changedFields(row.card as Record<string, unknown>, merged as Record<string, unknown>);
  if (!changes.length) throw badRequest('corrections: nothing differs from the card as it stands');
  const { card, issues } = validateCard(merged, 'submit');
  if (!card)
    throw badRequest(
      `${issues[0]!.field}: ${issues[0]!.message}`,
      issues.map((i) => ({ severity: 'error', code: 'invalid', expression: [i.field], diagnostics: i.message })),
    );
  const disease = resolveDisease(deps, card);
  if (!disease) throw badRequest(`disease: '${card.disease.name}' is not notifiable`);
  if (row.counted_day) await count(c, deps, row.disease_key, row.counted_day, row.area_code, row.facility_code, -1);
  const day = card.diagnosisDateTime.slice(0, 10);
  const countedDay = row.duplicate_of ? null : day;
  const status: CardStatus = input.reviewer ? 'reviewed' : 'submitted';
  await c.query(
    `UPDATE surv_report_card SET status = $15, card = $2, disease_key = $3, disease_name = $4, disease_class = $5, icd10 = $6, fixed_threshold = $7,
       case_classification = $8, area_code = $9, onset_date = $10, diagnosed_at = $11, counted_day = $12, person_key = $13,
       reviewed_at = CASE WHEN $16 THEN now() ELSE reviewed_at END, reviewed_by = CASE WHEN $16 THEN $14 ELSE reviewed_by END,
       version = version + 1, updated_at = now() WHERE id = $1`,
    [
      id,
      JSON.stringify(card),
      disease.key,
      card.disease.name,
      disease.class,
      card.disease.icd10,
      disease.fixedThreshold ?? false,
      card.caseClassification,
      card.address.areaCode,
      card.onsetDate,
      new Date(card.diagnosisDateTime).toISOString(),
      countedDay,
      personKey(card),
      actor,
      status,
      input.reviewer,
    ],
  );
  if (countedDay) await count(c, deps, disease.key, countedDay, card.address.areaCode, row.facility_code, 1);
  const updated = (await readRow(c, id))!;
  await writeTask(deps.repo, c, {
    id,
    status: updated.status,
    card: updated.card,
    patientId: updated.patient_id,
    conditionId: null,
    deadline: updated.deadline_at,
    facilityName: updated.facility_name,
  });
  await addEvent(c, id, 'correct', actor, input.reason.trim(), {
    corrections,
    changes,
    previousVersion: row.version,
    previousStatus: row.status,
  });
  await syncReportQuality(c, [id]);
  await audit?.(c, {
    subtype: 'report-card-correct',
    entities: [`Task/${taskId(id)}`],
    outcomeText: `report card ${id} 订正: ${changes.map((x) => x.field).join(', ')} — ${input.reason.trim()}`.slice(0, 1000),
  });
  return updated;
}

/** Timeliness and completeness per reporting facility. */
export async function facilityStats(db: Database): Promise<FacilityStat[]> {
  const r = await db.query<{
    facility: string;
    name: string | null;
    total: number;
    late: number;
    incomplete: number;
    duplicate: number;
    returned: number;
    overdue: number;
  }>(
    `SELECT coalesce(facility_code, '') AS facility, max(facility_name) AS name,
            count(*) FILTER (WHERE status <> 'draft')::int AS total,
            count(*) FILTER (WHERE late)::int AS late,
            count(*) FILTER (WHERE incomplete)::int AS incomplete,
            count(*) FILTER (WHERE duplicate_of IS NOT NULL)::int AS duplicate,
            count(*) FILTER (WHERE status = 'returned')::int AS returned,
            count(*) FILTER (WHERE status = 'draft' AND deadline_at < now())::int AS overdue
     FROM surv_report_card GROUP BY 1`,
  );
  const rej = await db.query<{ facility: string; n: number }>(
    `SELECT coalesce(facility_code, '') AS facility, count(DISTINCT coalesce(card_id, id::text))::int AS n FROM surv_report_card_rejection GROUP BY 1`,
  );
  const rejected = new Map(rej.rows.map((x) => [x.facility, x.n]));
  const names = await facilityNames(
    db.pool,
    r.rows.filter((x) => !realName(x.name, x.facility)).map((x) => x.facility),
  );
  const out = r.rows.map((x) => ({
    facility: x.facility,
    name: realName(x.name, x.facility) ? x.name : (names.get(x.facility) ?? null),
    total: x.total,
    late: x.late,
    incomplete: x.incomplete + (rejected.get(x.facility) ?? 0),
    duplicate: x.duplicate,
    rejected: rejected.get(x.facility) ?? 0,
    returned: x.returned,
    overdueDrafts: x.overdue,
  }));
  for (const [facility, n] of rejected)
    if (!out.some((o) => o.facility === facility))
      out.push({ facility, name: null, total: 0, late: 0, incomplete: n, duplicate: 0, rejected: n, returned: 0, overdueDrafts: 0 });
  return out.sort((a, b) => a.facility.localeCompare(b.facility));
}

/** Report cards (传染病报告卡) that wait for the clinician: drafts and returned cards. */
export const OPEN_CARD_STATUSES: readonly ReportCardStatus[] = ['draft', 'returned'];

/**
 * The report cards of these Patients with one of these statuses (default: drafts made from a
 * notifiable diagnosis and cards the CDC returned), by deadline: what another capability (primary
 * care's due list) may know of them.
 */
export async function reportCardsForPatients(
  db: Queryable,
  patientIds: readonly string[],
  statuses: readonly ReportCardStatus[] = OPEN_CARD_STATUSES,
): Promise<PatientReportCard[]> {
  if (!patientIds.length || !statuses.length) return [];
  const r = await db.query<PatientReportCard>(
    `SELECT patient_id AS "patientId", id, task_id AS "taskId", status, disease_name AS "diseaseName", deadline_at AS "deadlineAt",
            return_reason AS "returnReason"
     FROM surv_report_card WHERE patient_id = ANY($1::text[]) AND status = ANY($2::text[]) ORDER BY deadline_at, id`,
    [patientIds, statuses],
  );
  return r.rows;
}

/** One counted report card as another capability may page through it (de-identified exports). */
export interface CountedCard {
  id: string;
  patientId: string | null;
  diseaseKey: string;
  diseaseName: string;
  diseaseClass: string | null;
  caseClassification: string | null;
  areaCode: string | null;
  status: ReportCardStatus;
  onsetDate: string | null;
  diagnosedAt: string;
  card: Partial<ReportCard>;
}

/**
 * Counted report cards (submitted or reviewed, not duplicates, not superseded by a 订正卡)
 * diagnosed from `from` to `to` (China dates, both included), optionally of one disease key,
 * ordered by (diagnosedAt, id) and paged by keyset: pass the last card of a page as `after`.
 */
export async function countedCardsPage(
  db: Queryable,
  q: { from: string; to: string; disease?: string; after?: { diagnosedAt: string; id: string }; limit: number },
): Promise<CountedCard[]> {
  const params: unknown[] = [`${q.from}T00:00:00+08:00`, `${q.to}T00:00:00+08:00`];
  const where = [
    `status IN ('submitted', 'reviewed')`,
    'duplicate_of IS NULL',
    'diagnosed_at >= $1::timestamptz',
    `diagnosed_at < $2::timestamptz + interval '1 day'`,
  ];
  if (q.disease) where.push(`disease_key = $${params.push(q.disease)}`);
  if (q.after) where.push(`(diagnosed_at, id) > ($${params.push(q.after.diagnosedAt)}::timestamptz, $${params.push(q.after.id)})`);
  const r = await db.query<CountedCard>(
    `SELECT id, patient_id AS "patientId", disease_key AS "diseaseKey", disease_name AS "diseaseName", disease_class AS "diseaseClass",
            case_classification AS "caseClassification", area_code AS "areaCode", status, onset_date::text AS "onsetDate",
            diagnosed_at AS "diagnosedAt", card
     FROM surv_report_card WHERE ${where.join(' AND ')} ORDER BY diagnosed_at, id LIMIT ${Math.max(1, Math.min(q.limit, 5000))}`,
    params,
  );
  return r.rows;
}

const CARD_STATUS_WORDS: Record<string, string> = {
  draft: '草稿',
  submitted: '待审核',
  reviewed: '已审核',
  returned: '已退卡',
  superseded: '已被订正',
};

/** The most cards one export holds (a filter narrows a larger list). */
export const MAX_CARD_EXPORT = 50_000;

/**
 * The filtered card list as a spreadsheet (xlsx) or GB18030 CSV, newest first, in words: the
 * same filter as the list, read a page at a time, at most MAX_CARD_EXPORT cards.
 */
export async function cardsFile(db: Database, q: CardQuery, format: TableFormat): Promise<TableFile> {
  const cards: ReportCardRecord[] = [];
  for (let offset = 0; offset < MAX_CARD_EXPORT; offset += 500) {
    const page = await listCards(db, { ...q, limit: 500, offset });
    cards.push(...page.cards);
    if (page.cards.length < 500) break;
  }
  const when = (v: string | null | undefined) => (v ? chinaDateTimeOf(v) : '');
  return tableFile(
    format,
    `传染病报告卡-${todayInChina()}`,
    [
      { header: '姓名', value: (c) => (c.card.name as string | undefined) ?? '', width: 12 },
      { header: '疾病', value: (c) => c.diseaseName, width: 20 },
      { header: '病例分类', value: (c) => c.caseClassification, width: 14 },
      { header: '报告单位', value: (c) => c.facilityName ?? '', width: 28 },
      { header: '诊断时间', value: (c) => when(c.diagnosedAt), width: 18 },
      { header: '状态', value: (c) => CARD_STATUS_WORDS[c.status] ?? c.status, width: 10 },
      { header: '迟报', value: (c) => (c.late ? '是' : ''), width: 6 },
      { header: '重卡', value: (c) => (c.duplicateOf ? '是' : ''), width: 6 },
      { header: '报告时限', value: (c) => when(c.deadlineAt), width: 18 },
      { header: '卡片编号', value: (c) => c.id, width: 20 },
    ],
    cards,
  );
}
