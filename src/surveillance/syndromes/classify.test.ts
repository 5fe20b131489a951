import { describe, expect, it } from 'vitest';
import { classifyVisit, loadSyndromeRules, parseSyndromeRules } from './classify.js';

const rules = loadSyndromeRules();

/** [chief complaint, measured temperature °C or null, ICD-10 codes, expected syndromes]. */
const CASES: [string, number | null, string[], string[]][] = [
  // Fever with respiratory symptoms; ILI needs ≥ 38 °C and cough or sore throat.
  ['发热伴咳嗽2天', 38.6, [], ['fever_respiratory', 'ili']],
  ['发热、咽痛1天', 38.0, [], ['fever_respiratory', 'ili']],
  ['发热、咽痛1天', 37.8, [], ['fever_respiratory']],
  ['咳嗽、咳痰3天，发热1天，体温最高39.2℃', null, [], ['fever_respiratory', 'ili']],
  ['高热、咳嗽1天', null, [], ['fever_respiratory', 'ili']],
  ['发热1天，伴流涕、鼻塞', 38.3, [], ['fever_respiratory']],
  ['发烧、嗓子疼半天', 38.9, [], ['fever_respiratory', 'ili']],
  ['反复发热3天，咳嗽', null, [], ['fever_respiratory']],
  ['咳嗽7天，无发热', 36.8, [], []],
  ['咳嗽7天，无发热', null, [], []],
  ['咳嗽、有痰7天', 36.9, ['R05'], []],
  ['咽痛、流涕3天', 36.7, ['J02.9'], []],
  ['鼻塞、流涕伴咽部不适1天', 37.0, ['J06.9'], []],
  ['咽干、咽痒7天', null, [], []],
  ['发热伴气促2天', 38.4, ['J18.9'], ['fever_respiratory']],
  ['咳嗽3天', 36.5, ['J18.9'], ['fever_respiratory']],
  ['发热2天，否认咳嗽、咽痛', 38.5, [], []],
  ['发热、乏力2天', 38.2, [], []],
  ['畏寒发热伴咳嗽1天', 39.0, ['J11.1'], ['fever_respiratory', 'ili']],
  ['体温38.5度，咳嗽1天', null, [], ['fever_respiratory', 'ili']],
  ['无明显诱因出现发热、咳嗽2天', 38.1, [], ['fever_respiratory', 'ili']],
  ['发热，咳嗽', 37.2, [], []],
  ['咳嗽2天，不伴发热', null, [], []],
  ['咳嗽2天，未伴发热', null, [], []],
  ['流感样症状，发热咳嗽', 38.0, ['J10.1'], ['fever_respiratory', 'ili']],
  // Diarrhoea.
  ['腹泻伴呕吐2天', 37.0, [], ['diarrhoea']],
  ['腹痛、腹泻3天', null, ['K52.9'], ['diarrhoea']],
  ['拉肚子5次/日，1天', null, [], ['diarrhoea']],
  ['解稀水样便4次', 36.9, [], ['diarrhoea']],
  ['黏液脓血便伴里急后重1天', 38.2, ['A03.9'], ['diarrhoea']],
  ['呕吐3次，否认腹泻', 36.8, [], []],
  ['上腹部隐痛9天，无腹泻', null, ['K29.7'], []],
  ['恶心、呕吐半天', null, ['A08.1'], ['diarrhoea']],
  ['进食后腹痛、腹泻，同餐者多人发病', 37.6, [], ['diarrhoea']],
  ['反酸、烧心1周', null, ['K21.9'], []],
  ['大便次数增多2天', null, [], ['diarrhoea']],
  ['腹泻3天，无发热', 36.6, ['A09.0'], ['diarrhoea']],
  ['水样便10余次伴呕吐', 36.5, ['A00.1'], ['diarrhoea']],
  // Fever with rash.
  ['发热3天，出疹1天', 38.8, [], ['fever_rash']],
  ['发热伴皮疹2天', 38.1, ['B05.9'], ['fever_rash']],
  ['手足疱疹伴发热1天', 37.9, ['B08.4'], ['fever_rash']],
  ['皮疹2天，无发热', 36.7, [], []],
  ['面部红斑、脱屑2周', null, ['L30.9'], []],
  ['全身红疹伴瘙痒1天', 36.9, ['L50.9'], []],
  ['口腔疱疹1天', null, ['B08.4'], ['fever_rash']],
  ['发热、咽痛、皮疹', 38.6, ['A38'], ['fever_respiratory', 'fever_rash', 'ili']],
  // Fever with haemorrhage.
  ['发热伴皮下出血点3天', 39.0, [], ['fever_haemorrhage']],
  ['高热、牙龈出血2天', null, [], ['fever_haemorrhage']],
  ['鼻出血1天', 36.8, [], []],
  ['发热、乏力，血小板减少', 38.5, ['A93.8'], ['fever_haemorrhage']],
  ['发热4天，无出血点', 38.7, [], []],
  // Encephalitis / meningitis.
  ['发热伴抽搐1次', 39.1, [], ['encephalitis']],
  ['发热、头痛、呕吐2天', 38.9, [], ['encephalitis']],
  ['发热、嗜睡1天', 38.4, [], ['encephalitis']],
  ['头痛3天', 36.7, ['R51'], []],
  ['头痛伴呕吐，无发热', 36.9, [], []],
  ['发热伴颈项强直', 39.3, ['A39.0'], ['encephalitis']],
  ['抽搐1次，无发热', 36.8, ['R56.8'], []],
  // Other visits: none.
  ['高血压随访：无头晕头痛等不适，规律服药', null, ['I10'], []],
  ['糖尿病随访：无多饮、多食、多尿，空腹血糖6.2mmol/L', null, ['E11.9'], []],
  ['骑电动车摔伤致多处擦伤5小时', null, ['T14.0'], []],
  ['双膝关节疼痛2年，加重1周', null, ['M17.9'], []],
  ['尿频、尿急、尿痛4天', null, ['N39.0'], []],
  ['双眼红、分泌物增多2天', null, ['H10.9'], []],
  ['失眠1个月', null, ['G47.0'], []],
  ['胸闷、心悸3天', null, ['I25.1'], []],
  ['否认发热、咳嗽，要求体检', 36.5, [], []],
  ['', 38.5, [], []],
  ['发热1天', null, [], []],
];

describe('syndrome classifier (config/surveillance/syndromes.json)', () => {
  it('has a test set of at least 60 complaints', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });
  it.each(CASES)('%s (T=%s, ICD %j) → %j', (complaint, temp, icd, expected) => {
    const r = classifyVisit(rules, { complaint, temperatureC: temp, icd10: icd });
    expect(r.syndromes).toEqual(expected);
  });
  it('reads temperatures from the text and keeps the highest', () => {
    expect(classifyVisit(rules, { complaint: '体温39.2℃', temperatureC: 37.1 }).temperatureC).toBe(39.2);
  });
  it('refuses rules that name an unknown symptom', () => {
    const bad = structuredClone(rules) as unknown as { syndromes: { rules: { all: string[] }[] }[] };
    bad.syndromes[0]!.rules[0]!.all = ['fevre'];
    expect(() => parseSyndromeRules(bad)).toThrow(/unknown symptom 'fevre'/);
  });
});
