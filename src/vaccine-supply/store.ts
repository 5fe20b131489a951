/**
 * The module's SQL: clinics, fridges and sensors, lots, movements and stock, doses and AEFI copied
 * from FHIR, readings, excursions and alarms. Every function takes the connection it runs on
 * (a transaction's client, or the pool).
 */
import type { Queryable } from '../platform/db.js';
import type { SensorState } from './excursion.js';

// ---------------------------------------------------------------------------------------------
// Rows

export interface ClinicRow {
  code: string;
  name: string;
  kind: 'clinic' | 'cdc-store';
  aliases: string[];
  createdAt: Date;
}
export interface LotRow {
  id: number;
  vaccineCode: string;
  vaccineName: string | null;
  lotNumber: string;
  lotKey: string;
  manufacturer: string | null;
  expiry: string;
  gtin: string | null;
  status: 'active' | 'quarantined';
}
export interface FridgeRow {
  id: string;
  clinicCode: string;
  kind: 'fridge' | 'cold-box';
  name: string;
  createdAt: Date;
}
export interface SensorRow {
  id: string;
  fridgeId: string;
  clinicCode: string;
  fridgeName: string;
  lastAt: Date | null;
  lastCelsius: number | null;
  state: SensorState;
  createdAt: Date;
}
export type MovementKind = 'receipt' | 'transfer-out' | 'transfer-in' | 'dose' | 'discard';
export interface MovementRow {
  id: number;
  kind: MovementKind;
  clinicCode: string;
  lotId: number;
  fridgeId: string | null;
  quantity: number;
  at: Date;
  transferId: number | null;
  counterpart: string | null;
  reason: string | null;
  recordedBy: string;
}
export interface DoseRow {
  immunizationId: string;
  patientId: string | null;
  status: string;
  vaccineCode: string | null;
  vaccineName: string | null;
  lotNumber: string | null;
  lotKey: string | null;
  lotId: number | null;
  clinicCode: string | null;
  place: string | null;
  manufacturer: string | null;
  expirationDate: string | null;
  givenAt: Date | null;
  flags: string[];
}
export interface ExcursionRow {
  id: number;
  sensorId: string;
  fridgeId: string;
  clinicCode: string;
  kind: 'warm' | 'cold' | 'freezing';
  startedAt: Date;
  endedAt: Date | null;
  minCelsius: number;
  maxCelsius: number;
  outsideSeconds: number;
  detectedAt: Date;
}
export interface AlarmRow {
  id: number;
  kind: 'excursion' | 'freezing' | 'sensor-silent';
  sensorId: string;
  fridgeId: string;
  clinicCode: string;
  excursionId: number | null;
  message: string;
  raisedAt: Date;
  level: 'clinic' | 'cdc';
  escalatedAt: Date | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  note: string | null;
  resolvedAt: Date | null;
}
export interface AefiRow {
  adverseEventId: string;
  patientId: string | null;
  immunizationId: string | null;
  occurredAt: Date | null;
  seriousness: string | null;
  description: string | null;
}

const page = (limit: number, offset: number) => `LIMIT ${Math.floor(limit)} OFFSET ${Math.floor(offset)}`;
const day = (d: Date | string) => (typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10));

const LOT_COLS = `id::int AS "id", vaccine_code AS "vaccineCode", vaccine_name AS "vaccineName", lot_number AS "lotNumber",
  lot_key AS "lotKey", manufacturer, to_char(expiry, 'YYYY-MM-DD') AS expiry, gtin, status`;
const MOVE_COLS = `id::int AS "id", kind, clinic_code AS "clinicCode", lot_id::int AS "lotId", fridge_id AS "fridgeId", quantity, at,
  transfer_id::int AS "transferId", counterpart, reason, recorded_by AS "recordedBy"`;
const DOSE_COLS = `immunization_id AS "immunizationId", patient_id AS "patientId", status, vaccine_code AS "vaccineCode",
  vaccine_name AS "vaccineName", lot_number AS "lotNumber", lot_key AS "lotKey", lot_id::int AS "lotId", clinic_code AS "clinicCode",
  place, manufacturer, to_char(expiration_date, 'YYYY-MM-DD') AS "expirationDate", given_at AS "givenAt", flags`;
const EXC_COLS = `id::int AS "id", sensor_id AS "sensorId", fridge_id AS "fridgeId", clinic_code AS "clinicCode", kind,
  started_at AS "startedAt", ended_at AS "endedAt", min_celsius AS "minCelsius", max_celsius AS "maxCelsius",
  outside_seconds AS "outsideSeconds", detected_at AS "detectedAt"`;
const ALARM_COLS = `id::int AS "id", kind, sensor_id AS "sensorId", fridge_id AS "fridgeId", clinic_code AS "clinicCode",
  excursion_id::int AS "excursionId", message, raised_at AS "raisedAt", level, escalated_at AS "escalatedAt",
  acknowledged_at AS "acknowledgedAt", acknowledged_by AS "acknowledgedBy", note, resolved_at AS "resolvedAt"`;

/** Lot numbers are matched upper-cased and trimmed, without inner spaces. */
export const lotKeyOf = (lot: string) => lot.trim().replace(/\s+/g, '').toUpperCase();

async function counted<T extends object>(c: Queryable, sql: string, params: unknown[], limit: number, offset: number) {
  const [rows, total] = await Promise.all([
    c.query<T>(`${sql.replace('__COLS__', '*')}`.replace('__PAGE__', page(limit, offset)), params),
    c.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${sql.replace('__PAGE__', '')}) x`, params),
  ]);
  return { rows: rows.rows, total: total.rows[0]!.n };
}

// ---------------------------------------------------------------------------------------------
// Clinics, fridges, sensors

export async function insertClinic(c: Queryable, b: Omit<ClinicRow, 'createdAt'>, now: Date): Promise<ClinicRow | undefined> {
  const r = await c.query<ClinicRow>(
    `INSERT INTO vs_clinic (code, name, kind, aliases, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
     RETURNING code, name, kind, aliases, created_at AS "createdAt"`,
    [b.code, b.name, b.kind, b.aliases, now],
  );
  if (!r.rows[0]) return undefined;
  const aliases = [...new Set([b.code, ...b.aliases])];
  await c.query(`INSERT INTO vs_clinic_alias (alias, clinic_code) SELECT a, $2 FROM unnest($1::text[]) a ON CONFLICT (alias) DO NOTHING`, [
    aliases,
    b.code,
  ]);
  return r.rows[0];
}
export async function clinicAliasesTaken(c: Queryable, aliases: string[]): Promise<{ alias: string; clinicCode: string }[]> {
  const r = await c.query<{ alias: string; clinicCode: string }>(
    `SELECT alias, clinic_code AS "clinicCode" FROM vs_clinic_alias WHERE alias = ANY($1::text[])`,
    [aliases],
  );
  return r.rows;
}
export async function getClinic(c: Queryable, code: string): Promise<ClinicRow | undefined> {
  const r = await c.query<ClinicRow>(`SELECT code, name, kind, aliases, created_at AS "createdAt" FROM vs_clinic WHERE code = $1`, [code]);
  return r.rows[0];
}
export async function listClinics(c: Queryable, limit: number, offset: number) {
  return counted<ClinicRow>(
    c,
    `SELECT code, name, kind, aliases, created_at AS "createdAt" FROM vs_clinic ORDER BY code __PAGE__`,
    [],
    limit,
    offset,
  );
}
/** The clinic an Immunization's place names (first alias known). */
export async function clinicByAliases(c: Queryable, aliases: string[]): Promise<string | undefined> {
  if (!aliases.length) return undefined;
  const r = await c.query<{ code: string }>(
    `SELECT clinic_code AS code FROM vs_clinic_alias a JOIN unnest($1::text[]) WITH ORDINALITY u(alias, n) USING (alias) ORDER BY n LIMIT 1`,
    [aliases],
  );
  return r.rows[0]?.code;
}

export async function insertFridge(c: Queryable, f: Omit<FridgeRow, 'createdAt'>, sensorIds: string[], now: Date): Promise<boolean> {
  const r = await c.query(
    `INSERT INTO vs_fridge (id, clinic_code, kind, name, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [f.id, f.clinicCode, f.kind, f.name, now],
  );
  if (!r.rowCount) return false;
  if (sensorIds.length)
    await c.query(`INSERT INTO vs_sensor (id, fridge_id, created_at) SELECT s, $2, $3 FROM unnest($1::text[]) s`, [sensorIds, f.id, now]);
  return true;
}
export async function sensorsTaken(c: Queryable, ids: string[]): Promise<string[]> {
  const r = await c.query<{ id: string }>(`SELECT id FROM vs_sensor WHERE id = ANY($1::text[])`, [ids]);
  return r.rows.map((x) => x.id);
}
export async function getFridge(c: Queryable, id: string): Promise<FridgeRow | undefined> {
  const r = await c.query<FridgeRow>(
    `SELECT id, clinic_code AS "clinicCode", kind, name, created_at AS "createdAt" FROM vs_fridge WHERE id = $1`,
    [id],
  );
  return r.rows[0];
}
export async function listFridges(c: Queryable, clinic: string | undefined, limit: number, offset: number) {
  return counted<FridgeRow>(
    c,
    `SELECT id, clinic_code AS "clinicCode", kind, name, created_at AS "createdAt" FROM vs_fridge
     WHERE ($1::text IS NULL OR clinic_code = $1) ORDER BY clinic_code, id __PAGE__`,
    [clinic ?? null],
    limit,
    offset,
  );
}
export async function sensorsOfFridges(c: Queryable, fridgeIds: string[]): Promise<SensorRow[]> {
  const r = await c.query<SensorRow>(
    `SELECT s.id, s.fridge_id AS "fridgeId", f.clinic_code AS "clinicCode", f.name AS "fridgeName", s.last_at AS "lastAt",
            s.last_celsius AS "lastCelsius", s.state, s.created_at AS "createdAt"
     FROM vs_sensor s JOIN vs_fridge f ON f.id = s.fridge_id WHERE s.fridge_id = ANY($1::text[]) ORDER BY s.id`,
    [fridgeIds],
  );
  return r.rows;
}
/** The sensors named, locked for their detector's update (in id order: no deadlock between two batches). */
export async function lockSensors(c: Queryable, ids: string[]): Promise<SensorRow[]> {
  const r = await c.query<SensorRow>(
    `SELECT s.id, s.fridge_id AS "fridgeId", f.clinic_code AS "clinicCode", f.name AS "fridgeName", s.last_at AS "lastAt",
            s.last_celsius AS "lastCelsius", s.state, s.created_at AS "createdAt"
     FROM vs_sensor s JOIN vs_fridge f ON f.id = s.fridge_id WHERE s.id = ANY($1::text[]) ORDER BY s.id FOR UPDATE OF s`,
    [ids],
  );
  return r.rows;
}
export async function saveSensors(c: Queryable, rows: { id: string; lastAt: Date; lastCelsius: number; state: SensorState }[]) {
  if (!rows.length) return;
  await c.query(
    `UPDATE vs_sensor s SET last_at = u.last_at, last_celsius = u.c, state = u.state
     FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::jsonb[]) AS u(id, last_at, c, state) WHERE s.id = u.id`,
    [rows.map((r) => r.id), rows.map((r) => r.lastAt), rows.map((r) => r.lastCelsius), rows.map((r) => JSON.stringify(r.state))],
  );
}

// ---------------------------------------------------------------------------------------------
// Lots, movements, stock

export async function getLot(c: Queryable, id: number): Promise<LotRow | undefined> {
  const r = await c.query<LotRow>(`SELECT ${LOT_COLS} FROM vs_lot WHERE id = $1`, [id]);
  return r.rows[0];
}
export async function lotsByKey(c: Queryable, lotKey: string): Promise<LotRow[]> {
  const r = await c.query<LotRow>(`SELECT ${LOT_COLS} FROM vs_lot WHERE lot_key = $1 ORDER BY id`, [lotKey]);
  return r.rows;
}
export async function lotsByIds(c: Queryable, ids: number[]): Promise<LotRow[]> {
  const r = await c.query<LotRow>(`SELECT ${LOT_COLS} FROM vs_lot WHERE id = ANY($1::bigint[]) ORDER BY id`, [ids]);
  return r.rows;
}
export async function findLot(c: Queryable, vaccineCode: string, lotKey: string): Promise<LotRow | undefined> {
  const r = await c.query<LotRow>(`SELECT ${LOT_COLS} FROM vs_lot WHERE vaccine_code = $1 AND lot_key = $2`, [vaccineCode, lotKey]);
  return r.rows[0];
}
export async function insertLot(c: Queryable, l: Omit<LotRow, 'id' | 'status'>, now: Date): Promise<LotRow> {
  const r = await c.query<LotRow>(
    `INSERT INTO vs_lot (vaccine_code, vaccine_name, lot_number, lot_key, manufacturer, expiry, gtin, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (vaccine_code, lot_key) DO UPDATE SET vaccine_code = EXCLUDED.vaccine_code
     RETURNING ${LOT_COLS}`,
    [l.vaccineCode, l.vaccineName, l.lotNumber, l.lotKey, l.manufacturer, l.expiry, l.gtin, now],
  );
  return r.rows[0]!;
}
export async function fillLot(c: Queryable, id: number, f: { vaccineName?: string; manufacturer?: string; gtin?: string }) {
  await c.query(
    `UPDATE vs_lot SET vaccine_name = coalesce(vaccine_name, $2), manufacturer = coalesce(manufacturer, $3), gtin = coalesce(gtin, $4)
     WHERE id = $1`,
    [id, f.vaccineName ?? null, f.manufacturer ?? null, f.gtin ?? null],
  );
}
export async function setLotStatus(c: Queryable, id: number, status: string): Promise<boolean> {
  return !!(await c.query(`UPDATE vs_lot SET status = $2 WHERE id = $1`, [id, status])).rowCount;
}
export async function listLots(c: Queryable, q: { vaccine?: string; lotNumber?: string }, limit: number, offset: number) {
  return counted<LotRow>(
    c,
    `SELECT ${LOT_COLS} FROM vs_lot WHERE ($1::text IS NULL OR vaccine_code = $1) AND ($2::text IS NULL OR lot_key LIKE $2 || '%')
     ORDER BY expiry, id __PAGE__`,
    [q.vaccine ?? null, q.lotNumber ? lotKeyOf(q.lotNumber) : null],
    limit,
    offset,
  );
}

export interface NewMovement {
  kind: MovementKind;
  clinicCode: string;
  lotId: number;
  fridgeId: string | null;
  quantity: number;
  at: Date;
  transferId?: number | null;
  counterpart?: string | null;
  immunizationId?: string | null;
  reason?: string | null;
  recordedBy: string;
}

/** Appends one movement and moves the stock of its clinic × lot × fridge by its quantity. */
export async function addMovement(c: Queryable, m: NewMovement, now: Date): Promise<MovementRow> {
  const r = await c.query<MovementRow>(
    `INSERT INTO vs_movement (kind, clinic_code, lot_id, fridge_id, quantity, at, transfer_id, counterpart, immunization_id, reason,
       recorded_at, recorded_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${MOVE_COLS}`,
    [
      m.kind,
      m.clinicCode,
      m.lotId,
      m.fridgeId,
      m.quantity,
      m.at,
      m.transferId ?? null,
      m.counterpart ?? null,
      m.immunizationId ?? null,
      m.reason ?? null,
      now,
      m.recordedBy,
    ],
  );
  await moveStock(c, m.clinicCode, m.lotId, m.fridgeId, m.quantity);
  return r.rows[0]!;
}
async function moveStock(c: Queryable, clinic: string, lotId: number, fridgeId: string | null, delta: number) {
  await c.query(
    `INSERT INTO vs_stock (clinic_code, lot_id, fridge_id, quantity) VALUES ($1, $2, $3, $4)
     ON CONFLICT (clinic_code, lot_id, fridge_id) DO UPDATE SET quantity = vs_stock.quantity + EXCLUDED.quantity`,
    [clinic, lotId, fridgeId ?? '', delta],
  );
}
export async function nextTransferId(c: Queryable): Promise<number> {
  const r = await c.query<{ n: number }>(`SELECT coalesce(max(transfer_id), 0)::int + 1 AS n FROM vs_movement`);
  return r.rows[0]!.n;
}
/** Stock of one lot at a clinic, per fridge ('' = none), fullest first; locked for the movement. */
export async function stockOf(c: Queryable, clinic: string, lotId: number): Promise<{ fridgeId: string; quantity: number }[]> {
  const r = await c.query<{ fridgeId: string; quantity: number }>(
    `SELECT fridge_id AS "fridgeId", quantity FROM vs_stock WHERE clinic_code = $1 AND lot_id = $2 ORDER BY quantity DESC, fridge_id FOR UPDATE`,
    [clinic, lotId],
  );
  return r.rows;
}
/** Removes a dose's movement (the Immunization changed or was withdrawn), giving its quantity back. */
export async function removeDoseMovement(c: Queryable, immunizationId: string): Promise<void> {
  const r = await c.query<{ clinic: string; lot: number; fridge: string | null; q: number }>(
    `DELETE FROM vs_movement WHERE kind = 'dose' AND immunization_id = $1
     RETURNING clinic_code AS clinic, lot_id::int AS lot, fridge_id AS fridge, quantity AS q`,
    [immunizationId],
  );
  for (const m of r.rows) await moveStock(c, m.clinic, m.lot, m.fridge, -m.q);
}
export async function movementsOfLot(c: Queryable, lotId: number, kinds: MovementKind[]): Promise<MovementRow[]> {
  const r = await c.query<MovementRow>(
    `SELECT ${MOVE_COLS} FROM vs_movement WHERE lot_id = $1 AND kind = ANY($2::text[]) ORDER BY at, id`,
    [lotId, kinds],
  );
  return r.rows;
}
export async function clinicSummaryOfLot(c: Queryable, lotId: number) {
  const r = await c.query<{ clinicCode: string; received: number; dosesGiven: number; inStock: number }>(
    `SELECT m.clinic_code AS "clinicCode",
            coalesce(sum(m.quantity) FILTER (WHERE m.kind IN ('receipt', 'transfer-in')), 0)::int AS received,
            coalesce(-sum(m.quantity) FILTER (WHERE m.kind = 'dose'), 0)::int AS "dosesGiven",
            (SELECT coalesce(sum(s.quantity), 0)::int FROM vs_stock s WHERE s.clinic_code = m.clinic_code AND s.lot_id = $1) AS "inStock"
     FROM vs_movement m WHERE m.lot_id = $1 GROUP BY m.clinic_code ORDER BY m.clinic_code`,
    [lotId],
  );
  return r.rows;
}
/** The stays of a lot in fridges: from the first vials in to the last out (NULL: still there). */
export async function fridgeStaysOfLot(c: Queryable, lotId: number) {
  const r = await c.query<{ fridgeId: string; clinicCode: string; from: Date; to: Date | null }>(
    `SELECT fridge_id AS "fridgeId", min(clinic_code) AS "clinicCode", min(at) FILTER (WHERE quantity > 0) AS "from",
            CASE WHEN sum(quantity) > 0 THEN NULL ELSE max(at) END AS "to"
     FROM vs_movement WHERE lot_id = $1 AND fridge_id IS NOT NULL GROUP BY fridge_id HAVING min(at) FILTER (WHERE quantity > 0) IS NOT NULL
     ORDER BY 3`,
    [lotId],
  );
  return r.rows;
}

export interface StockAgg {
  clinicCode: string;
  lot: LotRow;
  quantity: number;
  fridges: { fridgeId: string | null; quantity: number }[];
}
export async function listStock(
  c: Queryable,
  q: { clinic?: string; vaccine?: string; lotId?: number; empty?: boolean },
  limit: number,
  offset: number,
) {
  const sql = `SELECT s.clinic_code AS "clinicCode", s.lot_id::int AS "lotId", sum(s.quantity)::int AS quantity,
         json_agg(json_build_object('fridgeId', nullif(s.fridge_id, ''), 'quantity', s.quantity) ORDER BY s.fridge_id) AS fridges,
         min(l.expiry) AS expiry
       FROM vs_stock s JOIN vs_lot l ON l.id = s.lot_id
       WHERE ($1::text IS NULL OR s.clinic_code = $1) AND ($2::text IS NULL OR l.vaccine_code = $2) AND ($3::bigint IS NULL OR s.lot_id = $3)
       GROUP BY s.clinic_code, s.lot_id HAVING $4::boolean OR sum(s.quantity) <> 0
       ORDER BY s.clinic_code, min(l.expiry), s.lot_id __PAGE__`;
  const { rows, total } = await counted<{
    clinicCode: string;
    lotId: number;
    quantity: number;
    fridges: { fridgeId: string | null; quantity: number }[];
  }>(c, sql, [q.clinic ?? null, q.vaccine ?? null, q.lotId ?? null, q.empty ?? false], limit, offset);
  const lots = new Map((await lotsByIds(c, [...new Set(rows.map((r) => r.lotId))])).map((l) => [l.id, l]));
  return {
    rows: rows.map((r) => ({ clinicCode: r.clinicCode, lot: lots.get(r.lotId)!, quantity: r.quantity, fridges: r.fridges })),
    total,
  };
}

/** Stock totals per clinic × lot (for the warnings), optionally of one clinic. */
export async function stockTotals(
  c: Queryable,
  clinic: string | undefined,
): Promise<{ clinicCode: string; lot: LotRow; quantity: number }[]> {
  const r = await c.query<{ clinicCode: string; lotId: number; quantity: number }>(
    `SELECT clinic_code AS "clinicCode", lot_id::int AS "lotId", sum(quantity)::int AS quantity FROM vs_stock
     WHERE ($1::text IS NULL OR clinic_code = $1) GROUP BY clinic_code, lot_id HAVING sum(quantity) <> 0 ORDER BY 1, 2`,
    [clinic ?? null],
  );
  const lots = new Map((await lotsByIds(c, [...new Set(r.rows.map((x) => x.lotId))])).map((l) => [l.id, l]));
  return r.rows.map((x) => ({ clinicCode: x.clinicCode, lot: lots.get(x.lotId)!, quantity: x.quantity }));
}
export async function clinicCodes(c: Queryable, clinic: string | undefined): Promise<string[]> {
  const r = await c.query<{ code: string }>(
    `SELECT code FROM vs_clinic WHERE kind = 'clinic' AND ($1::text IS NULL OR code = $1) ORDER BY code`,
    [clinic ?? null],
  );
  return r.rows.map((x) => x.code);
}
/** Vaccines a clinic has ever stocked (for the minimum-stock warning). */
export async function vaccinesStocked(c: Queryable, clinic: string | undefined) {
  const r = await c.query<{ clinicCode: string; vaccineCode: string; quantity: number }>(
    `SELECT s.clinic_code AS "clinicCode", l.vaccine_code AS "vaccineCode", sum(s.quantity)::int AS quantity
     FROM vs_stock s JOIN vs_lot l ON l.id = s.lot_id JOIN vs_clinic k ON k.code = s.clinic_code AND k.kind = 'clinic'
     WHERE ($1::text IS NULL OR s.clinic_code = $1) GROUP BY 1, 2 ORDER BY 1, 2`,
    [clinic ?? null],
  );
  return r.rows;
}

// ---------------------------------------------------------------------------------------------
// Doses and AEFI (the processor)

export async function getDose(c: Queryable, immunizationId: string): Promise<DoseRow | undefined> {
  const r = await c.query<DoseRow>(`SELECT ${DOSE_COLS} FROM vs_dose WHERE immunization_id = $1`, [immunizationId]);
  return r.rows[0];
}
export async function upsertDose(c: Queryable, d: DoseRow, now: Date): Promise<void> {
  await c.query(
    `INSERT INTO vs_dose (immunization_id, patient_id, status, vaccine_code, vaccine_name, lot_number, lot_key, lot_id, clinic_code, place,
       manufacturer, expiration_date, given_at, flags, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (immunization_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, status = EXCLUDED.status,
       vaccine_code = EXCLUDED.vaccine_code, vaccine_name = EXCLUDED.vaccine_name, lot_number = EXCLUDED.lot_number,
       lot_key = EXCLUDED.lot_key, lot_id = EXCLUDED.lot_id, clinic_code = EXCLUDED.clinic_code, place = EXCLUDED.place,
       manufacturer = EXCLUDED.manufacturer, expiration_date = EXCLUDED.expiration_date, given_at = EXCLUDED.given_at,
       flags = EXCLUDED.flags, updated_at = EXCLUDED.updated_at`,
    [
      d.immunizationId,
      d.patientId,
      d.status,
      d.vaccineCode,
      d.vaccineName,
      d.lotNumber,
      d.lotKey,
      d.lotId,
      d.clinicCode,
      d.place,
      d.manufacturer,
      d.expirationDate,
      d.givenAt,
      d.flags,
      now,
    ],
  );
}
export async function deleteDose(c: Queryable, immunizationId: string): Promise<void> {
  await c.query(`DELETE FROM vs_dose WHERE immunization_id = $1`, [immunizationId]);
}
export async function listDoses(c: Queryable, q: { clinic?: string; lotId?: number; flagged?: boolean }, limit: number, offset: number) {
  return counted<DoseRow>(
    c,
    `SELECT ${DOSE_COLS} FROM vs_dose WHERE ($1::text IS NULL OR clinic_code = $1) AND ($2::bigint IS NULL OR lot_id = $2)
       AND (NOT $3::boolean OR flags <> '{}') ORDER BY given_at DESC NULLS LAST, immunization_id __PAGE__`,
    [q.clinic ?? null, q.lotId ?? null, q.flagged ?? false],
    limit,
    offset,
  );
}
export async function flaggedDoses(c: Queryable, clinic: string | undefined, max: number): Promise<DoseRow[]> {
  const r = await c.query<DoseRow>(
    `SELECT ${DOSE_COLS} FROM vs_dose WHERE flags <> '{}' AND status = 'completed' AND ($1::text IS NULL OR clinic_code = $1)
     ORDER BY updated_at DESC LIMIT ${Math.floor(max)}`,
    [clinic ?? null],
  );
  return r.rows;
}
export async function upsertAefi(c: Queryable, a: AefiRow & { lotKey: string | null; lotId: number | null }, now: Date) {
  await c.query(
    `INSERT INTO vs_aefi (adverse_event_id, patient_id, immunization_id, lot_key, lot_id, occurred_at, seriousness, description, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (adverse_event_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, immunization_id = EXCLUDED.immunization_id,
       lot_key = EXCLUDED.lot_key, lot_id = EXCLUDED.lot_id, occurred_at = EXCLUDED.occurred_at, seriousness = EXCLUDED.seriousness,
       description = EXCLUDED.description, updated_at = EXCLUDED.updated_at`,
    [a.adverseEventId, a.patientId, a.immunizationId, a.lotKey, a.lotId, a.occurredAt, a.seriousness, a.description, now],
  );
}
export async function deleteAefi(c: Queryable, id: string) {
  await c.query(`DELETE FROM vs_aefi WHERE adverse_event_id = $1`, [id]);
}
export async function aefiOfLot(c: Queryable, lot: LotRow): Promise<AefiRow[]> {
  const r = await c.query<AefiRow>(
    `SELECT adverse_event_id AS "adverseEventId", patient_id AS "patientId", immunization_id AS "immunizationId",
            occurred_at AS "occurredAt", seriousness, description
     FROM vs_aefi WHERE lot_id = $1 OR (lot_id IS NULL AND lot_key = $2) ORDER BY occurred_at NULLS LAST, adverse_event_id`,
    [lot.id, lot.lotKey],
  );
  return r.rows;
}
/**
 * Links doses and AEFI that named a lot before it was registered (a receipt entered late): the
 * doses take their dose from the clinic's stock now (their `unstocked-lot` flag stays: when given,
 * the clinic had no stock of it on record).
 */
export async function linkLotKey(c: Queryable, lot: LotRow, now: Date): Promise<number> {
  await c.query(`UPDATE vs_aefi SET lot_id = $1 WHERE lot_id IS NULL AND lot_key = $2`, [lot.id, lot.lotKey]);
  const r = await c.query<{ id: string; clinic: string | null; at: Date | null; status: string }>(
    `UPDATE vs_dose SET lot_id = $1 WHERE lot_id IS NULL AND lot_key = $2
     RETURNING immunization_id AS id, clinic_code AS clinic, given_at AS at, status`,
    [lot.id, lot.lotKey],
  );
  let n = 0;
  for (const d of r.rows) {
    if (d.status !== 'completed' || !d.clinic) continue;
    await addMovement(
      c,
      {
        kind: 'dose',
        clinicCode: d.clinic,
        lotId: lot.id,
        fridgeId: null,
        quantity: -1,
        at: d.at ?? now,
        immunizationId: d.id,
        recordedBy: 'fhir',
      },
      now,
    );
    n++;
  }
  return n;
}

/** Doses of some lots given at some clinics at or after a time (the recall list), paged. */
export async function dosesOfLotsSince(
  c: Queryable,
  q: { lotIds: number[]; clinics: string[] | null; since: Date | null },
  limit: number,
  offset: number,
) {
  return counted<DoseRow>(
    c,
    `SELECT ${DOSE_COLS} FROM vs_dose WHERE lot_id = ANY($1::bigint[]) AND status = 'completed' AND patient_id IS NOT NULL
       AND ($2::text[] IS NULL OR clinic_code = ANY($2::text[])) AND ($3::timestamptz IS NULL OR given_at >= $3)
     ORDER BY given_at, immunization_id __PAGE__`,
    [q.lotIds, q.clinics, q.since],
    limit,
    offset,
  );
}
export async function doseCountsOfLots(c: Queryable, q: { lotIds: number[]; clinics: string[] | null; since: Date | null }) {
  const r = await c.query<{ lotId: number; n: number }>(
    `SELECT lot_id::int AS "lotId", count(*)::int AS n FROM vs_dose WHERE lot_id = ANY($1::bigint[]) AND status = 'completed'
       AND patient_id IS NOT NULL AND ($2::text[] IS NULL OR clinic_code = ANY($2::text[])) AND ($3::timestamptz IS NULL OR given_at >= $3)
     GROUP BY lot_id`,
    [q.lotIds, q.clinics, q.since],
  );
  return new Map(r.rows.map((x) => [x.lotId, x.n]));
}
export async function countDosesOfLot(c: Queryable, lotId: number): Promise<number> {
  const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM vs_dose WHERE lot_id = $1 AND status = 'completed'`, [lotId]);
  return r.rows[0]!.n;
}

/**
 * The lots in a fridge during [from, to]: those with vials in it when it began (the fridge's
 * balance of the lot before `from` above 0) and those that came in during it.
 */
export async function lotsInFridge(c: Queryable, fridgeId: string, from: Date, to: Date): Promise<number[]> {
  const r = await c.query<{ lotId: number }>(
    `SELECT lot_id::int AS "lotId" FROM vs_movement WHERE fridge_id = $1 AND at < $2 GROUP BY lot_id HAVING sum(quantity) > 0
     UNION
     SELECT DISTINCT lot_id::int FROM vs_movement WHERE fridge_id = $1 AND at >= $2 AND at <= $3 AND quantity > 0
     ORDER BY 1`,
    [fridgeId, from, to],
  );
  return r.rows.map((x) => x.lotId);
}
/** Clinics a clinic passed these lots on to at or after a time (the affected vials may have gone there). */
export async function clinicsSentTo(c: Queryable, clinic: string, lotIds: number[], since: Date): Promise<string[]> {
  const r = await c.query<{ code: string }>(
    `SELECT DISTINCT clinic_code AS code FROM vs_movement WHERE kind = 'transfer-in' AND counterpart = $1 AND lot_id = ANY($2::bigint[])
       AND at >= $3`,
    [clinic, lotIds, since],
  );
  return r.rows.map((x) => x.code);
}

// ---------------------------------------------------------------------------------------------
// Readings, excursions, alarms

/** Inserts readings; a duplicate (sensor, time) is dropped. Returns the ones stored. */
export async function insertReadings(
  c: Queryable,
  rows: { sensorId: string; at: Date; celsius: number }[],
  now: Date,
): Promise<{ sensorId: string; at: Date; celsius: number }[]> {
  if (!rows.length) return [];
  const r = await c.query<{ sensorId: string; at: Date; celsius: number }>(
    `INSERT INTO vs_reading (sensor_id, at, celsius, received_at)
     SELECT s, a, t, $4 FROM unnest($1::text[], $2::timestamptz[], $3::float8[]) AS u(s, a, t)
     ON CONFLICT (sensor_id, at) DO NOTHING RETURNING sensor_id AS "sensorId", at, celsius`,
    [rows.map((x) => x.sensorId), rows.map((x) => x.at), rows.map((x) => x.celsius), now],
  );
  return r.rows;
}
export async function insertUnknownReadings(
  c: Queryable,
  rows: { sensorId: string; at: Date | null; celsius: number | null; raw: string | null }[],
  now: Date,
): Promise<void> {
  if (!rows.length) return;
  await c.query(
    `INSERT INTO vs_reading_unknown (sensor_id, at, celsius, raw, received_at)
     SELECT s, a, t, w, $5 FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::text[]) AS u(s, a, t, w)`,
    [rows.map((x) => x.sensorId), rows.map((x) => x.at), rows.map((x) => x.celsius), rows.map((x) => x.raw), now],
  );
}
export async function listReadings(c: Queryable, sensorId: string, from: Date | null, to: Date | null, limit: number, offset: number) {
  return counted<{ at: Date; celsius: number }>(
    c,
    `SELECT at, celsius FROM vs_reading WHERE sensor_id = $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
     ORDER BY at DESC __PAGE__`,
    [sensorId, from, to],
    limit,
    offset,
  );
}
export async function sensorExists(c: Queryable, id: string): Promise<boolean> {
  return !!(await c.query(`SELECT 1 FROM vs_sensor WHERE id = $1`, [id])).rows.length;
}

export async function insertExcursion(c: Queryable, e: Omit<ExcursionRow, 'id' | 'endedAt'>): Promise<number> {
  const r = await c.query<{ id: number }>(
    `INSERT INTO vs_excursion (sensor_id, fridge_id, clinic_code, kind, started_at, min_celsius, max_celsius, outside_seconds, detected_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id::int AS id`,
    [e.sensorId, e.fridgeId, e.clinicCode, e.kind, e.startedAt, e.minCelsius, e.maxCelsius, e.outsideSeconds, e.detectedAt],
  );
  return r.rows[0]!.id;
}
export async function updateExcursion(
  c: Queryable,
  id: number,
  u: { kind: string; minCelsius: number; maxCelsius: number; outsideSeconds: number; endedAt: Date | null },
) {
  await c.query(
    `UPDATE vs_excursion SET kind = $2, min_celsius = $3, max_celsius = $4, outside_seconds = $5, ended_at = $6 WHERE id = $1`,
    [id, u.kind, u.minCelsius, u.maxCelsius, u.outsideSeconds, u.endedAt],
  );
}
export async function getExcursion(c: Queryable, id: number): Promise<ExcursionRow | undefined> {
  const r = await c.query<ExcursionRow>(`SELECT ${EXC_COLS} FROM vs_excursion WHERE id = $1`, [id]);
  return r.rows[0];
}
export async function listExcursions(c: Queryable, q: { fridge?: string; clinic?: string; open?: boolean }, limit: number, offset: number) {
  return counted<ExcursionRow>(
    c,
    `SELECT ${EXC_COLS} FROM vs_excursion WHERE ($1::text IS NULL OR fridge_id = $1) AND ($2::text IS NULL OR clinic_code = $2)
       AND ($3::boolean IS NULL OR (ended_at IS NULL) = $3) ORDER BY started_at DESC, id DESC __PAGE__`,
    [q.fridge ?? null, q.clinic ?? null, q.open ?? null],
    limit,
    offset,
  );
}
export async function excursionsOfFridge(c: Queryable, fridgeId: string, from: Date, to: Date | null): Promise<ExcursionRow[]> {
  const r = await c.query<ExcursionRow>(
    `SELECT ${EXC_COLS} FROM vs_excursion WHERE fridge_id = $1 AND coalesce(ended_at, 'infinity') >= $2
       AND ($3::timestamptz IS NULL OR started_at <= $3) ORDER BY started_at`,
    [fridgeId, from, to],
  );
  return r.rows;
}

export async function insertAlarm(
  c: Queryable,
  a: Pick<AlarmRow, 'kind' | 'sensorId' | 'fridgeId' | 'clinicCode' | 'excursionId' | 'message' | 'raisedAt'>,
): Promise<number | undefined> {
  const r = await c.query<{ id: number }>(
    `INSERT INTO vs_alarm (kind, sensor_id, fridge_id, clinic_code, excursion_id, message, raised_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sensor_id) WHERE kind = 'sensor-silent' AND resolved_at IS NULL DO NOTHING
     RETURNING id::int AS id`,
    [a.kind, a.sensorId, a.fridgeId, a.clinicCode, a.excursionId, a.message, a.raisedAt],
  );
  return r.rows[0]?.id;
}
export async function resolveAlarms(c: Queryable, where: { excursionId?: number; silentSensors?: string[] }, at: Date): Promise<void> {
  if (where.excursionId !== undefined)
    await c.query(`UPDATE vs_alarm SET resolved_at = $2 WHERE excursion_id = $1 AND resolved_at IS NULL`, [where.excursionId, at]);
  if (where.silentSensors?.length)
    await c.query(
      `UPDATE vs_alarm SET resolved_at = $2 WHERE kind = 'sensor-silent' AND resolved_at IS NULL AND sensor_id = ANY($1::text[])`,
      [where.silentSensors, at],
    );
}
export async function silentCandidates(c: Queryable, before: Date): Promise<SensorRow[]> {
  const r = await c.query<SensorRow>(
    `SELECT s.id, s.fridge_id AS "fridgeId", f.clinic_code AS "clinicCode", f.name AS "fridgeName", s.last_at AS "lastAt",
            s.last_celsius AS "lastCelsius", '{}'::jsonb AS state, s.created_at AS "createdAt"
     FROM vs_sensor s JOIN vs_fridge f ON f.id = s.fridge_id
     WHERE coalesce(s.last_at, s.created_at) < $1
       AND NOT EXISTS (SELECT 1 FROM vs_alarm a WHERE a.sensor_id = s.id AND a.kind = 'sensor-silent' AND a.resolved_at IS NULL)
     ORDER BY s.id LIMIT 5000`,
    [before],
  );
  return r.rows;
}
export async function escalateAlarms(c: Queryable, before: Date, now: Date): Promise<AlarmRow[]> {
  const r = await c.query<AlarmRow>(
    `UPDATE vs_alarm SET level = 'cdc', escalated_at = $2
     WHERE acknowledged_at IS NULL AND escalated_at IS NULL AND raised_at <= $1 RETURNING ${ALARM_COLS}`,
    [before, now],
  );
  return r.rows;
}
export async function acknowledgeAlarm(c: Queryable, id: number, by: string, note: string | null, at: Date): Promise<AlarmRow | undefined> {
  const r = await c.query<AlarmRow>(
    `UPDATE vs_alarm SET acknowledged_at = coalesce(acknowledged_at, $3), acknowledged_by = coalesce(acknowledged_by, $2),
       note = coalesce($4, note) WHERE id = $1 RETURNING ${ALARM_COLS}`,
    [id, by, at, note],
  );
  return r.rows[0];
}
export async function getAlarm(c: Queryable, id: number): Promise<AlarmRow | undefined> {
  const r = await c.query<AlarmRow>(`SELECT ${ALARM_COLS} FROM vs_alarm WHERE id = $1`, [id]);
  return r.rows[0];
}
export async function listAlarms(
  c: Queryable,
  q: { clinic?: string; kind?: string; level?: string; open?: boolean },
  limit: number,
  offset: number,
) {
  return counted<AlarmRow>(
    c,
    `SELECT ${ALARM_COLS} FROM vs_alarm WHERE ($1::text IS NULL OR clinic_code = $1) AND ($2::text IS NULL OR kind = $2)
       AND ($3::text IS NULL OR level = $3) AND ($4::boolean IS NULL OR (acknowledged_at IS NULL) = $4)
     ORDER BY raised_at DESC, id DESC __PAGE__`,
    [q.clinic ?? null, q.kind ?? null, q.level ?? null, q.open ?? null],
    limit,
    offset,
  );
}

export { day };

export async function vaccineOfGtin(c: Queryable, gtin: string): Promise<string | undefined> {
  const r = await c.query<{ v: string }>(`SELECT vaccine_code AS v FROM vs_lot WHERE gtin = $1 ORDER BY id DESC LIMIT 1`, [gtin]);
  return r.rows[0]?.v;
}
