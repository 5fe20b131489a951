/**
 * Chronic-care HTTP API: registries, worklists, confirmation list, follow-up visits.
 */
import { randomUUID } from 'node:crypto';
import type { Encounter, Extension, Observation, Patient } from '@medplum/fhirtypes';
import { describeRoute } from '../../platform/openapi.js';
import { badRequest, notFound } from '../../platform/errors.js';
import type { ModuleContext } from '../../platform/module.js';
import { LOINC_SYSTEM, UCUM_SYSTEM } from '../../shared/uris.js';
import { asOfParam, todayInChina, type ChronicConfig } from './context.js';
import { addDays, ageOn, comorbiditiesOf, implausibleReadings, nextFollowUp, ruleSetFor, type Disease, type Readings } from './rules.js';
import { refreshPatients } from './store.js';
import { FOLLOW_UP_EXTENSION, FOLLOW_UP_MODE_SYSTEM, VISIT_TYPE_SYSTEM } from './uris.js';

const DISEASES = ['htn', 'dm'];
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const intParam = (v: unknown, dflt: number, max: number) => {
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`expected a non-negative integer (got '${String(v)}')`);
  return Math.min(n, max);
};

export function registerChronicRoutes(ctx: ModuleContext, config: ChronicConfig): void {
  const { app, db } = ctx;

  describeRoute({
    method: 'get',
    path: '/api/chronic/registry',
    summary: 'Hypertension / diabetes registry (filters: disease, status, team, doctor, q, asOf, limit, offset)',
    tag: 'chronic',
    responses: { '200': '{"total","rows":[...]}' },
  });
  app.get('/api/chronic/registry', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const asOf = asOfParam(q.asOf);
    const lostDays = ruleSetFor(config.sets, asOf).registry.lostToFollowUpAfterDays;
    if (q.disease && !DISEASES.includes(q.disease)) throw badRequest(`disease: one of ${DISEASES.join(', ')}`);
    const params: unknown[] = [asOf, lostDays];
    let where = 'true';
    const add = (sql: string, v: unknown) => (params.push(v), (where += ` AND ${sql.replace('?', `$${params.length}`)}`));
    if (q.disease) add('r.disease = ?', q.disease);
    if (q.team) add('r.team_id = ?', q.team);
    if (q.doctor) add('r.doctor_id = ?', q.doctor);
    if (q.q) add('(p.name LIKE ? OR r.patient_id LIKE $' + (params.length + 1) + ')', `%${q.q}%`);
    const status = `CASE WHEN r.status = 'managed' AND coalesce(r.last_visit, r.diagnosed_on) < $1::date - $2::int THEN 'lost-to-follow-up' ELSE r.status END`;
    if (q.status) add(`${status} = ?`, q.status);
    const limit = intParam(q.limit, 50, 1000);
    const offset = intParam(q.offset, 0, 10_000_000);
    const rows = await db.query(
      `SELECT r.patient_id AS "patientId", p.name, p.gender, to_char(p.birth_date, 'YYYY-MM-DD') AS "birthDate", r.disease, to_char(r.diagnosed_on, 'YYYY-MM-DD') AS "diagnosedOn",
              r.source, ${status} AS status, r.team_id AS "teamId", r.doctor_id AS "doctorId", r.organization_id AS "organizationId",
              to_char(r.last_visit, 'YYYY-MM-DD') AS "lastVisit", to_char(r.next_due, 'YYYY-MM-DD') AS "nextDue", r.decision, r.controlled,
              count(*) OVER ()::int AS total
       FROM chronic_registry r LEFT JOIN chronic_person p ON p.patient_id = r.patient_id
       WHERE ${where} ORDER BY r.next_due NULLS LAST, r.patient_id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    return { total: (rows.rows[0] as { total?: number } | undefined)?.total ?? 0, rows: rows.rows.map(({ total: _t, ...r }) => r) };
  });

  describeRoute({
    method: 'post',
    path: '/api/chronic/registry',
    summary: 'Enrol a resident manually (disease htn|dm, diagnosedOn, teamId)',
    tag: 'chronic',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['patientId', 'disease'],
        properties: {
          patientId: { type: 'string' },
          disease: { enum: DISEASES },
          diagnosedOn: { type: 'string' },
          teamId: { type: 'string' },
        },
      },
    },
  });
  app.post('/api/chronic/registry', async (req) => {
    await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    if (!patientId) throw badRequest('patientId: required');
    if (!DISEASES.includes(String(b.disease))) throw badRequest(`disease: one of ${DISEASES.join(', ')}`);
    const diagnosedOn = str(b.diagnosedOn) ?? todayInChina();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(diagnosedOn) || diagnosedOn > todayInChina())
      throw badRequest('diagnosedOn: a date (YYYY-MM-DD) not in the future');
    await ctx.repo.read('Patient', patientId);
    await db.transaction(async (c) => {
      await c.query(
        `INSERT INTO chronic_registry (patient_id, disease, diagnosed_on, source, team_id) VALUES ($1, $2, $3, 'manual', $4)
         ON CONFLICT (patient_id, disease) DO NOTHING`,
        [patientId, b.disease, diagnosedOn, str(b.teamId) ?? null],
      );
      await refreshPatients(c, [patientId], config.sets, todayInChina());
    });
    const r = await db.query(
      `SELECT patient_id AS "patientId", disease, source, status, to_char(next_due, 'YYYY-MM-DD') AS "nextDue" FROM chronic_registry WHERE patient_id = $1 AND disease = $2`,
      [patientId, b.disease],
    );
    return r.rows[0];
  });

  describeRoute({
    method: 'put',
    path: '/api/chronic/registry/{patientId}/{disease}',
    summary: 'Change a registry status (managed, transferred, died) with a reason',
    tag: 'chronic',
  });
  app.put('/api/chronic/registry/:patientId/:disease', async (req) => {
    await ctx.guard(req, 'care:write');
    const { patientId, disease } = req.params as { patientId: string; disease: string };
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!['managed', 'transferred', 'died'].includes(String(b.status))) throw badRequest('status: one of managed, transferred, died');
    const r = await db.query(
      `UPDATE chronic_registry SET status = $3, status_reason = $4, updated_at = now() WHERE patient_id = $1 AND disease = $2 RETURNING patient_id`,
      [patientId, disease, b.status, str(b.reason) ?? null],
    );
    if (!r.rows.length) throw notFound(`${patientId} is not in the ${disease} registry`);
    return { patientId, disease, status: b.status };
  });

  describeRoute({
    method: 'get',
    path: '/api/chronic/worklist',
    summary: "A doctor's or team's worklist: due (next 7 days), overdue (≤ 30 days), to recall (> 30 days), referred awaiting return",
    tag: 'chronic',
  });
  app.get('/api/chronic/worklist', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const asOf = asOfParam(q.asOf);
    const params: unknown[] = [asOf];
    let where = `r.status = 'managed'`;
    if (q.doctor) (params.push(q.doctor), (where += ` AND r.doctor_id = $${params.length}`));
    if (q.team) (params.push(q.team), (where += ` AND r.team_id = $${params.length}`));
    const rows = await db.query<{
      patientId: string;
      name: string | null;
      disease: string;
      nextDue: string;
      decision: string | null;
      lastVisit: string | null;
      bucket: string;
      controlled: boolean | null;
    }>(
      `SELECT * FROM (
         SELECT r.patient_id AS "patientId", p.name, r.disease, to_char(r.next_due, 'YYYY-MM-DD') AS "nextDue", r.decision, r.controlled,
                to_char(r.last_visit, 'YYYY-MM-DD') AS "lastVisit",
                CASE WHEN r.decision IN ('refer', 'urgent-referral') AND r.next_due >= $1::date - 30 THEN 'referred'
                     WHEN r.next_due > $1::date + 7 THEN NULL
                     WHEN r.next_due >= $1::date THEN 'due'
                     WHEN r.next_due >= $1::date - 30 THEN 'overdue'
                     ELSE 'recall' END AS bucket
         FROM chronic_registry r LEFT JOIN chronic_person p ON p.patient_id = r.patient_id
         WHERE ${where} AND r.next_due <= $1::date + 30) x
       WHERE bucket IS NOT NULL ORDER BY "nextDue", "patientId" LIMIT 2000`,
      params,
    );
    const referrals = await db.query(
      `SELECT k.task_id AS "taskId", k.patient_id AS "patientId", p.name, k.direction, k.status, k.reason, to_char(k.due_on, 'YYYY-MM-DD') AS "dueOn"
       FROM care_referral k LEFT JOIN chronic_person p ON p.patient_id = k.patient_id
       WHERE k.status IN ('requested', 'received', 'accepted', 'in-progress') ${q.doctor ? `AND k.owner = $1` : ''} ORDER BY k.due_on NULLS LAST LIMIT 500`,
      q.doctor ? [`Practitioner/${q.doctor}`] : [],
    );
    const pick = (b: string) => rows.rows.filter((r) => r.bucket === b).map(({ bucket: _b, ...r }) => r);
    return {
      asOf,
      due: pick('due'),
      overdue: pick('overdue'),
      recall: pick('recall'),
      referred: pick('referred'),
      referrals: referrals.rows,
    };
  });

  describeRoute({
    method: 'get',
    path: '/api/chronic/confirmations',
    summary: 'Suspected undiagnosed hypertension/diabetes awaiting confirmation (status open|confirmed|dismissed)',
    tag: 'chronic',
  });
  app.get('/api/chronic/confirmations', async (req) => {
    await ctx.guard(req, 'care:read');
    const q = req.query as Record<string, string | undefined>;
    const r = await db.query(
      `SELECT c.patient_id AS "patientId", p.name, c.disease, c.reason, to_char(c.detected_on, 'YYYY-MM-DD') AS "detectedOn", c.status
       FROM chronic_confirmation c LEFT JOIN chronic_person p ON p.patient_id = c.patient_id WHERE c.status = $1 ORDER BY c.detected_on DESC LIMIT 1000`,
      [q.status ?? 'open'],
    );
    return { rows: r.rows };
  });

  describeRoute({
    method: 'put',
    path: '/api/chronic/confirmations/{patientId}/{disease}',
    summary: 'Confirm or dismiss a suspected case',
    tag: 'chronic',
  });
  app.put('/api/chronic/confirmations/:patientId/:disease', async (req) => {
    await ctx.guard(req, 'care:write');
    const { patientId, disease } = req.params as { patientId: string; disease: string };
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!['confirmed', 'dismissed'].includes(String(b.status))) throw badRequest('status: confirmed or dismissed');
    const r = await db.query(`UPDATE chronic_confirmation SET status = $3 WHERE patient_id = $1 AND disease = $2 RETURNING 1`, [
      patientId,
      disease,
      b.status,
    ]);
    if (!r.rows.length) throw notFound(`no suspected ${disease} case for ${patientId}`);
    return { patientId, disease, status: b.status };
  });

  describeRoute({
    method: 'get',
    path: '/api/chronic/patients/{id}',
    summary: "A resident's registry entries, follow-up evaluations and recent readings",
    tag: 'chronic',
  });
  app.get('/api/chronic/patients/:id', async (req) => {
    await ctx.guard(req, 'care:read');
    const { id } = req.params as { id: string };
    const [reg, evals, readings, person] = await Promise.all([
      db.query(
        `SELECT disease, to_char(diagnosed_on, 'YYYY-MM-DD') AS "diagnosedOn", source, status, team_id AS "teamId", doctor_id AS "doctorId", to_char(last_visit, 'YYYY-MM-DD') AS "lastVisit", to_char(next_due, 'YYYY-MM-DD') AS "nextDue", decision, controlled, reasons FROM chronic_registry WHERE patient_id = $1`,
        [id],
      ),
      db.query(
        `SELECT encounter_id AS "encounterId", disease, to_char(visit_date, 'YYYY-MM-DD') AS "visitDate", mode, rule_version AS "ruleVersion", controlled, decision, to_char(due_date, 'YYYY-MM-DD') AS "dueDate", on_time AS "onTime", reasons FROM chronic_visit_eval WHERE patient_id = $1 ORDER BY visit_date DESC LIMIT 100`,
        [id],
      ),
      db.query(
        `SELECT kind, to_char(taken_on, 'YYYY-MM-DD') AS "takenOn", sbp, dbp, value, flag FROM chronic_reading WHERE patient_id = $1 ORDER BY taken_on DESC LIMIT 50`,
        [id],
      ),
      db.query(
        `SELECT name, gender, to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", area_code AS "areaCode", organization_id AS "organizationId" FROM chronic_person WHERE patient_id = $1`,
        [id],
      ),
    ]);
    return { patientId: id, person: person.rows[0] ?? null, registry: reg.rows, followUps: evals.rows, readings: readings.rows };
  });

  describeRoute({
    method: 'post',
    path: '/api/chronic/follow-ups',
    summary: 'Record a follow-up visit (Encounter + Observations) and get the next visit by the rules',
    tag: 'chronic',
    requestBody: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['patientId', 'date', 'mode'],
        properties: {
          patientId: { type: 'string' },
          date: { type: 'string', description: 'YYYY-MM-DD' },
          mode: { enum: ['face-to-face', 'phone', 'home'] },
          readings: {
            type: 'object',
            properties: { sbp: { type: 'number' }, dbp: { type: 'number' }, fpg: { type: 'number' }, hba1c: { type: 'number' } },
          },
          symptoms: { type: 'array', items: { type: 'string' } },
          adherence: { enum: ['regular', 'intermittent', 'none'] },
          adverseReaction: { enum: ['none', 'manageable', 'unmanageable'] },
          newComplication: { type: 'boolean' },
          advice: { type: 'array', items: { type: 'string' } },
          doctorId: { type: 'string' },
          organizationId: { type: 'string' },
        },
      },
    },
    responses: {
      '201': '{"encounterId","observationIds","plans":[{"disease","decision","dueDate","reasons"}]}',
      '400': 'Bad date or readings out of physiological range (names the field)',
    },
  });
  app.post('/api/chronic/follow-ups', async (req, reply) => {
    const user = await ctx.guard(req, 'care:write');
    const b = (req.body ?? {}) as Record<string, unknown>;
    const patientId = str(b.patientId);
    if (!patientId) throw badRequest('patientId: required');
    const date = str(b.date);
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date)))
      throw badRequest(`date: expected YYYY-MM-DD (got '${String(b.date)}')`);
    const today = todayInChina();
    if (date > today) throw badRequest(`date: ${date} is in the future (today is ${today})`);
    const mode = String(b.mode ?? '');
    if (!['face-to-face', 'phone', 'home'].includes(mode)) throw badRequest('mode: one of face-to-face, phone, home');
    const patient = (await ctx.repo.read('Patient', patientId)) as Patient;
    if (patient.birthDate && date < patient.birthDate.padEnd(10, '-01').slice(0, 10))
      throw badRequest(`date: ${date} is before the resident's birth (${patient.birthDate})`);
    const raw = (b.readings ?? {}) as Record<string, unknown>;
    const readings: Readings = {};
    for (const k of ['sbp', 'dbp', 'fpg', 'hba1c'] as const) {
      if (raw[k] === undefined || raw[k] === null || raw[k] === '') continue;
      const v = Number(raw[k]);
      if (!Number.isFinite(v)) throw badRequest(`readings.${k}: not a number ('${String(raw[k])}')`);
      readings[k] = v;
    }
    if ((readings.sbp === undefined) !== (readings.dbp === undefined)) throw badRequest('readings: systolic and diastolic go together');
    const rules = ruleSetFor(config.sets, date);
    const bad = implausibleReadings(readings, rules);
    if (bad.length) throw badRequest(`readings: ${bad.join('; ')}`);
    const symptoms = Array.isArray(b.symptoms) ? b.symptoms.map(String) : [];
    const advice = Array.isArray(b.advice) ? b.advice.map(String) : [];
    const adverse = str(b.adverseReaction) ?? 'none';
    if (!['none', 'manageable', 'unmanageable'].includes(adverse)) throw badRequest('adverseReaction: none, manageable or unmanageable');
    const encounterId = randomUUID();
    const start = `${date}T${date === today ? new Date(Date.now() + 8 * 3600_000).toISOString().slice(11, 19) : '09:00:00'}+08:00`;
    const sub: Extension[] = [
      { url: 'mode', valueCode: mode },
      ...(b.adherence ? [{ url: 'adherence', valueCode: String(b.adherence) }] : []),
      { url: 'adverse-reaction', valueCode: adverse },
      { url: 'new-complication', valueBoolean: b.newComplication === true },
      ...symptoms.map((s) => ({ url: 'symptom', valueCode: s })),
      ...advice.map((a) => ({ url: 'advice', valueString: a })),
    ];
    const encounter: Encounter = {
      resourceType: 'Encounter',
      id: encounterId,
      extension: [{ url: FOLLOW_UP_EXTENSION, extension: sub }],
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: mode === 'home' ? 'HH' : mode === 'phone' ? 'VR' : 'AMB' },
      type: [
        { coding: [{ system: VISIT_TYPE_SYSTEM, code: 'follow-up', display: '慢病随访' }] },
        { coding: [{ system: FOLLOW_UP_MODE_SYSTEM, code: mode, display: { 'face-to-face': '门诊', phone: '电话', home: '家庭' }[mode] }] },
      ],
      subject: { reference: `Patient/${patientId}` },
      ...(str(b.doctorId) ? { participant: [{ individual: { reference: `Practitioner/${str(b.doctorId)}` } }] } : {}),
      period: { start, end: start },
      ...(str(b.organizationId) ? { serviceProvider: { reference: `Organization/${str(b.organizationId)}` } } : {}),
    };
    const obs: Observation[] = [];
    const base = {
      resourceType: 'Observation' as const,
      status: 'final' as const,
      subject: { reference: `Patient/${patientId}` },
      encounter: { reference: `Encounter/${encounterId}` },
      effectiveDateTime: start,
    };
    const q = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM_SYSTEM, code });
    if (readings.sbp !== undefined)
      obs.push({
        ...base,
        id: randomUUID(),
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: LOINC_SYSTEM, code: '85354-9' }], text: '血压' },
        component: [
          { code: { coding: [{ system: LOINC_SYSTEM, code: '8480-6' }] }, valueQuantity: q(readings.sbp, 'mmHg', 'mm[Hg]') },
          { code: { coding: [{ system: LOINC_SYSTEM, code: '8462-4' }] }, valueQuantity: q(readings.dbp!, 'mmHg', 'mm[Hg]') },
        ],
      });
    if (readings.fpg !== undefined)
      obs.push({
        ...base,
        id: randomUUID(),
        code: { coding: [{ system: LOINC_SYSTEM, code: '1558-6' }], text: '空腹血糖' },
        valueQuantity: q(readings.fpg, 'mmol/L', 'mmol/L'),
      });
    if (readings.hba1c !== undefined)
      obs.push({
        ...base,
        id: randomUUID(),
        code: { coding: [{ system: LOINC_SYSTEM, code: '4548-4' }], text: '糖化血红蛋白' },
        valueQuantity: q(readings.hba1c, '%', '%'),
      });

    const plans = await db.transaction(async (c) => {
      await ctx.repo.update('Encounter', encounterId, encounter, {}, c);
      for (const o of obs) await ctx.repo.update('Observation', o.id!, o, {}, c);
      await ctx.audit.recordNow(c, {
        user,
        action: 'C',
        subtype: 'create',
        entities: [`Encounter/${encounterId}`, `Patient/${patientId}`],
        outcome: 'success',
      });
      const reg = await c.query<{ disease: Disease }>('SELECT disease FROM chronic_registry WHERE patient_id = $1', [patientId]);
      const icd = (
        await c.query<{ icd: string }>('SELECT icd FROM chronic_condition WHERE patient_id = $1 AND active', [patientId])
      ).rows.map((r) => r.icd);
      const out = [];
      for (const { disease } of reg.rows) {
        const last = await c.query<{ controlled: boolean | null; decision: string; visit_date: string }>(
          `SELECT controlled, decision, to_char(visit_date, 'YYYY-MM-DD') AS visit_date FROM chronic_visit_eval WHERE patient_id = $1 AND disease = $2 AND visit_date <= $3 ORDER BY visit_date DESC, encounter_id DESC LIMIT 1`,
          [patientId, disease, date],
        );
        const history = last.rows.map((l) => ({
          date: l.visit_date,
          controlled: l.controlled ?? undefined,
          decision: l.decision as never,
        }));
        const age = patient.birthDate ? ageOn(patient.birthDate, date) : 60;
        out.push({
          disease,
          ...nextFollowUp(
            history,
            { date, disease, readings, symptoms, adverseReaction: adverse as never, newComplication: b.newComplication === true },
            { age, comorbidities: comorbiditiesOf(icd, rules) },
            rules,
          ),
        });
      }
      return out;
    });
    ctx.processors.poke();
    return reply
      .code(201)
      .send({
        encounterId,
        observationIds: obs.map((o) => o.id),
        plans,
        ruleVersion: rules.version,
        recallBy: addDays(date, rules.registry.lostToFollowUpAfterDays),
      });
  });
}
