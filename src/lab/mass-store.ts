/** SQL of mass testing: campaigns, registered people, pools and their members, progress by area. */
import type { Queryable } from '../platform/db.js';
import type { Mode } from './codes.js';

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(v as string));

export interface CampaignRow {
  id: number;
  name: string;
  testCode: string;
  mode: Mode;
  orderingUnit: string;
  orderId: string;
  poolSize: number;
  createdAt: Date;
  createdBy: string;
}
const CAMPAIGN_COLUMNS = `id, name, test_code AS "testCode", mode, ordering_unit AS "orderingUnit", order_id AS "orderId", pool_size AS "poolSize",
  created_at AS "createdAt", created_by AS "createdBy"`;
const fixCampaign = (r: CampaignRow): CampaignRow => ({ ...r, id: Number(r.id), createdAt: date(r.createdAt) });

export async function insertCampaign(q: Queryable, c: Omit<CampaignRow, 'id'>): Promise<number> {
  const r = await q.query<{ id: string }>(
    `INSERT INTO lab_mass_campaign (name, test_code, mode, ordering_unit, order_id, pool_size, created_at, created_by)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
    [c.name, c.testCode, c.mode, c.orderingUnit, c.orderId, c.poolSize, c.createdAt, c.createdBy],
  );
  return Number(r.rows[0]!.id);
}

export async function getCampaign(q: Queryable, id: number): Promise<CampaignRow | undefined> {
  const r = await q.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM lab_mass_campaign WHERE id = $1`, [id]);
  return r.rows[0] && fixCampaign(r.rows[0]);
}

export async function listCampaigns(q: Queryable): Promise<CampaignRow[]> {
  const r = await q.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM lab_mass_campaign ORDER BY id DESC LIMIT 200`);
  return r.rows.map(fixCampaign);
}

export interface PersonIn {
  code: string;
  name: string;
  idNumber: string | null;
  phone: string | null;
  areaCode: string;
  patientId: string | null;
}

/** Registers people; answers the codes that were new (a code already registered in the campaign is left as it was). */
export async function insertPeople(q: Queryable, campaignId: number, people: PersonIn[], at: Date, by: string): Promise<Set<string>> {
  const r = await q.query<{ code: string }>(
    `INSERT INTO lab_mass_person (campaign_id, code, name, id_number, phone, area_code, patient_id, registered_at, registered_by)
     SELECT $1, p.code, p.name, p.id_number, p.phone, p.area_code, p.patient_id, $7, $8
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $9::text[]) AS p(code, name, id_number, phone, area_code, patient_id)
     ON CONFLICT (campaign_id, code) DO NOTHING RETURNING code`,
    [
      campaignId,
      people.map((p) => p.code),
      people.map((p) => p.name),
      people.map((p) => p.idNumber),
      people.map((p) => p.phone),
      people.map((p) => p.areaCode),
      at,
      by,
      people.map((p) => p.patientId),
    ],
  );
  return new Set(r.rows.map((x) => x.code));
}

export interface PersonRow extends PersonIn {
  id: number;
  campaignId: number;
}

export async function peopleByCode(q: Queryable, campaignId: number, codes: string[]): Promise<Map<string, PersonRow>> {
  const r = await q.query<PersonRow>(
    `SELECT id, campaign_id AS "campaignId", code, name, id_number AS "idNumber", phone, area_code AS "areaCode", patient_id AS "patientId"
     FROM lab_mass_person WHERE campaign_id = $1 AND code = ANY($2::text[])`,
    [campaignId, codes],
  );
  return new Map(r.rows.map((p) => [p.code, { ...p, id: Number(p.id), campaignId: Number(p.campaignId) }]));
}

export async function setPersonPatient(q: Queryable, personId: number, patientId: string): Promise<void> {
  await q.query('UPDATE lab_mass_person SET patient_id = $2 WHERE id = $1', [personId, patientId]);
}

export interface PoolRow {
  specimenId: string;
  campaignId: number;
  outcome: string | null;
}

export async function insertPool(q: Queryable, specimenId: string, campaignId: number): Promise<void> {
  await q.query('INSERT INTO lab_pool (specimen_id, campaign_id) VALUES ($1, $2)', [specimenId, campaignId]);
}

export async function poolOf(q: Queryable, specimenId: string, forUpdate = false): Promise<PoolRow | undefined> {
  const r = await q.query<PoolRow>(
    `SELECT specimen_id AS "specimenId", campaign_id AS "campaignId", outcome FROM lab_pool WHERE specimen_id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
    [specimenId],
  );
  return r.rows[0] && { ...r.rows[0], campaignId: Number(r.rows[0].campaignId) };
}

export async function setPoolOutcome(q: Queryable, specimenId: string, outcome: string, at: Date): Promise<void> {
  await q.query('UPDATE lab_pool SET outcome = $2, outcome_at = $3 WHERE specimen_id = $1', [specimenId, outcome, at]);
}

export interface MemberRow {
  id: number;
  personId: number;
  code: string;
  name: string;
  idNumber: string | null;
  phone: string | null;
  areaCode: string;
  patientId: string | null;
  tubeBarcode: string | null;
  state: 'pooled' | 'negative' | 'retest';
  retestOrderId: string | null;
  retestResult: string | null;
  retestAt: Date | null;
  addedAt: Date;
}

export async function poolMembers(q: Queryable, specimenId: string): Promise<MemberRow[]> {
  const r = await q.query<MemberRow>(
    `SELECT m.id, m.person_id AS "personId", p.code, p.name, p.id_number AS "idNumber", p.phone, p.area_code AS "areaCode",
            p.patient_id AS "patientId", m.tube_barcode AS "tubeBarcode", m.state, m.retest_order_id AS "retestOrderId",
            m.retest_result AS "retestResult", m.retest_at AS "retestAt", m.added_at AS "addedAt"
     FROM lab_pool_member m JOIN lab_mass_person p ON p.id = m.person_id WHERE m.pool_specimen_id = $1 ORDER BY m.id`,
    [specimenId],
  );
  return r.rows.map((m) => ({
    ...m,
    id: Number(m.id),
    personId: Number(m.personId),
    retestAt: m.retestAt ? date(m.retestAt) : null,
    addedAt: date(m.addedAt),
  }));
}

export async function countMembers(q: Queryable, specimenId: string): Promise<number> {
  const r = await q.query<{ n: string }>('SELECT count(*) AS n FROM lab_pool_member WHERE pool_specimen_id = $1', [specimenId]);
  return Number(r.rows[0]!.n);
}

/** The pools (by barcode) these people are already in, in this campaign. */
export async function poolsOfPeople(q: Queryable, campaignId: number, personIds: number[]): Promise<Map<number, string>> {
  const r = await q.query<{ personId: string; barcode: string }>(
    `SELECT m.person_id AS "personId", s.barcode FROM lab_pool_member m JOIN lab_specimen s ON s.id = m.pool_specimen_id
     WHERE m.campaign_id = $1 AND m.person_id = ANY($2::bigint[])`,
    [campaignId, personIds],
  );
  return new Map(r.rows.map((x) => [Number(x.personId), x.barcode]));
}

/** Member tubes already used anywhere, with the pool (barcode) that holds them. */
export async function tubesTaken(q: Queryable, tubes: string[]): Promise<Map<string, string>> {
  if (!tubes.length) return new Map();
  const r = await q.query<{ tube: string; barcode: string }>(
    `SELECT m.tube_barcode AS tube, s.barcode FROM lab_pool_member m JOIN lab_specimen s ON s.id = m.pool_specimen_id
     WHERE m.tube_barcode = ANY($1::text[])`,
    [tubes],
  );
  return new Map(r.rows.map((x) => [x.tube, x.barcode]));
}

export async function insertMembers(
  q: Queryable,
  specimenId: string,
  campaignId: number,
  members: { personId: number; tubeBarcode: string | null }[],
  at: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO lab_pool_member (pool_specimen_id, campaign_id, person_id, tube_barcode, state, added_at)
     SELECT $1, $2, m.person_id, m.tube, 'pooled', $5 FROM unnest($3::bigint[], $4::text[]) AS m(person_id, tube)`,
    [specimenId, campaignId, members.map((m) => m.personId), members.map((m) => m.tubeBarcode), at],
  );
}

export async function setMembersNegative(q: Queryable, specimenId: string): Promise<number> {
  const r = await q.query(`UPDATE lab_pool_member SET state = 'negative' WHERE pool_specimen_id = $1 AND state = 'pooled'`, [specimenId]);
  return r.rowCount ?? 0;
}

export async function setMemberRetest(q: Queryable, memberId: number, orderId: string): Promise<void> {
  await q.query(`UPDATE lab_pool_member SET state = 'retest', retest_order_id = $2 WHERE id = $1`, [memberId, orderId]);
}

/** An individual re-test's verified result, on the member it was ordered for. */
export async function setRetestResult(q: Queryable, orderId: string, result: string, at: Date): Promise<void> {
  await q.query('UPDATE lab_pool_member SET retest_result = $2, retest_at = $3 WHERE retest_order_id = $1', [orderId, result, at]);
}

export interface AreaProgressRow {
  areaCode: string;
  registered: number;
  sampled: number;
  tested: number;
  negative: number;
  positivePools: number;
  retestOrdered: number;
  retested: number;
  retestPositive: number;
}

/** Progress of a campaign by area: registered, sampled (in a pool), tested (the pool has a verified result), positive pools, re-tests. */
/**
 * Positive (or indeterminate) pools of a campaign, each once. Per area, a pool whose members live
 * in two areas counts in both (it touches both); the campaign's total is not the sum of the areas.
 */
export async function positivePoolCount(q: Queryable, campaignId: number): Promise<number> {
  const r = await q.query<{ n: string }>(
    `SELECT count(DISTINCT pl.specimen_id) AS n
     FROM lab_mass_person p JOIN lab_pool_member m ON m.person_id = p.id JOIN lab_pool pl ON pl.specimen_id = m.pool_specimen_id
     WHERE p.campaign_id = $1 AND pl.outcome IN ('positive', 'indeterminate')`,
    [campaignId],
  );
  return Number(r.rows[0]?.n ?? 0);
}

export async function areaProgress(q: Queryable, campaignId: number): Promise<AreaProgressRow[]> {
  const r = await q.query<Record<keyof AreaProgressRow, string>>(
    `SELECT p.area_code AS "areaCode", count(*) AS registered, count(m.id) AS sampled,
            count(m.id) FILTER (WHERE pl.outcome IS NOT NULL) AS tested,
            count(m.id) FILTER (WHERE m.state = 'negative') AS negative,
            count(DISTINCT pl.specimen_id) FILTER (WHERE pl.outcome IN ('positive', 'indeterminate')) AS "positivePools",
            count(m.id) FILTER (WHERE m.retest_order_id IS NOT NULL) AS "retestOrdered",
            count(m.id) FILTER (WHERE m.retest_result IS NOT NULL) AS retested,
            count(m.id) FILTER (WHERE m.retest_result = 'positive') AS "retestPositive"
     FROM lab_mass_person p
     LEFT JOIN lab_pool_member m ON m.person_id = p.id
     LEFT JOIN lab_pool pl ON pl.specimen_id = m.pool_specimen_id
     WHERE p.campaign_id = $1 GROUP BY p.area_code ORDER BY p.area_code`,
    [campaignId],
  );
  return r.rows.map((x) => ({
    areaCode: x.areaCode,
    registered: Number(x.registered),
    sampled: Number(x.sampled),
    tested: Number(x.tested),
    negative: Number(x.negative),
    positivePools: Number(x.positivePools),
    retestOrdered: Number(x.retestOrdered),
    retested: Number(x.retested),
    retestPositive: Number(x.retestPositive),
  }));
}
