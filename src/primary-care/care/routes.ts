/**
 * Family-doctor contracts (CareTeam + EpisodeOfCare), two-way referral (ServiceRequest + Task),
 * health-education prescriptions (Communication), check-in and the due-services list.
 */
import { randomUUID } from 'node:crypto';
import type { Communication, EpisodeOfCare, Flag, Patient, Person, ServiceRequest, Task } from '@medplum/fhirtypes';
import { describeRoute } from '../../platform/openapi.js';
import { badRequest, conflict, notFound } from '../../platform/errors.js';
import type { ModuleContext } from '../../platform/module.js';
import { addDays, ageOn } from '../chronic/rules.js';
import { asOfParam, todayInChina, type ChronicConfig } from '../chronic/context.js';
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
import { FLAGGED_POPULATIONS, keyPopulationsOnSql, populationFromFlag, populationsOf, POPULATION_LABEL } from './key-populations.js';
import { dueServicesFor } from './due-services.js';
import { contractRow } from '../chronic/facts.js';
import { upsertRows } from '../chronic/store.js';
import { educationItemsFor } from './education.js';

const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
export const SERVICE_PACKAGES: Record<string, string> = {
  basic: '基础包',
  elderly: '老年人健康管理包',
  chronic: '慢病管理包',
  maternal: '孕产妇健康管理包',
  child: '0–6岁儿童健康管理包',
  disabled: '残疾人服务包',
  hardship: '特困家庭服务包',
};

export function registerCareRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const { app, db, repo } = ctx;

  /** Patient ids behind an id that is a Patient chronic care has not seen yet, or a Person (Person.link targets). */
  async function residentPatients(id: string): Promise<string[]> {
    try {
      const p = (await repo.read('Patient', id)) as Patient;
      return [p.id!];
    } catch {
      try {
        const person = (await repo.read('Person', id)) as Person;
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

  describeRoute({
    method: 'get',
    path: '/api/residents/{id}/due-services',
    summary:
      'Everything due for a resident (Patient or Person id): follow-ups, BP screening, vaccines, education, referral returns, confirmations, notifiable report cards to complete (draft or returned)',
    tag: 'care',
    responses: {
      '200': '{"residentId","asOf","items":[{"kind","key","title","detail","dueDate","overdue","patientId","cardId?","taskId?"}]}',
      '404': 'Neither a Patient nor a Person with linked Patients',
    },
  });
  app.get('/api/residents/:id/due-services', async (req) => {
    await ctx.guard(req, 'care:read');
    const { id } = req.params as { id: string };
    const asOf = asOfParam((req.query as Record<string, string | undefined>).asOf);
    // The common case (a known Patient id) is one statement; other ids are resolved first.
    const direct = await dueServicesFor(db.pool, id, asOf, config);
    const items =
      direct ??
      (await Promise.all((await residentPatients(id)).map(async (p) => (await dueServicesFor(db.pool, p, asOf, config)) ?? []))).flat();
    // A Person with several Patient records sees each item once.
    const seen = new Set<string>();
    return { residentId: id, asOf, items: items.filter((i) => (seen.has(i.key) ? false : (seen.add(i.key), true))) };
  });

  describeRoute({
    method: 'post',
    path: '/api/care/check-in',
    summary: 'Check a resident in at a facility (Encounter status arrived) and return the due-services list',
    tag: 'care',
  });
  app.post('/api/care/check-in', async (req, reply) => {
    await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    if (!patientId) throw badRequest('patientId: required');
    await repo.read('Patient', patientId);
    const id = randomUUID();
    // In the district's own offset, so the visit's calendar date is today's date in China
    // (a UTC timestamp just after 16:00 would fall on yesterday's date).
    const now = `${new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
    await repo.update('Encounter', id, {
      resourceType: 'Encounter',
      id,
      status: 'arrived',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ coding: [{ system: VISIT_TYPE_SYSTEM, code: 'outpatient', display: '门诊' }] }],
      subject: { reference: `Patient/${patientId}` },
      period: { start: now },
      ...(str(b.organizationId) ? { serviceProvider: { reference: `Organization/${str(b.organizationId)}` } } : {}),
    });
    ctx.processors.poke();
    return reply.code(201).send({ encounterId: id, items: (await dueServicesFor(db.pool, patientId, todayInChina(), config)) ?? [] });
  });

  describeRoute({
    method: 'get',
    path: '/api/care/check-ins',
    summary: "Today's check-ins: web check-ins (Encounter arrived) and ADT A04 registrations (ambulatory Encounter in progress)",
    tag: 'care',
  });
  app.get('/api/care/check-ins', async (req) => {
    await ctx.guard(req, 'care:read');
    const asOf = asOfParam((req.query as Record<string, string | undefined>).asOf);
    const r = await db.query(
      `SELECT e.encounter_id AS "encounterId", e.patient_id AS "patientId", p.name, e.organization_id AS "organizationId" FROM chronic_encounter e
       LEFT JOIN chronic_person p ON p.patient_id = e.patient_id WHERE e.status IN ('arrived', 'in-progress') AND e.visit_date = $1::date AND coalesce(e.class, 'AMB') IN ('AMB', 'EMER') ORDER BY e.encounter_id LIMIT 500`,
      [asOf],
    );
    return { asOf, rows: r.rows };
  });

  // ---- contracts -------------------------------------------------------------------------
  describeRoute({
    method: 'get',
    path: '/api/care/teams',
    summary: 'Family-doctor teams (CareTeam) with members and contract counts',
    tag: 'care',
  });
  app.get('/api/care/teams', async (req) => {
    await ctx.guard(req, 'care:read');
    const r = await db.query(
      `SELECT m.team_id AS "teamId", min(m.team_name) AS name, min(m.organization_id) AS "organizationId", array_agg(m.practitioner_id ORDER BY m.practitioner_id) AS members,
              (SELECT count(*)::int FROM care_contract c WHERE c.team_id = m.team_id AND c.status = 'active') AS contracts
       FROM care_team_member m GROUP BY m.team_id ORDER BY m.team_id`,
    );
    return { rows: r.rows };
  });

  describeRoute({
    method: 'post',
    path: '/api/care/contracts',
    summary: 'Contract a resident or a whole household with a team (409 if contracted elsewhere unless transfer: true)',
    tag: 'care',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['teamId'],
        properties: {
          patientId: { type: 'string' },
          householdId: { type: 'string' },
          teamId: { type: 'string' },
          package: { enum: Object.keys(SERVICE_PACKAGES) },
          start: { type: 'string' },
          transfer: { type: 'boolean' },
        },
      },
    },
    responses: { '201': '{"contracts":[{"episodeId","patientId"}]}', '409': 'Already contracted with another team; send transfer: true' },
  });
  app.post('/api/care/contracts', async (req, reply) => {
    const user = await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const teamId = str(b.teamId);
    if (!teamId) throw badRequest('teamId: required');
    const pkg = str(b.package) ?? 'basic';
    if (!SERVICE_PACKAGES[pkg]) throw badRequest(`package: one of ${Object.keys(SERVICE_PACKAGES).join(', ')}`);
    const start = str(b.start) ?? todayInChina();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) throw badRequest('start: YYYY-MM-DD');
    const team = await repo.read('CareTeam', teamId);
    const householdId = str(b.householdId);
    let patients: string[];
    if (householdId) {
      patients = (
        await db.query<{ patient_id: string }>(
          'SELECT patient_id FROM chronic_person WHERE household_id = $1 AND NOT deceased ORDER BY patient_id',
          [householdId],
        )
      ).rows.map((r) => r.patient_id);
      if (!patients.length) throw notFound(`household '${householdId}' has no known living members`);
    } else {
      const pid = str(b.patientId);
      if (!pid) throw badRequest('patientId or householdId: required');
      await repo.read('Patient', pid);
      patients = [pid];
    }
    const existing = await db.query<{ episode_id: string; patient_id: string; team_id: string }>(
      `SELECT episode_id, patient_id, team_id FROM care_contract WHERE patient_id = ANY($1) AND status = 'active'`,
      [patients],
    );
    const elsewhere = existing.rows.filter((r) => r.team_id !== teamId);
    if (elsewhere.length && b.transfer !== true)
      throw conflict(
        `${elsewhere.map((r) => `Patient/${r.patient_id} is contracted with CareTeam/${r.team_id}`).join('; ')}: send "transfer": true to move the contract`,
      );
    const same = new Set(existing.rows.filter((r) => r.team_id === teamId).map((r) => r.patient_id));
    const org = (team as { managingOrganization?: { reference?: string }[] }).managingOrganization?.[0];
    const created: { episodeId: string; patientId: string }[] = [];
    await db.transaction(async (c) => {
      for (const old of elsewhere) {
        const ep = (await repo.read('EpisodeOfCare', old.episode_id, c)) as EpisodeOfCare;
        const finished: EpisodeOfCare = { ...ep, status: 'finished', period: { ...ep.period, end: addDays(start, -1) } };
        await repo.update('EpisodeOfCare', old.episode_id, finished, {}, c);
        await upsertRows(c, 'care_contract', ['episode_id'], [contractRow(finished)!]);
      }
      for (const pid of patients) {
        if (same.has(pid)) continue;
        const id = randomUUID();
        const ep: EpisodeOfCare = {
          resourceType: 'EpisodeOfCare',
          id,
          extension: [
            { url: SERVICE_PACKAGE_EXTENSION, valueCoding: { system: SERVICE_PACKAGE_SYSTEM, code: pkg, display: SERVICE_PACKAGES[pkg] } },
            ...(householdId ? [{ url: CONTRACT_HOUSEHOLD_EXTENSION, valueReference: { reference: `Group/${householdId}` } }] : []),
          ],
          status: 'active',
          type: [{ coding: [{ system: CONTRACT_TYPE_SYSTEM, code: 'family-doctor-contract', display: '家庭医生签约' }] }],
          patient: { reference: `Patient/${pid}` },
          ...(org ? { managingOrganization: org } : {}),
          period: { start, end: addDays(addDays(start, 365), -1) },
          team: [{ reference: `CareTeam/${teamId}` }],
        };
        await repo.update('EpisodeOfCare', id, ep, {}, c);
        // Written now as well as by the processor, so the next request already sees the contract.
        await upsertRows(c, 'care_contract', ['episode_id'], [contractRow(ep)!]);
        created.push({ episodeId: id, patientId: pid });
      }
      await ctx.audit.recordNow(c, {
        user,
        action: 'C',
        subtype: 'create',
        entities: created.map((x) => `EpisodeOfCare/${x.episodeId}`),
        outcome: 'success',
      });
    });
    ctx.processors.poke();
    return reply.code(201).send({ contracts: created, alreadyWithTeam: [...same], transferred: elsewhere.map((r) => r.episode_id) });
  });

  describeRoute({
    method: 'post',
    path: '/api/care/contracts/{episodeId}/renew',
    summary: 'Renew a contract for another year',
    tag: 'care',
  });
  app.post('/api/care/contracts/:episodeId/renew', async (req) => {
    await ctx.guard(req, 'care:write');
    const { episodeId } = req.params as { episodeId: string };
    const ep = (await repo.read('EpisodeOfCare', episodeId)) as EpisodeOfCare;
    if (ep.status !== 'active') throw conflict(`EpisodeOfCare/${episodeId} is ${ep.status}; only an active contract is renewed`);
    const end = addDays(ep.period?.end ?? todayInChina(), 365);
    await repo.update('EpisodeOfCare', episodeId, { ...ep, period: { ...ep.period, end } });
    ctx.processors.poke();
    return { episodeId, end };
  });

  describeRoute({
    method: 'get',
    path: '/api/care/contracts',
    summary: 'Contracts (filters: team, patient, status), with key populations of each resident',
    tag: 'care',
  });
  app.get('/api/care/contracts', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const params: unknown[] = [q.status ?? 'active'];
    let where = 'c.status = $1';
    // (key populations: age and registries, plus pregnant / disabled / hardship in force today)
    if (q.team) (params.push(q.team), (where += ` AND c.team_id = $${params.length}`));
    if (q.patient) (params.push(q.patient), (where += ` AND c.patient_id = $${params.length}`));
    const today = todayInChina();
    params.push(today);
    const r = await db.query<{
      episodeId: string;
      patientId: string;
      name: string | null;
      birthDate: string | null;
      teamId: string;
      package: string | null;
      start: string;
      end: string;
      householdId: string | null;
      chronic: boolean;
      pregnant: boolean | null;
      disabled: boolean | null;
      hardship: boolean | null;
    }>(
      `WITH kp AS (${keyPopulationsOnSql(`$${params.length}`)})
       SELECT c.episode_id AS "episodeId", c.patient_id AS "patientId", p.name, to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate", c.team_id AS "teamId", c.package,
              to_char(c.start_on, 'YYYY-MM-DD') AS start, to_char(c.end_on, 'YYYY-MM-DD') AS "end", c.household_id AS "householdId",
              EXISTS (SELECT 1 FROM chronic_registry g WHERE g.patient_id = c.patient_id) AS chronic, kp.pregnant, kp.disabled, kp.hardship
       FROM care_contract c LEFT JOIN chronic_person p ON p.patient_id = c.patient_id LEFT JOIN kp ON kp.patient_id = c.patient_id
       WHERE ${where} ORDER BY c.start_on DESC, c.patient_id LIMIT 2000`,
      params,
    );
    return {
      rows: r.rows.map(({ pregnant, disabled, hardship, ...x }) => {
        const age = x.birthDate ? ageOn(x.birthDate, today) : null;
        return {
          ...x,
          populations: populationsOf({ age, chronic: x.chronic, pregnant, disabled, hardship }),
          renewalDue: !!x.end && x.end <= addDays(today, 30),
        };
      }),
    };
  });

  // ---- key populations (重点人群) ------------------------------------------------------------
  describeRoute({
    method: 'get',
    path: '/api/care/key-populations',
    summary:
      'Stored key-population memberships (pregnant from the record; disabled and hardship flagged by staff). Filters: patient, population, asOf (only those in force that day)',
    tag: 'care',
    responses: { '200': '{"rows":[{"source","patientId","name","population","start","end","note"}]}' },
  });
  app.get('/api/care/key-populations', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const params: unknown[] = [];
    let where = 'true';
    if (q.patient) (params.push(q.patient), (where += ` AND k.patient_id = $${params.length}`));
    if (q.population) {
      if (!['pregnant', ...FLAGGED_POPULATIONS].includes(q.population))
        throw badRequest(`population: one of pregnant, ${FLAGGED_POPULATIONS.join(', ')}`);
      params.push(q.population);
      where += ` AND k.population = $${params.length}`;
    }
    if (q.asOf !== undefined) {
      params.push(asOfParam(q.asOf));
      where += ` AND (k.start_on IS NULL OR k.start_on <= $${params.length}::date) AND (k.end_on IS NULL OR k.end_on >= $${params.length}::date)`;
    }
    const r = await db.query(
      `SELECT k.source, k.patient_id AS "patientId", p.name, k.population, to_char(k.start_on, 'YYYY-MM-DD') AS start, to_char(k.end_on, 'YYYY-MM-DD') AS "end", k.note
       FROM care_key_population k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id WHERE ${where} ORDER BY k.patient_id, k.population, k.start_on NULLS FIRST LIMIT 5000`,
      params,
    );
    return { rows: r.rows };
  });

  describeRoute({
    method: 'post',
    path: '/api/care/key-populations',
    summary: 'Flag a resident as disabled (残疾人) or in a special-hardship family (特困家庭): a FHIR Flag; 409 if already flagged',
    tag: 'care',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['patientId', 'population'],
        properties: {
          patientId: { type: 'string' },
          population: { enum: [...FLAGGED_POPULATIONS] },
          start: { type: 'string' },
          note: { type: 'string' },
        },
      },
    },
    responses: {
      '201': '{"flagId","source"}',
      '400': 'Unknown population or bad date',
      '404': 'No such Patient',
      '409': 'Already flagged',
    },
  });
  app.post('/api/care/key-populations', async (req, reply) => {
    const user = await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    const population = str(b.population);
    if (!patientId) throw badRequest('patientId: required');
    if (!population || !(FLAGGED_POPULATIONS as readonly string[]).includes(population))
      throw badRequest(
        `population: one of ${FLAGGED_POPULATIONS.join(', ')} (pregnancy comes from the record: a pregnancy Condition or EpisodeOfCare)`,
      );
    const start = str(b.start) ?? todayInChina();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || Number.isNaN(Date.parse(start))) throw badRequest(`start: YYYY-MM-DD (got '${start}')`);
    if (start > todayInChina()) throw badRequest(`start: ${start} is in the future`);
    await repo.read('Patient', patientId);
    const open = await db.query<{ source: string }>(
      `SELECT source FROM care_key_population WHERE patient_id = $1 AND population = $2 AND source LIKE 'Flag/%' AND (end_on IS NULL OR end_on >= $3::date)`,
      [patientId, population, todayInChina()],
    );
    if (open.rows.length) throw conflict(`Patient/${patientId} is already flagged ${population} (${open.rows[0]!.source})`);
    const id = randomUUID();
    const note = str(b.note);
    const flag: Flag = {
      resourceType: 'Flag',
      id,
      status: 'active',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'admin', display: 'Administrative' }] }],
      code: {
        coding: [{ system: KEY_POPULATION_SYSTEM, code: population, display: POPULATION_LABEL[population] }],
        ...(note ? { text: note } : {}),
      },
      subject: { reference: `Patient/${patientId}` },
      period: { start },
      ...(user.username ? { author: { display: user.username } } : {}),
    };
    await db.transaction(async (c) => {
      await repo.update('Flag', id, flag, {}, c);
      // Written now as well as by the processor, so coverage and the contract list see it at once.
      await upsertRows(c, 'care_key_population', ['source'], [populationFromFlag(flag)!]);
      await ctx.audit.recordNow(c, {
        user,
        action: 'C',
        subtype: 'create',
        entities: [`Flag/${id}`, `Patient/${patientId}`],
        outcome: 'success',
      });
    });
    ctx.processors.poke();
    return reply.code(201).send({ flagId: id, source: `Flag/${id}` });
  });

  describeRoute({
    method: 'post',
    path: '/api/care/key-populations/{flagId}/end',
    summary: 'End a disabled / hardship flag (Flag inactive, period end = the given day or today)',
    tag: 'care',
    responses: { '200': '{"flagId","end"}', '404': 'No such Flag', '409': 'Not an active key-population flag' },
  });
  app.post('/api/care/key-populations/:flagId/end', async (req) => {
    const user = await ctx.guard(req, 'care:write');
    const { flagId } = req.params as { flagId: string };
    const b = (req.body ?? {}) as Record<string, unknown>;
    const end = str(b.end) ?? todayInChina();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(end) || Number.isNaN(Date.parse(end))) throw badRequest(`end: YYYY-MM-DD (got '${end}')`);
    const flag = (await repo.read('Flag', flagId)) as Flag;
    if (flag.status !== 'active' || !flag.code?.coding?.some((c) => c.system === KEY_POPULATION_SYSTEM))
      throw conflict(`Flag/${flagId} is not an active key-population flag`);
    if (flag.period?.start && end < flag.period.start) throw badRequest(`end: ${end} is before the flag's start ${flag.period.start}`);
    const ended: Flag = { ...flag, status: 'inactive', period: { ...flag.period, end } };
    await db.transaction(async (c) => {
      await repo.update('Flag', flagId, ended, {}, c);
      await upsertRows(c, 'care_key_population', ['source'], [populationFromFlag(ended)!]);
      await ctx.audit.recordNow(c, { user, action: 'U', subtype: 'update', entities: [`Flag/${flagId}`], outcome: 'success' });
    });
    ctx.processors.poke();
    return { flagId, end };
  });

  // ---- referrals -------------------------------------------------------------------------
  describeRoute({
    method: 'post',
    path: '/api/care/referrals',
    summary: 'Up-referral from a family doctor (ServiceRequest + Task) with reason and urgency',
    tag: 'care',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['patientId', 'reason', 'toOrganizationId'],
        properties: {
          patientId: { type: 'string' },
          reason: { type: 'string' },
          urgency: { enum: ['routine', 'urgent', 'asap', 'stat'] },
          toOrganizationId: { type: 'string' },
          requesterId: { type: 'string' },
        },
      },
    },
  });
  app.post('/api/care/referrals', async (req, reply) => {
    const user = await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    const reason = str(b.reason);
    const to = str(b.toOrganizationId);
    const urgency = str(b.urgency) ?? 'routine';
    if (!patientId) throw badRequest('patientId: required');
    if (!reason) throw badRequest('reason: required');
    if (!to) throw badRequest('toOrganizationId: required');
    if (!['routine', 'urgent', 'asap', 'stat'].includes(urgency)) throw badRequest('urgency: routine, urgent, asap or stat');
    await repo.read('Patient', patientId);
    await repo.read('Organization', to);
    const srId = randomUUID();
    const taskId = randomUUID();
    const now = new Date().toISOString();
    const requester = str(b.requesterId) ? { reference: `Practitioner/${str(b.requesterId)}` } : undefined;
    const sr: ServiceRequest = {
      resourceType: 'ServiceRequest',
      id: srId,
      status: 'active',
      intent: 'order',
      priority: urgency as ServiceRequest['priority'],
      category: [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }], text: '转诊' }],
      code: { text: '上转' },
      subject: { reference: `Patient/${patientId}` },
      authoredOn: now,
      ...(requester ? { requester } : {}),
      performer: [{ reference: `Organization/${to}` }],
      reasonCode: [{ text: reason }],
    };
    const task: Task = {
      resourceType: 'Task',
      id: taskId,
      status: 'requested',
      intent: 'order',
      priority: urgency as Task['priority'],
      code: { coding: [{ system: REFERRAL_TASK_SYSTEM, code: 'up-referral', display: '上转' }] },
      description: reason,
      focus: { reference: `ServiceRequest/${srId}` },
      for: { reference: `Patient/${patientId}` },
      authoredOn: now,
      ...(requester ? { requester } : {}),
      owner: { reference: `Organization/${to}` },
    };
    await db.transaction(async (c) => {
      await repo.update('ServiceRequest', srId, sr, {}, c);
      await repo.update('Task', taskId, task, {}, c);
      await ctx.audit.recordNow(c, {
        user,
        action: 'C',
        subtype: 'create',
        entities: [`Task/${taskId}`, `Patient/${patientId}`],
        outcome: 'success',
      });
    });
    ctx.processors.poke();
    return reply.code(201).send({ taskId, serviceRequestId: srId, status: 'requested' });
  });

  describeRoute({
    method: 'post',
    path: '/api/care/referrals/{taskId}/decision',
    summary: 'Accept (with a booked slot), decline (with a reason) or complete a referral',
    tag: 'care',
  });
  app.post('/api/care/referrals/:taskId/decision', async (req) => {
    await ctx.guard(req, 'care:write');
    const { taskId } = req.params as { taskId: string };
    const b = (req.body ?? {}) as Record<string, unknown>;
    const action = String(b.action ?? '');
    const next = { accept: 'accepted', decline: 'rejected', complete: 'completed', start: 'in-progress' }[action];
    if (!next) throw badRequest('action: accept, decline, start or complete');
    const task = (await repo.read('Task', taskId)) as Task;
    const allowed: Record<string, string[]> = {
      accepted: ['requested', 'received'],
      rejected: ['requested', 'received'],
      'in-progress': ['accepted', 'requested'],
      completed: ['accepted', 'in-progress', 'requested'],
    };
    if (!allowed[next]!.includes(task.status)) throw conflict(`Task/${taskId} is ${task.status}; cannot ${action}`);
    const note = str(b.note);
    const slot = str(b.appointment);
    await repo.update('Task', taskId, {
      ...task,
      status: next,
      lastModified: new Date().toISOString(),
      ...(next === 'rejected' && note ? { statusReason: { text: note } } : {}),
      ...(slot ? { businessStatus: { text: `优先预约 ${slot}` } } : {}),
      ...(note ? { note: [...(task.note ?? []), { text: note, time: new Date().toISOString() }] } : {}),
    } as Task);
    ctx.processors.poke();
    return { taskId, status: next };
  });

  describeRoute({
    method: 'get',
    path: '/api/care/referrals',
    summary: 'Referrals visible to both ends (filters: patient, direction up|down, status, owner)',
    tag: 'care',
  });
  app.get('/api/care/referrals', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const params: unknown[] = [];
    let where = 'true';
    for (const [k, col] of [
      ['patient', 'k.patient_id'],
      ['direction', 'k.direction'],
      ['status', 'k.status'],
      ['owner', 'k.owner'],
    ] as const)
      if (q[k]) (params.push(q[k]), (where += ` AND ${col} = $${params.length}`));
    const r = await db.query(
      `SELECT k.task_id AS "taskId", k.service_request_id AS "serviceRequestId", k.patient_id AS "patientId", p.name, k.direction, k.status, k.urgency, k.reason,
              k.requester, k.owner, to_char(k.due_on, 'YYYY-MM-DD') AS "dueOn", to_char(k.authored_on, 'YYYY-MM-DD') AS "authoredOn", k.source_encounter_id AS "encounterId"
       FROM care_referral k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id WHERE ${where} ORDER BY k.authored_on DESC NULLS LAST LIMIT 1000`,
      params,
    );
    return { rows: r.rows };
  });

  // ---- education -------------------------------------------------------------------------
  describeRoute({
    method: 'get',
    path: '/api/care/education/items',
    summary: 'Education items suggested for a resident (?patient=) or all items',
    tag: 'care',
  });
  app.get('/api/care/education/items', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    if (!q.patient) return { items: config.education };
    const p = await db.query<{ birth_date: string | null }>(
      `SELECT to_char(birth_date, 'YYYY-MM-DD') AS birth_date FROM chronic_person WHERE patient_id = $1`,
      [q.patient],
    );
    if (!p.rows[0]) throw notFound(`Patient/${q.patient} is not known yet`);
    const icd = (
      await db.query<{ icd: string }>('SELECT icd FROM chronic_condition WHERE patient_id = $1 AND active', [q.patient])
    ).rows.map((r) => r.icd);
    const atc = (
      await db.query<{ atc: string }>('SELECT atc FROM chronic_medication WHERE patient_id = $1 AND active AND atc IS NOT NULL', [
        q.patient,
      ])
    ).rows.map((r) => r.atc);
    const age = p.rows[0].birth_date ? ageOn(p.rows[0].birth_date, todayInChina()) : 40;
    return { items: educationItemsFor({ age, conditions: icd, medicationsAtc: atc, risks: [] }, config.education) };
  });

  describeRoute({
    method: 'post',
    path: '/api/care/education',
    summary: 'Issue education items (双处方) in a visit, recorded as Communication resources',
    tag: 'care',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['patientId', 'itemIds'],
        properties: {
          patientId: { type: 'string' },
          encounterId: { type: 'string' },
          itemIds: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  });
  app.post('/api/care/education', async (req, reply) => {
    const user = await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    if (!patientId) throw badRequest('patientId: required');
    const ids = Array.isArray(b.itemIds) ? b.itemIds.map(String) : [];
    if (!ids.length) throw badRequest('itemIds: at least one item id');
    for (const id of ids) if (!config.education.some((e) => e.id === id)) throw badRequest(`itemIds: unknown item '${id}'`);
    await repo.read('Patient', patientId);
    const now = new Date().toISOString();
    const created: string[] = [];
    await db.transaction(async (c) => {
      for (const itemId of ids) {
        const item = config.education.find((e) => e.id === itemId)!;
        const id = randomUUID();
        const comm: Communication = {
          resourceType: 'Communication',
          id,
          status: 'completed',
          category: [{ coding: [{ system: EDUCATION_ITEM_SYSTEM, code: item.id, display: item.title }], text: '健康教育处方' }],
          subject: { reference: `Patient/${patientId}` },
          ...(str(b.encounterId) ? { encounter: { reference: `Encounter/${str(b.encounterId)}` } } : {}),
          sent: now,
          payload: [
            { contentString: `${item.title}：${item.text}` },
            ...(item.url ? [{ contentAttachment: { url: item.url, title: item.title } }] : []),
          ],
        };
        await repo.update('Communication', id, comm, {}, c);
        created.push(id);
      }
      await ctx.audit.recordNow(c, {
        user,
        action: 'C',
        subtype: 'create',
        entities: created.map((x) => `Communication/${x}`),
        outcome: 'success',
      });
    });
    ctx.processors.poke();
    return reply.code(201).send({ communicationIds: created });
  });
}
