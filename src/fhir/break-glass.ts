/**
 * Emergency access (break-glass, issue #15). A user who must reach a resident outside their scope
 * states a reason; they get a grant for that one resident for at most four hours, the
 * organisation that manages the resident is told (a FHIR Communication addressed to it), and a
 * review is opened that a reviewer (audit:read) must close as justified or not. Grants are used
 * by the access policy's `break-glass` scope together with purpose BTG or ETREAT.
 */
import type { Communication } from '@medplum/fhirtypes';
import type { AuthUser } from '../platform/auth.js';
import type { Queryable } from '../platform/db.js';
import { badRequest, notFound } from '../platform/errors.js';
import type { FhirRepository } from './repository.js';

export const BREAK_GLASS_LIMITS = { maxMinutes: 240, defaultMinutes: 60, minReason: 10, maxReason: 1000 } as const;

export interface BreakGlassGrant {
  id: number;
  username: string;
  userOrg: string | null;
  patientId: string;
  ownerOrg: string | null;
  reason: string;
  purpose: string;
  grantedAt: string;
  expiresAt: string;
  endedAt: string | null;
  noticeRef: string | null;
  reviewStatus: 'open' | 'justified' | 'unjustified';
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
}

const COLUMNS = `id::int, username, user_org AS "userOrg", patient_id AS "patientId", owner_org AS "ownerOrg", reason, purpose,
  granted_at AS "grantedAt", expires_at AS "expiresAt", ended_at AS "endedAt", notice_ref AS "noticeRef",
  review_status AS "reviewStatus", reviewed_by AS "reviewedBy", reviewed_at AS "reviewedAt", review_note AS "reviewNote"`;

function iso<T extends object>(row: T): T {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const k of Object.keys(out)) if (out[k] instanceof Date) out[k] = (out[k] as Date).toISOString();
  return out as T;
}

// A user's open grants, cached briefly per process (a new grant in this process clears it).
const grantCache = new Map<string, { at: number; patients: Set<string> }>();

/** Patient ids the user holds an open (unexpired, not ended) grant for. */
export async function activeGrantPatients(db: Queryable, username: string): Promise<Set<string>> {
  const c = grantCache.get(username);
  if (c && Date.now() - c.at < 1000) return c.patients;
  const { rows } = await db.query<{ patient_id: string }>(
    `SELECT patient_id FROM break_glass_grant WHERE username = $1 AND expires_at > now() AND ended_at IS NULL`,
    [username],
  );
  const patients = new Set(rows.map((r) => r.patient_id));
  if (grantCache.size > 10_000) grantCache.clear();
  grantCache.set(username, { at: Date.now(), patients });
  return patients;
}

/**
 * Opens a grant: checks the resident exists, notifies the managing organisation, opens the review.
 * Runs in the caller's transaction so the grant, the notice and its audit event land together.
 */
export async function openBreakGlass(
  client: Queryable,
  repo: FhirRepository,
  user: AuthUser,
  input: { patientId: string; reason: string; minutes?: number; purpose?: string },
): Promise<BreakGlassGrant> {
  const reason = input.reason.trim();
  if ([...reason].length < BREAK_GLASS_LIMITS.minReason)
    throw badRequest(
      `A reason of at least ${BREAK_GLASS_LIMITS.minReason} characters is needed for emergency access / 请说明紧急访问的理由(至少10个字)`,
    );
  const minutes = input.minutes ?? BREAK_GLASS_LIMITS.defaultMinutes;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > BREAK_GLASS_LIMITS.maxMinutes)
    throw badRequest(`minutes must be 1–${BREAK_GLASS_LIMITS.maxMinutes}`);
  const purpose = input.purpose ?? 'BTG';
  if (purpose !== 'BTG' && purpose !== 'ETREAT') throw badRequest('purpose must be BTG (break the glass) or ETREAT (emergency treatment)');
  const patient = await repo.read('Patient', input.patientId, client).catch(() => {
    throw notFound(`Patient/${input.patientId} is not in the hub`);
  });
  const ownerRef = (patient as { managingOrganization?: { reference?: string } }).managingOrganization?.reference;
  const ownerOrg = ownerRef?.startsWith('Organization/') ? ownerRef.slice('Organization/'.length) : null;
  const notice: Communication = {
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: 'https://yifang.health/fhir/CodeSystem/notice', code: 'break-glass', display: '紧急访问通知' }] }],
    subject: { reference: `Patient/${input.patientId}` },
    ...(ownerOrg ? { recipient: [{ reference: `Organization/${ownerOrg}` }] } : {}),
    sent: new Date().toISOString(),
    payload: [
      {
        contentString: `紧急访问 / Emergency access: ${user.displayName} (${user.username}${user.organization ? `, ${user.organization}` : ''}) opened this resident's record for ${minutes} minutes. Reason: ${reason}`,
      },
    ],
  };
  const created = await repo.create(notice, client, 'Communication', { checkReferences: false });
  const { rows } = await client.query<BreakGlassGrant>(
    `INSERT INTO break_glass_grant (username, user_org, patient_id, owner_org, reason, purpose, expires_at, notice_ref)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7), $8) RETURNING ${COLUMNS}`,
    [
      user.username,
      user.organization ?? null,
      input.patientId,
      ownerOrg,
      reason.slice(0, BREAK_GLASS_LIMITS.maxReason),
      purpose,
      minutes,
      `Communication/${created.id}`,
    ],
  );
  grantCache.delete(user.username);
  return iso(rows[0]!);
}

export async function listGrants(
  db: Queryable,
  filter: { username?: string; reviewStatus?: 'open' | 'justified' | 'unjustified'; count: number; offset: number },
): Promise<{ total: number; rows: BreakGlassGrant[] }> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.username) where.push(`username = $${args.push(filter.username)}`);
  if (filter.reviewStatus) where.push(`review_status = $${args.push(filter.reviewStatus)}`);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM break_glass_grant ${w}`, args);
  const { rows } = await db.query<BreakGlassGrant>(
    `SELECT ${COLUMNS} FROM break_glass_grant ${w} ORDER BY granted_at DESC, id DESC LIMIT $${args.push(filter.count)} OFFSET $${args.push(filter.offset)}`,
    args,
  );
  return { total: total.rows[0]?.n ?? 0, rows: rows.map(iso) };
}

/** Closes a review; a reviewer cannot review their own emergency access. */
export async function closeReview(
  db: Queryable,
  reviewer: AuthUser,
  id: number,
  outcome: 'justified' | 'unjustified',
  note?: string,
): Promise<BreakGlassGrant> {
  const found = await db.query<{ username: string; review_status: string }>(
    `SELECT username, review_status FROM break_glass_grant WHERE id = $1`,
    [id],
  );
  const g = found.rows[0];
  if (!g) throw notFound(`No emergency access ${id}`);
  if (g.username === reviewer.username) throw badRequest('A reviewer cannot review their own emergency access / 不能审核本人的紧急访问');
  if (g.review_status !== 'open') throw badRequest(`This emergency access was already reviewed (${g.review_status})`);
  const { rows } = await db.query<BreakGlassGrant>(
    `UPDATE break_glass_grant SET review_status = $2, reviewed_by = $3, reviewed_at = now(), review_note = $4,
            ended_at = COALESCE(ended_at, LEAST(now(), expires_at))
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, outcome, reviewer.username, note?.slice(0, 1000) ?? null],
  );
  grantCache.clear();
  return iso(rows[0]!);
}
