/**
 * The follow-up job (a polling loop on the main thread, poked when contacts are confirmed and when
 * the change-log processor queues a report card): each step does bounded work —
 *  1. opens the investigations that report cards ask for by the rules (autoOpen), at most 20 cards;
 *  2. plans the daily monitoring visits of up to 100 contacts for today and the next days
 *     (planDaysAhead), each a FHIR Task owned by the contact's team (routeContact: the family-doctor
 *     CareTeam of their contract, else a team of the centre covering their street in turn, else
 *     their managing Organization, else the investigation's owner with a 协查 note), focused on the
 *     contact and assigned to the team's members in turn;
 *  3. escalates up to 200 visits whose check is still missing escalateAfterHours after the day
 *     ended: a notice to the investigator, the team's supervisor and the CDC, written as a FHIR
 *     Communication and queued as text messages (notices.ts sends them).
 * Each part reads only what has come due through its partial index (plan_from, escalate_at,
 * pending cards), never a whole table; two servers share the work (SKIP LOCKED).
 * Also here: the escalation notices' list and acknowledgement.
 */
import type {
  CareTeam,
  CareTeamParticipant,
  Communication,
  EpisodeOfCare,
  Organization,
  Patient,
  Practitioner,
  Resource,
} from '@medplum/fhirtypes';
import { search } from '../fhir/search.js';
import type { Queryable } from '../platform/db.js';
import { conflict, HttpError, notFound } from '../platform/errors.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { homeAreaCode } from '../shared/home-area.js';
import { patientDisplayName } from '../shared/patient-name.js';
import { areaNames, placeAreas } from '../registry/index.js';
import { acknowledgedCommunication, escalationCommunication, noticeRows, type NoticeFacts, type RecipientResource } from './notices.js';
import * as outbox from './store-notices.js';
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

/** A CareTeam as a Team, members' names as `nameOf` gives them (null when unknown). */
function teamOfResource(team: CareTeam, nameOf: (p: CareTeamParticipant) => string | null): Team {
  const members: Team['members'] = [];
  let supervisor: Team['supervisor'] = null;
  for (const p of team.participant ?? []) {
    const ref = p.member?.reference;
    if (!ref?.startsWith('Practitioner/')) continue;
    const name = nameOf(p);
    members.push({ ref, name });
    // The family doctor leads a family-doctor team (团队长); else the first member.
    const role = (p.role ?? [])
      .map((r) => `${r.text ?? ''} ${(r.coding ?? []).map((x) => `${x.code} ${x.display ?? ''}`).join(' ')}`)
      .join(' ');
    if (!supervisor && /家庭医生|团队长|leader|lead/i.test(role)) supervisor = { ref, name };
  }
  const org = team.managingOrganization?.[0]?.reference;
  return {
    ref: `CareTeam/${team.id}`,
    name: team.name ?? null,
    members,
    supervisor: supervisor ?? members[0] ?? null,
    organization: org?.startsWith('Organization/') ? org.slice(13) : null,
  };
}

async function careTeam(deps: InvestigationDeps, c: Queryable, id: string): Promise<Team | undefined> {
  const team = await readOrUndefined<CareTeam>(deps, 'CareTeam', id, c);
  if (!team) return undefined;
  const names = new Map<string, string | null>();
  for (const p of team.participant ?? []) {
    const ref = p.member?.reference;
    if (!ref?.startsWith('Practitioner/') || p.member?.display) continue;
    names.set(ref, humanName(await readOrUndefined<Practitioner>(deps, 'Practitioner', ref.slice(13), c)));
  }
  return { ...teamOfResource({ ...team, id }, (p) => p.member?.display ?? names.get(p.member!.reference!) ?? null) };
}

/** A team known by its reference: a CareTeam, an organisation without members, or the investigator (user:…). */
async function teamByRef(deps: InvestigationDeps, c: Queryable, ref: string): Promise<Team | null> {
  if (ref.startsWith('CareTeam/')) return (await careTeam(deps, c, ref.slice(9))) ?? null;
  if (ref.startsWith('Organization/')) {
    const id = ref.slice(13);
    const org = await readOrUndefined<Organization>(deps, 'Organization', id, c);
    return { ref, name: org?.name ?? null, members: [], supervisor: null, organization: id };
  }
  if (ref.startsWith('user:')) return { ref, name: ref.slice(5), members: [], supervisor: null, organization: null };
  return null;
}

/** The CareTeam of the resident's active family-doctor contract (EpisodeOfCare.team), if any. */
async function contractTeam(deps: InvestigationDeps, c: Queryable, patientId: string): Promise<Team | undefined> {
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
  return undefined;
}

/**
 * The team of a contact as it stands (escalation, and callers outside the planning step): the
 * CareTeam of their active family-doctor contract, else their managing organisation (the
 * community health centre) without members to rotate.
 */
export async function teamOf(deps: InvestigationDeps, c: Queryable, patientId: string, organization: string | null): Promise<Team | null> {
  const contract = await contractTeam(deps, c, patientId);
  if (contract) return contract;
  return organization ? teamByRef(deps, c, `Organization/${organization}`) : null;
}

// ---------------------------------------------------------------------------------------------
// Routing: who follows a contact

/** The registry's organisation types that cover streets and townships (社区卫生服务中心, 乡镇卫生院). */
export const CENTRE_TYPES = ['chc', 'township-hc'];
const ORGANIZATION_TYPE_SYSTEM = 'https://yifang.health/fhir/CodeSystem/registry-organization-type';

/** What routing reads once per planning step: the district's areas, the centres by street, the teams by centre. */
export interface RoutingCache {
  areas?: { codes: Set<string>; counties: Set<string> };
  centresByStreet?: Map<string, { id: string; name: string; areaCode: string | null }[]>;
  teamsByCentre?: Map<string, Team[]>;
  /** Centres whose teams' members have been named (Practitioners read). */
  named?: Set<string>;
}

/** The street (街道/乡镇) of a 统计用区划代码: its first nine digits (a county code has none). */
export function streetOf(code: string): string | null {
  if (!/^\d{9}(\d{3})?$/.test(code)) return null;
  return `${code.slice(0, 9)}000`;
}

/** Whether an area code lies in the district the registry describes (undefined: the registry holds no areas). */
export function inDistrict(areas: { codes: Set<string>; counties: Set<string> }, code: string): boolean | undefined {
  if (!areas.codes.size) return undefined;
  const street = streetOf(code);
  return (
    areas.codes.has(code) ||
    (street !== null && (areas.codes.has(street) || areas.codes.has(street.slice(0, 9)))) ||
    areas.counties.has(code.slice(0, 6))
  );
}

async function districtAreas(c: Queryable, cache: RoutingCache): Promise<NonNullable<RoutingCache['areas']>> {
  if (!cache.areas) {
    const codes = new Set((await areaNames(c)).keys());
    const counties = new Set([...codes].filter((x) => x.length === 6 || x.endsWith('000000')).map((x) => x.slice(0, 6)));
    cache.areas = { codes, counties };
  }
  return cache.areas;
}

/** The registry's centres by the street they are in (FHIR Organizations of the centre types; their street from the registry). */
async function centresByStreet(c: Queryable, cache: RoutingCache): Promise<NonNullable<RoutingCache['centresByStreet']>> {
  if (!cache.centresByStreet) {
    const orgs = (
      await fhirSearch<Organization>(c, 'Organization', [
        ['type', CENTRE_TYPES.map((t) => `${ORGANIZATION_TYPE_SYSTEM}|${t}`).join(',')],
        ['_count', '1000'],
      ])
    ).filter((o) => o.active !== false && o.id);
    const where = await placeAreas(
      c,
      orgs.map((o) => o.id!),
    );
    const out = new Map<string, { id: string; name: string; areaCode: string | null }[]>();
    for (const o of orgs.sort((a, b) => a.id!.localeCompare(b.id!))) {
      const street = where.get(o.id!)?.streetCode;
      if (!street) continue;
      const key = streetOf(street) ?? street;
      out.set(key, [...(out.get(key) ?? []), { id: o.id!, name: o.name ?? o.id!, areaCode: where.get(o.id!)?.areaCode ?? null }]);
    }
    cache.centresByStreet = out;
  }
  return cache.centresByStreet;
}

/** The family-doctor teams of a centre (CareTeam.managingOrganization; active, or no status given), in id order. */
async function teamsOfCentre(deps: InvestigationDeps, c: Queryable, cache: RoutingCache, centre: string): Promise<Team[]> {
  if (!cache.teamsByCentre) {
    const byCentre = new Map<string, Team[]>();
    for (let offset = 0; offset < 20_000; offset += 1000) {
      const page = await fhirSearch<CareTeam>(c, 'CareTeam', [
        ['_count', '1000'],
        ['_offset', String(offset)],
      ]);
      for (const t of page) {
        const org = t.managingOrganization?.[0]?.reference;
        if (!t.id || !org?.startsWith('Organization/') || (t.status && t.status !== 'active')) continue;
        const key = org.slice(13);
        byCentre.set(key, [...(byCentre.get(key) ?? []), teamOfResource(t, (r) => r.member?.display ?? null)]);
      }
      if (page.length < 1000) break;
    }
    for (const list of byCentre.values()) list.sort((a, b) => a.ref.localeCompare(b.ref));
    cache.teamsByCentre = byCentre;
  }
  const teams = cache.teamsByCentre.get(centre) ?? [];
  // Members' names as careTeam() gives them (the Practitioner's when the team gives no display), once per step.
  cache.named ??= new Set();
  if (!cache.named.has(centre) && teams.some((t) => t.members.some((m) => !m.name))) {
    const named = await Promise.all(
      teams.map(async (t) => (t.members.some((m) => !m.name) ? ((await careTeam(deps, c, t.ref.slice(9))) ?? t) : t)),
    );
    cache.teamsByCentre.set(centre, named);
    cache.named.add(centre);
    return named;
  }
  return teams;
}

/** Who follows a contact, and the note their Tasks carry (协查 when the investigation's owner keeps them). */
export interface MonitoringRoute {
  team: Team | null;
  note: string | null;
}

/** The investigation's owner as a team: its organisation (by name), the investigator the member each visit goes to. */
async function investigationOwner(deps: InvestigationDeps, c: Queryable, k: visits.ContactToPlan): Promise<Team | null> {
  const org = k.investigationOrganization;
  const user = k.investigationAssignee;
  if (!org && !user) return null;
  const byId = org !== null && /^[A-Za-z0-9\-.]{1,64}$/.test(org);
  const orgName = byId ? (await readOrUndefined<Organization>(deps, 'Organization', org, c))?.name : undefined;
  return {
    ref: byId ? `Organization/${org}` : user ? `user:${user}` : `organization:${org}`,
    name: org ? `${orgName ?? org}（流调负责人）` : user,
    members: user ? [{ ref: `user:${user}`, name: user }] : [],
    supervisor: null,
    organization: byId ? org : null,
  };
}

/**
 * Who follows a contact's daily checks:
 *  1. the CareTeam of their active family-doctor contract;
 *  2. else the community health centre (or township health centre) covering the street of their home
 *     address (the registry's organisations and their streets), its teams in turn — one team per
 *     contact, kept for the whole window — or the centre itself when it has no team;
 *  3. else, in the district, their managing organisation;
 *  4. else — an address outside the district, or none a centre covers — the investigation's owner
 *     (its organisation, the investigator as the member), the Tasks noting the hand-over (协查).
 */
export async function routeContact(
  deps: InvestigationDeps,
  c: Queryable,
  k: visits.ContactToPlan,
  cache: RoutingCache,
): Promise<MonitoringRoute> {
  const contract = await contractTeam(deps, c, k.patientId);
  if (contract) return { team: contract, note: null };
  const patient = await readOrUndefined<Patient>(deps, 'Patient', k.patientId, c);
  const code = homeAreaCode(patient);
  const street = code ? streetOf(code) : null;
  if (street) {
    const centres = (await centresByStreet(c, cache)).get(street) ?? [];
    // The centre of the contact's own community first, else the street's first.
    const centre = centres.find((x) => x.areaCode === code) ?? centres[0];
    if (centre) {
      const teams = await teamsOfCentre(deps, c, cache, centre.id);
      if (!teams.length)
        return {
          team: { ref: `Organization/${centre.id}`, name: centre.name, members: [], supervisor: null, organization: centre.id },
          note: null,
        };
      const kept = teams.find((t) => t.ref === k.team);
      if (kept) return { team: kept, note: null };
      const turn = await visits.takeTurns(c, `Organization/${centre.id}#teams`, 1);
      return { team: teams[turn % teams.length]!, note: null };
    }
  }
  const outside = code ? inDistrict(await districtAreas(c, cache), code) === false : false;
  if (!outside && k.organization) return { team: await teamByRef(deps, c, `Organization/${k.organization}`), note: null };
  const owner = await investigationOwner(deps, c, k);
  const note = outside
    ? `协查：住址（区划 ${code}）不在本辖区，由流调负责人跟进并移交属地 / outside the district: kept by the investigation's owner and handed over (investigation ${k.investigationId})`
    : `无签约团队，住址未能对应社区卫生服务中心，由流调负责人跟进 / no contract and no centre covering the address: kept by the investigation's owner (investigation ${k.investigationId})`;
  return { team: owner, note };
}

/** Plans the visits of up to PLAN_CONTACTS_PER_STEP contacts; answers how many visits (Tasks) were made. */
export async function planVisits(deps: InvestigationDeps, actor: Actor, now: Date): Promise<number> {
  const through = addDays(todayInChina(now.getTime()), deps.rules.followUp.planDaysAhead);
  return deps.db.transaction(async (c) => {
    const contacts = await visits.contactsToPlan(c, through, PLAN_CONTACTS_PER_STEP);
    const cache: RoutingCache = {};
    let made = 0;
    for (const k of contacts) {
      const plan = daysToPlan(k, through);
      if (!plan.days.length) {
        await visits.setPlan(c, k.id, plan.next, null);
        continue;
      }
      const { team, note } = await routeContact(deps, c, k, cache);
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
        note,
      }));
      const added = await visits.insertVisits(c, rows);
      for (const v of rows) {
        if (!added.has(`${v.contactId}|${v.day}`)) continue;
        await deps.repo.update('Task', v.taskId, visitTask({ ...v, diseaseName: k.diseaseName, state: 'due' }), {}, c);
        made++;
      }
      await visits.setPlan(c, k.id, plan.next, team?.ref ?? null, team?.organization ?? null);
      if (added.size)
        await actor.audit(c, {
          action: 'C',
          subtype: 'investigation-visit',
          entities: [`contact ${k.id}`, ...rows.filter((v) => added.has(`${v.contactId}|${v.day}`)).map((v) => `Task/${v.taskId}`)],
          patients: [k.patientId],
          text: `daily monitoring of contact ${k.id} planned for ${plan.days[0]}${plan.days.length > 1 ? ` – ${plan.days[plan.days.length - 1]}` : ''}${team ? ` (${team.ref})` : ''}${note ? `; ${note}` : ''}`,
        });
    }
    return made;
  });
}

/** The Practitioner, CareTeam or Organization a recipient names (for its phone), or nothing. */
async function recipientResource(deps: InvestigationDeps, c: Queryable, ref: string): Promise<RecipientResource> {
  const m = /^(CareTeam|Practitioner|Organization)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
  return m ? readOrUndefined<CareTeam | Practitioner | Organization>(deps, m[1]!, m[2]!, c) : undefined;
}

/**
 * Escalates up to ESCALATIONS_PER_STEP missed visits whose time has come; answers the notices made.
 * Each notice is written as a FHIR Communication (the recipients' inbox) and queued in the outbox:
 * a text message to each recipient with a phone, sent by the notice dispatcher.
 */
export async function escalateMissed(deps: InvestigationDeps, actor: Actor, now: Date): Promise<number> {
  return deps.db.transaction(async (c) => {
    const due = await visits.visitsComeDue(c, now.toISOString(), ESCALATIONS_PER_STEP);
    const teams = new Map<string, Team | null>();
    const resources = new Map<string, RecipientResource>();
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
      // The team the visit went to (its supervisor); for visits planned without one, the contact's team now.
      const key = v.team ?? `${v.patientId}|${v.organization ?? ''}`;
      if (!teams.has(key)) teams.set(key, v.team ? await teamByRef(deps, c, v.team) : await teamOf(deps, c, v.patientId, v.organization));
      const team = teams.get(key) ?? null;
      const teamRef = v.team ?? team?.ref ?? null;
      const recipients: visits.Recipient[] = [];
      if (v.investigationAssignee)
        recipients.push({ kind: 'investigator', ref: `user:${v.investigationAssignee}`, display: v.investigationAssignee });
      if (teamRef && teamRef !== `user:${v.investigationAssignee}`)
        recipients.push({ kind: 'team', ref: teamRef, display: v.teamName ?? team?.name ?? teamRef });
      if (team?.supervisor)
        recipients.push({ kind: 'supervisor', ref: team.supervisor.ref, display: team.supervisor.name ?? team.supervisor.ref });
      const cdc: visits.Recipient = v.investigationOrganization
        ? {
            kind: 'cdc',
            ref: /^[A-Za-z0-9\-.]{1,64}$/.test(v.investigationOrganization)
              ? `Organization/${v.investigationOrganization}`
              : `organization:${v.investigationOrganization}`,
            display: v.investigationOrganization,
          }
        : { kind: 'cdc', ref: 'role:epidemiologist', display: '疾控中心流调组' };
      if (!recipients.some((r) => r.ref === cdc.ref)) recipients.push(cdc);
      const notice = await visits.insertEscalation(c, {
        contactId: v.contactId,
        day: v.day,
        investigationId: v.investigationId,
        patientId: v.patientId,
        organization: team?.organization ?? v.organization,
        team: teamRef,
        recipients,
      });
      await visits.setVisitStatus(c, v.contactId, v.day, 'escalated');
      await setTaskState(deps, c, v.taskId, 'escalated');
      if (!notice) continue;
      made++;
      for (const r of recipients) if (!resources.has(r.ref)) resources.set(r.ref, await recipientResource(deps, c, r.ref));
      const contact = await readOrUndefined<Patient>(deps, 'Patient', v.patientId, c);
      const facts: NoticeFacts = {
        escalationId: notice.id,
        contactId: v.contactId,
        day: v.day,
        investigationId: v.investigationId,
        patientId: v.patientId,
        contactName: contact ? (patientDisplayName(contact) ?? null) : null,
        taskId: v.taskId,
        diseaseName: v.diseaseName,
        recipients,
        teamOrganization: team?.organization ?? null,
        sent: now.toISOString(),
      };
      const communication = escalationCommunication(facts);
      await deps.repo.update('Communication', communication.id!, communication, {}, c);
      await visits.setEscalationCommunication(c, notice.id, communication.id!);
      const rows = noticeRows(facts, resources);
      await outbox.insertNotices(c, rows);
      await actor.audit(c, {
        action: 'C',
        subtype: 'investigation-escalation',
        entities: [
          `investigation ${v.investigationId}`,
          `contact ${v.contactId}`,
          `escalation ${notice.id}`,
          `Task/${v.taskId}`,
          `Communication/${communication.id}`,
        ],
        patients: [v.patientId],
        text: `daily check of contact ${v.contactId} for ${v.day} missed: escalated to ${recipients.map((r) => r.ref).join(', ')}; ${rows.filter((r) => r.channel === 'sms' && r.status === 'queued').length} text message(s) queued`,
      });
    }
    if (made) deps.onNoticesQueued?.();
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
  const deliveries = await outbox.deliveriesOf(
    deps.db.pool,
    r.items.map((e) => e.id),
  );
  return {
    items: r.items.map((e) => ({ ...e, deliveries: deliveries.get(e.id) ?? [] })),
    total: r.total,
    limit: q.limit,
    offset: q.offset,
  };
}

export async function acknowledgeEscalation(deps: InvestigationDeps, id: number, body: { note?: string }, actor: Actor) {
  const known = await visits.findEscalation(deps.db.pool, id);
  if (!known) throw notFound(`escalation ${id} not found / 未找到该上报`);
  await actor.allow([known.patientId]);
  return deps.db.transaction(async (c) => {
    const row = (await visits.findEscalation(c, id, true))!;
    if (row.acknowledgedAt)
      throw conflict(`escalation ${id} was already acknowledged by ${row.acknowledgedBy} at ${row.acknowledgedAt} / 已确认`);
    const note = body.note?.trim() || null;
    const after = await visits.acknowledgeEscalation(c, id, actor.user.username, note);
    // The notice has reached someone: its Communication is completed, messages not yet sent are dropped.
    const communication = row.communicationId
      ? await readOrUndefined<Communication>(deps, 'Communication', row.communicationId, c)
      : undefined;
    if (communication)
      await deps.repo.update(
        'Communication',
        row.communicationId!,
        acknowledgedCommunication(communication, actor.user.username, after.acknowledgedAt!, note),
        {},
        c,
      );
    const dropped = await outbox.discardQueued(c, id, 'acknowledged before it was sent / 已确认，不再发送');
    await actor.audit(c, {
      subtype: 'investigation-escalation',
      entities: [
        `investigation ${row.investigationId}`,
        `contact ${row.contactId}`,
        `escalation ${id}`,
        ...(communication ? [`Communication/${row.communicationId}`] : []),
      ],
      patients: [row.patientId],
      text: `escalation ${id} (missed check ${row.day}) acknowledged${note ? `: ${note}` : ''}${dropped ? `; ${dropped} unsent message(s) dropped` : ''}`,
    });
    return { ...after, deliveries: (await outbox.deliveriesOf(c, [id])).get(id) ?? [] };
  });
}
