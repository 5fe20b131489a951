/**
 * A measles chain in a community: an unvaccinated young adult brings it home; it spreads to
 * susceptible household members, neighbours, classmates and children waiting in a paediatric
 * department. Prodrome visits taken for a cold, rash visits with IgM tests and report cards.
 */
import { ICD } from '../icd.js';
import { hashFloat } from '../rng.js';
import type { Case, OutbreakContext, Setting } from './context.js';

/** Whether a person can still catch measles on a day (too young, unvaccinated, or a vaccine failure). */
function measlesSusceptible(ctx: OutbreakContext, q: number, day: number): boolean {
  const age = ctx.w.pop.age(q, day);
  const months = (day - ctx.w.pop.birthDay[q]!) / 30.44;
  if (months < 8) return true;
  if (age < 7) return ctx.immunizer.mmrDoses(q, day) === 0;
  const u = hashFloat(ctx.w.seed, q, 970);
  if (age < 20) return u < 0.02;
  if (age < 45) return u < 0.05;
  return false;
}

export function measles(ctx: OutbreakContext, d0: number): void {
  const r = ctx.rng;
  const { pop, district, schools } = ctx.w;
  const community = r.int(district.communities.length);
  const members = ctx.community(community);
  // The index case: an unvaccinated young adult back from elsewhere, preferably living with a
  // child too young to be vaccinated (as in many Chinese measles clusters).
  let index = -1;
  for (let t = 0; t < 400 && members.length > 0; t++) {
    const p = members[r.int(members.length)]!;
    const age = pop.age(p, d0);
    if (age < 20 || age > 40) continue;
    if (index < 0) index = p;
    if (ctx.household(p).some((q) => measlesSusceptible(ctx, q, d0))) {
      index = p;
      break;
    }
  }
  if (index < 0) return;
  const cArea = district.communities[community]!;
  const o = ctx.newOutbreak(
    'community-measles',
    '麻疹',
    'Measles virus (genotype H1)',
    { type: 'community', id: `area-${cArea.code}`, name: cArea.name },
    d0 - 11,
  );
  const cases = new Map<number, Case>();
  const queue: Case[] = [];
  const rashOf = new Map<number, number>();
  const infect = (q: number, day: number, from: number, setting: Setting): void => {
    if (cases.has(q) || cases.size >= 30) return;
    if (from >= 0 && !measlesSusceptible(ctx, q, day)) return;
    const onset = day + 10 + r.int(3);
    const c = ctx.addCase(o, cases, q, day, onset, from, setting);
    if (c) {
      queue.push(c);
      rashOf.set(q, onset + 3);
    }
  };
  infect(index, d0 - 11, -1, 'import');
  const gh = ctx.facility('general-hospital');
  const mch = ctx.facility('mch-hospital');
  while (queue.length > 0) {
    queue.sort((a, b) => a.infected - b.infected);
    const c = queue.shift()!;
    const rash = rashOf.get(c.person)!;
    const window = [c.onset! - 1, rash + 4];
    for (const q of ctx.household(c.person))
      if (r.chance(0.9)) infect(q, window[0]! + r.int(window[1]! - window[0]! + 1), c.person, 'household');
    // Neighbours met in shops, lifts and the community clinic while infectious.
    const neighbours = ctx.community(pop.community[c.person]!);
    const k = r.poisson(25);
    for (let j = 0; j < k && neighbours.length > 0; j++)
      if (r.chance(0.6)) infect(neighbours[r.int(neighbours.length)]!, window[0]! + r.int(5), c.person, 'community');
    const klass = schools.classOf(pop, c.person, c.onset!);
    if (klass >= 0)
      for (const q of schools.pupils(klass)) if (q !== c.person && r.chance(0.3)) infect(q, c.onset! + r.int(2), c.person, 'class');
    // Ward contact: the rash visit infects susceptible children waiting in the same department.
    if (r.chance(0.6)) {
      const wanted = 1 + r.int(2);
      for (let t = 0, got = 0; t < 3000 && got < wanted; t++) {
        const q = r.int(pop.n);
        if (pop.age(q, rash) >= 6 || cases.has(q) || !measlesSusceptible(ctx, q, rash)) continue;
        got++;
        infect(q, rash, c.person, 'ward');
        const infected = cases.get(q);
        if (infected) {
          // The exposed child's own visit that day (for something else), in the same department.
          const visitor = q;
          ctx.at(rash, () => {
            const v = ctx.rec.visit({
              person: visitor,
              facility: gh,
              dept: ctx.dept(gh, 'paediatrics'),
              cls: 'AMB',
              visitType: 'outpatient',
              day: rash,
              complaint: r.chance(0.5) ? `腹泻${r.range(1, 3)}天` : `咳嗽${r.range(2, 6)}天，无发热`,
              temperature: ctx.acute.temperature(false),
              dx: [r.chance(0.5) ? ICD.gastroenteritis : ICD.urti],
              onsetDay: rash - 2,
            });
            infected.truth.encounterIds.push(v.id);
          });
        }
      }
    }
  }
  const cdc = ctx.facility('cdc');
  for (const c of cases.values()) {
    const age = pop.age(c.person, c.onset!);
    const rash = rashOf.get(c.person)!;
    const child = age < 14;
    if (r.chance(0.45)) {
      // A first visit in the prodrome, taken for a cold.
      const d = c.onset! + 1;
      ctx.at(d, () => {
        const site = ctx.acute.site(
          c.person,
          age,
          child ? ['paediatrics', 'general-practice'] : ['fever-clinic', 'general-practice'],
          0.5,
          true,
        );
        const v = ctx.rec.visit({
          person: c.person,
          facility: site.facility,
          dept: site.dept,
          cls: site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
          visitType: site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
          day: d,
          complaint: `发热${d - c.onset! + 1}天，伴咳嗽、流涕、眼红`,
          temperature: ctx.acute.temperature(true, true),
          dx: [ICD.urti],
          onsetDay: c.onset!,
        });
        ctx.track(c, v);
      });
    }
    if (r.chance(0.95)) {
      const d = rash + (r.chance(0.6) ? 0 : 1);
      ctx.at(d, () => {
        const f = child && r.chance(0.4) ? mch : gh;
        const admit = r.chance(0.25);
        const dept = admit
          ? ctx.dept(f, child ? 'ward-paediatrics' : 'ward-infectious', 'neonatology')
          : ctx.dept(f, child ? 'paediatrics' : 'infectious-disease', 'paediatrics');
        const v = ctx.rec.visit({
          person: c.person,
          facility: f,
          dept,
          cls: admit ? 'IMP' : 'AMB',
          visitType: admit ? 'inpatient' : 'outpatient',
          day: d,
          losDays: 5 + r.int(5),
          complaint: `发热${d - c.onset! + 1}天，咳嗽、流涕、眼结膜充血，${d === rash ? '今日' : '昨日'}起耳后、颜面部出现红色斑丘疹，渐及躯干`,
          temperature: ctx.acute.temperature(true, true),
          dx: [{ ...ICD.measles, provisional: true }],
          onsetDay: c.onset!,
        });
        const labDay = d + 1;
        const labId = ctx.rec.lab(v, 'measlesIgm', new Set(r.chance(0.95) ? ['MEV-IGM'] : []), cdc);
        const cards = ctx.rec.reportCard(v, 'measles', ICD.measles.icd, '疑似病例', { correctTo: '确诊病例', correctDay: labDay + 1 });
        ctx.track(c, v, [labId], cards);
      });
    }
    if (schools.classOf(pop, c.person, rash) >= 0) ctx.absent(c, c.onset! + 1, 8, ['发热', '皮疹', '皮疹']);
    if (r.chance(0.3)) ctx.purchase(c, c.onset!, [['antipyretic', 1]]);
  }
}
