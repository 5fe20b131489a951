/**
 * Infectious-disease report cards (传染病报告卡) with the delays, duplicates, data-entry errors and
 * corrections of real reporting, each noted in the truth.
 */
import { parseIsoDate } from '../calendar.js';
import type { Practitioner } from '../district.js';
import { OCCUPATIONS, occupationCode } from '../population.js';
import { DISEASES, TWO_HOUR_DISEASES, type CaseClassification, type DiseaseKey, type ReportCard } from '../report-card.js';
import type { Rng } from '../rng.js';
import type { Visit } from '../types.js';
import type { RecordContext } from './context.js';

export interface ReportCardOptions {
  subtype?: string | null;
  chronicity?: '急性' | '慢性' | null;
  diagnosisDay?: number;
  diagnosisMin?: number;
  correctTo?: CaseClassification;
  correctDay?: number;
}

/**
 * Files a report card for a case (with the delays, duplicates and errors of real reporting).
 * Returns the ids of cards that reach the output within the run.
 */
export function fileReportCard(
  ctx: RecordContext,
  v: Visit,
  disease: DiseaseKey,
  icd: string,
  classification: CaseClassification,
  opts: ReportCardOptions = {},
): string[] {
  const r = ctx.rng;
  const ids: string[] = [];
  const dxDay = opts.diagnosisDay ?? v.day;
  const dxMin = opts.diagnosisMin ?? v.startMin + 20;
  const urgent = TWO_HOUR_DISEASES.has(disease);
  // Delay from diagnosis to card: most within the deadline, some late.
  const u = r.float();
  let delay: number;
  let late = false;
  if (urgent) {
    delay = u < 0.9 ? 20 + r.int(95) : 130 + r.int(600);
    late = delay > 120;
  } else if (u < 0.92) delay = 30 + r.int(1200);
  else if (u < 0.98) {
    delay = 1440 + r.int(2880);
    late = true;
  } else {
    delay = 4320 + r.int(10080);
    late = true;
  }
  let reportAbs = dxMin + delay;
  // Cards are mostly filled in during working hours: a card due at night waits for the morning.
  const m = reportAbs % 1440;
  if (!urgent && m < 450) reportAbs += 450 - m + r.int(90);
  const reportDay = dxDay + Math.floor(reportAbs / 1440);
  const reportMin = reportAbs % 1440;
  const cardId = nextCardId(ctx);
  const card = buildCard(ctx, v, cardId, disease, icd, classification, opts, dxDay, dxMin, reportDay, reportMin);
  // Data-entry errors, as real cards have.
  const e = r.float();
  let error: string | null = null;
  if (e < 0.06) error = corrupt(ctx, card, r);
  if (ctx.later(reportDay, () => ctx.sink.reportCard(card))) {
    ids.push(cardId);
    if (late) ctx.truth.reportCardIssues.push({ cardId, issue: 'late', detail: `reported ${Math.round(delay / 60)} h after diagnosis` });
    if (error) ctx.truth.reportCardIssues.push({ cardId, issue: 'error', detail: error });
  }
  // Duplicates: the same case reported twice (another doctor, a day or two later).
  if (r.chance(0.05)) {
    const dupId = nextCardId(ctx);
    const dupDay = reportDay + r.int(3);
    const dup = {
      ...card,
      cardId: dupId,
      reportDate: ctx.fhirTime(dupDay, 480 + r.int(540)),
      reportingDoctor: doctorName(ctx, ctx.practitioner(v.dept)),
    };
    if (ctx.later(dupDay, () => ctx.sink.reportCard(dup))) {
      ids.push(dupId);
      ctx.truth.reportCardIssues.push({ cardId: dupId, issue: 'duplicate', detail: 'same case reported again', of: cardId });
    }
  }
  // Corrections (订正): a suspected case confirmed by the laboratory, or an error put right.
  const correctTo = opts.correctTo ?? (error && r.chance(0.5) ? classification : undefined);
  if (correctTo) {
    const cDay = Math.max(reportDay, opts.correctDay ?? reportDay + 1 + r.int(3));
    const corrId = nextCardId(ctx);
    const fixed = buildCard(ctx, v, corrId, disease, icd, correctTo, opts, dxDay, dxMin, cDay, 480 + r.int(540));
    fixed.cardType = 'correction';
    fixed.correctsCardId = cardId;
    fixed.correctedDiseaseName = DISEASES[disease].name;
    if (ctx.later(cDay, () => ctx.sink.reportCard(fixed))) {
      ids.push(corrId);
      ctx.truth.reportCardIssues.push({
        cardId: corrId,
        issue: 'correction',
        detail: correctTo !== classification ? `${classification} → ${correctTo}` : `corrects: ${error}`,
        of: cardId,
      });
    }
  }
  return ids;
}

function nextCardId(ctx: RecordContext): string {
  return 'rc-' + ctx.pad(++ctx.seq.card, 7);
}

function doctorName(ctx: RecordContext, p: Practitioner): string {
  return ctx.w.names.surnames[p.surname]!.hanzi + ctx.w.names.given[p.given]!.hanzi;
}

function buildCard(
  ctx: RecordContext,
  v: Visit,
  cardId: string,
  disease: DiseaseKey,
  icd: string,
  classification: CaseClassification,
  opts: { subtype?: string | null; chronicity?: '急性' | '慢性' | null },
  dxDay: number,
  dxMin: number,
  reportDay: number,
  reportMin: number,
): ReportCard {
  const { pop, district, names, schools } = ctx.w;
  const p = v.person;
  const view = v.view;
  const age = pop.age(p, dxDay);
  const g = pop.guardian[p]!;
  const klass = schools.classOf(pop, p, dxDay);
  let workUnit: string | null = null;
  if (klass >= 0) {
    const c = schools.classes[klass]!;
    workUnit = `${district.facilities[c.school]!.name}${c.name}`;
  } else if (age >= 18 && pop.careHome[p]! < 0) {
    workUnit = null;
  } else if (pop.careHome[p]! >= 0) {
    workUnit = district.facilities[pop.careHome[p]!]!.name;
  }
  const occ = pop.occupation[p]!;
  const a = view.address;
  const info = DISEASES[disease];
  return {
    cardId,
    cardType: 'initial',
    correctsCardId: null,
    name: view.name.text,
    parentName: age <= 14 && g >= 0 ? names.fullName(pop.surname[g]!, pop.given[g]!) : null,
    idType: view.idNumber ? '01' : '99',
    idNumber: view.idNumber,
    sex: view.sex === 1 ? '1' : '2',
    birthDate: view.birthDate,
    age: null,
    workUnit,
    phone: view.phone,
    residenceCategory: '本县区',
    address: {
      province: a.province,
      city: a.city,
      county: a.district,
      township: a.street,
      village: a.community,
      houseNumber: a.line,
      areaCode: a.areaCode,
    },
    occupationClass: { code: occupationCode(occ), name: OCCUPATIONS[occ]! },
    caseClassification: classification,
    chronicity: opts.chronicity ?? null,
    onsetDate: ctx.w.clock.iso(v.onsetDay),
    diagnosisDateTime: ctx.fhirTime(dxDay, Math.floor(dxMin / 60) * 60),
    deathDate: null,
    disease: { name: info.name, icd10: icd, subtype: opts.subtype ?? null, class: info.class },
    correctedDiseaseName: null,
    reportingOrganization: { id: v.facility.id, code: v.facility.code, name: v.facility.name },
    reportingDoctor: doctorName(ctx, v.doctor),
    reportDate: ctx.fhirTime(reportDay, reportMin),
    patientRef: v.fhir && v.view.fhirId ? `Patient/${v.view.fhirId}` : null,
    facilityPatientId: view.mrn,
    remarks: null,
  };
}

/** Introduces one realistic data-entry error; returns what was wrong. */
function corrupt(ctx: RecordContext, card: ReportCard, r: Rng): string {
  const kind = r.int(6);
  if (kind === 0 && card.idNumber) {
    const pos = 6 + r.int(11);
    const digit = String((Number(card.idNumber[pos]) + 1 + r.int(8)) % 10);
    card.idNumber = card.idNumber.slice(0, pos) + digit + card.idNumber.slice(pos + 1);
    return 'idNumber mistyped (one digit)';
  }
  if (kind === 1) {
    const onset = card.onsetDate;
    const later = ctx.w.clock.iso(parseIsoDate(card.diagnosisDateTime.slice(0, 10))! + 1 + r.int(3));
    card.onsetDate = later;
    return `onsetDate after diagnosis (was ${onset})`;
  }
  if (kind === 2) {
    const c = ctx.w.district.communities[r.int(ctx.w.district.communities.length)]!;
    if (c.code !== card.address.areaCode) {
      const was = card.address.areaCode;
      card.address = { ...card.address, areaCode: c.code, village: c.name };
      return `address coded to the wrong community (was ${was})`;
    }
  }
  if (kind === 3 && card.phone) {
    card.phone = null;
    return 'phone missing';
  }
  if (kind === 4) {
    card.sex = card.sex === '1' ? '2' : '1';
    return 'sex wrong';
  }
  const t = ctx.w.names.lookalike(card.name, r.float()) ?? ctx.w.names.homophone(card.name, r.float());
  if (t) {
    const was = card.name;
    card.name = t;
    return `name miswritten (was ${was})`;
  }
  card.phone = null;
  return 'phone missing';
}
