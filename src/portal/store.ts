/**
 * The portal's SQL: its own portal_* tables, and the one read of the FHIR audit trail behind
 * "who read my record" (r_auditevent with each event's content from history).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Database } from '../platform/db.js';

/** The Database itself or a transaction's client. */
type Q = Pick<Database, 'query'>;
const iso = (d: Date) => d.toISOString();

// ---- sign-in codes and lockout ---------------------------------------------------------------

export interface CodeRow {
  id: string;
  salt: string;
  code_hash: string;
  patient_ids: string[];
  display_name: string | null;
  created_at: Date;
}

export async function lockOf(db: Q, idHash: string): Promise<{ failures: number; locked_until: Date | null } | undefined> {
  const r = await db.query<{ failures: number; locked_until: Date | null }>(
    'SELECT failures, locked_until FROM portal_login_lock WHERE id_hash = $1',
    [idHash],
  );
  return r.rows[0];
}

/** Counts a wrong code; locks the number when the count reaches `max` (and starts it afresh). */
export async function countWrongCode(db: Q, idHash: string, max: number, lockUntil: Date): Promise<{ failures: number; locked: boolean }> {
  const r = await db.query<{ failures: number; locked_until: Date | null }>(
    `INSERT INTO portal_login_lock (id_hash, failures) VALUES ($1, 1)
     ON CONFLICT (id_hash) DO UPDATE SET failures = portal_login_lock.failures + 1
     RETURNING failures, locked_until`,
    [idHash],
  );
  const failures = r.rows[0]!.failures;
  if (failures < max) return { failures, locked: false };
  await db.query('UPDATE portal_login_lock SET failures = 0, locked_until = $2 WHERE id_hash = $1', [idHash, iso(lockUntil)]);
  return { failures, locked: true };
}

/** Counts a code request from an address; returns the count in the current window. */
export async function countAddressRequest(
  db: Q,
  address: string,
  now: Date,
  windowMs: number,
): Promise<{ requests: number; windowStart: Date }> {
  const r = await db.query<{ requests: number; window_start: Date }>(
    `INSERT INTO portal_address_throttle (address, window_start, requests) VALUES ($1, $2, 1)
     ON CONFLICT (address) DO UPDATE SET
       requests = CASE WHEN portal_address_throttle.window_start <= $3 THEN 1 ELSE portal_address_throttle.requests + 1 END,
       window_start = CASE WHEN portal_address_throttle.window_start <= $3 THEN EXCLUDED.window_start ELSE portal_address_throttle.window_start END
     RETURNING requests, window_start`,
    [address.slice(0, 64), iso(now), iso(new Date(now.getTime() - windowMs))],
  );
  return { requests: r.rows[0]!.requests, windowStart: new Date(r.rows[0]!.window_start) };
}

export async function clearLock(db: Q, idHash: string): Promise<void> {
  await db.query('DELETE FROM portal_login_lock WHERE id_hash = $1', [idHash]);
}

export async function lastCodeAt(db: Q, pairHash: string): Promise<Date | undefined> {
  const r = await db.query<{ created_at: Date }>(
    'SELECT created_at FROM portal_login_code WHERE pair_hash = $1 ORDER BY created_at DESC LIMIT 1',
    [pairHash],
  );
  return r.rows[0]?.created_at;
}

export async function insertCode(
  db: Q,
  row: { pairHash: string; salt: string; codeHash: string; patientIds: string[]; displayName: string | null; expiresAt: Date },
): Promise<void> {
  // A new code replaces the ones before it.
  await db.query('UPDATE portal_login_code SET used_at = now() WHERE pair_hash = $1 AND used_at IS NULL', [row.pairHash]);
  await db.query(
    `INSERT INTO portal_login_code (pair_hash, salt, code_hash, patient_ids, display_name, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.pairHash, row.salt, row.codeHash, row.patientIds, row.displayName, iso(row.expiresAt)],
  );
}

export async function liveCode(db: Q, pairHash: string, now: Date): Promise<CodeRow | undefined> {
  const r = await db.query<CodeRow>(
    `SELECT id::text, salt, code_hash, patient_ids, display_name, created_at FROM portal_login_code
      WHERE pair_hash = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 1`,
    [pairHash, iso(now)],
  );
  return r.rows[0];
}

/** Marks a code used; false when another request used it first. */
export async function useCode(db: Q, id: string): Promise<boolean> {
  const r = await db.query('UPDATE portal_login_code SET used_at = now() WHERE id = $1 AND used_at IS NULL RETURNING id', [id]);
  return (r.rowCount ?? 0) > 0;
}

/** Codes past their time are of no use; deleted after a day. */
export async function purgeCodes(db: Q): Promise<void> {
  await db.query(`DELETE FROM portal_login_code WHERE expires_at < now() - interval '1 day'`);
  await db.query(`DELETE FROM portal_address_throttle WHERE window_start < now() - interval '1 day'`);
  await db.query(`DELETE FROM portal_login_lock WHERE failures = 0 AND (locked_until IS NULL OR locked_until < now())`);
}

// ---- accounts and guardians -------------------------------------------------------------------

export interface AccountRow {
  username: string;
  id_hash: string;
  phone: string;
  phone_hash: string;
  patient_ids: string[];
  display_name: string;
}

export async function accountByIdHash(db: Q, idHash: string): Promise<AccountRow | undefined> {
  const r = await db.query<AccountRow>('SELECT * FROM portal_account WHERE id_hash = $1', [idHash]);
  return r.rows[0];
}

export async function accountOf(db: Q, username: string): Promise<AccountRow | undefined> {
  const r = await db.query<AccountRow>('SELECT * FROM portal_account WHERE username = $1', [username]);
  return r.rows[0];
}

export async function saveAccount(db: Q, a: AccountRow): Promise<void> {
  await db.query(
    `INSERT INTO portal_account (username, id_hash, phone, phone_hash, patient_ids, display_name, last_login_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (username) DO UPDATE SET phone = EXCLUDED.phone, phone_hash = EXCLUDED.phone_hash,
       patient_ids = (SELECT array_agg(DISTINCT x) FROM unnest(portal_account.patient_ids || EXCLUDED.patient_ids) x),
       display_name = EXCLUDED.display_name, last_login_at = now()`,
    [a.username, a.id_hash, a.phone, a.phone_hash, a.patient_ids, a.display_name],
  );
}

export async function wardsOf(db: Q, username: string): Promise<{ ward_patient_id: string; relationship: string }[]> {
  const r = await db.query<{ ward_patient_id: string; relationship: string }>(
    'SELECT ward_patient_id, relationship FROM portal_guardian WHERE username = $1 ORDER BY created_at',
    [username],
  );
  return r.rows;
}

export async function addWard(db: Q, username: string, patientId: string, relationship: string): Promise<boolean> {
  const r = await db.query(
    `INSERT INTO portal_guardian (username, ward_patient_id, relationship) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING username`,
    [username, patientId, relationship],
  );
  return (r.rowCount ?? 0) > 0;
}

// ---- preferences, outbox and notices ----------------------------------------------------------

export async function preferencesOf(db: Q, username: string): Promise<{ smsReminders: boolean; noticeReminders: boolean }> {
  const r = await db.query<{ sms_reminders: boolean; notice_reminders: boolean }>(
    'SELECT sms_reminders, notice_reminders FROM portal_preference WHERE username = $1',
    [username],
  );
  const row = r.rows[0];
  return { smsReminders: row?.sms_reminders ?? true, noticeReminders: row?.notice_reminders ?? true };
}

export async function savePreferences(db: Q, username: string, p: { smsReminders: boolean; noticeReminders: boolean }): Promise<void> {
  await db.query(
    `INSERT INTO portal_preference (username, sms_reminders, notice_reminders, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (username) DO UPDATE SET sms_reminders = $2, notice_reminders = $3, updated_at = now()`,
    [username, p.smsReminders, p.noticeReminders],
  );
}

export async function enqueue(
  db: Q,
  m: {
    channel: 'sms' | 'notice';
    kind: 'login-code' | 'reminder';
    username?: string | null;
    phone?: string | null;
    body: string;
    reminderId?: string | null;
    status?: 'queued' | 'delivered' | 'discarded';
  },
): Promise<string> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO portal_outbox (channel, kind, username, phone, body, status, reminder_id, sent_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $6 = 'delivered' THEN now() END) RETURNING id::text`,
    [m.channel, m.kind, m.username ?? null, m.phone ?? null, m.body, m.status ?? 'queued', m.reminderId ?? null],
  );
  return r.rows[0]!.id;
}

export async function notices(
  db: Q,
  username: string,
  page: { count: number; offset: number },
): Promise<{ total: number; rows: { id: string; created: string; body: string; read: boolean }[] }> {
  const total = (
    await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM portal_outbox WHERE username = $1 AND channel = 'notice'`, [username])
  ).rows[0]!.n;
  const r = await db.query<{ id: string; created_at: Date; body: string; read_at: Date | null }>(
    `SELECT id::text, created_at, body, read_at FROM portal_outbox WHERE username = $1 AND channel = 'notice'
      ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
    [username, page.count, page.offset],
  );
  return {
    total,
    rows: r.rows.map((x) => ({ id: x.id, created: new Date(x.created_at).toISOString(), body: x.body, read: !!x.read_at })),
  };
}

export async function unreadNotices(db: Q, username: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM portal_outbox WHERE username = $1 AND channel = 'notice' AND read_at IS NULL`,
    [username],
  );
  return r.rows[0]!.n;
}

export async function markNoticeRead(db: Q, username: string, id: string): Promise<boolean> {
  const r = await db.query(
    `UPDATE portal_outbox SET read_at = coalesce(read_at, now()) WHERE id = $1 AND username = $2 AND channel = 'notice' RETURNING id`,
    [id, username],
  );
  return (r.rowCount ?? 0) > 0;
}

// ---- reminders --------------------------------------------------------------------------------

export interface ReminderAccount extends AccountRow {
  sms: boolean;
  notice: boolean;
}

/** Accounts without a reminder in this week. */
export async function accountsToRemind(db: Q, week: string): Promise<ReminderAccount[]> {
  const r = await db.query<ReminderAccount>(
    `SELECT a.*, coalesce(p.sms_reminders, true) AS sms, coalesce(p.notice_reminders, true) AS notice
       FROM portal_account a LEFT JOIN portal_preference p USING (username)
      WHERE NOT EXISTS (SELECT 1 FROM portal_reminder r WHERE r.username = a.username AND r.week = $1)
      ORDER BY a.username`,
    [week],
  );
  return r.rows;
}

/** Records this week's reminder; undefined when one exists already (another run took it). */
export async function claimReminder(db: Q, username: string, week: string, items: unknown[]): Promise<string | undefined> {
  const r = await db.query<{ id: string }>(
    `INSERT INTO portal_reminder (username, week, items) VALUES ($1, $2, $3::jsonb) ON CONFLICT (username, week) DO NOTHING RETURNING id::text`,
    [username, week, JSON.stringify(items)],
  );
  return r.rows[0]?.id;
}

/** Items of earlier reminders that are no longer due count as done. */
export async function markRemindersDone(db: Q, username: string, stillDue: string[]): Promise<void> {
  await db.query(
    `UPDATE portal_reminder r SET done_keys = coalesce((SELECT array_agg(k) FROM jsonb_array_elements(r.items) i, LATERAL (SELECT i->>'key' AS k) x
                                                    WHERE NOT (k = ANY($2::text[]))), '{}')
      WHERE r.username = $1 AND r.created_at > now() - interval '90 days'`,
    [username, stillDue],
  );
}

// ---- contract requests ------------------------------------------------------------------------

export interface RequestRow {
  id: string;
  username: string;
  patient_id: string;
  kind: 'sign' | 'renew' | 'transfer';
  team_id: string;
  organization_id: string | null;
  package: string;
  contract_id: string;
  signed_at: Date;
  signature_method: string;
  status: 'pending' | 'accepted' | 'declined';
  decided_by: string | null;
  decided_at: Date | null;
  reason: string | null;
  episode_id: string | null;
  task_ids: string[];
}

export async function insertRequest(
  db: Q,
  r: Omit<RequestRow, 'status' | 'decided_by' | 'decided_at' | 'reason' | 'episode_id' | 'task_ids'>,
): Promise<void> {
  await db.query(
    `INSERT INTO portal_contract_request (id, username, patient_id, kind, team_id, organization_id, package, contract_id, signed_at, signature_method)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [r.id, r.username, r.patient_id, r.kind, r.team_id, r.organization_id, r.package, r.contract_id, iso(r.signed_at), r.signature_method],
  );
}

export async function requestById(db: Q, id: string, lock = false): Promise<RequestRow | undefined> {
  const r = await db.query<RequestRow>(`SELECT * FROM portal_contract_request WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return r.rows[0];
}

export async function pendingRequestFor(db: Q, patientId: string): Promise<RequestRow | undefined> {
  const r = await db.query<RequestRow>(`SELECT * FROM portal_contract_request WHERE patient_id = $1 AND status = 'pending' LIMIT 1`, [
    patientId,
  ]);
  return r.rows[0];
}

export async function requestsOf(db: Q, patientIds: string[]): Promise<RequestRow[]> {
  const r = await db.query<RequestRow>(
    'SELECT * FROM portal_contract_request WHERE patient_id = ANY($1::text[]) ORDER BY signed_at DESC LIMIT 50',
    [patientIds],
  );
  return r.rows;
}

export async function requestsForTeams(db: Q, status: string, team: string | undefined): Promise<RequestRow[]> {
  const r = await db.query<RequestRow>(
    `SELECT * FROM portal_contract_request WHERE status = $1 AND ($2::text IS NULL OR team_id = $2) ORDER BY signed_at LIMIT 500`,
    [status, team ?? null],
  );
  return r.rows;
}

export async function decideRequest(
  db: Q,
  id: string,
  d: { status: 'accepted' | 'declined'; by: string; reason: string | null; episodeId: string | null; taskIds: string[] },
): Promise<void> {
  await db.query(
    `UPDATE portal_contract_request SET status = $2, decided_by = $3, decided_at = now(), reason = $4, episode_id = $5, task_ids = $6 WHERE id = $1`,
    [id, d.status, d.by, d.reason, d.episodeId, d.taskIds],
  );
}

// ---- who read my record -----------------------------------------------------------------------

/**
 * Reads and searches of some Patients by anyone but `except` (the reader asking), newest first.
 * Same filter as the audit review's residentReads, for several Patients (a merged record) at once.
 */
export async function readsOf(
  db: Q,
  patientIds: string[],
  except: string,
  page: { count: number; offset: number },
): Promise<{ total: number; events: AuditEvent[] }> {
  const where = `FROM r_auditevent t JOIN resource_history h ON h.resource_type = 'AuditEvent' AND h.id = t.id AND h.version_id = t.version_id
    WHERE t.p_patient && $1::text[] AND t.p_action && ARRAY['R','E']::text[] AND NOT (coalesce(t.p_altid, '{}') && $2::text[])`;
  const args = [patientIds.map((p) => `Patient/${p}`), [except]];
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n ${where}`, args)).rows[0]!.n;
  const r = await db.query<{ content: AuditEvent }>(
    `SELECT h.content ${where} ORDER BY t.p_date_lo DESC, t.id DESC LIMIT ${Number(page.count)} OFFSET ${Number(page.offset)}`,
    args,
  );
  return { total, events: r.rows.map((x) => x.content) };
}
