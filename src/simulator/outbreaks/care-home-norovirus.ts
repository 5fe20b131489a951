/**
 * Norovirus in a care home: residents and staff infect each other (and staff their households);
 * home visits by the community health centre, severe cases to hospital, a CDC investigation.
 */
import { ICD } from '../icd.js';
import type { Dx, Visit } from '../types.js';
import type { Case, OutbreakContext, Setting } from './context.js';

export function careHomeNorovirus(ctx: OutbreakContext, d0: number): void {
  const r = ctx.rng;
  const { pop, district, care } = ctx.w;
  const homes = district.byKind.get('care-home') ?? [];
  const candidates = homes.map((f, h) => [f, h] as const).filter(([, h]) => care.residents[h]!.length >= 10);
  if (candidates.length === 0) return;
  const [fi, h] = candidates[r.int(candidates.length)]!;
  const home = district.facilities[fi]!;
  const residents = care.residents[h]!;
  const staff = care.staff[h]!;
  const o = ctx.newOutbreak(
    'care-home-norovirus',
    '其他感染性腹泻病（诺如病毒感染）',
    'Norovirus GII',
    { type: 'care-home', id: home.id, name: home.name },
    d0,
  );
  o.areaCodes.push(district.communities[home.community]!.code);
  const cases = new Map<number, Case>();
  const pRes = 0.02 + r.float() * 0.025;
  const queue: Case[] = [];
  const infect = (q: number, day: number, from: number, setting: Setting): void => {
    if (cases.has(q)) return;
    const onset = day + (r.chance(0.7) ? 1 : 2);
    const c = ctx.addCase(o, cases, q, day, r.chance(0.85) ? onset : null, from, setting);
    if (c) queue.push(c);
  };
  infect(residents[r.int(residents.length)]!, d0 - 1, -1, 'import');
  let onsets = 0;
  while (queue.length > 0) {
    queue.sort((a, b) => a.infected - b.infected);
    const c = queue.shift()!;
    if (c.onset !== null) onsets++;
    const control = onsets >= 5 ? 0.35 : 1;
    const inHome = pop.careHome[c.person]! >= 0 || staff.includes(c.person);
    const from = c.onset ?? c.infected + 1;
    for (let e = from; e < from + 3; e++) {
      const scale = (c.onset === null ? 0.4 : 1) * control;
      if (inHome) {
        for (const q of residents) if (q !== c.person && r.chance(pRes * scale)) infect(q, e, c.person, 'care-home');
        for (const q of staff) if (q !== c.person && r.chance(0.04 * scale)) infect(q, e, c.person, 'care-home');
      }
    }
    if (pop.careHome[c.person]! < 0)
      for (const q of ctx.household(c.person)) if (r.chance(0.2)) infect(q, from + r.int(2), c.person, 'household');
  }
  const chc = ctx.rec.identity.homeChc(residents[0]!);
  const gp = ctx.dept(chc, 'general-practice');
  const gh = ctx.facility('general-hospital');
  const list = [...cases.values()];
  for (const c of list) {
    if (c.onset === null) continue;
    const resident = pop.careHome[c.person]! >= 0;
    const age = pop.age(c.person, c.onset);
    const severe = resident && r.chance(0.1);
    if (severe || r.chance(resident ? 0.55 : 0.3)) {
      const visitDay = c.onset + (r.chance(0.5) ? 0 : 1);
      ctx.at(visitDay, () => {
        const vomit = r.range(2, 8);
        const complaint = `呕吐${vomit}次，腹泻${r.range(2, 6)}次，${visitDay === c.onset ? '今日' : '昨日'}起病${resident ? '，同院多名老人有类似症状' : ''}`;
        const dx: Dx = r.chance(0.45) ? ICD.infectiousDiarrhoea : ICD.gastroenteritis;
        let v: Visit;
        if (severe) {
          const admit = r.chance(0.5);
          v = ctx.rec.visit({
            person: c.person,
            facility: gh,
            dept: admit ? ctx.dept(gh, 'ward-internal') : ctx.dept(gh, 'emergency'),
            cls: admit ? 'IMP' : 'EMER',
            visitType: admit ? 'inpatient' : 'emergency',
            day: visitDay,
            losDays: 3 + r.int(5),
            complaint: complaint + '，乏力明显，尿少',
            temperature: ctx.acute.temperature(r.chance(0.3)),
            dx: [dx],
            onsetDay: c.onset!,
          });
        } else if (resident) {
          v = ctx.rec.visit({
            person: c.person,
            facility: chc,
            dept: gp,
            cls: 'HH',
            visitType: 'home-visit',
            day: visitDay,
            complaint,
            temperature: ctx.acute.temperature(r.chance(0.25)),
            dx: [dx],
            onsetDay: c.onset!,
          });
        } else {
          const site = ctx.acute.site(c.person, age, ['enteric-clinic', 'gastroenterology', 'general-practice'], 0.3, false);
          v = ctx.rec.visit({
            person: c.person,
            facility: site.facility,
            dept: site.dept,
            cls: site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
            visitType: site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
            day: visitDay,
            complaint,
            temperature: ctx.acute.temperature(r.chance(0.2)),
            dx: [dx],
            onsetDay: c.onset!,
          });
        }
        const cards = dx.icd.startsWith('A0') ? ctx.rec.reportCard(v, 'otherDiarrhoea', dx.icd, '临床诊断病例') : [];
        ctx.track(c, v, [], cards);
      });
    }
    if (!resident && r.chance(0.3))
      ctx.purchase(c, c.onset, [
        ['ors', 1],
        ['antidiarrhoeal', 1],
      ]);
    if (!resident && age >= 3 && age < 18) ctx.absent(c, c.onset, 1 + r.int(2), ['呕吐', '腹泻']);
  }
  const sick = list.filter((c) => c.onset !== null).sort((a, b) => a.onset! - b.onset!);
  if (sick.length >= 5) {
    const notified = sick[4]!.onset! + 1;
    const sample = sick.filter((c) => c.onset! <= notified + 2);
    r.shuffle(sample);
    ctx.investigate(sample.slice(0, 5 + r.int(4)), notified + 1, 'norovirus', () => new Set(r.chance(0.85) ? ['NOV-GII'] : []));
  }
}
