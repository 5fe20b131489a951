/**
 * Laboratory panels. The 13-target respiratory panel is the multiplex PCR widely used by Chinese
 * hospital laboratories (呼吸道病原体13项核酸检测: 甲流, 甲型H1N1(2009), 甲型H3N2, 乙流, 腺病毒,
 * 博卡病毒, 鼻病毒, 副流感病毒, 呼吸道合胞病毒, 肺炎支原体, 肺炎衣原体, 人偏肺病毒, 冠状病毒).
 * LOINC codes are given only where verified (Respiratory specimen by NAA with probe detection:
 * 92142-9 influenza A, 92141-1 influenza B, 92131-2 RSV, 92134-6 hMPV, 92130-4 rhinovirus,
 * 94040-3 adenovirus A-E, 92138-7 parainfluenza 3); every analyte also has a local code in
 * LAB_TEST_SYSTEM.
 */

export interface Analyte {
  code: string;
  name: string;
  loinc: string | null;
  loincDisplay?: string;
}

export interface Panel {
  code: string;
  name: string;
  specimen: { code: string; display: string; text: string };
  analytes: Analyte[];
}

const THROAT = { code: 'THRT', display: 'Throat', text: '咽拭子' };
const STOOL = { code: 'STL', display: 'Stool = Fecal', text: '粪便' };
const SERUM = { code: 'SER', display: 'Serum', text: '血清' };

export type PanelKey = 'resp13' | 'fluAntigen' | 'stoolCulture' | 'norovirus' | 'enterovirus' | 'measlesIgm';

export const PANELS: Record<PanelKey, Panel> = {
  resp13: {
    code: 'RESP13',
    name: '呼吸道病原体13项核酸检测',
    specimen: THROAT,
    analytes: [
      {
        code: 'FLUA',
        name: '甲型流感病毒核酸',
        loinc: '92142-9',
        loincDisplay: 'Influenza virus A RNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      { code: 'H1N1PDM', name: '甲型H1N1流感病毒(2009)核酸', loinc: null },
      { code: 'H3N2', name: '甲型H3N2流感病毒核酸', loinc: null },
      {
        code: 'FLUB',
        name: '乙型流感病毒核酸',
        loinc: '92141-1',
        loincDisplay: 'Influenza virus B RNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      {
        code: 'ADV',
        name: '腺病毒核酸',
        loinc: '94040-3',
        loincDisplay: 'Adenovirus A+B+C+D+E DNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      { code: 'HBOV', name: '博卡病毒核酸', loinc: null },
      {
        code: 'HRV',
        name: '鼻病毒核酸',
        loinc: '92130-4',
        loincDisplay: 'Rhinovirus RNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      { code: 'PIV', name: '副流感病毒核酸', loinc: null },
      {
        code: 'RSV',
        name: '呼吸道合胞病毒核酸',
        loinc: '92131-2',
        loincDisplay: 'Respiratory syncytial virus RNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      { code: 'MP', name: '肺炎支原体核酸', loinc: null },
      { code: 'CP', name: '肺炎衣原体核酸', loinc: null },
      {
        code: 'HMPV',
        name: '人偏肺病毒核酸',
        loinc: '92134-6',
        loincDisplay: 'Human metapneumovirus RNA [Presence] in Respiratory specimen by NAA with probe detection',
      },
      { code: 'HCOV', name: '冠状病毒核酸', loinc: null },
    ],
  },
  fluAntigen: {
    code: 'FLUAG',
    name: '甲乙型流感病毒抗原检测',
    specimen: THROAT,
    analytes: [
      { code: 'FLUA-AG', name: '甲型流感病毒抗原', loinc: null },
      { code: 'FLUB-AG', name: '乙型流感病毒抗原', loinc: null },
    ],
  },
  stoolCulture: {
    code: 'STOOL-CX',
    name: '粪便致病菌培养',
    specimen: STOOL,
    analytes: [
      { code: 'SALM', name: '沙门菌', loinc: null },
      { code: 'SHIG', name: '志贺菌', loinc: null },
      { code: 'VCHO', name: '霍乱弧菌O1/O139', loinc: null },
      { code: 'VPAR', name: '副溶血性弧菌', loinc: null },
    ],
  },
  norovirus: {
    code: 'NOV',
    name: '诺如病毒核酸检测',
    specimen: STOOL,
    analytes: [
      { code: 'NOV-GI', name: '诺如病毒GI型核酸', loinc: null },
      { code: 'NOV-GII', name: '诺如病毒GII型核酸', loinc: null },
    ],
  },
  enterovirus: {
    code: 'EV',
    name: '肠道病毒核酸检测',
    specimen: THROAT,
    analytes: [
      { code: 'EV71', name: '肠道病毒71型核酸', loinc: null },
      { code: 'CVA16', name: '柯萨奇病毒A16型核酸', loinc: null },
      { code: 'EV-OTHER', name: '其他肠道病毒核酸', loinc: null },
    ],
  },
  measlesIgm: {
    code: 'MEV-IGM',
    name: '麻疹病毒IgM抗体检测',
    specimen: SERUM,
    analytes: [{ code: 'MEV-IGM', name: '麻疹病毒IgM抗体', loinc: null }],
  },
};
