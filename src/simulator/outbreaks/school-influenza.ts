/**
 * Influenza in a school: spread within a class, to grade mates and into households, with
 * control measures once ten are ill; ILI visits, absences, pharmacy purchases and a CDC
 * investigation.
 */
import { hashFloat } from '../rng.js';
import type { Case, OutbreakContext, Setting } from './context.js';

export function schoolInfluenza(ctx: OutbreakContext, day0: number): void {
  const r = ctx.rng;
  const { pop, schools, district } = ctx.w;
  let d0 = day0;
  while (!ctx.w.cal.isSchoolDay(d0) && d0 < ctx.w.endDay - 1) d0++;
  const inSchool = schools.classes.filter((c) => schools.grade(c.index, d0) > 0 && c.count >= 15);
  const preferred = inSchool.filter((c) => c.stage === 'primary-school' || c.stage === 'junior-school');
  const active = preferred.length > 0 && r.chance(0.85) ? preferred : inSchool;
  if (active.length === 0) return;
  const c0 = active[r.int(active.length)]!;
  const school = district.facilities[c0.school]!;
  const fluB = r.chance(0.3);
  const o = ctx.newOutbreak(
    'school-influenza',
    '流行性感冒',
    fluB ? 'Influenza B virus' : 'Influenza A virus',
    { type: c0.stage, id: school.id, name: school.name },
    d0 - 2,
  );
  o.areaCodes.push(district.communities[school.community]!.code);
  const cases = new Map<number, Case>();
  const pClass = 0.04 + 0.035 * r.float();
  const pGrade = 0.004;
  const seasonKey = o.id.length + c0.index;
  const susceptible = (q: number): boolean => hashFloat(ctx.w.seed, q, 950, seasonKey) < 0.7;
  const queue: Case[] = [];
  const infect = (q: number, day: number, from: number, setting: Setting): void => {
    if (cases.has(q) || (from >= 0 && !susceptible(q)) || cases.size >= 200) return;
    const onset = day + 1 + r.int(3);
    const c = ctx.addCase(o, cases, q, day, r.chance(0.8) ? onset : null, from, setting);
    if (c) queue.push(c);
  };
  const index = schools.pupils(c0.index)[r.int(c0.count)]!;
  infect(index, d0 - 2, -1, 'import');
  let onsets = 0;
  while (queue.length > 0) {
    queue.sort((a, b) => a.infected - b.infected);
    const c = queue.shift()!;
    if (c.onset !== null) onsets++;
    const control = onsets >= 10 ? 0.4 : 1;
    const k = schools.classOf(pop, c.person, c.infected);
    const expo = c.onset !== null ? [c.onset - 1, c.onset] : [c.infected + 1, c.infected + 2, c.infected + 3];
    if (k >= 0) {
      const cl = schools.classes[k]!;
      const gradeMates = schools.classes.filter((x) => x.school === cl.school && x.entryYear === cl.entryYear && x.index !== k);
      for (const e of expo) {
        if (!ctx.w.cal.isSchoolDay(e) || schools.grade(k, e) === 0) continue;
        const scale = (c.onset === null ? 0.5 : 1) * control;
        for (const q of schools.pupils(k)) if (q !== c.person && r.chance(pClass * scale)) infect(q, e, c.person, 'class');
        for (const g of gradeMates) {
          const hits = r.poisson(g.count * pGrade * scale);
          for (let h = 0; h < hits; h++) infect(schools.pupils(g.index)[r.int(g.count)]!, e, c.person, 'school');
        }
      }
    }
    for (const q of ctx.household(c.person))
      if (r.chance(c.onset === null ? 0.06 : 0.12)) infect(q, (c.onset ?? c.infected + 1) + r.int(2), c.person, 'household');
  }
  const list = [...cases.values()];
  for (const c of list) {
    if (c.onset === null) continue;
    const age = pop.age(c.person, c.onset);
    if (r.chance(age < 18 ? 0.7 : 0.45)) {
      const visitDay = c.onset + (r.chance(0.6) ? 0 : 1);
      ctx.at(visitDay, () => {
        const res = ctx.acute.ili(c.person, age, visitDay, { forceFlu: true, fluB });
        ctx.track(c, res.visit, res.labIds, res.cardIds);
      });
    }
    if (schools.classOf(pop, c.person, c.onset) >= 0) ctx.absent(c, c.onset, 2 + r.int(4), ['发热', '发热', '发热', '咳嗽']);
    if (r.chance(0.4))
      ctx.purchase(c, c.onset, [
        ['antipyretic', 1],
        ['cold', 1 + r.int(2)],
      ]);
    if (r.chance(0.15)) ctx.purchase(c, c.onset + 1, [['cough', 1]]);
  }
  const sick = list.filter((c) => c.onset !== null).sort((a, b) => a.onset! - b.onset!);
  if (sick.length >= 10) {
    const notified = sick[9]!.onset! + 1;
    const sample = sick.filter((c) => c.onset! <= notified);
    r.shuffle(sample);
    ctx.investigate(sample.slice(0, 5 + r.int(4)), notified + 1, 'resp13', () => {
      const s = new Set<string>();
      if (r.chance(0.85)) {
        if (fluB) s.add('FLUB');
        else {
          s.add('FLUA');
          s.add(hashFloat(ctx.w.seed, seasonKey, 960) < 0.5 ? 'H1N1PDM' : 'H3N2');
        }
      }
      return s;
    });
  }
}
