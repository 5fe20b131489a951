/**
 * The notifiable-disease report card (传染病报告卡) as JSON — the shape the simulator writes to
 * report-cards.ndjson and POST /api/report-cards accepts — and its validation against the
 * mandatory fields of rules.md §1. Validation is pure: it names every bad field.
 */
import { chinaDateOf, isIsoDate } from '../../shared/dates.js';
import { parseIdNumber } from '../../shared/id-number.js';

export type ResidenceCategory = '本县区' | '本市其他县区' | '本省其它地市' | '外省' | '港澳台' | '外籍';
export const RESIDENCE_CATEGORIES: readonly ResidenceCategory[] = ['本县区', '本市其他县区', '本省其它地市', '外省', '港澳台', '外籍'];
export const CASE_CLASSIFICATIONS = ['疑似病例', '临床诊断病例', '确诊病例', '病原携带者'] as const;
export type CaseClassification = (typeof CASE_CLASSIFICATIONS)[number];
/** 人群分类 (rules.md §1). */
export { OCCUPATION_CLASSES } from '../../shared/occupations.js';

export interface ReportCard {
  cardId: string;
  cardType: 'initial' | 'correction';
  correctsCardId: string | null;
  name: string;
  parentName: string | null;
  idType: string;
  idNumber: string | null;
  sex: string;
  birthDate: string | null;
  age: { value: number; unit: '岁' | '月' | '天' } | null;
  workUnit: string | null;
  phone: string | null;
  residenceCategory: ResidenceCategory;
  address: { province: string; city: string; county: string; township: string; village: string; houseNumber: string; areaCode: string };
  occupationClass: { code: string; name: string };
  caseClassification: CaseClassification;
  chronicity: '急性' | '慢性' | null;
  onsetDate: string;
  diagnosisDateTime: string;
  deathDate: string | null;
  disease: { name: string; icd10: string; subtype: string | null; class: string };
  correctedDiseaseName: string | null;
  reportingOrganization: { id: string; code: string; name: string };
  reportingDoctor: string;
  reportDate: string;
  patientRef: string | null;
  facilityPatientId: string | null;
  remarks: string | null;
}

export interface FieldIssue {
  field: string;
  message: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Date and time to the hour at least; group 4 is the offset, when written. */
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The date part (YYYY-MM-DD…) names a real calendar day. */
const realDate = (s: string): boolean => isIsoDate(s.slice(0, 10));

/**
 * Checks a card. `mode: 'submit'` applies every mandatory-field rule; `'draft'` only checks
 * what is present (a draft is filled in over time).
 * ID number: an 18-character 居民身份证 number (idType 01) must pass GB 11643; with idType 99
 * (其他, e.g. a resident without a number on file) the number may be absent — the card is
 * accepted and counted as incomplete.
 */
export function validateCard(
  input: unknown,
  mode: 'submit' | 'draft' = 'submit',
): { card?: ReportCard; issues: FieldIssue[]; warnings: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const warnings: FieldIssue[] = [];
  if (!isObj(input)) return { issues: [{ field: '(card)', message: 'a report card must be a JSON object' }], warnings };
  const c = input;
  const need = (field: string, ok: boolean, message: string) => {
    if (!ok) issues.push({ field, message });
  };
  const mandatory = mode === 'submit';
  need(
    'cardId',
    typeof c.cardId === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(c.cardId),
    '卡片编号 is mandatory: 1–64 letters, digits, . _ -',
  );
  need('cardType', c.cardType === 'initial' || c.cardType === 'correction', "报卡类别 must be 'initial' (初次) or 'correction' (订正)");
  if (c.cardType === 'correction')
    need('correctsCardId', !!str(c.correctsCardId), '订正卡 must name the card it corrects (correctsCardId)');
  if (mandatory || c.name !== undefined) need('name', !!str(c.name), '姓名 is mandatory');
  const idType = str(c.idType) ?? '01';
  const idNumber = str(c.idNumber);
  if (idNumber) {
    if (idType === '01') {
      const parsed = parseIdNumber(idNumber);
      if (!parsed.ok) issues.push({ field: 'idNumber', message: `有效证件号 invalid: ${parsed.reason}` });
    }
  } else if (mandatory) {
    if (idType === '99')
      warnings.push({ field: 'idNumber', message: '有效证件号 missing (证件类型 99 其他): accepted, counted as incomplete' });
    else issues.push({ field: 'idNumber', message: '有效证件号 is mandatory' });
  }
  if (mandatory || c.sex !== undefined)
    need('sex', ['0', '1', '2', '9'].includes(String(c.sex)), '性别 is mandatory: GB/T 2261.1 code 0, 1, 2 or 9');
  const birth = str(c.birthDate);
  const age = isObj(c.age) ? c.age : null;
  if (birth) need('birthDate', DATE.test(birth) && realDate(birth), '出生日期 must be a real date YYYY-MM-DD');
  else if (mandatory)
    need(
      'birthDate',
      !!age && typeof age.value === 'number' && age.value >= 0 && ['岁', '月', '天'].includes(String(age.unit)),
      '出生日期 is mandatory (or 实足年龄 with unit 岁/月/天)',
    );
  if (mandatory || c.residenceCategory !== undefined)
    need(
      'residenceCategory',
      RESIDENCE_CATEGORIES.includes(c.residenceCategory as ResidenceCategory),
      `病人属于 is mandatory: one of ${RESIDENCE_CATEGORIES.join(' / ')}`,
    );
  const address = isObj(c.address) ? c.address : null;
  if (mandatory || c.address !== undefined) {
    need('address', !!address, '现住址 is mandatory');
    if (address) {
      need(
        'address.areaCode',
        typeof address.areaCode === 'string' && /^\d{12}$/.test(address.areaCode),
        '现住址 must be coded: a 12-digit statistical division code (areaCode)',
      );
      if (mandatory)
        need('address.houseNumber', !!str(address.houseNumber) || !!str(address.village), '现住址 needs the village and house number');
    }
  }
  const occ = isObj(c.occupationClass) ? c.occupationClass : null;
  if (mandatory || c.occupationClass !== undefined)
    need('occupationClass', !!occ && (!!str(occ.name) || !!str(occ.code)), '人群分类 is mandatory');
  if (mandatory || c.caseClassification !== undefined)
    need(
      'caseClassification',
      CASE_CLASSIFICATIONS.includes(c.caseClassification as CaseClassification),
      `病例分类 is mandatory: one of ${CASE_CLASSIFICATIONS.join(' / ')}`,
    );
  const onset = str(c.onsetDate);
  if (onset) need('onsetDate', DATE.test(onset) && realDate(onset), '发病日期 must be a real date YYYY-MM-DD');
  else if (mandatory) issues.push({ field: 'onsetDate', message: '发病日期 is mandatory' });
  const diag = str(c.diagnosisDateTime);
  if (diag)
    need(
      'diagnosisDateTime',
      DATETIME.test(diag) && realDate(diag) && diag.length >= 13,
      '诊断日期 must be a date and time to the hour (YYYY-MM-DDTHH:mm+08:00)',
    );
  else if (mandatory) issues.push({ field: 'diagnosisDateTime', message: '诊断日期 is mandatory (to the hour)' });
  // The diagnosis's calendar date in China: a time written with another offset (a UTC "Z" stamp
  // just after midnight in China) is still that day there; one without an offset is China's own.
  const diagDay = diag && DATETIME.exec(diag)?.[4] ? chinaDateOf(diag) : diag?.slice(0, 10);
  if (onset && diagDay && DATE.test(onset) && onset > diagDay) issues.push({ field: 'onsetDate', message: '发病日期 is after 诊断日期' });
  const disease = isObj(c.disease) ? c.disease : null;
  need('disease', !!disease && !!str(disease.name) && !!str(disease.icd10), '疾病名称 is mandatory: disease.name and disease.icd10');
  if (mandatory) {
    const org = isObj(c.reportingOrganization) ? c.reportingOrganization : null;
    need('reportingOrganization', !!org && !!str(org.code), '报告单位 is mandatory (reportingOrganization.code)');
    need('reportingDoctor', !!str(c.reportingDoctor), '填卡医生 is mandatory');
  }
  if (c.reportDate !== undefined && c.reportDate !== null)
    need('reportDate', typeof c.reportDate === 'string' && DATETIME.test(c.reportDate), '填卡日期 must be a date and time');
  if (issues.length) return { issues, warnings };
  return { card: normalise(c), issues, warnings };
}

function normalise(c: Record<string, unknown>): ReportCard {
  return {
    correctsCardId: null,
    parentName: null,
    idType: '01',
    idNumber: null,
    birthDate: null,
    age: null,
    workUnit: null,
    phone: null,
    chronicity: null,
    deathDate: null,
    correctedDiseaseName: null,
    patientRef: null,
    facilityPatientId: null,
    remarks: null,
    ...(c as object),
  } as ReportCard;
}

/** A key that finds the same person across cards: the ID number, else name + birth date. */
export function personKey(card: Pick<ReportCard, 'idNumber' | 'name' | 'birthDate' | 'sex'>): string {
  if (card.idNumber) return `id:${card.idNumber.trim().toUpperCase()}`;
  return `nb:${card.name?.trim() ?? ''}|${card.birthDate ?? ''}|${card.sex ?? ''}`;
}
