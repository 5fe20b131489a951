/**
 * The follow-up job (a polling loop on the main thread, poked when contacts are confirmed and when
 * the change-log processor queues a report card): each step does bounded work —
 *  1. opens the investigations that report cards ask for by the rules (autoOpen), at most 20 cards;
 *  2. plans the daily monitoring visits of up to 100 contacts for today and the next days
 *     (planDaysAhead), each a FHIR Task owned by the contact's team (the family-doctor CareTeam of
 *     their contract, else their managing Organization), focused on the contact and assigned to the
 *     team's members in turn;
 *  3. escalates up to 200 visits whose check is still missing escalateAfterHours after the day
 *     ended: a notice to the investigator, the team's supervisor and the CDC.
 * Each part reads only what has come due through its partial index (plan_from, escalate_at,
 * pending cards), never a whole table; two servers share the work (SKIP LOCKED).
 * Also here: the escalation notices' list and acknowledgement.
 */
import type { CareTeam, EpisodeOfCare, Organization, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { search } from '../fhir/search.js';
import type { Queryable } from '../platform/db.js';
import { conflict, HttpError, notFound } from '../platform/errors.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { patientDisplayName } from '../shared/patient-name.js';
import type { Actor, InvestigationDeps } from './service.js';
import { openAutomatically, setVisitTaskState as setTaskState } from './service.js';
import * as visits from './store-visits.js';
import { daysToPlan, escalateAt, roundRobin, visitTask, visitTaskId } from './visits.js';

export const AUTO_OPEN_PER_STEP = 20;
export const PLAN_CONTACTS_PER_STEP = 100;
export const ESCALATIONS_PER_STEP = 200;
const MAX_AUTO_OPEN_ATTEMPTS = 5;

async function fhirSearch<T extends Resource>(db: Queryable, type: string, params: [string, string][]): Promise<T[]> {
  const r = await search(db, type, { params }, '');
  return (r.bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as T);
}

async function readOrUndefined<T extends Resource>(
  deps: InvestigationDeps,
  type: string,
  id: string,
  c: Queryable,
): Promise<T | undefined> {
  return (await deps.repo.read(type, id, c).catch(() => undefined)) as T | undefined;
}

/** A contact's team: who owns their daily Tasks, its members in rotation order and its supervisor. */
export interface Team {
  ref: string;
  name: string | null;
  members: { ref: string; name: string | null }[];
  supervisor: { ref: string; name: string | null } | null;
  organization: string | null;
}

const humanName = (p: Practitioner | undefined): string | null =>
  p ? (patientDisplayName({ resourceType: 'Patient', name: p.name } as Patient) ?? null) : null;

async function careTeam(deps: InvestigationDeps, c: Queryable, id: string): Promise<Team | undefined> {
  const team = await readOrUndefined<CareTeam>(deps, 'CareTeam', id, c);
  if (!team) return undefined;
  const members: Team['members'] = [];
  let supervisor: Team['supervisor'] = null;
  for (const p of team.participant ?? []) {
    const ref = p.member?.reference;
    if (!ref?.startsWith('Practitioner/')) continue;
    const name = p.member?.display ?? humanName(await readOrUndefined<Practitioner>(deps, 'Practitioner', ref.slice(13), c));
    members.push({ ref, name });
    // The family doctor leads a family-doctor team (团队长); else the first member.
    const role = (p.role ?? [])
      .map((r) => `${r.text ?? ''} ${(r.coding ?? []).map((x) => `${x.code} ${x.display ?? ''}`).join(' ')}`)
      .join(' ');
    if (!supervisor && /家庭医生|团队长|leader|lead/i.test(role)) supervisor = { ref, name };
  }
  const org = team.managingOrganization?.[0]?.reference;
  return {
    ref: `CareTeam/${id}`,
    name: team.name ?? null,
    members,
    supervisor: supervisor ?? members[0] ?? null,
    organization: org?.startsWith('Organization/') ? org.slice(13) : null,
  };
}

/**
 * The team of a contact: the CareTeam of their active family-doctor contract (EpisodeOfCare), else
 * their managing organisation (the community health centre) without members to rotate.
 */
export async function teamOf(deps: InvestigationDeps, c: Queryable, patientId: string, organization: string | null): Promise<Team | null> {
  const episodes = await fhirSearch<EpisodeOfCare>(c, 'EpisodeOfCare', [
    ['patient', `Patient/${patientId}`],
    ['status', 'active'],
    ['_count', '10'],
  ]);
  for (const e of episodes) {
    const ref = e.team?.[0]?.reference;
    if (ref?.startsWith('CareTeam/')) {
      const t = await careTeam(deps, c, ref.slice(9));
      if (t) return t;
    }
  }
  if (!organization) return null;
  const org = await readOrUndefined<Organization>(deps, 'Organization', organization, c);
  return { ref: `Organization/${organization}`, name: org?.name ?? null, members: [], supervisor: null, organization };
}

/** Plans the visits of up to PLAN_CONTACTS_PER_STEP contacts; answers how many visits (Tasks) were made. */
export async function planVisits(deps: InvestigationDeps, actor: Actor, now: Date): Promise<number> {
  const through = addDays(todayInChina(now.getTime()), deps.rules.followUp.planDaysAhead);
  return deps.db.transaction(async (c) => {
    const contacts = await visits.contactsToPlan(c, through, PLAN_CONTACTS_PER_STEP);
    const teams = new Map<string, Team | null>();
    let made = 0;
    for (const k of contacts) {
      const plan = daysToPlan(k, through);
      if (!plan.days.length) {
        await visits.setPlan(c, k.id, plan.next, null);
        continue;
      }
      const key = `${k.patientId}|${k.organization ?? ''}`;
      if (!teams.has(key)) teams.set(key, await teamOf(deps, c, k.patientId, k.organization));
      const team = teams.get(key) ?? null;
      const first = team && team.members.length > 1 ? await visits.takeTurns(c, team.ref, plan.days.length) : 0;
      const who = roundRobin(team?.members ?? [], first, plan.days.length);
      const rows: visits.NewVisit[] = plan.days.map((day, i) => ({
        contactId: k.id,
        day,
        investigationId: k.investigationId,
        patientId: k.patientId,
        team: team?.ref ?? null,
        teamName: team?.name ?? null,
        assignee: who[i]?.ref ?? null,
        assigneeName: who[i]?.name ?? null,
        taskId: visitTaskId(k.id, day),
        escalateAt: escalateAt(day, deps.rules.followUp.escalateAfterHours),
      }));
      const added = await visits.insertVisits(c, rows);
      for (const v of rows) {
        if (!added.has(`${v.contactId}|${v.day}`)) continue;
        await deps.repo.update('Task', v.taskId, visitTask({ ...v, diseaseName: k.diseaseName, state: 'due' }), {}, c);
        made++;
      }
      await visits.setPlan(c, k.id, plan.next, team?.ref ?? null);
      if (added.size)
        await actor.audit(c, {
          action: 'C',
          subtype: 'investigation-visit',
          entities: [`contact ${k.id}`, ...rows.filter((v) => added.has(`${v.contactId}|${v.day}`)).map((v) => `Task/${v.taskId}`)],
          patients: [k.patientId],
          text: `daily monitoring of contact ${k.id} planned for ${plan.days[0]}${plan.days.length > 1 ? ` – ${plan.days[plan.days.length - 1]}` : ''}${team ? ` (${team.ref})` : ''}`,
        });
    }
    return made;
  });
}

/** Escalates up to ESCALATIONS_PER_STEP missed visits whose time has come; answers the notices made. */
export async function escalateMissed(deps: InvestigationDeps, actor: Actor, now: Date): Promise<number> {
  return deps.db.transaction(async (c) => {
    const due = await visits.visitsComeDue(c, now.toISOString(), ESCALATIONS_PER_STEP);
    const teams = new Map<string, Team | null>();
    let made = 0;
    for (const v of due) {
      if (v.checked) {
        await visits.setVisitStatus(c, v.contactId, v.day, 'done');
        await setTaskState(deps, c, v.taskId, 'done');
        continue;
      }
      if (v.contactStatus !== 'monitoring') {
        await visits.setVisitStatus(c, v.contactId, v.day, 'cancelled');
        await setTaskState(deps, c, v.taskId, 'cancelled');
        continue;
      }
      const key = `${v.patientId}|${v.organization ?? ''}`;
      if (!teams.has(key)) teams.set(key, await teamOf(deps, c, v.patientId, v.organization));
      const team = teams.get(key) ?? null;
      const recipients: visits.Recipient[] = [];
      if (v.investigationAssignee)
        recipients.push({ kind: 'investigator', ref: `user:${v.investigationAssignee}`, display: v.investigationAssignee });
      if (v.team ?? team?.ref)
        recipients.push({ kind: 'team', ref: (v.team ?? team?.ref)!, display: v.teamName ?? team?.name ?? (v.team ?? team?.ref)! });
      if (team?.supervisor)
        recipients.push({ kind: 'supervisor', ref: team.supervisor.ref, display: team.supervisor.name ?? team.supervisor.ref });
      recipients.push(
        v.investigationOrganization
          ? {
              kind: 'cdc',
              ref: /^[A-Za-z0-9\-.]{1,64}$/.test(v.investigationOrganization)
                ? `Organization/${v.investigationOrganization}`
                : `organization:${v.investigationOrganization}`,
              display: v.investigationOrganization,
            }
          : { kind: 'cdc', ref: 'role:epidemiologist', display: '疾控中心流调组' },
      );
      const notice = await visits.insertEscalation(c, {
        contactId: v.contactId,
        day: v.day,
        investigationId: v.investigationId,
        patientId: v.patientId,
        organization: v.organization,
        team: v.team ?? team?.ref ?? null,
        recipients,
      });
      await visits.setVisitStatus(c, v.contactId, v.day, 'escalated');
      await setTaskState(deps, c, v.taskId, 'escalated');
      if (!notice) continue;
      made++;
      await actor.audit(c, {
        action: 'C',
        subtype: 'investigation-escalation',
        entities: [`investigation ${v.investigationId}`, `contact ${v.contactId}`, `escalation ${notice.id}`, `Task/${v.taskId}`],
        patients: [v.patientId],
        text: `daily check of contact ${v.contactId} for ${v.day} missed: escalated to ${recipients.map((r) => r.ref).join(', ')}`,
      });
    }
    return made;
  });
}

/**
 * Opens the investigations waiting report cards ask for (at most AUTO_OPEN_PER_STEP): one per card.
 * A resident who already has an open investigation of the disease is left to it (skipped, naming it);
 * a failure is tried again at the next steps, then left as failed with its reason.
 */
export async function openQueued(deps: InvestigationDeps, actor: Actor): Promise<number> {
  const pending = await visits.pendingAutoOpens(deps.db.pool, AUTO_OPEN_PER_STEP);
  let opened = 0;
  for (const p of pending) {
    try {
      const inv = await openAutomatically(deps, p.cardId, p.rule, actor);
      await visits.finishAutoOpen(deps.db.pool, p.cardId, 'opened', inv.id, null);
      opened++;
    } catch (e) {
      const already = await visits.autoInvestigationOfCard(deps.db.pool, p.cardId);
      if (already) await visits.finishAutoOpen(deps.db.pool, p.cardId, 'opened', already, null);
      else if (e instanceof HttpError && (e.status === 409 || e.status === 404 || e.status === 400))
        await visits.finishAutoOpen(deps.db.pool, p.cardId, 'skipped', null, e.message.slice(0, 1000));
      else
        await visits.finishAutoOpen(
          deps.db.pool,
          p.cardId,
          p.attempts + 1 >= MAX_AUTO_OPEN_ATTEMPTS ? 'failed' : 'pending',
          null,
          (e as Error).message.slice(0, 1000),
        );
    }
  }
  return opened;
}

/** One step of the job: cards, plans, escalations. */
export async function followUpStep(
  deps: InvestigationDeps,
  actor: Actor,
  now = new Date(),
): Promise<{ opened: number; planned: number; escalated: number }> {
  const opened = await openQueued(deps, actor);
  const planned = await planVisits(deps, actor, now);
  const escalated = await escalateMissed(deps, actor, now);
  return { opened, planned, escalated };
}

// ---------------------------------------------------------------------------------------------
// Escalation notices (routes)

export async function listEscalations(
  deps: InvestigationDeps,
  q: {
    investigationId?: number;
    organization?: string;
    team?: string;
    state?: 'open' | 'acknowledged' | 'all';
    limit: number;
    offset: number;
  },
) {
  const r = await visits.listEscalations(deps.db.pool, { ...q, state: q.state ?? 'open' });
  return { ...r, limit: q.limit, offset: q.offset };
}

export async function acknowledgeEscalation(deps: InvestigationDeps, id: number, body: { note?: string }, actor: Actor) {
  const known = await visits.findEscalation(deps.db.pool, id);
  if (!known) throw notFound(`escalation ${id} not found / 未找到该上报`);
  await actor.allow([known.patientId]);
  return deps.db.transaction(async (c) => {
    const row = (await visits.findEscalation(c, id, true))!;
    if (row.acknowledgedAt)
      throw conflict(`escalation ${id} was already acknowledged by ${row.acknowledgedBy} at ${row.acknowledgedAt} / 已确认`);
    const after = await visits.acknowledgeEscalation(c, id, actor.user.username, body.note?.trim() || null);
    await actor.audit(c, {
      subtype: 'investigation-escalation',
      entities: [`investigation ${row.investigationId}`, `contact ${row.contactId}`, `escalation ${id}`],
      patients: [row.patientId],
      text: `escalation ${id} (missed check ${row.day}) acknowledged${body.note ? `: ${body.note}` : ''}`,
    });
    return after;
  });
}
