/**
 * Investigation forms: one FHIR Questionnaire per disease, shipped in
 * config/investigation/questionnaires and checked at start (every disease's form exists, linkIds
 * unique). Answers travel as a flat map linkId → value and are stored as a QuestionnaireResponse
 * in the questionnaire's shape; a value of the wrong type or for an unknown item is refused,
 * naming the item. Pre-filling (pure): name, sex, birth date, age, phone and address from the
 * Patient, onset from the Condition.
 */
import fs from 'node:fs';
import type {
  Condition,
  Patient,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
} from '@medplum/fhirtypes';
import { ageOn, chinaDateOf, isIsoDate } from '../shared/dates.js';
import { QUESTIONNAIRE_DIR, RulesError, type InvestigationRules } from './rules.js';
import { patientDisplayName } from '../shared/patient-name.js';

export type AnswerValue = string | number | boolean;
export type Answers = Record<string, AnswerValue>;

/** Every shipped form by id; throws naming the file and problem. */
export function loadQuestionnaires(rules: InvestigationRules, dir: URL = QUESTIONNAIRE_DIR): Map<string, Questionnaire> {
  const out = new Map<string, Questionnaire>();
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const source = `config/investigation/questionnaires/${name}`;
    let q: Questionnaire;
    try {
      q = JSON.parse(fs.readFileSync(new URL(name, dir), 'utf8')) as Questionnaire;
    } catch (e) {
      throw new RulesError(`${source}: not valid JSON (${(e as Error).message})`);
    }
    if (q.resourceType !== 'Questionnaire' || !q.id) throw new RulesError(`${source}: a Questionnaire with an id is expected`);
    const seen = new Set<string>();
    for (const item of leaves(q.item ?? [], true)) {
      if (seen.has(item.linkId)) throw new RulesError(`${source}: linkId '${item.linkId}' is used twice`);
      seen.add(item.linkId);
    }
    out.set(q.id, q);
  }
  for (const d of rules.diseases.values())
    if (!out.has(d.questionnaire))
      throw new RulesError(
        `config/investigation/rules.json: disease '${d.key}' names form '${d.questionnaire}', which is not in config/investigation/questionnaires`,
      );
  return out;
}

function leaves(items: QuestionnaireItem[], withGroups = false): QuestionnaireItem[] {
  return items.flatMap((i) => [...(i.type !== 'group' || withGroups ? [i] : []), ...leaves(i.item ?? [], withGroups)]);
}

/** The value an item accepts, or why not. */
function answerProblem(item: QuestionnaireItem, v: AnswerValue): string | undefined {
  switch (item.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'true or false';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : 'a whole number';
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'a number';
    case 'date':
      return typeof v === 'string' && isIsoDate(v) ? undefined : 'a date YYYY-MM-DD';
    case 'choice': {
      const codes = (item.answerOption ?? []).map((o) => o.valueCoding?.code).filter(Boolean);
      return typeof v === 'string' && codes.includes(v) ? undefined : `one of ${codes.join(', ')}`;
    }
    default:
      return typeof v === 'string' && v.length <= 4000 ? undefined : 'text (at most 4000 characters)';
  }
}

/** Every problem of a set of answers against a form ("symptom-fever: true or false"). */
export function answersProblems(q: Questionnaire, answers: Answers): string[] {
  const items = new Map(leaves(q.item ?? []).map((i) => [i.linkId, i]));
  const out: string[] = [];
  for (const [linkId, v] of Object.entries(answers)) {
    const item = items.get(linkId);
    if (!item) out.push(`${linkId}: not an item of form ${q.id}`);
    else {
      const p = answerProblem(item, v);
      if (p) out.push(`${linkId} (${item.text ?? ''}): expected ${p}, got ${JSON.stringify(v)}`);
    }
  }
  return out;
}

function answerOf(item: QuestionnaireItem, v: AnswerValue): NonNullable<QuestionnaireResponseItem['answer']>[number] {
  switch (item.type) {
    case 'boolean':
      return { valueBoolean: v as boolean };
    case 'integer':
      return { valueInteger: v as number };
    case 'decimal':
      return { valueDecimal: v as number };
    case 'date':
      return { valueDate: v as string };
    case 'choice': {
      const o = item.answerOption?.find((x) => x.valueCoding?.code === v);
      return { valueCoding: o?.valueCoding ?? { code: String(v) } };
    }
    default:
      return { valueString: String(v) };
  }
}

function responseItems(items: QuestionnaireItem[], answers: Answers): QuestionnaireResponseItem[] {
  const out: QuestionnaireResponseItem[] = [];
  for (const i of items) {
    if (i.type === 'group') {
      const nested = responseItems(i.item ?? [], answers);
      if (nested.length) out.push({ linkId: i.linkId, ...(i.text ? { text: i.text } : {}), item: nested });
    } else if (answers[i.linkId] !== undefined) {
      out.push({ linkId: i.linkId, ...(i.text ? { text: i.text } : {}), answer: [answerOf(i, answers[i.linkId]!)] });
    }
  }
  return out;
}

/** The QuestionnaireResponse holding `answers` in the form's shape. */
export function toResponse(
  q: Questionnaire,
  answers: Answers,
  opts: { id: string; patientId: string; investigationId: number; author: string; status: 'in-progress' | 'completed' },
): QuestionnaireResponse {
  return {
    resourceType: 'QuestionnaireResponse',
    id: opts.id,
    identifier: { system: INVESTIGATION_SYSTEM, value: String(opts.investigationId) },
    questionnaire: q.url ?? `Questionnaire/${q.id}`,
    status: opts.status,
    subject: { reference: `Patient/${opts.patientId}` },
    authored: new Date().toISOString(),
    author: { display: opts.author },
    item: responseItems(q.item ?? [], answers),
  };
}

/** The flat answers a stored response holds. */
export function answersOf(r: QuestionnaireResponse | undefined): Answers {
  const out: Answers = {};
  const walk = (items: QuestionnaireResponseItem[]) => {
    for (const i of items) {
      const a = i.answer?.[0];
      if (a) {
        const v = a.valueBoolean ?? a.valueInteger ?? a.valueDecimal ?? a.valueDate ?? a.valueCoding?.code ?? a.valueString;
        if (v !== undefined) out[i.linkId] = v;
      }
      walk(i.item ?? []);
    }
  };
  walk(r?.item ?? []);
  return out;
}

export const INVESTIGATION_SYSTEM = 'https://yifang.health/fhir/sid/investigation';

/** What the record already says (only items the form has are kept). */
export function prefill(q: Questionnaire, patient: Patient | undefined, condition: Condition | undefined, today: string): Answers {
  const v: Answers = {};
  if (patient) {
    const name = patientDisplayName(patient)?.trim();
    if (name) v['name'] = name;
    if (patient.gender) v['sex'] = patient.gender === 'male' || patient.gender === 'female' ? patient.gender : 'unknown';
    if (patient.birthDate && isIsoDate(patient.birthDate)) {
      v['birthDate'] = patient.birthDate;
      v['age'] = ageOn(patient.birthDate, today);
    }
    const phone = patient.telecom?.find((t) => t.system === 'phone' && t.value)?.value;
    if (phone) v['phone'] = phone;
    const a = patient.address?.find((x) => x.use === 'home') ?? patient.address?.[0];
    const address = a?.text ?? [a?.city, a?.district, ...(a?.line ?? [])].filter(Boolean).join('');
    if (address) v['address'] = address;
  }
  const onset = condition?.onsetDateTime ?? condition?.onsetPeriod?.start;
  const day = (x: string) => (x.length > 10 ? chinaDateOf(x) : x.slice(0, 10));
  if (onset) v['onset-date'] = day(onset);
  if (condition?.recordedDate) v['diagnosis-date'] = day(condition.recordedDate);
  const items = new Set(leaves(q.item ?? []).map((i) => i.linkId));
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => items.has(k) && !answersProblems(q, { [k]: x }).length));
}
