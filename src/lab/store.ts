/**
 * The lab loop's SQL: orders, shipments, specimens (state and clock), custody events, breaches
 * and flags, the breach scan and the dashboard's aggregates. Times go in and come out as Date.
 */
import type { Queryable } from '../platform/db.js';
import type { Leg, Mode, State } from './codes.js';
import type { StoredCustodyEvent } from './custody.js';
import type { SpecimenSnapshot } from './machine.js';

/** timestamptz arrives as an ISO string (src/platform/db.ts): the lab works with Date. */
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));
const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));

export interface OrderRow {
  id: string;
  testCode: string;
  testSystem: string | null;
  testName: string | null;
  mode: Mode;
  patientId: string | null;
  orderingUnit: string;
  investigationId: string | null;
  source: 'api' | 'fhir';
  createdAt: Date;
  createdBy: string;
}

export async function insertOrder(q: Queryable, o: OrderRow): Promise<void> {
  await q.query(
    `INSERT INTO lab_order (id, test_code, test_system, test_name, mode, patient_id, ordering_unit, investigation_id, source, created_at, created_by)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
    [
      o.id,
      o.testCode,
      o.testSystem,
      o.testName,
      o.mode,
      o.patientId,
      o.orderingUnit,
      o.investigationId,
      o.source,
      o.createdAt,
      o.createdBy,
    ],
  );
}

const ORDER_COLUMNS = `id, test_code AS "testCode", test_system AS "testSystem", test_name AS "testName", mode, patient_id AS "patientId",
  ordering_unit AS "orderingUnit", investigation_id AS "investigationId", source, created_at AS "createdAt", created_by AS "createdBy"`;

export async function getOrder(q: Queryable, id: string): Promise<OrderRow | undefined> {
  const row = (await q.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM lab_order WHERE id = $1`, [id])).rows[0];
  return row && { ...row, createdAt: date(row.createdAt) };
}

export interface Reading {
  at: string;
  celsius: number;
  outOfRange: boolean;
}

export interface ShipmentRow {
  id: number;
  fromUnit: string;
  toLab: string;
  courier: string;
  sealNumber: string;
  tempMin: number;
  tempMax: number;
  readings: Reading[];
  outOfRange: number;
  departedAt: Date | null;
  createdAt: Date;
  createdBy: string;
  specimens: number;
}

export async function insertShipment(q: Queryable, s: Omit<ShipmentRow, 'id' | 'specimens'>): Promise<number> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO lab_shipment (from_unit, to_lab, courier, seal_number, temp_min, temp_max, readings, out_of_range, departed_at, created_at, created_by)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
    [
      s.fromUnit,
      s.toLab,
      s.courier,
      s.sealNumber,
      s.tempMin,
      s.tempMax,
      JSON.stringify(s.readings),
      s.outOfRange,
      s.departedAt,
      s.createdAt,
      s.createdBy,
    ],
  );
  return Number(r.rows[0]!.id);
}

export async function getShipment(q: Queryable, id: number, forUpdate = false): Promise<ShipmentRow | undefined> {
  const r = await q.query<ShipmentRow & { id: string }>(
    `SELECT id, from_unit AS "fromUnit", to_lab AS "toLab", courier, seal_number AS "sealNumber", temp_min AS "tempMin",
            temp_max AS "tempMax", readings, out_of_range AS "outOfRange", departed_at AS "departedAt", created_at AS "createdAt",
            created_by AS "createdBy", 0 AS specimens
     FROM lab_shipment WHERE id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [id],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  const n = await q.query<{ n: string }>(
    `SELECT count(DISTINCT specimen_id) AS n FROM lab_event WHERE shipment_id = $1 AND step IN ('ship', 'refer')`,
    [id],
  );
  return {
    ...row,
    id: Number(row.id),
    tempMin: Number(row.tempMin),
    tempMax: Number(row.tempMax),
    departedAt: dateOrNull(row.departedAt),
    createdAt: date(row.createdAt),
    specimens: Number(n.rows[0]!.n),
  };
}

export async function updateShipmentReadings(q: Queryable, id: number, readings: Reading[], departedAt: Date | null): Promise<void> {
  await q.query(`UPDATE lab_shipment SET readings = $2, out_of_range = $3, departed_at = COALESCE(departed_at, $4) WHERE id = $1`, [
    id,
    JSON.stringify(readings),
    readings.filter((r) => r.outOfRange).length,
    departedAt,
  ]);
}

export interface SpecimenRow extends SpecimenSnapshot {
  orderId: string;
  taskId: string;
  patientId: string | null;
  specimenType: string | null;
  container: string | null;
  collector: string | null;
  collectedAt: Date;
  firstReceivedAt: Date | null;
  resultAt: Date | null;
  verifiedAt: Date | null;
  reportedAt: Date | null;
  condition: string | null;
  resultValue: string | null;
  resultInterpretation: string | null;
  observationId: string | null;
  reportId: string | null;
  nextDeadline: Date | null;
  chainSeq: number;
  chainHash: string;
  updatedAt: Date;
}

const SPECIMEN_COLUMNS = `s.id, s.barcode, s.order_id AS "orderId", s.task_id AS "taskId", s.test_code AS "testCode", s.mode,
  s.patient_id AS "patientId", s.state, s.hop, s.collecting_unit AS "collectingUnit", s.holder, s.lab, s.shipment_id AS "shipmentId",
  s.specimen_type AS "specimenType", s.container, s.collector, s.collected_at AS "collectedAt", s.first_received_at AS "firstReceivedAt",
  s.received_at AS "receivedAt", s.result_at AS "resultAt", s.verified_at AS "verifiedAt", s.reported_at AS "reportedAt",
  s.condition, s.rejected_reason AS "rejectedReason", s.result_value AS "resultValue", s.result_interpretation AS "resultInterpretation",
  s.observation_id AS "observationId", s.report_id AS "reportId", s.leg, s.leg_unit AS "legUnit", s.leg_started_at AS "legStartedAt",
  s.leg_deadline AS "legDeadline", s.next_deadline AS "nextDeadline", s.last_at AS "lastAt", s.chain_seq AS "chainSeq",
  s.chain_hash AS "chainHash", s.updated_at AS "updatedAt"`;

const fixSpecimen = (r: SpecimenRow): SpecimenRow => ({
  ...r,
  shipmentId: r.shipmentId === null ? null : Number(r.shipmentId),
  collectedAt: date(r.collectedAt),
  firstReceivedAt: dateOrNull(r.firstReceivedAt),
  receivedAt: dateOrNull(r.receivedAt),
  resultAt: dateOrNull(r.resultAt),
  verifiedAt: dateOrNull(r.verifiedAt),
  reportedAt: dateOrNull(r.reportedAt),
  legStartedAt: dateOrNull(r.legStartedAt),
  legDeadline: dateOrNull(r.legDeadline),
  nextDeadline: dateOrNull(r.nextDeadline),
  lastAt: date(r.lastAt),
  updatedAt: date(r.updatedAt),
});

export async function specimenByBarcode(q: Queryable, barcode: string, forUpdate = false): Promise<SpecimenRow | undefined> {
  const r = await q.query<SpecimenRow>(
    `SELECT ${SPECIMEN_COLUMNS} FROM lab_specimen s WHERE s.barcode = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [barcode],
  );
  return r.rows[0] && fixSpecimen(r.rows[0]);
}

/** The resident a barcode's specimen belongs to (null: none, or no such barcode). */
export async function specimenPatient(q: Queryable, barcode: string): Promise<string | null> {
  const r = await q.query<{ patientId: string | null }>('SELECT patient_id AS "patientId" FROM lab_specimen WHERE barcode = $1', [barcode]);
  return r.rows[0]?.patientId ?? null;
}

export async function insertSpecimen(q: Queryable, s: SpecimenRow): Promise<void> {
  await q.query(
    `INSERT INTO lab_specimen (id, barcode, order_id, task_id, test_code, mode, patient_id, state, hop, collecting_unit, holder, lab,
       shipment_id, specimen_type, container, collector, collected_at, leg, leg_unit, leg_started_at, leg_deadline, next_deadline,
       last_at, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)`,
    [
      s.id,
      s.barcode,
      s.orderId,
      s.taskId,
      s.testCode,
      s.mode,
      s.patientId,
      s.state,
      s.hop,
      s.collectingUnit,
      s.holder,
      s.lab,
      s.shipmentId,
      s.specimenType,
      s.container,
      s.collector,
      s.collectedAt,
      s.leg,
      s.legUnit,
      s.legStartedAt,
      s.legDeadline,
      s.nextDeadline,
      s.lastAt,
      s.updatedAt,
    ],
  );
}

/** Writes the specimen's state after a step (every column the machine or the service may change). */
export async function saveSpecimen(q: Queryable, s: SpecimenRow): Promise<void> {
  await q.query(
    `UPDATE lab_specimen SET state = $2, hop = $3, holder = $4, lab = $5, shipment_id = $6, first_received_at = $7, received_at = $8,
       result_at = $9, verified_at = $10, reported_at = $11, condition = $12, rejected_reason = $13, result_value = $14,
       result_interpretation = $15, observation_id = $16, report_id = $17, leg = $18, leg_unit = $19, leg_started_at = $20,
       leg_deadline = $21, next_deadline = $22, last_at = $23, chain_seq = $24, chain_hash = $25, updated_at = $26
     WHERE id = $1`,
    [
      s.id,
      s.state,
      s.hop,
      s.holder,
      s.lab,
      s.shipmentId,
      s.firstReceivedAt,
      s.receivedAt,
      s.resultAt,
      s.verifiedAt,
      s.reportedAt,
      s.condition,
      s.rejectedReason,
      s.resultValue,
      s.resultInterpretation,
      s.observationId,
      s.reportId,
      s.leg,
      s.legUnit,
      s.legStartedAt,
      s.legDeadline,
      s.nextDeadline,
      s.lastAt,
      s.chainSeq,
      s.chainHash,
      s.updatedAt,
    ],
  );
}

export async function insertEvent(q: Queryable, e: Omit<StoredCustodyEvent, 'id'>): Promise<number> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO lab_event (specimen_id, seq, step, from_state, to_state, at, recorded_at, by_user, performer, unit, location, shipment_id,
       detail, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) RETURNING id`,
    [
      e.specimenId,
      e.seq,
      e.step,
      e.fromState,
      e.toState,
      e.at,
      e.recordedAt,
      e.byUser,
      e.performer,
      e.unit,
      e.location,
      e.shipmentId,
      JSON.stringify(e.detail),
      e.prevHash,
      e.hash,
    ],
  );
  return Number(r.rows[0]!.id);
}

interface EventDbRow {
  id: string;
  specimenId: string;
  seq: number;
  step: string;
  fromState: string | null;
  toState: string;
  at: Date;
  recordedAt: Date;
  byUser: string;
  performer: string | null;
  unit: string;
  location: string | null;
  shipmentId: string | null;
  detail: StoredCustodyEvent['detail'];
  prevHash: string;
  hash: string;
}
const EVENT_COLUMNS = `id, specimen_id AS "specimenId", seq, step, from_state AS "fromState", to_state AS "toState", at,
  recorded_at AS "recordedAt", by_user AS "byUser", performer, unit, location, shipment_id AS "shipmentId", detail,
  prev_hash AS "prevHash", hash`;
const toEvent = (r: EventDbRow): StoredCustodyEvent => ({
  ...r,
  id: Number(r.id),
  at: new Date(r.at).toISOString(),
  recordedAt: new Date(r.recordedAt).toISOString(),
  shipmentId: r.shipmentId === null ? null : Number(r.shipmentId),
});

export async function eventsOf(q: Queryable, specimenId: string): Promise<StoredCustodyEvent[]> {
  const r = await q.query<EventDbRow>(`SELECT ${EVENT_COLUMNS} FROM lab_event WHERE specimen_id = $1 ORDER BY seq, id`, [specimenId]);
  return r.rows.map(toEvent);
}

/** Events of the specimens after `afterSpecimen` (in id order), up to about `limit` events, whole chains only. */
export async function eventChunk(
  q: Queryable,
  afterSpecimen: string,
  specimens: number,
): Promise<{ heads: { id: string; barcode: string; chainSeq: number; chainHash: string }[]; events: StoredCustodyEvent[] }> {
  const heads = (
    await q.query<{ id: string; barcode: string; chainSeq: number; chainHash: string }>(
      `SELECT id, barcode, chain_seq AS "chainSeq", chain_hash AS "chainHash" FROM lab_specimen WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterSpecimen, specimens],
    )
  ).rows;
  if (!heads.length) return { heads, events: [] };
  const r = await q.query<EventDbRow>(
    `SELECT ${EVENT_COLUMNS} FROM lab_event WHERE specimen_id > $1 AND specimen_id <= $2 ORDER BY specimen_id, seq, id`,
    [afterSpecimen, heads[heads.length - 1]!.id],
  );
  return { heads, events: r.rows.map(toEvent) };
}

export interface BreachRow {
  id: number;
  specimenId: string;
  barcode: string;
  patientId: string | null;
  leg: Leg;
  hop: number;
  unit: string;
  testCode: string;
  mode: Mode;
  startedAt: Date;
  deadline: Date;
  detectedAt: Date;
  closedAt: Date | null;
}

const fixBreach = (b: BreachRow): BreachRow => ({
  ...b,
  id: Number(b.id),
  startedAt: date(b.startedAt),
  deadline: date(b.deadline),
  detectedAt: date(b.detectedAt),
  closedAt: dateOrNull(b.closedAt),
});

/**
 * Records a leg that ended after its deadline (closed at once), or closes the breach the scan
 * recorded; a no-receipt flag goes with a late collection-receipt leg. Once per leg and hop.
 */
export async function recordLateLeg(
  q: Queryable,
  b: {
    specimenId: string;
    leg: Leg;
    hop: number;
    unit: string;
    testCode: string;
    mode: Mode;
    startedAt: Date;
    deadline: Date;
    endedAt: Date;
  },
  now: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO lab_breach (specimen_id, leg, hop, unit, test_code, mode, started_at, deadline, detected_at, closed_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
     ON CONFLICT (specimen_id, leg, hop) DO UPDATE SET closed_at = COALESCE(lab_breach.closed_at, EXCLUDED.closed_at)`,
    [b.specimenId, b.leg, b.hop, b.unit, b.testCode, b.mode, b.startedAt, b.deadline, now, b.endedAt],
  );
  if (b.leg === 'collection-receipt')
    await q.query(
      `INSERT INTO lab_flag (kind, specimen_id, hop, unit, detail, raised_at) VALUES ('no-receipt', $1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [b.specimenId, b.hop, b.unit, `not received by its limit ${b.deadline.toISOString()}`, now],
    );
}

/** Closes the open breach of a leg that has now ended (late, after the scan recorded it). */
export async function closeBreach(q: Queryable, specimenId: string, leg: Leg, hop: number, at: Date): Promise<void> {
  await q.query(`UPDATE lab_breach SET closed_at = $4 WHERE specimen_id = $1 AND leg = $2 AND hop = $3 AND closed_at IS NULL`, [
    specimenId,
    leg,
    hop,
    at,
  ]);
}

/**
 * One batch of the breach scan: specimens whose next deadline is at or before `now` (the
 * partial index lab_specimen_due) have it cleared and a breach recorded for the unit answering
 * for the leg (once per specimen, leg and hop), with a no-receipt flag for the collection-receipt
 * leg. Rows locked by a step in progress are skipped (the next scan finds them, or the step
 * records the late leg itself).
 */
export async function scanDueBatch(q: Queryable, now: Date, limit: number): Promise<BreachRow[]> {
  const r = await q.query<BreachRow>(
    `WITH due AS (
       SELECT id FROM lab_specimen WHERE next_deadline IS NOT NULL AND next_deadline <= $1
       ORDER BY next_deadline LIMIT $2 FOR UPDATE SKIP LOCKED
     ), cleared AS (
       UPDATE lab_specimen s SET next_deadline = NULL FROM due WHERE s.id = due.id
       RETURNING s.id, s.barcode, s.patient_id, s.leg, s.hop, s.leg_unit, s.test_code, s.mode, s.leg_started_at, s.leg_deadline
     ), breach AS (
       INSERT INTO lab_breach (specimen_id, leg, hop, unit, test_code, mode, started_at, deadline, detected_at)
       SELECT id, leg, hop, leg_unit, test_code, mode, leg_started_at, leg_deadline, $1 FROM cleared
       ON CONFLICT (specimen_id, leg, hop) DO NOTHING
       RETURNING id, specimen_id, leg, hop, unit, test_code, mode, started_at, deadline, detected_at, closed_at
     ), flag AS (
       INSERT INTO lab_flag (kind, specimen_id, hop, unit, detail, raised_at)
       SELECT 'no-receipt', specimen_id, hop, unit, 'not received by its limit ' || to_char(deadline AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), $1
       FROM breach WHERE leg = 'collection-receipt'
       ON CONFLICT DO NOTHING
     )
     SELECT b.id, b.specimen_id AS "specimenId", c.barcode, c.patient_id AS "patientId", b.leg, b.hop, b.unit, b.test_code AS "testCode",
            b.mode, b.started_at AS "startedAt", b.deadline, b.detected_at AS "detectedAt", b.closed_at AS "closedAt"
     FROM breach b JOIN cleared c ON c.id = b.specimen_id`,
    [now, limit],
  );
  return r.rows.map(fixBreach);
}

export interface Page {
  limit: number;
  offset: number;
}

export interface SpecimenFilter extends Page {
  state?: State;
  inFlight?: boolean;
  leg?: Leg;
  unit?: string;
  testCode?: string;
  overdue?: boolean;
  orderId?: string;
  investigationId?: string;
  now: Date;
}

export async function listSpecimens(q: Queryable, f: SpecimenFilter): Promise<{ items: SpecimenRow[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.state) where.push(`s.state = ${p(f.state)}`);
  if (f.inFlight) where.push('s.leg IS NOT NULL');
  if (f.leg) where.push(`s.leg = ${p(f.leg)}`);
  if (f.unit) where.push(`(s.leg_unit = ${p(f.unit)} OR s.collecting_unit = $${params.length} OR s.lab = $${params.length})`);
  if (f.testCode) where.push(`s.test_code = ${p(f.testCode)}`);
  if (f.overdue) where.push(`s.leg IS NOT NULL AND s.leg_deadline <= ${p(f.now)}`);
  if (f.orderId) where.push(`s.order_id = ${p(f.orderId)}`);
  if (f.investigationId) where.push(`s.order_id IN (SELECT id FROM lab_order WHERE investigation_id = ${p(f.investigationId)})`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM lab_specimen s ${w}`, params)).rows[0]!.n);
  const order = f.inFlight || f.overdue || f.leg ? 's.leg_deadline, s.id' : 's.updated_at DESC, s.id';
  const r = await q.query<SpecimenRow>(
    `SELECT ${SPECIMEN_COLUMNS} FROM lab_specimen s ${w} ORDER BY ${order} LIMIT ${p(f.limit)} OFFSET ${p(f.offset)}`,
    params,
  );
  return { items: r.rows.map(fixSpecimen), total };
}

export async function listBreaches(
  q: Queryable,
  f: Page & { leg?: Leg; unit?: string; open?: boolean; specimenId?: string },
): Promise<{ items: BreachRow[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.leg) where.push(`b.leg = $${params.push(f.leg)}`);
  if (f.unit) where.push(`b.unit = $${params.push(f.unit)}`);
  if (f.open) where.push('b.closed_at IS NULL');
  if (f.specimenId) where.push(`b.specimen_id = $${params.push(f.specimenId)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM lab_breach b ${w}`, params)).rows[0]!.n);
  const r = await q.query<BreachRow>(
    `SELECT b.id, b.specimen_id AS "specimenId", s.barcode, s.patient_id AS "patientId", b.leg, b.hop, b.unit, b.test_code AS "testCode",
            b.mode, b.started_at AS "startedAt", b.deadline, b.detected_at AS "detectedAt", b.closed_at AS "closedAt"
     FROM lab_breach b JOIN lab_specimen s ON s.id = b.specimen_id ${w}
     ORDER BY b.detected_at DESC, b.id DESC LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return { items: r.rows.map(fixBreach), total };
}

export interface FlagRow {
  id: number;
  kind: string;
  specimenId: string | null;
  barcode: string | null;
  patientId: string | null;
  shipmentId: number | null;
  hop: number | null;
  unit: string | null;
  detail: string;
  raisedAt: Date;
  raisedBy: string | null;
}

export async function insertFlag(
  q: Queryable,
  f: {
    kind: string;
    specimenId?: string;
    shipmentId?: number;
    hop?: number;
    unit?: string;
    detail: string;
    raisedAt: Date;
    raisedBy?: string;
  },
): Promise<void> {
  await q.query(
    `INSERT INTO lab_flag (kind, specimen_id, shipment_id, hop, unit, detail, raised_at, raised_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
     ON CONFLICT DO NOTHING`,
    [f.kind, f.specimenId ?? null, f.shipmentId ?? null, f.hop ?? null, f.unit ?? null, f.detail, f.raisedAt, f.raisedBy ?? null],
  );
}

export async function listFlags(
  q: Queryable,
  f: Page & { kind?: string; specimenId?: string },
): Promise<{ items: FlagRow[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.kind) where.push(`f.kind = $${params.push(f.kind)}`);
  if (f.specimenId) where.push(`f.specimen_id = $${params.push(f.specimenId)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number((await q.query<{ n: string }>(`SELECT count(*) AS n FROM lab_flag f ${w}`, params)).rows[0]!.n);
  const r = await q.query<FlagRow & { id: string; shipmentId: string | null }>(
    `SELECT f.id, f.kind, f.specimen_id AS "specimenId", s.barcode, s.patient_id AS "patientId", f.shipment_id AS "shipmentId", f.hop,
            f.unit, f.detail, f.raised_at AS "raisedAt", f.raised_by AS "raisedBy"
     FROM lab_flag f LEFT JOIN lab_specimen s ON s.id = f.specimen_id ${w}
     ORDER BY f.raised_at DESC, f.id DESC LIMIT $${params.push(f.limit)} OFFSET $${params.push(f.offset)}`,
    params,
  );
  return {
    items: r.rows.map((x) => ({
      ...x,
      id: Number(x.id),
      shipmentId: x.shipmentId === null ? null : Number(x.shipmentId),
      raisedAt: date(x.raisedAt),
    })),
    total,
  };
}

export interface DashboardRows {
  inFlight: { leg: Leg; unit: string; count: number; overdue: number }[];
  breaches: { leg: Leg; unit: string; open: number; total: number }[];
  turnaround: {
    testCode: string;
    lab: string;
    verified: number;
    receiptToResultMedian: number | null;
    receiptToResultP90: number | null;
    collectionToReportMedian: number | null;
    collectionToReportP90: number | null;
  }[];
  rejections: { testCode: string; unit: string; received: number; rejected: number }[];
}

/** The dashboard's aggregates: in flight and breaches now; turnaround and rejections of specimens collected in [from, to). */
export async function dashboardRows(q: Queryable, now: Date, from: Date, to: Date): Promise<DashboardRows> {
  const inFlight = await q.query<{ leg: Leg; unit: string; count: string; overdue: string }>(
    `SELECT leg, leg_unit AS unit, count(*) AS count, count(*) FILTER (WHERE leg_deadline <= $1) AS overdue
     FROM lab_specimen WHERE leg IS NOT NULL GROUP BY leg, leg_unit ORDER BY leg, leg_unit`,
    [now],
  );
  const breaches = await q.query<{ leg: Leg; unit: string; open: string; total: string }>(
    `SELECT leg, unit, count(*) FILTER (WHERE closed_at IS NULL) AS open, count(*) AS total
     FROM lab_breach WHERE detected_at >= $1 GROUP BY leg, unit ORDER BY leg, unit`,
    [from],
  );
  const hours = (a: string, b: string) => `extract(epoch FROM (${b} - ${a})) / 3600.0`;
  const tat = await q.query<{
    testCode: string;
    lab: string;
    verified: string;
    rm: number | null;
    r90: number | null;
    cm: number | null;
    c90: number | null;
  }>(
    `SELECT test_code AS "testCode", lab, count(*) AS verified,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${hours('received_at', 'verified_at')}) AS rm,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${hours('received_at', 'verified_at')}) AS r90,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${hours('collected_at', 'reported_at')}) AS cm,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ${hours('collected_at', 'reported_at')}) AS c90
     FROM lab_specimen WHERE verified_at IS NOT NULL AND collected_at >= $1 AND collected_at < $2
     GROUP BY test_code, lab ORDER BY test_code, lab`,
    [from, to],
  );
  const rej = await q.query<{ testCode: string; unit: string; received: string; rejected: string }>(
    `SELECT test_code AS "testCode", collecting_unit AS unit, count(*) AS received, count(*) FILTER (WHERE state = 'rejected') AS rejected
     FROM lab_specimen WHERE first_received_at IS NOT NULL AND collected_at >= $1 AND collected_at < $2
     GROUP BY test_code, collecting_unit ORDER BY test_code, collecting_unit`,
    [from, to],
  );
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    inFlight: inFlight.rows.map((r) => ({ leg: r.leg, unit: r.unit, count: Number(r.count), overdue: Number(r.overdue) })),
    breaches: breaches.rows.map((r) => ({ leg: r.leg, unit: r.unit, open: Number(r.open), total: Number(r.total) })),
    turnaround: tat.rows.map((r) => ({
      testCode: r.testCode,
      lab: r.lab,
      verified: Number(r.verified),
      receiptToResultMedian: num(r.rm),
      receiptToResultP90: num(r.r90),
      collectionToReportMedian: num(r.cm),
      collectionToReportP90: num(r.c90),
    })),
    rejections: rej.rows.map((r) => ({ testCode: r.testCode, unit: r.unit, received: Number(r.received), rejected: Number(r.rejected) })),
  };
}
