/**
 * The emergency module's operations: units, teams (members, training and certificates, on-call
 * rota, mobilisation and acknowledgements), reserves (receipts, FEFO issues, transfers, cover
 * against the emergency-scenario standard, warnings), the emergency mode and daily zero reports.
 * Every write runs in one transaction with its audit event. The clock is injected (`deps.now`).
 */
import type { FhirRepository } from '../fhir/repository.js';
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../fhir/audit.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import type { Sql } from './store.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { addDays, chinaDateOf, daysBetween } from '../shared/dates.js';
import { LEVEL_ZH, levelNumber, levelOf, TEAM_KIND_ZH } from './codes.js';
import { currentMode } from './mode.js';
import { allocateFefo, certificateState, cover, expiryClass, q3, usable } from './reserves.js';
import type {
  AckBody,
  CoverList,
  CurrentModeView,
  EndModeBody,
  IssueBody,
  MembersBody,
  MissingList,
  MobilisationDetail,
  MobilisationList,
  MobilisationView,
  MobiliseBody,
  ModeAnswer,
  ModeBody,
  ModeList,
  ModeView,
  MovementAnswer,
  MovementList,
  MovementView,
  OnCallView,
  PendingList,
  ReceiptBody,
  ReserveWarning,
  RotaBody,
  ScenarioUseBody,
  StockList,
  TeamBody,
  TeamDetail,
  TeamList,
  TeamView,
  TrainingBody,
  TrainingList,
  TrainingView,
  TransferBody,
  UnitBody,
  UnitCover,
  UnitList,
  UnitView,
  WarningList,
  ZeroReportBody,
  ZeroReportList,
  ZeroReportView,
} from './schemas.js';
import type { EmergencySettings } from './settings.js';
import * as store from './store.js';

export interface EmergencyDeps {
  db: Database;
  audit: AuditLog;
  settings: EmergencySettings;
  /** The FHIR store, for a drill's synthetic resident (absent: the drill's card names nobody). */
  repo?: FhirRepository;
  /** The server's clock (tests move it). */
  now?: () => Date;
}

export interface Actor {
  user: AuthUser;
  sourceAddress?: string;
}

export const nowOf = (deps: EmergencyDeps): Date => (deps.now ? deps.now() : new Date());
/** Timestamps may come back as Date or as text, by engine and parser. */
const ms = (d: Date | string): number => new Date(d).getTime();
const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
const whenOf = (at: string | undefined, now: Date): Date => {
  if (!at) return now;
  const t = new Date(at);
  if (t.getTime() > now.getTime() + 60_000) throw unprocessable(`at ${at} is in the future`);
  return t;
};

export async function audited(
  deps: EmergencyDeps,
  c: Queryable,
  actor: Actor,
  action: 'C' | 'U',
  subtype: string,
  entities: string[],
  outcomeText?: string,
): Promise<void> {
  await deps.audit.recordNow(c, {
    user: actor.user,
    action,
    subtype,
    entities,
    outcome: 'success',
    sourceAddress: actor.sourceAddress,
    ...(outcomeText ? { outcomeText } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// Units

const unitView = (u: store.UnitRow): UnitView => ({ code: u.code, name: u.name, areaCode: u.areaCode, createdAt: iso(u.createdAt)! });

export async function saveUnit(deps: EmergencyDeps, body: UnitBody, actor: Actor): Promise<UnitView> {
  return deps.db.transaction(async (c) => {
    const u = await store.upsertUnit(
      c,
      { code: body.code, name: body.name, areaCode: body.areaCode ?? null },
      nowOf(deps),
      actor.user.username,
    );
    await audited(deps, c, actor, 'U', 'emergency-unit', [`emergency unit ${body.code}`]);
    return unitView(u);
  });
}
export async function units(deps: EmergencyDeps, q: { limit: number; offset: number }): Promise<UnitList> {
  const r = await store.listUnits(deps.db, q);
  return { items: r.rows.map(unitView), total: r.total, limit: q.limit, offset: q.offset };
}
async function unitOrFail(c: Sql, code: string, what = 'unit'): Promise<store.UnitRow> {
  const u = await store.getUnit(c, code);
  if (!u) throw unprocessable(`${what} '${code}' is not a registered unit (POST /api/emergency/units first)`);
  return u;
}

// ---------------------------------------------------------------------------------------------
// Teams

const today = (deps: EmergencyDeps) => chinaDateOf(nowOf(deps));
const teamView = (t: store.TeamRow): TeamView => ({
  id: t.id,
  unit: t.unit,
  kind: t.kind,
  kindZh: TEAM_KIND_ZH[t.kind],
  name: t.name,
  members: t.members,
  onCallToday: t.onCall,
  createdAt: iso(t.createdAt)!,
});

export async function createTeam(deps: EmergencyDeps, body: TeamBody, actor: Actor): Promise<TeamView> {
  return deps.db.transaction(async (c) => {
    await unitOrFail(c, body.unit);
    const id = await store.insertTeam(c, body, nowOf(deps), actor.user.username);
    if (!id) throw conflict(`unit ${body.unit} already has a team named '${body.name}'`);
    await audited(
      deps,
      c,
      actor,
      'C',
      'emergency-team',
      [`emergency team ${id}`],
      `${TEAM_KIND_ZH[body.kind]} ${body.name} (${body.unit})`,
    );
    return teamView((await store.getTeam(c, id, today(deps)))!);
  });
}
export async function teams(deps: EmergencyDeps, q: { unit?: string; kind?: string; limit: number; offset: number }): Promise<TeamList> {
  const r = await store.listTeams(deps.db, q, today(deps));
  return { items: r.rows.map(teamView), total: r.total, limit: q.limit, offset: q.offset };
}
export async function teamDetail(deps: EmergencyDeps, id: number): Promise<TeamDetail> {
  const d = today(deps);
  const t = await store.getTeam(deps.db, id, d);
  if (!t) throw notFound(`no emergency team ${id}`);
  const members = await store.membersOf(deps.db, [id], false);
  const certs = await store.certificatesOf(
    deps.db,
    members.map((m) => m.practitionerId),
  );
  return {
    ...teamView(t),
    memberList: members.map((m) => {
      const counts = { valid: 0, expiring: 0, expired: 0 };
      for (const cert of certs)
        if (cert.practitionerId === m.practitionerId) counts[certificateState(cert.expiresOn, d, deps.settings.certificateWarningDays)]++;
      return { practitionerId: m.practitionerId, name: m.name, role: m.role, phone: m.phone, active: m.active, certificates: counts };
    }),
  };
}
export async function saveMembers(deps: EmergencyDeps, id: number, body: MembersBody, actor: Actor): Promise<TeamDetail> {
  const seen = new Set<string>();
  for (const m of body.members) {
    if (seen.has(m.practitionerId)) throw unprocessable(`practitioner ${m.practitionerId} is listed twice`);
    seen.add(m.practitionerId);
  }
  await deps.db.transaction(async (c) => {
    if (!(await store.getTeam(c, id, today(deps)))) throw notFound(`no emergency team ${id}`);
    for (const m of body.members) await store.upsertMember(c, id, m, nowOf(deps));
    await audited(deps, c, actor, 'U', 'emergency-team-members', [
      `emergency team ${id}`,
      ...body.members.map((m) => `Practitioner/${m.practitionerId}`),
    ]);
  });
  return teamDetail(deps, id);
}

function trainingView(t: store.TrainingRow, d: string, warningDays: number): TrainingView {
  return {
    ...t,
    hours: t.hours === null ? null : Number(t.hours),
    state: certificateState(t.expiresOn, d, warningDays),
    daysLeft: t.expiresOn ? daysBetween(d, t.expiresOn) : null,
  };
}
export async function addTraining(deps: EmergencyDeps, body: TrainingBody, actor: Actor): Promise<TrainingView> {
  return deps.db.transaction(async (c) => {
    const row = await store.insertTraining(
      c,
      {
        practitionerId: body.practitionerId,
        name: body.name,
        kind: body.kind,
        title: body.title,
        issuer: body.issuer ?? null,
        completedOn: body.completedOn,
        expiresOn: body.expiresOn ?? null,
        hours: body.hours ?? null,
      },
      nowOf(deps),
      actor.user.username,
    );
    await audited(deps, c, actor, 'C', 'emergency-training', [`Practitioner/${body.practitionerId}`, `emergency training ${row.id}`]);
    return trainingView(row, today(deps), deps.settings.certificateWarningDays);
  });
}
export async function trainings(
  deps: EmergencyDeps,
  q: { practitionerId?: string; teamId?: number; state?: 'expired' | 'expiring' | 'valid'; on?: string; limit: number; offset: number },
): Promise<TrainingList> {
  const d = q.on ?? today(deps);
  const r = await store.listTrainings(deps.db, q, d, deps.settings.certificateWarningDays);
  return {
    items: r.rows.map((t) => trainingView(t, d, deps.settings.certificateWarningDays)),
    total: r.total,
    limit: q.limit,
    offset: q.offset,
  };
}

export async function saveRota(deps: EmergencyDeps, id: number, body: RotaBody, actor: Actor): Promise<OnCallView[]> {
  const days = new Set<string>();
  for (const e of body.entries) {
    if (days.has(e.day)) throw unprocessable(`day ${e.day} is listed twice`);
    days.add(e.day);
  }
  await deps.db.transaction(async (c) => {
    if (!(await store.getTeam(c, id, today(deps)))) throw notFound(`no emergency team ${id}`);
    const members = new Set((await store.membersOf(c, [id], true)).map((m) => m.practitionerId));
    for (const e of body.entries) {
      const strangers = e.practitionerIds.filter((p) => !members.has(p));
      if (strangers.length) throw unprocessable(`on ${e.day}: ${strangers.join(', ')} not an active member of team ${id}`);
      await store.replaceRotaDay(c, id, e.day, [...new Set(e.practitionerIds)]);
    }
    await audited(deps, c, actor, 'U', 'emergency-rota', [`emergency team ${id}`], `rota for ${[...days].sort().join(', ')}`);
  });
  return Promise.all([...days].sort().map((d) => onCallOn(deps, { day: d, teamId: id })));
}
export async function onCallOn(
  deps: EmergencyDeps,
  q: { day?: string; unit?: string; kind?: string; teamId?: number },
): Promise<OnCallView> {
  const d = q.day ?? today(deps);
  const rows = await store.onCall(deps.db, d, q);
  const teamsOut: OnCallView['teams'] = [];
  for (const r of rows) {
    let t = teamsOut.at(-1);
    if (!t || t.teamId !== r.teamId) {
      t = { teamId: r.teamId, unit: r.unit, kind: r.kind, name: r.teamName, onCall: [] };
      teamsOut.push(t);
    }
    t.onCall.push({ practitionerId: r.practitionerId, name: r.name, role: r.role, phone: r.phone });
  }
  return { day: d, teams: teamsOut };
}

// ---------------------------------------------------------------------------------------------
// Mobilisation

function mobilisationView(m: store.MobilisationRow): MobilisationView {
  return {
    id: m.id,
    source: { kind: m.sourceKind, id: m.sourceId },
    reason: m.reason,
    teamIds: m.teamIds.map(Number),
    onCallOnly: m.onCallOnly,
    ackLimitMinutes: m.ackLimitMinutes,
    exercise: m.exercise,
    createdAt: iso(m.createdAt)!,
    createdBy: m.createdBy,
    notified: m.notified,
    acknowledged: m.acknowledged,
    pending: m.notified - m.acknowledged,
    overdue: m.overdue,
  };
}
const mobilisedView = (x: store.MobilisedRow, now: Date) => ({
  practitionerId: x.practitionerId,
  name: x.name,
  role: x.role,
  teamId: x.teamId,
  notifiedAt: iso(x.notifiedAt)!,
  dueAt: iso(x.dueAt)!,
  acknowledgedAt: iso(x.acknowledgedAt),
  overdue: !x.acknowledgedAt && ms(x.dueAt) <= now.getTime(),
  late: !!x.acknowledgedAt && ms(x.acknowledgedAt) > ms(x.dueAt),
});

/**
 * Mobilises teams for an alert or an investigation: every active member (or only those on call
 * today, when the rota names some) is notified once, with an acknowledgement due within the limit
 * (the body's, else the mode's in force for the area, else routine's).
 */
export async function mobilise(
  deps: EmergencyDeps,
  body: MobiliseBody & { exercise?: boolean; sourceKind?: 'drill' },
  actor: Actor,
): Promise<MobilisationDetail> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  const teamIds = [...new Set(body.teamIds)];
  const id = await deps.db.transaction(async (c) => {
    const d = chinaDateOf(at);
    for (const t of teamIds) if (!(await store.getTeam(c, t, d))) throw notFound(`no emergency team ${t}`);
    const limit =
      body.ackLimitMinutes ?? (await currentMode(c, body.areaCode ?? null, at, { settings: deps.settings })).settings.ackLimitMinutes;
    let members = await store.membersOf(c, teamIds, true);
    if (body.onCallOnly) {
      const rota = await store.rotaOf(c, teamIds, d);
      const onCallTeams = new Set(rota.map((r) => r.teamId));
      const onCall = new Set(rota.map((r) => `${r.teamId}|${r.practitionerId}`));
      // A team with nobody on the rota that day is called whole: nobody would answer otherwise.
      members = members.filter((m) => !onCallTeams.has(m.teamId) || onCall.has(`${m.teamId}|${m.practitionerId}`));
    }
    const once = new Map<string, store.MemberRow>();
    for (const m of members) if (!once.has(m.practitionerId)) once.set(m.practitionerId, m);
    if (!once.size) throw unprocessable(`teams ${teamIds.join(', ')} have no active member to notify`);
    const mid = await store.insertMobilisation(c, {
      sourceKind: body.sourceKind ?? body.source.kind,
      sourceId: body.source.id,
      reason: body.reason ?? null,
      teamIds,
      onCallOnly: body.onCallOnly,
      ackLimitMinutes: limit,
      exercise: body.exercise ?? false,
      createdAt: at,
      createdBy: actor.user.username,
    });
    await store.insertMobilisedMembers(c, mid, [...once.values()], at, new Date(at.getTime() + limit * 60_000));
    await audited(
      deps,
      c,
      actor,
      'C',
      'emergency-mobilisation',
      [`emergency mobilisation ${mid}`, `${body.source.kind} ${body.source.id}`, ...teamIds.map((t) => `emergency team ${t}`)],
      `${once.size} member(s) notified, acknowledgement within ${limit} min${body.exercise ? ' (exercise)' : ''}`,
    );
    return mid;
  });
  return mobilisationDetail(deps, id);
}
export async function mobilisationDetail(deps: EmergencyDeps, id: number): Promise<MobilisationDetail> {
  const now = nowOf(deps);
  const m = await store.getMobilisation(deps.db, id, now);
  if (!m) throw notFound(`no mobilisation ${id}`);
  return { ...mobilisationView(m), members: (await store.mobilisedMembers(deps.db, id)).map((x) => mobilisedView(x, now)) };
}
export async function mobilisations(
  deps: EmergencyDeps,
  q: { sourceKind?: string; sourceId?: string; limit: number; offset: number },
): Promise<MobilisationList> {
  const r = await store.listMobilisations(deps.db, q, nowOf(deps));
  return { items: r.rows.map(mobilisationView), total: r.total, limit: q.limit, offset: q.offset };
}
export async function acknowledgeMobilisation(deps: EmergencyDeps, id: number, body: AckBody, actor: Actor): Promise<MobilisationDetail> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  await deps.db.transaction(async (c) => {
    const x = await store.lockMobilisedMember(c, id, body.practitionerId);
    if (!x) {
      if (!(await store.getMobilisation(c, id, now))) throw notFound(`no mobilisation ${id}`);
      throw notFound(`practitioner ${body.practitionerId} was not notified in mobilisation ${id}`);
    }
    if (x.acknowledgedAt)
      throw conflict(`practitioner ${body.practitionerId} already acknowledged mobilisation ${id} at ${iso(x.acknowledgedAt)}`);
    if (at.getTime() < ms(x.notifiedAt)) throw unprocessable(`at ${body.at} is before the notification (${iso(x.notifiedAt)})`);
    await store.acknowledge(c, id, body.practitionerId, at, actor.user.username);
    await audited(
      deps,
      c,
      actor,
      'U',
      'emergency-acknowledgement',
      [`emergency mobilisation ${id}`, `Practitioner/${body.practitionerId}`],
      at.getTime() > ms(x.dueAt) ? `late by ${Math.round((at.getTime() - ms(x.dueAt)) / 60_000)} min` : 'in time',
    );
  });
  return mobilisationDetail(deps, id);
}
export async function pendingAcknowledgements(
  deps: EmergencyDeps,
  q: { overdue?: boolean; mobilisationId?: number; limit: number; offset: number },
): Promise<PendingList> {
  const now = nowOf(deps);
  const r = await store.pendingAcks(deps.db, q, now);
  return {
    items: r.rows.map((x) => ({
      ...mobilisedView(x, now),
      mobilisationId: x.mobilisationId,
      source: { kind: x.sourceKind, id: x.sourceId },
    })),
    total: r.total,
    limit: q.limit,
    offset: q.offset,
  };
}

// ---------------------------------------------------------------------------------------------
// Reserves

const movementView = (m: store.MovementRow): MovementView => ({ ...m, at: iso(m.at)! });

function itemOrFail(deps: EmergencyDeps, code: string) {
  const item = deps.settings.item(code);
  if (!item) throw unprocessable(`item '${code}' is not in the catalogue (config/emergency/emergency.json reserves.items)`);
  return item;
}

function nearExpiryWarnings(
  deps: EmergencyDeps,
  batches: { unit: string; item: string; batchNo: string; expiresOn: string | null }[],
  day: string,
) {
  const out: string[] = [];
  for (const b of batches) {
    const cls = expiryClass(b.expiresOn, day, deps.settings.reserves.expiryWarningDays);
    if (cls === 'expired') out.push(`${b.item} batch ${b.batchNo} at ${b.unit} expired on ${b.expiresOn}`);
    else if (cls)
      out.push(`${b.item} batch ${b.batchNo} at ${b.unit} expires on ${b.expiresOn} (${cls.replace('within-', 'within ')} days)`);
  }
  return out;
}

export async function receive(deps: EmergencyDeps, body: ReceiptBody, actor: Actor, exercise = false): Promise<MovementAnswer> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  itemOrFail(deps, body.item);
  return deps.db.transaction(async (c) => {
    await unitOrFail(c, body.unit);
    const batches = await store.lockBatches(c, body.unit, body.item);
    const same = batches.find((b) => b.batchNo === body.batchNo);
    if (same && same.expiresOn !== (body.expiresOn ?? null))
      throw unprocessable(
        `batch ${body.batchNo} of ${body.item} at ${body.unit} expires on ${same.expiresOn ?? '(none)'}, not ${body.expiresOn ?? '(none)'}`,
      );
    const m = await store.insertMovement(
      c,
      {
        kind: 'receipt',
        unit: body.unit,
        item: body.item,
        batchNo: body.batchNo,
        expiresOn: body.expiresOn ?? null,
        quantity: body.quantity,
        counterpart: body.from ?? null,
        transferId: null,
        note: body.note ?? null,
        exercise,
        at,
        byUser: actor.user.username,
      },
      now,
    );
    await store.addToBatch(
      c,
      { unit: body.unit, item: body.item, batchNo: body.batchNo, expiresOn: body.expiresOn ?? null },
      body.quantity,
    );
    await audited(
      deps,
      c,
      actor,
      'C',
      'emergency-reserve-receipt',
      [`emergency movement ${m.id}`],
      `${body.quantity} ${body.item} into ${body.unit}`,
    );
    const warnings = nearExpiryWarnings(
      deps,
      [{ unit: body.unit, item: body.item, batchNo: body.batchNo, expiresOn: body.expiresOn ?? null }],
      chinaDateOf(at),
    );
    return { movements: [movementView(m)], warnings };
  });
}

/** Takes stock out of a unit first-expiring first; refuses (409) when the unexpired stock is short. */
async function takeFefo(
  deps: EmergencyDeps,
  c: Sql,
  unit: string,
  item: string,
  quantity: number,
  day: string,
  what: string,
): Promise<{ batchNo: string; expiresOn: string | null; quantity: number }[]> {
  const batches = await store.lockBatches(c, unit, item);
  const got = allocateFefo(batches, quantity, day);
  if (!got.ok) {
    const expired = q3(batches.filter((b) => b.quantity > 0 && !usable(b, day)).reduce((s, b) => s + b.quantity, 0));
    throw conflict(
      `${what} of ${quantity} ${item} at ${unit} refused: only ${got.available} in unexpired stock${expired ? ` (${expired} more expired, not issued)` : ''}; nothing was written`,
    );
  }
  for (const t of got.takes) await store.takeFromBatch(c, unit, item, t.batchNo, t.quantity);
  return got.takes;
}

export async function issue(deps: EmergencyDeps, body: IssueBody, actor: Actor, exercise = false): Promise<MovementAnswer> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  itemOrFail(deps, body.item);
  return deps.db.transaction(async (c) => {
    await unitOrFail(c, body.unit);
    const takes = await takeFefo(deps, c, body.unit, body.item, body.quantity, chinaDateOf(at), 'issue');
    const out: MovementView[] = [];
    for (const t of takes)
      out.push(
        movementView(
          await store.insertMovement(
            c,
            {
              kind: 'issue',
              unit: body.unit,
              item: body.item,
              batchNo: t.batchNo,
              expiresOn: t.expiresOn,
              quantity: t.quantity,
              counterpart: body.to ?? null,
              transferId: null,
              note: body.note ?? null,
              exercise,
              at,
              byUser: actor.user.username,
            },
            now,
          ),
        ),
      );
    await audited(
      deps,
      c,
      actor,
      'C',
      'emergency-reserve-issue',
      out.map((m) => `emergency movement ${m.id}`),
      `${body.quantity} ${body.item} from ${body.unit}`,
    );
    return { movements: out, warnings: await belowStandardAfter(deps, c, body.unit, body.item, chinaDateOf(at), now) };
  });
}

export async function transfer(deps: EmergencyDeps, body: TransferBody, actor: Actor): Promise<MovementAnswer> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  itemOrFail(deps, body.item);
  return deps.db.transaction(async (c) => {
    await unitOrFail(c, body.fromUnit, 'fromUnit');
    await unitOrFail(c, body.toUnit, 'toUnit');
    const takes = await takeFefo(deps, c, body.fromUnit, body.item, body.quantity, chinaDateOf(at), 'transfer');
    const transferId = randomUUID();
    const out: MovementView[] = [];
    for (const t of takes) {
      const common = {
        item: body.item,
        batchNo: t.batchNo,
        expiresOn: t.expiresOn,
        quantity: t.quantity,
        transferId,
        note: body.note ?? null,
      };
      const base = { exercise: false, at, byUser: actor.user.username };
      out.push(
        movementView(
          await store.insertMovement(c, { ...common, ...base, kind: 'transfer-out', unit: body.fromUnit, counterpart: body.toUnit }, now),
        ),
      );
      out.push(
        movementView(
          await store.insertMovement(c, { ...common, ...base, kind: 'transfer-in', unit: body.toUnit, counterpart: body.fromUnit }, now),
        ),
      );
      await store.addToBatch(c, { unit: body.toUnit, item: body.item, batchNo: t.batchNo, expiresOn: t.expiresOn }, t.quantity);
    }
    await audited(
      deps,
      c,
      actor,
      'C',
      'emergency-reserve-transfer',
      [`emergency transfer ${transferId}`],
      `${body.quantity} ${body.item} from ${body.fromUnit} to ${body.toUnit}`,
    );
    return { movements: out, warnings: await belowStandardAfter(deps, c, body.fromUnit, body.item, chinaDateOf(at), now) };
  });
}

async function belowStandardAfter(deps: EmergencyDeps, c: Sql, unit: string, item: string, day: string, now: Date): Promise<string[]> {
  const [u] = await computeCover(deps, c, day, now, unit);
  const row = u?.items.find((i) => i.item === item);
  return row && !row.meetsStandard
    ? [
        `${unit}: ${item} now covers ${row.emergencyDays ?? 0} days in an emergency, below the ${deps.settings.reserves.standardDays}-day standard (short by ${row.shortfall} ${row.uom})`,
      ]
    : [];
}

export async function movements(
  deps: EmergencyDeps,
  q: { unit?: string; item?: string; kind?: string; limit: number; offset: number },
): Promise<MovementList> {
  const r = await store.listMovements(deps.db, q);
  return { items: r.rows.map(movementView), total: r.total, limit: q.limit, offset: q.offset };
}
export async function stock(
  deps: EmergencyDeps,
  q: { unit?: string; item?: string; empty?: boolean; limit: number; offset: number },
): Promise<StockList> {
  const d = today(deps);
  const r = await store.listBatches(deps.db, q);
  return {
    items: r.rows.map((b) => ({ ...b, expiry: expiryClass(b.expiresOn, d, deps.settings.reserves.expiryWarningDays) })),
    total: r.total,
    limit: q.limit,
    offset: q.offset,
  };
}
export async function setScenarioUse(deps: EmergencyDeps, body: ScenarioUseBody, actor: Actor): Promise<UnitCover> {
  for (const u of body.uses) itemOrFail(deps, u.item);
  await deps.db.transaction(async (c) => {
    await unitOrFail(c, body.unit);
    for (const u of body.uses) await store.upsertScenarioUse(c, body.unit, u.item, u.dailyUse, nowOf(deps), actor.user.username);
    await audited(deps, c, actor, 'U', 'emergency-scenario-use', [`emergency unit ${body.unit}`]);
  });
  return (await computeCover(deps, deps.db, today(deps), nowOf(deps), body.unit))[0]!;
}

/**
 * Cover per unit and item: usable stock on `day`, the observed daily use (issues over the last
 * consumptionWindowDays), the scenario's daily use (the unit's own, else the item's default) and
 * days of cover at the larger of the two, against the standard (≥ standardDays).
 */
export async function computeCover(deps: EmergencyDeps, c: Sql, day: string, now: Date, unit?: string): Promise<UnitCover[]> {
  const cfg = deps.settings.reserves;
  const unitRows = await store.allUnits(c, unit);
  const batches = await store.stockBatches(c, unit);
  const windowEnd = now;
  const issued = await store.issuedBetween(c, new Date(windowEnd.getTime() - cfg.consumptionWindowDays * 86_400_000), windowEnd, unit);
  const uses = await store.scenarioUses(c, unit);
  const key = (u: string, i: string) => `${u}|${i}`;
  const stockOf = new Map<string, number>();
  for (const b of batches) if (usable(b, day)) stockOf.set(key(b.unit, b.item), q3((stockOf.get(key(b.unit, b.item)) ?? 0) + b.quantity));
  const issuedOf = new Map(issued.map((r) => [key(r.unit, r.item), r.quantity]));
  const useOf = new Map(uses.map((r) => [key(r.unit, r.item), r.dailyUse]));
  return unitRows.map((u) => {
    const items = cfg.items.map((it) => {
      const k = key(u.code, it.code);
      const scenario = useOf.get(k) ?? it.scenarioDailyUse;
      const s = stockOf.get(k) ?? 0;
      const cv = cover({
        stock: s,
        issuedInWindow: issuedOf.get(k) ?? 0,
        windowDays: cfg.consumptionWindowDays,
        scenarioDailyUse: scenario,
        standardDays: cfg.standardDays,
      });
      return { item: it.code, name: it.name, uom: it.uom, stock: s, scenarioDailyUse: scenario, ...cv };
    });
    const below = items.filter((i) => !i.meetsStandard).map((i) => i.item);
    return { unit: u.code, name: u.name, standardDays: cfg.standardDays, meetsStandard: below.length === 0, belowStandard: below, items };
  });
}
export async function coverList(
  deps: EmergencyDeps,
  q: { unit?: string; on?: string; belowStandard?: boolean; limit: number; offset: number },
): Promise<CoverList> {
  let all = await computeCover(deps, deps.db, q.on ?? today(deps), nowOf(deps), q.unit);
  if (q.belowStandard !== undefined) all = all.filter((u) => u.meetsStandard !== q.belowStandard);
  return { items: all.slice(q.offset, q.offset + q.limit), total: all.length, limit: q.limit, offset: q.offset };
}
export async function warnings(
  deps: EmergencyDeps,
  q: { unit?: string; kind?: ReserveWarning['kind']; on?: string; limit: number; offset: number },
): Promise<WarningList> {
  const d = q.on ?? today(deps);
  const cfg = deps.settings.reserves;
  const out: ReserveWarning[] = [];
  for (const u of await computeCover(deps, deps.db, d, nowOf(deps), q.unit))
    for (const i of u.items)
      if (!i.meetsStandard)
        out.push({
          kind: 'below-standard',
          unit: u.unit,
          item: i.item,
          batchNo: null,
          expiresOn: null,
          days: i.emergencyDays ?? 0,
          window: null,
          quantity: i.stock,
          message: `${u.name}：${i.name} 应急储备可用 ${i.emergencyDays ?? 0} 天，低于 ${cfg.standardDays} 天标准（缺 ${i.shortfall} ${i.uom}）`,
        });
  const batches = (await store.stockBatches(deps.db, q.unit)).sort(
    (a, b) =>
      (a.expiresOn ?? '9999').localeCompare(b.expiresOn ?? '9999') || a.unit.localeCompare(b.unit) || a.batchNo.localeCompare(b.batchNo),
  );
  for (const b of batches) {
    const cls = expiryClass(b.expiresOn, d, cfg.expiryWarningDays);
    if (!cls) continue;
    const name = deps.settings.item(b.item)?.name ?? b.item;
    const days = daysBetween(d, b.expiresOn!);
    out.push(
      cls === 'expired'
        ? {
            kind: 'expired',
            unit: b.unit,
            item: b.item,
            batchNo: b.batchNo,
            expiresOn: b.expiresOn,
            days,
            window: null,
            quantity: b.quantity,
            message: `${b.unit}：${name} 批号 ${b.batchNo} 已于 ${b.expiresOn} 过期（${b.quantity}）`,
          }
        : {
            kind: 'near-expiry',
            unit: b.unit,
            item: b.item,
            batchNo: b.batchNo,
            expiresOn: b.expiresOn,
            days,
            window: Number(cls.slice('within-'.length)),
            quantity: b.quantity,
            message: `${b.unit}：${name} 批号 ${b.batchNo} 将于 ${b.expiresOn} 过期（${days} 天内，${b.quantity}）`,
          },
    );
  }
  const filtered = q.kind ? out.filter((w) => w.kind === q.kind) : out;
  return { items: filtered.slice(q.offset, q.offset + q.limit), total: filtered.length, limit: q.limit, offset: q.offset };
}

// ---------------------------------------------------------------------------------------------
// Emergency mode

export function modeView(m: store.ModeRow, now: Date): ModeView {
  const level = levelOf(m.level);
  return {
    id: m.id,
    areaCode: m.areaCode,
    level,
    levelZh: LEVEL_ZH[level],
    reason: m.reason,
    exercise: m.exercise,
    startedAt: iso(m.startedAt)!,
    startedBy: m.startedBy,
    endedAt: iso(m.endedAt),
    endedBy: m.endedBy,
    endReason: m.endReason,
    active: ms(m.startedAt) <= now.getTime() && (!m.endedAt || ms(m.endedAt) > now.getTime()),
  };
}

/**
 * Switches an area (or the district) into emergency mode at a level; an open mode of the same
 * area is ended in the same transaction (a change of level). Audited with both.
 */
export async function startMode(deps: EmergencyDeps, body: ModeBody, actor: Actor): Promise<ModeAnswer> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  const area = body.areaCode ?? null;
  return deps.db.transaction(async (c) => {
    const open = await store.lockOpenModeFor(c, area, body.exercise);
    if (open && open.level === levelNumber(body.level))
      throw conflict(
        `${area ? `area ${area}` : 'the district'} is already at level ${body.level} (mode ${open.id} since ${iso(open.startedAt)})`,
      );
    if (open && at.getTime() < ms(open.startedAt)) throw unprocessable(`at ${iso(at)} is before the open mode ${open.id} started`);
    const replaced = open
      ? await store.endMode(c, open.id, at, actor.user.username, `level changed to ${body.level}: ${body.reason}`)
      : null;
    const m = await store.insertMode(c, {
      areaCode: area,
      level: levelNumber(body.level),
      reason: body.reason,
      exercise: body.exercise,
      startedAt: at,
      startedBy: actor.user.username,
    });
    await audited(
      deps,
      c,
      actor,
      replaced ? 'U' : 'C',
      'emergency-mode',
      [`emergency mode ${m.id}`, ...(replaced ? [`emergency mode ${replaced.id}`] : [])],
      `${area ?? 'district'}: ${replaced ? `level ${levelOf(replaced.level)} → ${body.level}` : `routine → level ${body.level}`}${body.exercise ? ' (exercise)' : ''} — ${body.reason}`,
    );
    return { mode: modeView(m, now), replaced: replaced ? modeView(replaced, now) : null };
  });
}
export async function finishMode(deps: EmergencyDeps, id: number, body: EndModeBody, actor: Actor): Promise<ModeView> {
  const now = nowOf(deps);
  const at = whenOf(body.at, now);
  return deps.db.transaction(async (c) => {
    const m = await store.lockMode(c, id);
    if (!m) throw notFound(`no emergency mode ${id}`);
    if (m.endedAt) throw conflict(`emergency mode ${id} already ended at ${iso(m.endedAt)}`);
    if (at.getTime() < ms(m.startedAt)) throw unprocessable(`at ${iso(at)} is before the mode started (${iso(m.startedAt)})`);
    const ended = await store.endMode(c, id, at, actor.user.username, body.reason);
    await audited(
      deps,
      c,
      actor,
      'U',
      'emergency-mode',
      [`emergency mode ${id}`],
      `${m.areaCode ?? 'district'}: level ${levelOf(m.level)} → routine — ${body.reason}`,
    );
    return modeView(ended, now);
  });
}
export async function modes(
  deps: EmergencyDeps,
  q: { active?: boolean; areaCode?: string; limit: number; offset: number },
): Promise<ModeList> {
  const now = nowOf(deps);
  const r = await store.listModes(deps.db, q, now);
  return { items: r.rows.map((m) => modeView(m, now)), total: r.total, limit: q.limit, offset: q.offset };
}
export async function modeNow(deps: EmergencyDeps, q: { areaCode?: string; at?: string }): Promise<CurrentModeView> {
  const now = nowOf(deps);
  const at = q.at ? new Date(q.at) : now;
  const m = await currentMode(deps.db, q.areaCode ?? null, at, { settings: deps.settings });
  return {
    areaCode: q.areaCode ?? null,
    at: at.toISOString(),
    emergency: m.emergency,
    level: m.level,
    mode: m.mode ? modeView(m.mode, at) : null,
    settings: m.settings,
  };
}

// ---------------------------------------------------------------------------------------------
// Zero reports

export async function zeroReport(deps: EmergencyDeps, body: ZeroReportBody, actor: Actor): Promise<ZeroReportView> {
  const now = nowOf(deps);
  const d = body.day ?? chinaDateOf(now);
  if (d > chinaDateOf(now)) throw unprocessable(`day ${d} is in the future`);
  if (d < addDays(chinaDateOf(now), -30)) throw unprocessable(`day ${d} is more than 30 days ago`);
  const counts = body.counts;
  const zero = Object.values(counts).every((n) => n === 0);
  return deps.db.transaction(async (c) => {
    await unitOrFail(c, body.unit);
    const { row, replaced } = await store.upsertZeroReport(c, {
      unit: body.unit,
      day: d,
      counts,
      zero,
      note: body.note ?? null,
      reportedAt: now,
      reportedBy: actor.user.username,
    });
    await audited(
      deps,
      c,
      actor,
      replaced ? 'U' : 'C',
      'emergency-zero-report',
      [`emergency zero report ${body.unit} ${d}`],
      zero ? '零报告' : JSON.stringify(counts),
    );
    return { ...row, reportedAt: iso(row.reportedAt)!, replaced };
  });
}
export async function zeroReports(
  deps: EmergencyDeps,
  q: { day?: string; unit?: string; limit: number; offset: number },
): Promise<ZeroReportList> {
  const r = await store.listZeroReports(deps.db, q);
  return { items: r.rows.map((z) => ({ ...z, reportedAt: iso(z.reportedAt)! })), total: r.total, limit: q.limit, offset: q.offset };
}
/**
 * Units that must report daily on `day` (their area is under a mode requiring it, at the end of
 * that day or now, whichever is earlier) and have not.
 */
export async function missingZeroReports(deps: EmergencyDeps, q: { day?: string; limit: number; offset: number }): Promise<MissingList> {
  const now = nowOf(deps);
  const d = q.day ?? chinaDateOf(now);
  const endOfDay = new Date(Date.parse(`${d}T23:59:59.999+08:00`));
  const at = endOfDay.getTime() < now.getTime() ? endOfDay : now;
  const reported = await store.reportedUnits(deps.db, d);
  const required: MissingList['items'] = [];
  let reportedCount = 0;
  for (const u of await store.allUnits(deps.db)) {
    const m = await currentMode(deps.db, u.areaCode, at, { settings: deps.settings });
    if (!m.mode || m.settings.zeroReporting !== 'daily') continue;
    if (reported.has(u.code)) reportedCount++;
    else required.push({ unit: u.code, name: u.name, areaCode: u.areaCode, level: m.level!, modeId: m.mode.id });
  }
  return {
    day: d,
    required: required.length + reportedCount,
    reported: reportedCount,
    items: required.slice(q.offset, q.offset + q.limit),
    total: required.length,
    limit: q.limit,
    offset: q.offset,
  };
}
