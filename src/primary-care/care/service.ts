/**
 * Family-doctor care operations that span the FHIR store and the module's tables: the due list
 * of a resident, check-in, contracts (CareTeam + EpisodeOfCare), key-population flags (Flag),
 * two-way referral (ServiceRequest + Task) and health-education prescriptions (Communication).
 */
import { randomUUID } from 'node:crypto';
import type { CareTeam, Communication, EpisodeOfCare, Flag, Patient, Person, ServiceRequest, Task } from '@medplum/fhirtypes';
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import { addDays, ageOn, nowInChina, todayInChina } from '../../shared/dates.js';
import { contractRow, populationFromFlag } from '../chronic/facts.js';
import { activeConditionCodes, activeMedicationCodes, personBasics } from '../chronic/registry-store.js';
import {
  CONTRACT_HOUSEHOLD_EXTENSION,
  CONTRACT_TYPE_SYSTEM,
  EDUCATION_ITEM_SYSTEM,
  KEY_POPULATION_SYSTEM,
  REFERRAL_TASK_SYSTEM,
  SERVICE_PACKAGE_EXTENSION,
  SERVICE_PACKAGE_SYSTEM,
  VISIT_TYPE_SYSTEM,
} from '../chronic/uris.js';
import type { AuditIn, CareDeps } from '../services.js';
import { dueServicesFor } from './due-services.js';
import { programmeDueItems } from '../programmes/due.js';
import { educationItemsFor, type EducationItem } from './education.js';
import { POPULATION_LABEL } from './key-populations.js';
import {
  SERVICE_PACKAGES,
  type CheckInResult,
  type ContractInput,
  type ContractsMade,
  type DueItem,
  type DueServices,
  type EducationInput,
  type FlagInput,
  type ReferralDecision,
  type ReferralInput,
  type ResidentSummary,
} from './schemas.js';
import { activeContractsOf, flagInForce, livingHouseholdMembers, residentBasics, storeContracts, storeKeyPopulation } from './store.js';
import { populationsOf } from './key-populations.js';

/** Patient ids behind an id that is a Patient chronic care has not seen yet, or a Person (Person.link targets). */
async function residentPatients(deps: CareDeps, id: string): Promise<string[]> {
  try {
    const p = (await deps.repo.read('Patient', id)) as Patient;
    return [p.id!];
  } catch {
    try {
      const person = (await deps.repo.read('Person', id)) as Person;
      const ids = (person.link ?? [])
        .map((l) => l.target.reference ?? '')
        .filter((r) => r.startsWith('Patient/'))
        .map((r) => r.slice(8));
      if (ids.length) return ids;
    } catch {
      /* not a Person either */
    }
  }
  throw notFound(`resident '${id}' is neither a Patient nor a Person with linked Patients`);
}

/**
 * Everything due for a resident (a Patient or a Person id) on a day, with the basic public-health
 * programmes' services (programmes/due.ts); a Person with several Patient records sees each item once.
 */
export async function dueServicesOfResident(deps: CareDeps, id: string, asOf: string): Promise<DueItem[]> {
  // The common case (a known Patient id) is one statement; other ids are resolved first.
  const direct = await dueServicesFor(deps.db.pool, id, asOf, deps.config);
  const patients = direct ? [id] : await residentPatients(deps, id);
  const items =
    direct ?? (await Promise.all(patients.map(async (p) => (await dueServicesFor(deps.db.pool, p, asOf, deps.config)) ?? []))).flat();
  items.push(...(await programmeDueItems(deps.db, patients, asOf)));
  const seen = new Set<string>();
  return withoutSecondFollowUp(items).filter((i) => (seen.has(i.key) ? false : (seen.add(i.key), true)));
}

/** Chronic care's follow-up item per programme the engine also carries (`follow-up:<disease>` in due-services.ts). */
const CHRONIC_FOLLOW_UP: Record<string, string> = { hypertension: 'follow-up:htn', diabetes: 'follow-up:dm' };

/**
 * One follow-up per disease: while chronic care and the programme engine both carry hypertension
 * and diabetes (until chronic care's path is retired), the engine's next follow-up (下次随访) is
 * left out where chronic care's own follow-up item (高血压随访, 2型糖尿病随访) is listed for the
 * same resident; without it (a resident chronic care has not registered), the engine's stays.
 */
export function withoutSecondFollowUp(items: DueItem[]): DueItem[] {
  const chronic = new Set(items.filter((i) => i.kind === 'follow-up').map((i) => `${i.patientId}|${i.key}`));
  return items.filter(
    (i) =>
      !(
        i.kind === 'programme' &&
        i.programme?.item === 'next-follow-up' &&
        CHRONIC_FOLLOW_UP[i.programme.code] &&
        chronic.has(`${i.patientId}|${CHRONIC_FOLLOW_UP[i.programme.code]}`)
      ),
  );
}

/** Who the resident is, for the check-in desk: undefined when chronic care does not know the Patient (a Person id, or not yet processed). */
export async function residentSummary(deps: CareDeps, patientId: string, asOf: string): Promise<ResidentSummary | undefined> {
  const b = await residentBasics(deps.db.pool, patientId, asOf);
  if (!b) return undefined;
  const age = b.birthDate ? ageOn(b.birthDate, asOf) : null;
  const populations = populationsOf({
    age,
    chronic: b.managed,
    pregnant: b.flags.includes('pregnant'),
    disabled: b.flags.includes('disabled'),
    hardship: b.flags.includes('hardship'),
  });
  return {
    patientId,
    name: b.name,
    gender: b.gender,
    birthDate: b.birthDate,
    age,
    team: b.team,
    keyPopulations: populations.map((code) => ({ code, label: POPULATION_LABEL[code] ?? code })),
  };
}

/** The due list of a resident with who they are (GET /api/residents/{id}/due-services). */
export async function dueServicesAnswer(deps: CareDeps, id: string, asOf: string): Promise<DueServices> {
  const [items, resident] = await Promise.all([dueServicesOfResident(deps, id, asOf), residentSummary(deps, id, asOf)]);
  return { residentId: id, asOf, ...(resident ? { resident } : {}), items };
}

/** Checks a resident in at a facility (Encounter arrived) and returns what is due today. */
export async function checkIn(deps: CareDeps, b: { patientId: string; organizationId?: string }): Promise<CheckInResult> {
  await deps.repo.read('Patient', b.patientId);
  const id = randomUUID();
  // In the district's own offset, so the visit's calendar date is today's date in China
  // (a UTC timestamp just after 16:00 would fall on yesterday's date).
  const now = nowInChina();
  await deps.repo.update('Encounter', id, {
    resourceType: 'Encounter',
    id,
    status: 'arrived',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'outpatient', display: '门诊' }] }],
    subject: { reference: `Patient/${b.patientId}` },
    period: { start: now },
    ...(b.organizationId ? { serviceProvider: { reference: `Organization/${b.organizationId}` } } : {}),
  });
  const today = todayInChina();
  const resident = await residentSummary(deps, b.patientId, today);
  return {
    encounterId: id,
    ...(resident ? { resident } : {}),
    items: withoutSecondFollowUp([
      ...((await dueServicesFor(deps.db.pool, b.patientId, today, deps.config)) ?? []),
      ...(await programmeDueItems(deps.db, [b.patientId], today)),
    ]),
  };
}

/** Contracts a resident or a whole household with a team; 409 if contracted elsewhere unless `transfer`. */
export async function makeContracts(deps: CareDeps, b: ContractInput, audit: AuditIn): Promise<ContractsMade> {
  const { db, repo } = deps;
  const pkg = b.package ?? 'basic';
  const start = b.start ?? todayInChina();
  const team = (await repo.read('CareTeam', b.teamId)) as CareTeam;
  let patients: string[];
  if (b.householdId) {
    patients = await livingHouseholdMembers(db, b.householdId);
    if (!patients.length) throw notFound(`household '${b.householdId}' has no known living members`);
  } else {
    if (!b.patientId) throw badRequest('patientId or householdId: required');
    await repo.read('Patient', b.patientId);
    patients = [b.patientId];
  }
  const existing = await activeContractsOf(db, patients);
  const elsewhere = existing.filter((r) => r.teamId !== b.teamId);
  if (elsewhere.length && b.transfer !== true)
    throw conflict(
      `${elsewhere.map((r) => `Patient/${r.patientId} is contracted with CareTeam/${r.teamId}`).join('; ')}: send "transfer": true to move the contract`,
    );
  const same = new Set(existing.filter((r) => r.teamId === b.teamId).map((r) => r.patientId));
  const org = team.managingOrganization?.[0];
  const created: { episodeId: string; patientId: string }[] = [];
  await db.transaction(async (c) => {
    for (const old of elsewhere) {
      const ep = (await repo.read('EpisodeOfCare', old.episodeId, c)) as EpisodeOfCare;
      const finished: EpisodeOfCare = { ...ep, status: 'finished', period: { ...ep.period, end: addDays(start, -1) } };
      await repo.update('EpisodeOfCare', old.episodeId, finished, {}, c);
      await storeContracts(c, [contractRow(finished)!]);
    }
    for (const pid of patients) {
      if (same.has(pid)) continue;
      const id = randomUUID();
      const ep: EpisodeOfCare = {
        resourceType: 'EpisodeOfCare',
        id,
        extension: [
          { url: SERVICE_PACKAGE_EXTENSION, valueCoding: { system: SERVICE_PACKAGE_SYSTEM, code: pkg, display: SERVICE_PACKAGES[pkg] } },
          ...(b.householdId ? [{ url: CONTRACT_HOUSEHOLD_EXTENSION, valueReference: { reference: `Group/${b.householdId}` } }] : []),
        ],
        status: 'active',
        type: [{ coding: [{ system: CONTRACT_TYPE_SYSTEM, code: 'family-doctor-contract', display: '家庭医生签约' }] }],
        patient: { reference: `Patient/${pid}` },
        ...(org ? { managingOrganization: org } : {}),
        period: { start, end: addDays(addDays(start, 365), -1) },
        team: [{ reference: `CareTeam/${b.teamId}` }],
      };
      await repo.update('EpisodeOfCare', id, ep, {}, c);
      // Written now as well as by the processor, so the next request already sees the contract.
      await storeContracts(c, [contractRow(ep)!]);
      created.push({ episodeId: id, patientId: pid });
    }
    await audit(
      c,
      created.map((x) => `EpisodeOfCare/${x.episodeId}`),
    );
  });
  return { contracts: created, alreadyWithTeam: [...same], transferred: elsewhere.map((r) => r.episodeId) };
}

/** Renews an active contract for another year; returns its new end. */
export async function renewContract(deps: CareDeps, episodeId: string): Promise<string> {
  const ep = (await deps.repo.read('EpisodeOfCare', episodeId)) as EpisodeOfCare;
  if (ep.status !== 'active') throw conflict(`EpisodeOfCare/${episodeId} is ${ep.status}; only an active contract is renewed`);
  const end = addDays(ep.period?.end ?? todayInChina(), 365);
  await deps.repo.update('EpisodeOfCare', episodeId, { ...ep, period: { ...ep.period, end } });
  return end;
}

/** Flags a resident as disabled or in a special-hardship family (a FHIR Flag); 409 if already flagged. */
export async function flagKeyPopulation(
  deps: CareDeps,
  b: FlagInput,
  author: string | undefined,
  audit: AuditIn,
): Promise<{ flagId: string; source: string }> {
  const today = todayInChina();
  const start = b.start ?? today;
  if (start > today) throw badRequest(`start: ${start} is in the future`);
  await deps.repo.read('Patient', b.patientId);
  const open = await flagInForce(deps.db, b.patientId, b.population, today);
  if (open) throw conflict(`Patient/${b.patientId} is already flagged ${b.population} (${open})`);
  const id = randomUUID();
  const flag: Flag = {
    resourceType: 'Flag',
    id,
    status: 'active',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'admin', display: 'Administrative' }] }],
    code: {
      coding: [{ system: KEY_POPULATION_SYSTEM, code: b.population, display: POPULATION_LABEL[b.population] }],
      ...(b.note ? { text: b.note } : {}),
    },
    subject: { reference: `Patient/${b.patientId}` },
    period: { start },
    ...(author ? { author: { display: author } } : {}),
  };
  await deps.db.transaction(async (c) => {
    await deps.repo.update('Flag', id, flag, {}, c);
    // Written now as well as by the processor, so coverage and the contract list see it at once.
    await storeKeyPopulation(c, populationFromFlag(flag)!);
    await audit(c, [`Flag/${id}`, `Patient/${b.patientId}`]);
  });
  return { flagId: id, source: `Flag/${id}` };
}

/** Ends a disabled / hardship flag (Flag inactive, period end = the given day or today); returns the end. */
export async function endKeyPopulationFlag(deps: CareDeps, flagId: string, endOn: string | undefined, audit: AuditIn): Promise<string> {
  const end = endOn ?? todayInChina();
  const flag = (await deps.repo.read('Flag', flagId)) as Flag;
  if (flag.status !== 'active' || !flag.code?.coding?.some((c) => c.system === KEY_POPULATION_SYSTEM))
    throw conflict(`Flag/${flagId} is not an active key-population flag`);
  if (flag.period?.start && end < flag.period.start) throw badRequest(`end: ${end} is before the flag's start ${flag.period.start}`);
  const ended: Flag = { ...flag, status: 'inactive', period: { ...flag.period, end } };
  await deps.db.transaction(async (c) => {
    await deps.repo.update('Flag', flagId, ended, {}, c);
    await storeKeyPopulation(c, populationFromFlag(ended)!);
    await audit(c, [`Flag/${flagId}`]);
  });
  return end;
}

/** Up-referral from a family doctor: a ServiceRequest and its Task. */
export async function makeReferral(
  deps: CareDeps,
  b: ReferralInput,
  audit: AuditIn,
): Promise<{ taskId: string; serviceRequestId: string; status: string }> {
  const { repo } = deps;
  const urgency = b.urgency ?? 'routine';
  await repo.read('Patient', b.patientId);
  await repo.read('Organization', b.toOrganizationId);
  const srId = randomUUID();
  const taskId = randomUUID();
  const now = new Date().toISOString();
  const requester = b.requesterId ? { reference: `Practitioner/${b.requesterId}` } : undefined;
  const sr: ServiceRequest = {
    resourceType: 'ServiceRequest',
    id: srId,
    status: 'active',
    intent: 'order',
    priority: urgency,
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }], text: '转诊' }],
    code: { text: '上转' },
    subject: { reference: `Patient/${b.patientId}` },
    authoredOn: now,
    ...(requester ? { requester } : {}),
    performer: [{ reference: `Organization/${b.toOrganizationId}` }],
    reasonCode: [{ text: b.reason }],
  };
  const task: Task = {
    resourceType: 'Task',
    id: taskId,
    status: 'requested',
    intent: 'order',
    priority: urgency,
    code: { coding: [{ system: REFERRAL_TASK_SYSTEM, code: 'up-referral', display: '上转' }] },
    description: b.reason,
    focus: { reference: `ServiceRequest/${srId}` },
    for: { reference: `Patient/${b.patientId}` },
    authoredOn: now,
    ...(requester ? { requester } : {}),
    owner: { reference: `Organization/${b.toOrganizationId}` },
  };
  await deps.db.transaction(async (c) => {
    await repo.update('ServiceRequest', srId, sr, {}, c);
    await repo.update('Task', taskId, task, {}, c);
    await audit(c, [`Task/${taskId}`, `Patient/${b.patientId}`]);
  });
  return { taskId, serviceRequestId: srId, status: 'requested' };
}

const NEXT_STATUS = { accept: 'accepted', decline: 'rejected', complete: 'completed', start: 'in-progress' } as const;
const ALLOWED_FROM: Record<string, string[]> = {
  accepted: ['requested', 'received'],
  rejected: ['requested', 'received'],
  'in-progress': ['accepted', 'requested'],
  completed: ['accepted', 'in-progress', 'requested'],
};

/** Accepts (with a booked slot), declines (with a reason), starts or completes a referral; returns the new status. */
export async function decideReferral(deps: CareDeps, taskId: string, b: ReferralDecision): Promise<string> {
  const next = NEXT_STATUS[b.action];
  const task = (await deps.repo.read('Task', taskId)) as Task;
  if (!ALLOWED_FROM[next]!.includes(task.status)) throw conflict(`Task/${taskId} is ${task.status}; cannot ${b.action}`);
  const { note, appointment: slot } = b;
  await deps.repo.update('Task', taskId, {
    ...task,
    status: next,
    lastModified: new Date().toISOString(),
    ...(next === 'rejected' && note ? { statusReason: { text: note } } : {}),
    ...(slot ? { businessStatus: { text: `优先预约 ${slot}` } } : {}),
    ...(note ? { note: [...(task.note ?? []), { text: note, time: new Date().toISOString() }] } : {}),
  } as Task);
  return next;
}

/** Education items suggested for a resident (by age, diagnoses and prescriptions), or all items. */
export async function suggestedEducation(deps: CareDeps, patientId: string | undefined): Promise<EducationItem[]> {
  if (!patientId) return deps.config.education;
  const person = await personBasics(deps.db, patientId);
  if (!person) throw notFound(`Patient/${patientId} is not known yet`);
  const icd = await activeConditionCodes(deps.db, patientId);
  const atc = await activeMedicationCodes(deps.db, patientId);
  const age = person.birthDate ? ageOn(person.birthDate, todayInChina()) : 40;
  return educationItemsFor({ age, conditions: icd, medicationsAtc: atc, risks: [] }, deps.config.education);
}

/** Issues education items (双处方) in a visit as Communication resources; returns their ids. */
export async function issueEducation(deps: CareDeps, b: EducationInput, audit: AuditIn): Promise<string[]> {
  const { config, repo } = deps;
  for (const id of b.itemIds) if (!config.education.some((e) => e.id === id)) throw badRequest(`itemIds: unknown item '${id}'`);
  await repo.read('Patient', b.patientId);
  const now = new Date().toISOString();
  const created: string[] = [];
  await deps.db.transaction(async (c) => {
    for (const itemId of b.itemIds) {
      const item = config.education.find((e) => e.id === itemId)!;
      const id = randomUUID();
      const comm: Communication = {
        resourceType: 'Communication',
        id,
        status: 'completed',
        category: [{ coding: [{ system: EDUCATION_ITEM_SYSTEM, code: item.id, display: item.title }], text: '健康教育处方' }],
        subject: { reference: `Patient/${b.patientId}` },
        ...(b.encounterId ? { encounter: { reference: `Encounter/${b.encounterId}` } } : {}),
        sent: now,
        payload: [
          { contentString: `${item.title}：${item.text}` },
          ...(item.url ? [{ contentAttachment: { url: item.url, title: item.title } }] : []),
        ],
      };
      await repo.update('Communication', id, comm, {}, c);
      created.push(id);
    }
    await audit(
      c,
      created.map((x) => `Communication/${x}`),
    );
  });
  return created;
}
