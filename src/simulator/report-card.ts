/**
 * Notifiable-disease report cards (传染病报告卡) in the JSON shape the hub accepts; the format is
 * documented in report-card-format.md. English keys for the fields of rules.md §1.
 */

export type ResidenceCategory = '本县区' | '本市其他县区' | '本省其它地市' | '外省' | '港澳台' | '外籍';
export type CaseClassification = '疑似病例' | '临床诊断病例' | '确诊病例' | '病原携带者';

export interface ReportCard {
  cardId: string;
  cardType: 'initial' | 'correction';
  /** For a correction: the card it corrects. */
  correctsCardId: string | null;
  name: string;
  /** 患儿家长姓名, for children aged 14 or under. */
  parentName: string | null;
  /** WS/T 364 CV02.01.101: 01 居民身份证. */
  idType: '01' | '99';
  idNumber: string | null;
  /** GB/T 2261.1: 1 男, 2 女. */
  sex: '1' | '2';
  birthDate: string | null;
  /** When the birth date is unknown: 实足年龄 and its unit. */
  age: { value: number; unit: '岁' | '月' | '天' } | null;
  /** 工作单位(学校), with the class for pupils. */
  workUnit: string | null;
  phone: string | null;
  residenceCategory: ResidenceCategory;
  address: {
    province: string;
    city: string;
    county: string;
    township: string;
    village: string;
    houseNumber: string;
    /** 12-digit statistical code of the village/community (the township is its first 9 digits). */
    areaCode: string;
  };
  occupationClass: { code: string; name: string };
  caseClassification: CaseClassification;
  /** 急性 / 慢性, only for hepatitis B, hepatitis C and schistosomiasis. */
  chronicity: '急性' | '慢性' | null;
  onsetDate: string;
  /** 诊断日期, to the hour. */
  diagnosisDateTime: string;
  deathDate: string | null;
  disease: { name: string; icd10: string; subtype: string | null; class: '甲' | '乙' | '丙' };
  /** 订正病名 on a correction card. */
  correctedDiseaseName: string | null;
  reportingOrganization: { id: string; code: string; name: string };
  reportingDoctor: string;
  /** 填卡日期 (date and time the card was filled in). */
  reportDate: string;
  /** The FHIR Patient the reporting facility holds, when it sends FHIR; else null. */
  patientRef: string | null;
  /** The reporting facility's own patient number. */
  facilityPatientId: string;
  remarks: string | null;
}

/** Diseases the simulator reports, with the names and classes of rules.md §1. */
export const DISEASES = {
  cholera: { name: '霍乱', class: '甲' },
  measles: { name: '麻疹', class: '乙' },
  tuberculosis: { name: '肺结核', class: '乙' },
  hepatitisA: { name: '病毒性肝炎', class: '乙' },
  hepatitisB: { name: '病毒性肝炎', class: '乙' },
  hepatitisC: { name: '病毒性肝炎', class: '乙' },
  hepatitisE: { name: '病毒性肝炎', class: '乙' },
  syphilis: { name: '梅毒', class: '乙' },
  gonorrhoea: { name: '淋病', class: '乙' },
  hiv: { name: '艾滋病', class: '乙' },
  dysentery: { name: '细菌性和阿米巴性痢疾', class: '乙' },
  pertussis: { name: '百日咳', class: '乙' },
  scarletFever: { name: '猩红热', class: '乙' },
  influenza: { name: '流行性感冒', class: '丙' },
  mumps: { name: '流行性腮腺炎', class: '丙' },
  hfmd: { name: '手足口病', class: '丙' },
  otherDiarrhoea: { name: '其他感染性腹泻病', class: '丙' },
  acuteHaemorrhagicConjunctivitis: { name: '急性出血性结膜炎', class: '丙' },
} as const;
export type DiseaseKey = keyof typeof DISEASES;

/** Diseases to report within 2 hours (rules.md §1); the rest within 24 hours. */
export const TWO_HOUR_DISEASES = new Set<DiseaseKey>(['cholera']);
