/**
 * Epidemiological parameters and the statistical targets the simulated district must meet.
 * Every figure names its source. The test `statistics.test.ts` checks the output against the
 * TARGETS below; the rest are inputs that shape realistic data.
 */

/** Age bands used for visit rates: [0-4, 5-14, 15-24, 25-44, 45-59, 60-74, 75+]. */
export const AGE_BANDS = [0, 5, 15, 25, 45, 60, 75] as const;
export function ageBand(age: number): number {
  let b = 0;
  while (b + 1 < AGE_BANDS.length && age >= AGE_BANDS[b + 1]!) b++;
  return b;
}

/**
 * Population by 5-year age group, share of total (%), 0-4 ... 80-84, 85+.
 * Source: 第七次全国人口普查 (2020 census), national population by 5-year age group (中国人口普查
 * 年鉴-2020), rounded; the shares reproduce the census communiqué No. 5 aggregates (0-14 17.95 %,
 * 60+ 18.70 %). An urban district is then shifted towards working ages
 * by URBAN_ADJUSTMENT (urban areas have fewer children and more adults aged 25-44 than the
 * national figure; the factors are an assumption, not a published table).
 */
export const CENSUS_2020_AGE_SHARES = [
  5.52, 6.4, 6.04, 5.15, 5.31, 6.51, 8.8, 7.01, 6.61, 8.09, 8.59, 7.19, 5.2, 5.24, 3.51, 2.22, 1.44, 1.17,
] as const;
export const URBAN_ADJUSTMENT = [
  0.92, 0.92, 0.92, 0.95, 1.05, 1.1, 1.1, 1.08, 1.02, 1.0, 1.0, 0.98, 0.97, 0.97, 0.97, 0.97, 0.97, 0.97,
] as const;
/**
 * Share of males by 5-year age group. Source: 2020 census sex ratio 105.07 overall, higher at
 * young ages (sex ratio at birth 111.3) and falling below 100 from about age 65 (census tables by
 * age and sex), rounded.
 */
export const MALE_SHARE = [
  0.528, 0.535, 0.537, 0.536, 0.53, 0.517, 0.512, 0.508, 0.506, 0.505, 0.503, 0.502, 0.497, 0.49, 0.485, 0.47, 0.445, 0.4,
] as const;

/**
 * Household size distribution (share of family households by size 1..6+).
 * Source: 2020 census, 家庭户规模 (1人户 25.39%, 2人户 29.68%, 3人户 20.99%, 4人户 13.17%,
 * 5人户 6.19%, 6人及以上 4.58%; mean 2.62). The simulator builds households from the age-sex
 * population (parents, children, grandparents), so this is a target, reported in truth.json.
 */
export const HOUSEHOLD_SIZE_TARGET = { mean: 2.62, singlePersonShare: 0.254 } as const;

/**
 * Hypertension prevalence among adults ≥ 18.
 * Target: 27.5 %, 中国居民营养与慢性病状况报告（2020年）(国务院新闻办 2020-12-23).
 * The age and sex gradient follows the China Hypertension Survey 2012-2015 (Wang Z, Chen Z,
 * Zhang L, et al. Circulation 2018;137:2344-2356; by age, approximately: 18-24 4 %, 25-34 6 %,
 * 35-44 15 %, 45-54 30 %, 55-64 45 %, 65-74 56 %, ≥75 60 %; men 24.5 %, women 21.9 %),
 * scaled so that the adult total meets the 2020 report's figure.
 */
export const HYPERTENSION = {
  adultPrevalence: 0.275,
  byAge: [
    [18, 0.04],
    [25, 0.061],
    [35, 0.15],
    [45, 0.296],
    [55, 0.446],
    [65, 0.557],
    [75, 0.602],
  ] as const,
  maleRatio: 24.5 / 21.9,
  /** Awareness 46.9 %, treatment 40.7 % of all hypertensives (Wang et al. 2018). */
  awareness: 0.469,
  treatedGivenAware: 0.407 / 0.469,
  /** Share of aware patients ≥ 35 in the basic public health service registry (assumption). */
  managedGivenAware: 0.95,
};

/**
 * Diabetes prevalence among adults (WHO criteria 11.2 %; ADA criteria 12.8 %).
 * Source: Li Y, Teng D, Shi X, et al. Prevalence of diabetes recorded in mainland China using 2018
 * diagnostic criteria from the American Diabetes Association: national cross sectional study.
 * BMJ 2020;369:m997. Age gradient (WHO criteria, approximately): 18-29 2 %, 30-39 5 %,
 * 40-49 9 %, 50-59 15 %, 60-69 21 %, ≥70 24 %; men 12.1 %, women 10.3 %.
 * Awareness 36.7 %, treatment 32.9 % (same study).
 */
export const DIABETES = {
  adultPrevalence: 0.112,
  byAge: [
    [18, 0.02],
    [30, 0.05],
    [40, 0.09],
    [50, 0.15],
    [60, 0.21],
    [70, 0.24],
  ] as const,
  maleRatio: 12.1 / 10.3,
  awareness: 0.367,
  treatedGivenAware: 0.329 / 0.367,
  managedGivenAware: 0.95,
  /** People with diabetes are about twice as likely to have hypertension (assumption, cf. Li 2020). */
  hypertensionOddsRatio: 2.0,
};

/**
 * Follow-up behaviour of registered patients. Target for 规范管理率 is 70 % (national goal for
 * 2025, rules.md §3). Assumed mix: regular attenders (on time ± 7 days), irregular (often weeks
 * late, some missed), lost to follow-up (most visits missed).
 */
export const FOLLOW_UP_ADHERENCE = [
  ['regular', 0.72],
  ['irregular', 0.2],
  ['lost', 0.08],
] as const;

/**
 * Childhood immunization: share of children whose doses are given on time (within a month of
 * the due date), late, very late, or who miss doses. Reported national coverage of every NIP
 * vaccine is > 90 % (WUENIC 2023 estimates for China: DTP3 99 %, MCV1 99 %, HepB3 99 %); timely
 * vaccination rates in Chinese studies are lower (about 70-90 % by vaccine, e.g. Hu Y et al.,
 * Human Vaccines & Immunotherapeutics 2017 on Zhejiang). The mix below is an assumption that
 * gives ~97 % coverage at 24 months with realistic delays.
 */
export const CHILD_TIMELINESS = [
  ['on-time', 0.78],
  ['late', 0.16],
  ['very-late', 0.045],
  ['refuser', 0.015],
] as const;

/**
 * Adult vaccination uptake per season (assumptions for a city with free elderly influenza
 * vaccination; national influenza vaccine coverage is only ~2-4 %, Beijing's free programme for
 * ≥ 60 reaches ~40 %): ≥ 60 20 %, chronic disease 12 %, care-home residents 55 %, health
 * workers 40 %, children 6-59 months 25 %. PPSV23: 4 % of unvaccinated ≥ 65 per year.
 */
export const ADULT_VACCINE_UPTAKE = {
  influenzaElderly: 0.2,
  influenzaChronic: 0.12,
  influenzaCareHome: 0.55,
  influenzaHealthWorker: 0.4,
  influenzaChild: 0.25,
  ppsv23PerYear: 0.04,
};

/**
 * Background notifiable-disease report rates, cases per 100,000 per year, from the national
 * 2024 totals (NHC / 国家疾控局 bulletins, transcribed in ../shared/data/china-notifiable-diseases-
 * monthly/yearly-cases.csv) divided by the 2024 year-end population, 1,408.28 million
 * (国家统计局 2024 国民经济和社会发展统计公报). Influenza, diarrhoea, HFMD, mumps and scarlet fever
 * arise from the syndromic visit model instead; these are the ones that do not.
 */
export const NOTIFIABLE_BACKGROUND_PER_100K = {
  tuberculosis: 569081 / 14082.8,
  hepatitisB: 1174288 / 14082.8,
  hepatitisC: 164616 / 14082.8,
  hepatitisE: 32800 / 14082.8,
  hepatitisA: 13831 / 14082.8,
  syphilis: 572092 / 14082.8,
  gonorrhoea: 101199 / 14082.8,
  hiv: 54931 / 14082.8,
  dysentery: 34349 / 14082.8,
  // 2024 saw a pertussis surge (476,690 cases); the 2019-2023 mean (about 30,000 a year) is used.
  pertussis: 30000 / 14082.8,
  acuteHaemorrhagicConjunctivitis: 28798 / 14082.8,
} as const;

/**
 * School sickness absenteeism (因病缺课). Hangzhou 2013-2017: 23.21 per 10,000 pupil-days
 * (Li H et al., Disease Surveillance 2020;35(9):840-844); Nanjing 2019-2021: 0.25 %, 0.39 %,
 * 0.73 % (Yang Y et al., Chinese Journal of School Health 2022;43(12):1835-1838); kindergartens
 * in Guangzhou: 3.08 ‰ for respiratory symptoms alone (Chen S et al., Chinese Journal of School
 * Health 2022;43(10):1570-1573). Simulated base rates: primary and secondary 0.35 % of
 * pupil-days, kindergartens 0.6 %; personal leave (事假) 0.08 %.
 */
export const ABSENTEEISM = {
  sickSchool: 0.0035,
  sickKindergarten: 0.006,
  personalLeave: 0.0008,
};

/**
 * ILI% = ILI visits / all outpatient and emergency visits (全国流感监测方案 2017), here at the
 * district's hospitals. Chinese National Influenza Center weekly reports: northern sentinel
 * hospitals 2.3-2.6 % in June (week 24, 2016-2019), southern 3.3-4.5 % out of season, winter
 * peaks of 5-7 % (e.g. CNIC Weekly Report 2019 week 24; 2017 week 21).
 */
export const ILI = {
  summerMin: 0.015,
  summerMax: 0.04,
  winterMin: 0.035,
  winterMax: 0.09,
  winterOverSummerMin: 1.4,
};

/** The targets checked by the statistics test, with tolerances. */
export const TARGETS = {
  hypertensionAdultPrevalence: { value: HYPERTENSION.adultPrevalence, tolerance: 0.03 },
  diabetesAdultPrevalence: { value: DIABETES.adultPrevalence, tolerance: 0.025 },
  /** Coverage of HepB3, DTaP3 and MMR1 at 24 months of age. */
  childImmunizationCoverageMin: 0.9,
  ili: ILI,
  /** Sick absence share of pupil-days outside outbreaks, all schools. */
  absenteeismSick: { min: 0.002, max: 0.008 },
} as const;

/**
 * Family-doctor contracts (assumptions within reported figures): the 2016 guidance aims at 30 %
 * of residents and 60 % of key populations; provinces report 35–75 % for the elderly, chronic
 * patients and children and about 25–40 % overall. Chance that a resident has a contract, by
 * key population (chronic = in the hypertension/diabetes programme), and of renewing each year.
 */
export const CONTRACT_UPTAKE = {
  chronic: 0.72,
  elderly: 0.62,
  careHome: 0.8,
  children: 0.55,
  others: 0.16,
  renewal: 0.94,
};
