/**
 * Everything due for one resident when they check in anywhere (健康管理站): follow-ups, first-visit
 * blood pressure (首诊测血压), vaccines, education items, referral returns, confirmation of
 * suspected cases, notifiable-disease report cards still to complete. Computed on request from
 * indexed per-patient rows: the module's own in one statement (one round trip, also while a
 * recompute runs), the report cards through the surveillance module's public entry.
 */
import type { Queryable } from '../../platform/db.js';
import { addDays, ageOn, chinaDateOf } from '../../shared/dates.js';
import { ruleSetFor, type ChronicRuleSet } from '../chronic/rules.js';
import { reportCardsForPatients } from '../../surveillance/index.js';
import type { DueItem } from './schemas.js';
import { educationItemsFor, type EducationItem } from './education.js';
import { vaccinesDue, type Schedules } from '../immunization/schedule.js';

type Q = Queryable;

export interface DueDeps {
  sets: ChronicRuleSet[];
  schedules: Schedules;
  education: EducationItem[];
}

interface DueDoc {
  person: { birth_date: string | null; deceased: boolean } | null;
  registry: { disease: string; next_due: string | null; status: string; decision: string | null }[];
  bp: number;
  doses: { vaccine: string; given_on: string }[];
  conditions: string[];
  meds: string[];
  referrals: { task_id: string; direction: string; status: string; reason: string | null; due_on: string | null }[];
  confirmations: { disease: string; reason: string; detected_on: string }[];
  given: string[];
  /** A pregnancy in progress today (care_key_population): influenza vaccine for pregnant women. */
  pregnant: boolean;
}

const LABEL = { htn: '高血压', dm: '2型糖尿病' } as Record<string, string>;

/** The due list of a Patient id, or null when chronic care does not know that Patient (yet). */
export async function dueServicesFor(client: Q, patientId: string, today: string, deps: DueDeps): Promise<DueItem[] | null> {
  const rules = ruleSetFor(deps.sets, today);
  const yearStart = `${today.slice(0, 4)}-01-01`;
  // One statement, one round trip: on a single-session store (PGlite) a check-in waits for the
  // connection once, not once per part.
  const res = await client.query<{ doc: DueDoc }>(
    `SELECT json_build_object(
       'person', (SELECT json_build_object('birth_date', birth_date::text, 'deceased', deceased) FROM chronic_person WHERE patient_id = $1),
       'registry', (SELECT coalesce(json_agg(json_build_object('disease', disease, 'next_due', next_due::text, 'status', status, 'decision', decision)), '[]') FROM chronic_registry WHERE patient_id = $1),
       'bp', (SELECT count(*) FROM chronic_reading WHERE patient_id = $1 AND kind = 'bp' AND flag IS NULL AND taken_on >= $2::date),
       'doses', (SELECT coalesce(json_agg(json_build_object('vaccine', vaccine, 'given_on', given_on::text)), '[]') FROM imm_dose WHERE patient_id = $1),
       'conditions', (SELECT coalesce(json_agg(icd), '[]') FROM chronic_condition WHERE patient_id = $1 AND active),
       'meds', (SELECT coalesce(json_agg(atc), '[]') FROM chronic_medication WHERE patient_id = $1 AND active AND atc IS NOT NULL),
       'referrals', (SELECT coalesce(json_agg(json_build_object('task_id', task_id, 'direction', direction, 'status', status, 'reason', reason, 'due_on', due_on::text)), '[]')
                     FROM care_referral WHERE patient_id = $1 AND status IN ('requested', 'received', 'accepted', 'in-progress')),
       'confirmations', (SELECT coalesce(json_agg(json_build_object('disease', disease, 'reason', reason, 'detected_on', detected_on::text)), '[]') FROM chronic_confirmation WHERE patient_id = $1 AND status = 'open'),
       'given', (SELECT coalesce(json_agg(item_id), '[]') FROM care_education_given WHERE patient_id = $1 AND given_on >= $2::date),
       'pregnant', EXISTS (SELECT 1 FROM care_key_population WHERE patient_id = $1 AND population = 'pregnant'
                           AND (start_on IS NULL OR start_on <= $3::date) AND (end_on IS NULL OR end_on >= $3::date))
     ) AS doc`,
    [patientId, yearStart, today],
  );
  const d = res.rows[0]!.doc;
  const person = { rows: d.person ? [d.person] : [] };
  const registry = { rows: d.registry };
  const bp = { rows: [{ n: Number(d.bp) }] };
  const doses = { rows: d.doses };
  const conditions = { rows: d.conditions.map((icd) => ({ icd })) };
  const meds = { rows: d.meds.map((atc) => ({ atc })) };
  const referrals = { rows: d.referrals };
  const confirmations = { rows: d.confirmations };
  const given = { rows: d.given.map((item_id) => ({ item_id })) };
  const p = person.rows[0];
  if (!p) return null;
  if (p.deceased) return [];
  const items: DueItem[] = [];
  const soon = addDays(today, 7);
  for (const r of registry.rows) {
    if (r.status !== 'managed' || !r.next_due || r.next_due > soon) continue;
    items.push({
      kind: 'follow-up',
      key: `follow-up:${r.disease}`,
      title: `${LABEL[r.disease]}随访`,
      detail:
        r.decision === 'refer' || r.decision === 'urgent-referral'
          ? '转诊后随访'
          : r.decision === 'adjust'
            ? '调整治疗后2周内随访'
            : '常规随访',
      i18n: {
        title: 'care.due.followUp',
        detail: `care.due.followUp.${r.decision === 'refer' || r.decision === 'urgent-referral' ? 'refer' : r.decision === 'adjust' ? 'adjust' : 'routine'}`,
        params: { disease: r.disease },
      },
      dueDate: r.next_due,
      overdue: r.next_due < today,
      patientId,
    });
  }
  const age = p.birth_date ? ageOn(p.birth_date, today) : undefined;
  if (age !== undefined && age >= rules.screening.bpScreeningMinAge && bp.rows[0]!.n === 0)
    items.push({
      kind: 'bp-screening',
      key: 'bp-screening',
      title: '首诊测血压',
      detail: `${age} 岁，今年尚无血压记录`,
      dueDate: today,
      overdue: false,
      patientId,
      i18n: { title: 'care.due.bpScreening', detail: 'care.due.bpScreening.detail', params: { age } },
    });
  if (p.birth_date) {
    const icd = conditions.rows.map((c) => c.icd);
    for (const v of vaccinesDue(
      { birthDate: p.birth_date, conditions: icd, pregnant: d.pregnant },
      doses.rows.map((d) => ({ vaccine: d.vaccine, date: d.given_on })),
      deps.schedules,
      today,
    )) {
      if (v.status === 'upcoming') continue;
      items.push({
        kind: 'vaccine',
        key: `vaccine:${v.vaccine}:${v.dose}`,
        title: `${v.name} 第${v.dose}剂`,
        detail: v.reason,
        dueDate: v.dueDate,
        overdue: v.status === 'overdue',
        patientId,
        i18n: { title: 'care.due.vaccine', detail: v.reasonI18n.key, params: { vaccine: v.vaccine, ...v.reasonI18n.params, dose: v.dose } },
      });
    }
    const done = new Set(given.rows.map((g) => g.item_id));
    const risks = confirmations.rows.some((c) => c.disease === 'htn') ? ['elevated-bp'] : [];
    for (const e of educationItemsFor({ age: age!, conditions: icd, medicationsAtc: meds.rows.map((m) => m.atc), risks }, deps.education))
      if (!done.has(e.id))
        items.push({
          kind: 'education',
          key: `education:${e.id}`,
          title: e.title,
          detail: e.text,
          dueDate: null,
          overdue: false,
          patientId,
          i18n: { title: `care.edu.${e.id}` },
        });
  }
  for (const r of referrals.rows)
    items.push({
      kind: 'referral-return',
      key: `referral:${r.task_id}`,
      title: r.direction === 'down' ? '出院下转随访' : '上转待回转',
      detail: r.reason ?? '',
      i18n: { title: r.direction === 'down' ? 'care.due.downReferral' : 'care.due.upReferral' },
      dueDate: r.due_on,
      overdue: !!r.due_on && r.due_on < today,
      patientId,
    });
  for (const c of confirmations.rows)
    items.push({
      kind: 'confirmation',
      key: `confirmation:${c.disease}`,
      title: `疑似${LABEL[c.disease]}待确诊`,
      detail: c.reason,
      dueDate: c.detected_on,
      overdue: false,
      patientId,
      i18n: { title: 'care.due.confirmation', params: { disease: c.disease } },
    });
  // Report cards (传染病报告卡) are kept by the surveillance module: drafts made from a notifiable
  // diagnosis and cards the CDC returned (退卡) wait for the clinician. Read through its public entry.
  for (const c of await reportCardsForPatients(client, [patientId])) {
    // Deadlines are instants; the list shows the district's calendar date (UTC+8).
    const deadline = c.deadlineAt ? chinaDateOf(c.deadlineAt) : null;
    items.push({
      kind: 'report-card',
      key: `report-card:${c.id}`,
      title: c.status === 'returned' ? `传染病报告卡被退回：${c.diseaseName}` : `传染病报告卡待填报：${c.diseaseName}`,
      detail: c.status === 'returned' ? `退卡原因：${c.returnReason ?? '—'}，请修改后重新提交` : '请补全并提交报告卡',
      i18n: {
        title: `care.due.card.${c.status}`,
        detail: `care.due.card.${c.status}.detail`,
        params: { disease: c.diseaseName, reason: c.returnReason ?? '—' },
      },
      dueDate: deadline,
      overdue: !!c.deadlineAt && new Date(c.deadlineAt).getTime() < Date.now(),
      patientId,
      cardId: c.id,
      ...(c.taskId ? { taskId: c.taskId } : {}),
    });
  }
  return items;
}
