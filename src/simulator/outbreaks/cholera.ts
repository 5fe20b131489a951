/**
 * A class A case: imported cholera. The index case and ill household contacts go to the
 * emergency department and are isolated; the CDC samples every household contact, and carriers
 * are reported as 病原携带者.
 */
import { ICD } from '../icd.js';
import type { Case, OutbreakContext } from './context.js';

export function cholera(ctx: OutbreakContext, d0: number): void {
  const r = ctx.rng;
  const { pop, district } = ctx.w;
  let index = -1;
  for (let t = 0; t < 500; t++) {
    const p = r.int(pop.n);
    const age = pop.age(p, d0);
    if (age >= 25 && age <= 60 && pop.household[p]! >= 0) {
      index = p;
      break;
    }
  }
  if (index < 0) return;
  const o = ctx.newOutbreak(
    'class-a-cholera',
    '霍乱',
    'Vibrio cholerae O1 El Tor',
    { type: 'imported', id: `area-${district.communities[pop.community[index]!]!.code}`, name: '境外输入病例及其家庭' },
    d0 - 2,
  );
  const cases = new Map<number, Case>();
  const c0 = ctx.addCase(o, cases, index, d0 - 2, d0, -1, 'import')!;
  const gh = ctx.facility('general-hospital');
  const cdc = ctx.facility('cdc');
  const contacts = ctx.household(index);
  const secondary: Case[] = [];
  for (const q of contacts) {
    const u = r.float();
    if (u < 0.1) {
      const c = ctx.addCase(o, cases, q, d0, d0 + 1 + r.int(2), index, 'household');
      if (c) secondary.push(c);
    } else if (u < 0.35) {
      const c = ctx.addCase(o, cases, q, d0, null, index, 'household');
      if (c) secondary.push(c);
    }
  }
  const visitCase = (c: Case, day: number): void => {
    ctx.at(day, () => {
      const v = ctx.rec.visit({
        person: c.person,
        facility: gh,
        dept: ctx.dept(gh, 'emergency'),
        cls: 'EMER',
        visitType: 'emergency',
        day,
        complaint: `腹泻${day - c.onset! + 1}天，为米泔水样便，每日十余次，伴呕吐，无腹痛${c === c0 ? '，发病前一周自东南亚某国旅行返回' : ''}`,
        temperature: ctx.acute.temperature(false),
        dx: [{ ...ICD.cholera, provisional: true }],
        onsetDay: c.onset!,
      });
      const lab = ctx.rec.lab(v, 'stoolCulture', new Set(['VCHO']));
      const cdcLab = ctx.rec.lab(v, 'stoolCulture', new Set(['VCHO']), cdc);
      const cards = ctx.rec.reportCard(v, 'cholera', ICD.cholera.icd, '疑似病例', {
        correctTo: '确诊病例',
        correctDay: day + 2,
        diagnosisMin: v.startMin + 40,
      });
      // Admitted to the infectious-disease ward.
      const ward = ctx.rec.visit({
        person: c.person,
        facility: gh,
        dept: ctx.dept(gh, 'ward-infectious'),
        cls: 'IMP',
        visitType: 'inpatient',
        day,
        startMin: Math.min(1400, v.startMin + 120),
        losDays: 5 + r.int(5),
        complaint: '霍乱疑似病例，收入感染科隔离病区',
        temperature: null,
        dx: [ICD.cholera],
        onsetDay: c.onset!,
      });
      ctx.track(c, v, [lab, cdcLab], cards);
      ctx.track(c, ward);
    });
  };
  visitCase(c0, d0);
  for (const c of secondary) if (c.onset !== null) visitCase(c, c.onset);
  // Household contacts are sampled by the CDC; carriers are reported as 病原携带者.
  const carriers = secondary.filter((c) => c.onset === null);
  const day = d0 + 1;
  ctx.at(day, () => {
    const lab = ctx.dept(cdc, 'cdc-laboratory');
    for (const q of contacts) {
      const c = cases.get(q);
      const v = ctx.rec.visit({
        person: q,
        facility: cdc,
        dept: lab,
        cls: 'FLD',
        visitType: 'investigation',
        day,
        startMin: 600 + r.int(240),
        durationMin: 15,
        complaint: '霍乱病例密切接触者，采集粪便标本',
        temperature: null,
        dx: [],
        onsetDay: day,
      });
      const isCarrier = !!c && carriers.includes(c);
      const labId = ctx.rec.lab(v, 'stoolCulture', new Set(c ? ['VCHO'] : []), cdc);
      if (c) {
        const cards = isCarrier
          ? ctx.rec.reportCard(v, 'cholera', 'A00.1', '病原携带者', { diagnosisDay: day + 1, diagnosisMin: 600 })
          : [];
        ctx.track(c, v, [labId], cards);
      }
    }
  });
}
