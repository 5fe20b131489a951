/**
 * A shared meal (a school or workplace canteen, or a banquet): Salmonella food poisoning with a
 * common source. Cases visit clinics with diarrhoea, some mention the meal; a CDC investigation
 * follows once three are ill.
 */
import type { Dx } from '../types.js';
import { ICD } from '../icd.js';
import { OCC } from '../population.js';
import type { Case, OutbreakContext } from './context.js';

export function foodborne(ctx: OutbreakContext, meal: number): void {
  const r = ctx.rng;
  const { pop, district, schools } = ctx.w;
  const u = r.float();
  let venue: { type: string; name: string; id: string; community: number };
  const exposed: number[] = [];
  if (u < 0.2 && schools.classes.length > 0) {
    // A school canteen: several classes of one school, on a school day.
    let day = meal;
    while (!ctx.w.cal.isSchoolDay(day) && day < ctx.w.endDay - 1) day++;
    meal = day;
    const active = schools.classes.filter((c) => schools.grade(c.index, meal) > 0 && c.stage !== 'kindergarten');
    if (active.length === 0) return foodborne(ctx, meal + 1);
    const school = active[r.int(active.length)]!.school;
    const classes = active.filter((c) => c.school === school);
    r.shuffle(classes);
    for (const c of classes.slice(0, 3 + r.int(6))) for (const p of schools.pupils(c.index)) exposed.push(p);
    const f = district.facilities[school]!;
    venue = { type: 'school-canteen', name: `${f.name}食堂`, id: f.id, community: f.community };
  } else if (u < 0.5) {
    // A workplace canteen.
    const c = district.communities[r.int(district.communities.length)]!;
    venue = { type: 'workplace-canteen', name: `${c.name}某单位职工食堂`, id: `venue-${c.code}-canteen`, community: c.index };
    const want = 60 + r.int(140);
    for (let t = 0; t < want * 20 && exposed.length < want; t++) {
      const p = r.int(pop.n);
      const age = pop.age(p, meal);
      if (
        age >= 20 &&
        age < 60 &&
        (pop.occupation[p] === OCC.worker || pop.occupation[p] === OCC.clerk || pop.occupation[p] === OCC.commerce)
      )
        exposed.push(p);
    }
  } else {
    // A banquet (婚宴/寿宴): households of one street.
    const c = district.communities[r.int(district.communities.length)]!;
    const members = ctx.community(c.index);
    venue = {
      type: 'banquet',
      name: `${c.name}附近某酒店${r.chance(0.5) ? '婚宴' : '寿宴'}`,
      id: `venue-${c.code}-banquet`,
      community: c.index,
    };
    const households = 15 + r.int(30);
    for (let k = 0; k < households && members.length > 0; k++) {
      const p = members[r.int(members.length)]!;
      for (const q of [p, ...ctx.household(p)]) if (r.chance(0.7) && !exposed.includes(q)) exposed.push(q);
    }
  }
  if (exposed.length === 0) return;
  const o = ctx.newOutbreak(
    'foodborne-point-source',
    '其他感染性腹泻病（沙门菌食物中毒）',
    'Salmonella enterica',
    { type: venue.type, id: venue.id, name: venue.name },
    meal,
  );
  o.areaCodes.push(district.communities[venue.community]!.code);
  const cases = new Map<number, Case>();
  const attack = 0.3 + r.float() * 0.3;
  const mealMin = venue.type === 'banquet' ? 1110 : 720;
  for (const p of exposed) {
    if (!r.chance(attack)) continue;
    const hours = Math.min(72, Math.max(6, r.logNormal(20, 1.6)));
    const onsetAbs = mealMin + Math.round(hours * 60);
    const onset = meal + Math.floor(onsetAbs / 1440);
    const c = ctx.addCase(o, cases, p, meal, r.chance(0.95) ? onset : null, -1, 'food');
    if (c) c.onsetMin = onsetAbs % 1440;
  }
  const caseList = [...cases.values()];
  for (const c of caseList) {
    if (c.onset === null) continue;
    const age = pop.age(c.person, c.onset);
    const fever = r.chance(0.6);
    if (r.chance(age < 14 ? 0.65 : 0.55)) {
      const visitDay = c.onset + (c.onsetMin > 1200 || r.chance(0.3) ? 1 : 0);
      const mention = r.chance(0.35);
      ctx.at(visitDay, () => {
        const site = ctx.acute.site(
          c.person,
          age,
          age < 14 ? ['paediatrics', 'general-practice'] : ['enteric-clinic', 'emergency', 'gastroenterology', 'general-practice'],
          0.4,
          fever,
        );
        const dx: Dx = r.chance(0.6) ? ICD.infectiousDiarrhoea : ICD.gastroenteritis;
        const admit = r.chance(0.05) && site.facility.kind.endsWith('hospital');
        const ward = admit ? site.facility.departments.find((x) => x.kind === 'ward') : undefined;
        const v = ctx.rec.visit({
          person: c.person,
          facility: site.facility,
          dept: ward ?? site.dept,
          cls: ward ? 'IMP' : site.dept.kind === 'emergency' ? 'EMER' : 'AMB',
          visitType: ward ? 'inpatient' : site.dept.kind === 'emergency' ? 'emergency' : 'outpatient',
          day: visitDay,
          losDays: 3 + r.int(4),
          complaint: `腹泻${r.range(4, 12)}次，伴腹痛${fever ? '、发热' : ''}${r.chance(0.4) ? '、呕吐' : ''}，${visitDay === c.onset ? '今日' : '昨日'}起病${mention ? `，自述${ctx.w.clock.iso(meal).slice(5).replace('-', '月')}日在外就餐，同餐者多人发病` : ''}`,
          temperature: ctx.acute.temperature(fever, fever),
          dx: [dx],
          onsetDay: c.onset!,
        });
        const labs: (string | null)[] = [];
        if (site.facility.kind.endsWith('hospital') && r.chance(0.4))
          labs.push(ctx.rec.lab(v, 'stoolCulture', new Set(r.chance(0.75) ? ['SALM'] : [])));
        const cards = dx.icd.startsWith('A0') ? ctx.rec.reportCard(v, 'otherDiarrhoea', dx.icd, '临床诊断病例') : [];
        ctx.track(c, v, labs, cards);
      });
    }
    if (r.chance(0.35))
      ctx.purchase(
        c,
        c.onset,
        r.chance(0.4)
          ? [
              ['antidiarrhoeal', 1 + r.int(2)],
              ['ors', 1],
            ]
          : [['antidiarrhoeal', 1 + r.int(2)]],
      );
    if (age >= 3 && age < 18) ctx.absent(c, c.onsetMin > 1200 ? c.onset + 1 : c.onset, 1 + r.int(3), ['腹泻', '呕吐', '腹泻']);
  }
  const symptomatic = caseList.filter((c) => c.onset !== null);
  if (symptomatic.length >= 3) {
    r.shuffle(symptomatic);
    ctx.investigate(
      symptomatic.slice(0, Math.min(10, 4 + r.int(6))),
      meal + 2 + r.int(2),
      'stoolCulture',
      () => new Set(r.chance(0.8) ? ['SALM'] : []),
    );
  }
}
