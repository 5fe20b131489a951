/**
 * Background clinical activity: visits for common syndromes by age band, season, weekday and
 * holiday, at the facility and department a resident would choose; chief complaints written as
 * a Chinese clinician would, body temperature, ICD-10 diagnoses, laboratory tests and report
 * cards for notifiable diagnoses. Rates are visits per person per year, chosen to keep the
 * demo modest (about two visits a person a year: the real Chinese rate is about six,
 * 2019 中国卫生健康统计年鉴: 8.7 billion visits for 1.4 billion people)
 * while ILI% and the notifiable-disease rates match the targets in targets.ts.
 */
import type { Department, Facility } from './district.js';
import type { VisitType } from './fhir.js';
import { ICD } from './icd.js';
import { FLAG } from './population.js';
import type { Recorder } from './records/index.js';
import type { Dx, Visit } from './types.js';
import type { DiseaseKey } from './report-card.js';
import { Rng } from './rng.js';
import type { Season, Seasons } from './seasons.js';
import { AGE_BANDS, ageBand, NOTIFIABLE_BACKGROUND_PER_100K } from './targets.js';
import type { World } from './types.js';

/** `htn`: a hypertensive of the CHC's programme (only they come for poorly controlled blood pressure). */
type Ctx = { r: Rng; age: number; sex: number; fever: boolean; temp: number; htn: boolean };
const n = (r: Rng, lo: number, hi: number): number => r.range(lo, hi);

interface Syndrome {
  key: string;
  season: Season;
  /** Visits per person per year by age band [0-4, 5-14, 15-24, 25-44, 45-59, 60-74, 75+]. */
  rates: readonly number[];
  sex?: 1 | 2;
  /** Share of hospital visits through the emergency department / fever clinic. */
  emergency: number;
  /** Probability of a fever (temperature measured ≥ 37.5). */
  feverP: number;
  /** Temperature recorded at all (fever, respiratory, gut, rash, children). */
  measureTemp: boolean;
  /** Chief complaint and diagnosis together: [complaint, diagnosis, weight = 1]. */
  presentations?: [(c: Ctx) => string, Dx | ((c: Ctx) => Dx), number?][];
  complaint?: (c: Ctx) => string;
  dx?: (c: Ctx) => Dx;
  /** Departments by facility kind (first that exists is used, weighted by order). */
  depts: { adult: string[]; child: string[] };
  /** Probability of admission, given age and diagnosis. */
  admit?: (age: number, dx: Dx) => number;
  ward?: { adult: string; child: string };
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)]!;
const days = (r: Rng, lo = 1, hi = 4): string => `${n(r, lo, hi)}天`;

export const SYNDROMES: Syndrome[] = [
  {
    key: 'ili',
    season: 'flu',
    rates: [0.19, 0.095, 0.025, 0.02, 0.017, 0.019, 0.022],
    emergency: 0.55,
    feverP: 1,
    measureTemp: true,
    complaint: ({ r, age, temp }) =>
      age < 14
        ? pick(r, [
            `患儿发热${days(r, 1, 3)}，伴咳嗽`,
            `发热伴咳嗽、流涕${days(r, 1, 3)}`,
            `发热${days(r, 1, 2)}，最高体温${temp.toFixed(1)}℃，伴咽痛`,
            `咳嗽${days(r, 1, 4)}，发热1天`,
          ])
        : pick(r, [
            `发热${days(r, 1, 3)}，伴咳嗽、咽痛`,
            `畏寒、发热1天，伴头痛、全身酸痛、咳嗽`,
            `咽痛伴发热${days(r, 1, 3)}，最高体温${temp.toFixed(1)}℃`,
            `咳嗽、发热${days(r, 1, 4)}，伴乏力`,
            `发热${days(r, 1, 2)}，咽痛，流涕`,
          ]),
    dx: ({ r }) => pick(r, [ICD.urti, ICD.urti, ICD.urti, ICD.urti, ICD.pharyngitis, ICD.tonsillitis, ICD.bronchitis]),
    depts: {
      adult: ['fever-clinic', 'respiratory', 'internal-medicine', 'tcm-internal', 'general-practice'],
      child: ['paediatrics', 'paediatric-fever', 'tcm-paediatrics', 'general-practice'],
    },
  },
  {
    key: 'uri',
    season: 'resp',
    rates: [1.44, 0.64, 0.256, 0.24, 0.24, 0.32, 0.4],
    emergency: 0.08,
    feverP: 0.12,
    measureTemp: true,
    complaint: ({ r, age }) =>
      age < 14
        ? pick(r, [`咳嗽${days(r, 2, 7)}，无发热`, `流涕、鼻塞${days(r, 1, 5)}`, `咳嗽、有痰${days(r, 3, 10)}`])
        : pick(r, [
            `咳嗽${days(r, 2, 10)}`,
            `咽痛、流涕${days(r, 1, 4)}`,
            `鼻塞、流涕伴咽部不适${days(r, 1, 5)}`,
            `咳嗽、咳痰${days(r, 3, 14)}`,
            `咽干、咽痒${days(r, 2, 7)}`,
          ]),
    dx: ({ r }) => pick(r, [ICD.urti, ICD.urti, ICD.pharyngitis, ICD.bronchitis, ICD.cough]),
    depts: {
      adult: ['respiratory', 'internal-medicine', 'ent', 'tcm-internal', 'general-practice'],
      child: ['paediatrics', 'tcm-paediatrics', 'general-practice'],
    },
  },
  {
    key: 'pneumonia',
    season: 'resp',
    rates: [0.144, 0.072, 0.0128, 0.0128, 0.0192, 0.048, 0.096],
    emergency: 0.35,
    feverP: 0.6,
    measureTemp: true,
    complaint: ({ r, fever }) =>
      fever
        ? pick(r, [`咳嗽、咳痰${days(r, 3, 7)}，伴发热`, `发热伴咳嗽${days(r, 3, 6)}，气促1天`])
        : pick(r, [`咳嗽、咳痰${days(r, 5, 14)}，伴胸闷`, `咳嗽${days(r, 7, 14)}，活动后气促`]),
    dx: ({ r, age }) => (age >= 3 && age < 15 && r.chance(0.4) ? ICD.mpPneumonia : ICD.pneumonia),
    depts: { adult: ['respiratory', 'emergency', 'tcm-internal', 'general-practice'], child: ['paediatrics', 'paediatric-fever'] },
    admit: (age) => (age < 5 ? 0.18 : age < 15 ? 0.1 : age >= 65 ? 0.35 : 0.08),
    ward: { adult: 'ward-respiratory', child: 'ward-paediatrics' },
  },
  {
    key: 'diarrhoea',
    season: 'diarrhoea',
    rates: [0.32, 0.096, 0.08, 0.08, 0.072, 0.08, 0.096],
    emergency: 0.3,
    feverP: 0.2,
    measureTemp: true,
    complaint: ({ r, fever }) =>
      pick(r, [
        `腹泻${days(r, 1, 3)}，每日${n(r, 3, 8)}次，为稀水样便`,
        `腹泻伴呕吐${days(r, 1, 2)}`,
        fever ? `腹痛、腹泻${days(r, 1, 2)}，伴发热` : `腹痛、腹泻${days(r, 1, 3)}`,
        `呕吐${n(r, 2, 6)}次，腹泻${n(r, 3, 6)}次，${days(r, 1, 2)}`,
      ]),
    dx: ({ r, age }) => (r.chance(0.015) ? (age < 5 && r.chance(0.5) ? ICD.rotavirus : ICD.infectiousDiarrhoea) : ICD.gastroenteritis),
    depts: {
      adult: ['enteric-clinic', 'gastroenterology', 'emergency', 'tcm-internal', 'general-practice'],
      child: ['paediatrics', 'general-practice'],
    },
    admit: (age) => (age >= 75 ? 0.06 : age < 3 ? 0.04 : 0.01),
    ward: { adult: 'ward-internal', child: 'ward-paediatrics' },
  },
  {
    key: 'hfmd',
    season: 'hfmd',
    rates: [0.012, 0.0015, 0, 0, 0, 0, 0],
    emergency: 0.2,
    feverP: 0.65,
    measureTemp: true,
    complaint: ({ r, fever }) =>
      fever
        ? pick(r, [`发热${days(r, 1, 2)}，手足皮疹、口腔疱疹`, `发热伴手、足、臀部皮疹${days(r, 1, 2)}`])
        : `手足皮疹、口腔溃疡${days(r, 1, 3)}，流涎，拒食`,
    dx: () => ICD.hfmd,
    depts: { adult: ['paediatrics'], child: ['paediatrics', 'paediatric-fever', 'infectious-disease', 'general-practice'] },
    admit: (age) => (age < 3 ? 0.03 : 0.01),
    ward: { adult: 'ward-infectious', child: 'ward-paediatrics' },
  },
  {
    key: 'varicella',
    season: 'varicella',
    rates: [0.004, 0.005, 0.001, 0.0004, 0.0001, 0, 0],
    emergency: 0.1,
    feverP: 0.4,
    measureTemp: true,
    complaint: ({ r }) => `全身散在皮疹伴瘙痒${days(r, 1, 3)}，部分为水疱，伴低热`,
    dx: () => ICD.varicella,
    depts: { adult: ['dermatology', 'infectious-disease'], child: ['paediatrics', 'dermatology', 'general-practice'] },
  },
  {
    key: 'mumps',
    season: 'mumps',
    rates: [0.0002, 0.0005, 0.0001, 0.00002, 0, 0, 0],
    emergency: 0.1,
    feverP: 0.6,
    measureTemp: true,
    complaint: ({ r }) => `${pick(r, ['左侧', '右侧', '双侧'])}耳下肿痛${days(r, 1, 3)}，伴发热`,
    dx: () => ICD.mumps,
    depts: { adult: ['infectious-disease', 'ent'], child: ['paediatrics', 'general-practice'] },
  },
  {
    key: 'scarlet',
    season: 'scarlet',
    rates: [0.00025, 0.00035, 0, 0, 0, 0, 0],
    emergency: 0.2,
    feverP: 0.9,
    measureTemp: true,
    complaint: ({ r }) => `发热、咽痛${days(r, 1, 2)}，全身弥漫性红色皮疹`,
    dx: () => ICD.scarlet,
    depts: { adult: ['paediatrics'], child: ['paediatrics', 'paediatric-fever'] },
  },
  {
    key: 'injury',
    season: 'summer',
    rates: [0.096, 0.128, 0.128, 0.128, 0.112, 0.112, 0.128],
    emergency: 0.6,
    feverP: 0,
    measureTemp: false,
    presentations: [
      [({ r }) => `不慎摔伤致${pick(r, ['右踝', '左踝'])}肿痛${n(r, 1, 12)}小时`, ICD.ankleSprain],
      [({ r }) => `外伤致头部流血${n(r, 1, 6)}小时`, ICD.wound],
      [({ r }) => `${pick(r, ['左手', '右手'])}手指被门夹伤致肿痛${n(r, 1, 6)}小时`, ICD.contusion],
      [({ r }) => `骑电动车摔伤致多处擦伤${n(r, 1, 5)}小时`, ICD.superficial],
      [({ r }) => `跌倒时${pick(r, ['右手', '左手'])}撑地致腕部肿痛、活动受限${n(r, 1, 8)}小时`, ICD.radiusFracture, 0.4],
    ],
    depts: {
      adult: ['emergency', 'orthopaedics', 'general-surgery', 'general-practice'],
      child: ['emergency', 'orthopaedics', 'general-practice'],
    },
    admit: (age, dx) => (dx.icd === ICD.radiusFracture.icd ? (age >= 65 ? 0.5 : 0.2) : dx.icd === ICD.wound.icd ? 0.03 : 0),
    ward: { adult: 'ward-surgery', child: 'ward-surgery' },
  },
  {
    key: 'digestive',
    season: 'flat',
    rates: [0.032, 0.064, 0.096, 0.16, 0.192, 0.192, 0.192],
    emergency: 0.2,
    feverP: 0.02,
    measureTemp: false,
    presentations: [
      [({ r }) => `上腹部隐痛${days(r, 2, 10)}`, ICD.gastritis],
      [({ r }) => `腹胀、纳差${days(r, 3, 14)}`, ICD.gastritis],
      [({ r }) => `反酸、烧心${n(r, 1, 4)}周`, ICD.gerd],
      [({ r }) => `腹痛${n(r, 2, 12)}小时`, ICD.abdominalPain],
    ],
    depts: {
      adult: ['gastroenterology', 'internal-medicine', 'emergency', 'tcm-internal', 'general-practice'],
      child: ['paediatrics', 'general-practice'],
    },
  },
  {
    key: 'cardioneuro',
    season: 'resp',
    rates: [0, 0.016, 0.048, 0.112, 0.256, 0.416, 0.512],
    emergency: 0.25,
    feverP: 0,
    measureTemp: false,
    presentations: [
      [({ r }) => `头晕${days(r, 1, 7)}`, ICD.dizziness],
      [({ r }) => `头痛${days(r, 1, 5)}`, ICD.headache],
      [({ r }) => `胸闷、心悸${days(r, 1, 10)}`, ICD.chd],
      [
        ({ r, htn }) => (htn ? `血压控制不佳，头晕${days(r, 2, 7)}` : `头晕${days(r, 2, 7)}`),
        ({ htn }) => (htn ? ICD.hypertension : ICD.dizziness),
      ],
      [({ r }) => `失眠${n(r, 1, 3)}个月`, ICD.insomnia],
      [
        ({ r, age }) => (age >= 60 ? `${pick(r, ['右侧', '左侧'])}肢体无力${n(r, 1, 10)}小时` : `头晕${days(r, 1, 3)}`),
        ({ age }) => (age >= 60 ? ICD.stroke : ICD.dizziness),
        0.25,
      ],
    ],
    depts: {
      adult: ['cardiology', 'neurology', 'internal-medicine', 'emergency', 'tcm-internal', 'general-practice'],
      child: ['paediatrics'],
    },
    admit: (age, dx) => (dx.icd === ICD.stroke.icd ? 0.9 : dx.icd === ICD.chd.icd && age >= 60 ? 0.08 : 0.005),
    ward: { adult: 'ward-internal', child: 'ward-paediatrics' },
  },
  {
    key: 'musculoskeletal',
    season: 'flat',
    rates: [0, 0.008, 0.048, 0.128, 0.256, 0.288, 0.24],
    emergency: 0.02,
    feverP: 0,
    measureTemp: false,
    presentations: [
      [({ r }) => `腰痛${n(r, 1, 6)}个月，加重${days(r, 1, 7)}`, ICD.lowBackPain],
      [({ r }) => `双膝关节疼痛${n(r, 1, 5)}年，加重1周`, ICD.kneeOa],
      [({ r }) => `颈肩部酸痛${n(r, 1, 4)}周`, ICD.neckPain],
    ],
    depts: { adult: ['orthopaedics', 'acupuncture', 'general-practice', 'tcm'], child: ['orthopaedics'] },
  },
  {
    key: 'genitourinary',
    season: 'summer',
    rates: [0.008, 0.016, 0.08, 0.144, 0.112, 0.096, 0.096],
    sex: 2,
    emergency: 0.05,
    feverP: 0.05,
    measureTemp: false,
    presentations: [
      [({ r }) => `尿频、尿急、尿痛${days(r, 1, 4)}`, ICD.uti],
      [({ r }) => `白带增多伴外阴瘙痒${days(r, 3, 10)}`, ICD.vaginitis],
      [({ r }) => `下腹部坠胀不适${days(r, 2, 10)}`, ICD.pid],
    ],
    depts: { adult: ['gynaecology', 'internal-medicine', 'general-practice'], child: ['paediatrics'] },
  },
  {
    key: 'skin',
    season: 'summer',
    rates: [0.128, 0.096, 0.096, 0.096, 0.08, 0.08, 0.08],
    emergency: 0.03,
    feverP: 0,
    measureTemp: false,
    presentations: [
      [({ r }) => `皮肤瘙痒伴红疹${days(r, 2, 10)}`, ICD.dermatitis],
      [({ r }) => `全身风团伴瘙痒${n(r, 2, 24)}小时`, ICD.urticaria],
      [({ r }) => `面部红斑、脱屑${n(r, 1, 4)}周`, ICD.eczema],
    ],
    depts: { adult: ['dermatology', 'general-practice', 'tcm'], child: ['dermatology', 'paediatrics', 'general-practice'] },
  },
  {
    key: 'eyeent',
    season: 'resp',
    rates: [0.16, 0.112, 0.064, 0.064, 0.064, 0.08, 0.08],
    emergency: 0.03,
    feverP: 0.03,
    measureTemp: false,
    presentations: [
      [({ r }) => `双眼红、分泌物增多${days(r, 1, 4)}`, ICD.conjunctivitis],
      [({ r }) => `${pick(r, ['右耳', '左耳'])}疼痛${days(r, 1, 3)}`, ICD.otitis],
      [({ r }) => `鼻塞、打喷嚏、流清涕${n(r, 1, 4)}周`, ICD.rhinitis],
    ],
    depts: { adult: ['ophthalmology', 'ent', 'general-practice'], child: ['ophthalmology', 'ent', 'paediatrics'] },
  },
];

/** Notifiable diagnoses made in routine visits, and the card they need. */
const CARD_FOR_ICD: Record<string, DiseaseKey> = {
  'A09.0': 'otherDiarrhoea',
  'A08.0': 'otherDiarrhoea',
  'B08.4': 'hfmd',
  'B26.9': 'mumps',
  A38: 'scarletFever',
};

interface BackgroundDisease {
  key: keyof typeof NOTIFIABLE_BACKGROUND_PER_100K;
  disease: DiseaseKey;
  /** Age range of cases. */
  ages: [number, number];
  season: Season;
  dept: string[];
  complaint: (r: Rng) => string;
  dx: (r: Rng) => {
    icd: string;
    display: string;
    subtype: string | null;
    chronicity: '急性' | '慢性' | null;
    classification: '临床诊断病例' | '确诊病例' | '疑似病例';
  };
  fever: number;
}

/** Notifiable diseases that do not come from the syndromic visits above (rates: targets.ts). */
const BACKGROUND: BackgroundDisease[] = [
  {
    key: 'tuberculosis',
    disease: 'tuberculosis',
    ages: [15, 90],
    season: 'flat',
    dept: ['respiratory', 'infectious-disease'],
    complaint: (r) => `咳嗽、咳痰${n(r, 3, 8)}周，伴午后低热、盗汗`,
    dx: (r) =>
      r.chance(0.55)
        ? { icd: 'A15.0', display: '肺结核（痰涂片或培养阳性）', subtype: '病原学阳性', chronicity: null, classification: '确诊病例' }
        : {
            icd: 'A16.0',
            display: '肺结核（细菌学和组织学检查阴性）',
            subtype: '病原学阴性',
            chronicity: null,
            classification: '临床诊断病例',
          },
    fever: 0.4,
  },
  {
    key: 'hepatitisB',
    disease: 'hepatitisB',
    ages: [20, 80],
    season: 'flat',
    dept: ['infectious-disease', 'gastroenterology'],
    complaint: (r) => pick(r, ['体检发现乙肝表面抗原阳性', `乏力、纳差${n(r, 1, 4)}周`, '乙肝病史，复查肝功能']),
    dx: () => ({ icd: 'B18.1', display: '慢性乙型病毒性肝炎', subtype: '乙型', chronicity: '慢性', classification: '确诊病例' }),
    fever: 0,
  },
  {
    key: 'hepatitisC',
    disease: 'hepatitisC',
    ages: [25, 80],
    season: 'flat',
    dept: ['infectious-disease', 'gastroenterology'],
    complaint: () => '术前检查发现丙肝抗体阳性',
    dx: () => ({ icd: 'B18.2', display: '慢性丙型病毒性肝炎', subtype: '丙型', chronicity: '慢性', classification: '确诊病例' }),
    fever: 0,
  },
  {
    key: 'hepatitisE',
    disease: 'hepatitisE',
    ages: [30, 85],
    season: 'flat',
    dept: ['infectious-disease', 'gastroenterology'],
    complaint: (r) => `乏力、纳差、尿黄${days(r, 3, 10)}`,
    dx: () => ({ icd: 'B17.2', display: '急性戊型病毒性肝炎', subtype: '戊型', chronicity: null, classification: '确诊病例' }),
    fever: 0.2,
  },
  {
    key: 'hepatitisA',
    disease: 'hepatitisA',
    ages: [5, 60],
    season: 'flat',
    dept: ['infectious-disease', 'paediatrics'],
    complaint: (r) => `发热、乏力、纳差${days(r, 3, 7)}，尿色加深`,
    dx: () => ({ icd: 'B15.9', display: '甲型病毒性肝炎', subtype: '甲型', chronicity: null, classification: '确诊病例' }),
    fever: 0.6,
  },
  {
    key: 'syphilis',
    disease: 'syphilis',
    ages: [18, 85],
    season: 'flat',
    dept: ['dermatology'],
    complaint: (r) => pick(r, ['术前检查发现梅毒血清学阳性', `外生殖器无痛性溃疡${n(r, 1, 3)}周`, `躯干、手掌皮疹${n(r, 1, 4)}周`]),
    dx: (r) => {
      const u = r.float();
      if (u < 0.6) return { icd: 'A53.0', display: '隐性梅毒', subtype: '隐性', chronicity: null, classification: '确诊病例' };
      if (u < 0.8) return { icd: 'A51.0', display: '一期梅毒', subtype: 'Ⅰ期', chronicity: null, classification: '确诊病例' };
      return { icd: 'A51.3', display: '二期梅毒', subtype: 'Ⅱ期', chronicity: null, classification: '确诊病例' };
    },
    fever: 0,
  },
  {
    key: 'gonorrhoea',
    disease: 'gonorrhoea',
    ages: [18, 60],
    season: 'flat',
    dept: ['dermatology'],
    complaint: (r) => `尿道口流脓伴尿痛${days(r, 2, 7)}`,
    dx: () => ({ icd: 'A54.0', display: '下泌尿生殖道淋球菌感染', subtype: null, chronicity: null, classification: '确诊病例' }),
    fever: 0,
  },
  {
    key: 'hiv',
    disease: 'hiv',
    ages: [18, 75],
    season: 'flat',
    dept: ['infectious-disease'],
    complaint: () => '术前检查发现HIV抗体阳性，经确证试验阳性',
    dx: (r) =>
      r.chance(0.7)
        ? { icd: 'Z21', display: '无症状性人类免疫缺陷病毒感染状态', subtype: 'HIV感染者', chronicity: null, classification: '确诊病例' }
        : { icd: 'B24', display: '人类免疫缺陷病毒病', subtype: '艾滋病病人', chronicity: null, classification: '确诊病例' },
    fever: 0.1,
  },
  {
    key: 'dysentery',
    disease: 'dysentery',
    ages: [1, 80],
    season: 'diarrhoea',
    dept: ['enteric-clinic', 'paediatrics'],
    complaint: (r) => `腹痛、腹泻伴黏液脓血便${days(r, 1, 3)}，里急后重`,
    dx: () => ({ icd: 'A03.9', display: '细菌性痢疾', subtype: null, chronicity: null, classification: '临床诊断病例' }),
    fever: 0.7,
  },
  {
    key: 'pertussis',
    disease: 'pertussis',
    ages: [0, 12],
    season: 'resp',
    dept: ['paediatrics'],
    complaint: (r) => `阵发性痉挛性咳嗽${n(r, 2, 4)}周，咳后呕吐`,
    dx: () => ({ icd: 'A37.9', display: '百日咳', subtype: null, chronicity: null, classification: '临床诊断病例' }),
    fever: 0.1,
  },
  {
    key: 'acuteHaemorrhagicConjunctivitis',
    disease: 'acuteHaemorrhagicConjunctivitis',
    ages: [5, 60],
    season: 'summer',
    dept: ['ophthalmology'],
    complaint: (r) => `双眼红肿、异物感、分泌物增多${days(r, 1, 2)}，结膜下出血`,
    dx: () => ({ icd: 'B30.3', display: '急性流行性出血性结膜炎', subtype: null, chronicity: null, classification: '临床诊断病例' }),
    fever: 0,
  },
];

/** Picks a complaint and its diagnosis for a syndrome. */
function presentation(s: Syndrome, r: Rng): [(c: Ctx) => string, Dx | ((c: Ctx) => Dx)] {
  if (!s.presentations) return [s.complaint!, s.dx!];
  const total = s.presentations.reduce((a, p) => a + (p[2] ?? 1), 0);
  let u = r.float() * total;
  for (const p of s.presentations) {
    u -= p[2] ?? 1;
    if (u < 0) return [p[0], p[1]];
  }
  const last = s.presentations[s.presentations.length - 1]!;
  return [last[0], last[1]];
}

export interface Site {
  facility: Facility;
  dept: Department;
}

export class Acute {
  private readonly rng: Rng;
  /** Residents by age band (rebuilt each 1 January). */
  private bands: number[][] = [];
  private bandsYear = -1;
  /** Told of every tuberculosis case diagnosed (the home centre's programme follows it up). */
  onTuberculosis?: (person: number, day: number) => void;

  constructor(
    private readonly w: World,
    private readonly rec: Recorder,
    private readonly seasons: Seasons,
  ) {
    this.rng = new Rng(w.seed, 'acute');
  }

  private rebuildBands(day: number): void {
    const pop = this.w.pop;
    this.bands = AGE_BANDS.map(() => []);
    for (let i = 0; i < pop.n; i++) this.bands[ageBand(pop.age(i, day))]!.push(i);
  }

  /** A newborn joins the youngest band. */
  addNewborn(i: number): void {
    this.bands[0]?.push(i);
  }

  /** The facility and department a resident goes to for a syndrome. */
  site(person: number, age: number, depts: string[], emergencyShare: number, fever: boolean): Site {
    const r = this.rng;
    const d = this.w.district;
    const child = age < 14;
    const gh = d.facilities[d.byKind.get('general-hospital')![0]!]!;
    const tcm = d.facilities[d.byKind.get('tcm-hospital')![0]!]!;
    const mch = d.facilities[d.byKind.get('mch-hospital')![0]!]!;
    const chc = this.rec.identity.homeChc(person);
    const station = d.stationOfCommunity[this.w.pop.community[person]!]!;
    // Where people go (assumption, in line with China's hospital / primary-care split of about
    // 55 / 45 per cent of visits): children mostly to hospital paediatrics.
    const u = r.float();
    let f: Facility;
    if (child) f = u < 0.45 ? gh : u < 0.72 ? mch : u < 0.77 ? tcm : chc;
    else f = u < 0.47 ? gh : u < 0.57 ? tcm : station >= 0 && u < 0.75 ? d.facilities[station]! : chc;
    // Fever patients at hospitals go through the fever clinic (adults) or paediatric fever clinic.
    const has = (code: string): Department | undefined => f.departments.find((x) => x.code === code);
    if (fever && r.chance(emergencyShare)) {
      const fc = child ? (has('paediatric-fever') ?? has('paediatrics')) : (has('fever-clinic') ?? has('emergency'));
      if (fc) return { facility: f, dept: fc };
    } else if (r.chance(emergencyShare * 0.5)) {
      const em = has('emergency');
      if (em && !child) return { facility: f, dept: em };
    }
    const options = depts.map((c) => has(c)).filter((x): x is Department => !!x);
    if (options.length > 0) {
      // Earlier departments in the list are more likely.
      const k = Math.min(options.length - 1, Math.floor(-Math.log(1 - r.float()) * 0.9));
      return { facility: f, dept: options[k]! };
    }
    const fallback =
      has('general-practice') ?? has(child ? 'paediatrics' : 'internal-medicine') ?? f.departments.find((x) => x.kind === 'clinic')!;
    return { facility: f, dept: fallback };
  }

  day(day: number): void {
    const { pop } = this.w;
    const year = Math.floor((day - 4) / 365.2425);
    if (this.bandsYear !== year || this.bands.length === 0) {
      this.rebuildBands(day);
      this.bandsYear = year;
    }
    const clinic = this.seasons.clinicFactor(day);
    const emerg = this.seasons.emergencyFactor(day);
    for (const s of SYNDROMES) {
      const season = this.seasons.factor(s.season, day);
      const dow = (1 - s.emergency) * clinic + s.emergency * emerg;
      for (let b = 0; b < this.bands.length; b++) {
        const members = this.bands[b]!;
        const rate = s.rates[b]!;
        if (rate <= 0 || members.length === 0) continue;
        const k = this.rng.poisson(((members.length * rate) / 365) * season * dow * (s.sex ? 2 : 1));
        for (let j = 0; j < k; j++) {
          const person = members[this.rng.int(members.length)]!;
          if (s.sex && pop.sex[person] !== s.sex) continue;
          if (!this.w.deaths.alive(person, day)) continue;
          this.visit(s, person, day);
        }
      }
    }
    this.background(day, clinic);
  }

  temperature(fever: boolean, high = false): number {
    const r = this.rng;
    if (!fever) return Math.round((36.2 + r.float() * 1.0) * 10) / 10;
    const t = (high ? 38.3 : 37.6) + -Math.log(1 - r.float()) * (high ? 0.65 : 0.55);
    return Math.round(Math.min(41, t) * 10) / 10;
  }

  private visit(s: Syndrome, person: number, day: number): void {
    const r = this.rng;
    const age = this.w.pop.age(person, day);
    if (s.key === 'ili') {
      this.ili(person, age, day);
      return;
    }
    const fever = r.chance(s.feverP);
    const temp = this.temperature(fever);
    const htn = this.w.pop.hasFlag(person, FLAG.HTN_AWARE) && this.w.pop.hasFlag(person, FLAG.MANAGED);
    const ctx: Ctx = { r, age, sex: this.w.pop.sex[person]!, fever, temp, htn };
    const child = age < 14;
    const site = this.site(person, age, child ? s.depts.child : s.depts.adult, s.emergency, fever);
    const [complaintOf, dxOf] = presentation(s, r);
    const complaint = complaintOf(ctx);
    const dx = typeof dxOf === 'function' ? dxOf(ctx) : dxOf;
    let cls: 'AMB' | 'EMER' | 'IMP' = site.dept.kind === 'emergency' ? 'EMER' : 'AMB';
    let visitType: VisitType = cls === 'EMER' ? 'emergency' : 'outpatient';
    let dept = site.dept;
    let los: number | undefined;
    if (s.admit && s.ward && site.facility.kind !== 'chc' && site.facility.kind !== 'health-station' && r.chance(s.admit(age, dx))) {
      const ward =
        site.facility.departments.find((x) => x.code === (child ? s.ward!.child : s.ward!.adult)) ??
        site.facility.departments.find((x) => x.kind === 'ward');
      if (ward) {
        dept = ward;
        cls = 'IMP';
        visitType = 'inpatient';
        los = Math.min(30, Math.max(2, Math.round(r.logNormal(6, 1.5))));
      }
    }
    const onset = day - (s.key === 'injury' ? 0 : r.int(4));
    const measure = s.measureTemp || child || site.dept.kind === 'emergency' || fever;
    const v = this.rec.visit({
      person,
      facility: site.facility,
      dept,
      cls,
      visitType,
      day,
      losDays: los,
      complaint,
      temperature: measure ? temp : null,
      dx: [dx],
      onsetDay: onset,
    });
    this.followUpTests(s.key, v, age);
    const card = CARD_FOR_ICD[dx.icd];
    if (card) this.rec.reportCard(v, card, dx.icd, '临床诊断病例');
  }

  /** Laboratory tests ordered in routine visits. */
  private followUpTests(key: string, v: Visit, age: number): void {
    const r = this.rng;
    const hospital = v.facility.kind === 'general-hospital' || v.facility.kind === 'mch-hospital' || v.facility.kind === 'tcm-hospital';
    if (!hospital) return;
    if (key === 'pneumonia' && r.chance(age < 15 ? 0.35 : 0.15)) {
      this.rec.lab(v, 'resp13', this.backgroundRespiratory(v.day, age, false));
    } else if (key === 'hfmd' && r.chance(0.15)) {
      const u = r.float();
      this.rec.lab(v, 'enterovirus', new Set(u < 0.1 ? ['EV71'] : u < 0.45 ? ['CVA16'] : u < 0.9 ? ['EV-OTHER'] : []));
    } else if (key === 'diarrhoea' && r.chance(0.04)) {
      this.rec.lab(v, r.chance(0.5) ? 'norovirus' : 'stoolCulture', new Set(r.chance(0.15) ? ['NOV-GII'] : []));
    }
  }

  /** Positive targets of the 13-pathogen panel for a respiratory patient without influenza. */
  backgroundRespiratory(day: number, age: number, flu: boolean): Set<string> {
    const r = this.rng;
    const pos = new Set<string>();
    const winter = this.seasons.factor('resp', day);
    if (flu) {
      if (r.chance(this.seasons.fluBShare(day))) pos.add('FLUB');
      else {
        pos.add('FLUA');
        pos.add(r.chance(this.seasons.h1n1Share(day)) ? 'H1N1PDM' : 'H3N2');
      }
    }
    const child = age < 14;
    const p = (x: number): boolean => r.chance(Math.min(0.6, x));
    if (p((child ? 0.12 : 0.03) * winter)) pos.add('RSV');
    if (p(child ? 0.06 : 0.02)) pos.add('ADV');
    if (p(child ? 0.08 : 0.04)) pos.add('HRV');
    if (p((age >= 3 && age < 15 ? 0.18 : 0.04) * this.seasons.factor('mp', day))) pos.add('MP');
    if (p(child ? 0.04 : 0.02)) pos.add('PIV');
    if (p(0.03 * this.seasons.factor('hfmd', day))) pos.add('HMPV');
    if (p(age < 3 ? 0.05 : 0.005)) pos.add('HBOV');
    if (p(0.02 * winter)) pos.add('HCOV');
    if (p(0.01)) pos.add('CP');
    return pos;
  }

  /** Influenza-like illness: some of it influenza, tested and reported as real clinics do. */
  ili(
    person: number,
    age: number,
    day: number,
    opts: { forceFlu?: boolean; fluB?: boolean } = {},
  ): { visit: Visit; labIds: string[]; cardIds: string[] } {
    const r = this.rng;
    const flu = opts.forceFlu ?? r.chance(this.seasons.fluPositivity(day));
    const temp = this.temperature(true, flu);
    const s = SYNDROMES[0]!;
    const child = age < 14;
    const ctx: Ctx = { r, age, sex: this.w.pop.sex[person]!, fever: true, temp, htn: false };
    const site = this.site(person, age, child ? s.depts.child : s.depts.adult, s.emergency, true);
    const hospital = site.facility.kind.endsWith('hospital');
    const labIds: string[] = [];
    let positive = false;
    let antigen = false;
    const testP = hospital ? (child ? 0.45 : 0.3) : 0.05;
    const sentinel = site.facility.kind === 'general-hospital' && r.chance(child ? 0.15 : 0.08);
    const flags: Set<string> = new Set();
    if (flu) {
      const fluB = opts.fluB ?? r.chance(this.seasons.fluBShare(day));
      flags.add(fluB ? 'FLUB' : 'FLUA');
    }
    const dx: Dx[] = [];
    let classification: '确诊病例' | '临床诊断病例' | null = null;
    if (!sentinel && r.chance(testP)) {
      antigen = true;
      positive = flu && r.chance(0.7);
    }
    if (sentinel) positive = flu && r.chance(0.95);
    if (positive) {
      dx.push(ICD.influenzaLab);
      classification = '确诊病例';
    } else if (flu && this.seasons.fluActivity(day) > 0.45 && r.chance(0.25)) {
      dx.push(ICD.influenzaClinical);
      classification = '临床诊断病例';
    } else dx.push(s.dx!(ctx));
    const v = this.rec.visit({
      person,
      facility: site.facility,
      dept: site.dept,
      cls: site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
      visitType: site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
      day,
      complaint: s.complaint!(ctx),
      temperature: temp,
      dx,
      onsetDay: day - r.int(3),
    });
    if (antigen) {
      const pos = new Set<string>();
      if (positive) pos.add(flags.has('FLUB') ? 'FLUB-AG' : 'FLUA-AG');
      const id = this.rec.lab(v, 'fluAntigen', pos);
      if (id) labIds.push(id);
    }
    if (sentinel) {
      const pos = this.backgroundRespiratory(day, age, false);
      if (positive) {
        if (flags.has('FLUB')) pos.add('FLUB');
        else {
          pos.add('FLUA');
          pos.add(r.chance(this.seasons.h1n1Share(day)) ? 'H1N1PDM' : 'H3N2');
        }
      }
      const id = this.rec.lab(v, 'resp13', pos);
      if (id) labIds.push(id);
    }
    const cardIds = classification ? this.rec.reportCard(v, 'influenza', dx[0]!.icd, classification) : [];
    return { visit: v, labIds, cardIds };
  }

  /** Notifiable diseases outside the syndromic model (tuberculosis, hepatitis, STIs, ...). */
  private background(day: number, clinic: number): void {
    const r = this.rng;
    const pop = this.w.pop;
    BACKGROUND.forEach((b) => {
      const lambda = ((pop.n * NOTIFIABLE_BACKGROUND_PER_100K[b.key]) / 1e5 / 365) * clinic * this.seasons.factor(b.season, day);
      const k = r.poisson(lambda);
      for (let j = 0; j < k; j++) {
        let person = -1;
        for (let t = 0; t < 20; t++) {
          const cand = r.int(pop.n);
          const age = pop.age(cand, day);
          if (age >= b.ages[0] && age <= b.ages[1] && this.w.deaths.alive(cand, day)) {
            person = cand;
            break;
          }
        }
        if (person < 0) continue;
        const age = pop.age(person, day);
        const fever = r.chance(b.fever);
        const site = this.site(person, age, b.dept, 0, false);
        // These are diagnosed in hospital departments; primary care refers them on.
        let { facility, dept } = site;
        if (!facility.kind.endsWith('hospital') || !b.dept.includes(dept.code)) {
          const gh = this.w.district.facilities[this.w.district.byKind.get('general-hospital')![0]!]!;
          facility = gh;
          dept = gh.departments.find((x) => x.code === b.dept[0]) ?? gh.departments.find((x) => x.code === 'internal-medicine')!;
        }
        const dx = b.dx(r);
        const v = this.rec.visit({
          person,
          facility,
          dept,
          cls: 'AMB',
          visitType: 'outpatient',
          day,
          complaint: b.complaint(r),
          temperature: fever || b.key === 'tuberculosis' ? this.temperature(fever) : null,
          dx: [{ icd: dx.icd, display: dx.display }],
          onsetDay: day - r.int(14),
        });
        this.rec.reportCard(v, b.disease, dx.icd, dx.classification, { subtype: dx.subtype, chronicity: dx.chronicity });
        if (b.key === 'tuberculosis') this.onTuberculosis?.(person, day);
      }
    });
  }
}
