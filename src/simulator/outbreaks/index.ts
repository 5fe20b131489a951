/**
 * Injected outbreaks with ground truth. Each outbreak is planned when the run starts: who is
 * infected, by whom, where (household, class, school, ward, care home, community, a shared
 * meal) and when; then its cases turn up day by day as real records (visits, laboratory
 * results, report cards, school absences, pharmacy purchases) through the same recorder as
 * everything else, so an outbreak raises all the signals together.
 *
 * One file per scenario (foodborne, school influenza, care-home norovirus, measles, cholera),
 * each a function of the shared OutbreakContext (context.ts); this file picks how many of each
 * kind and when, and runs the planned actions day by day.
 */
import type { Acute } from '../acute.js';
import { civilFromDay } from '../calendar.js';
import type { Feeds } from '../feeds.js';
import type { Immunizer } from '../immunization.js';
import type { Recorder } from '../records/index.js';
import type { OutbreakKind, Truth } from '../truth.js';
import type { World } from '../types.js';
import { careHomeNorovirus } from './care-home-norovirus.js';
import { cholera } from './cholera.js';
import { OutbreakContext } from './context.js';
import { foodborne } from './foodborne.js';
import { measles } from './measles.js';
import { schoolInfluenza } from './school-influenza.js';

/** Outbreaks per 100,000 person-years (at least one of each kind per run; assumption). */
const RATES: Record<OutbreakKind, number> = {
  'foodborne-point-source': 3,
  'school-influenza': 4,
  'care-home-norovirus': 2,
  'community-measles': 0.4,
  'class-a-cholera': 0.25,
};
const PREFERRED_MONTHS: Record<OutbreakKind, number[]> = {
  'foodborne-point-source': [5, 6, 7, 8, 9],
  'school-influenza': [11, 12, 1, 2, 3, 4],
  'care-home-norovirus': [11, 12, 1, 2, 3],
  'community-measles': [2, 3, 4, 5],
  'class-a-cholera': [6, 7, 8, 9],
};
/** Each kind's scenario: plans one outbreak starting about a day (or nothing, if it finds nobody). */
const SCENARIOS: Record<OutbreakKind, (ctx: OutbreakContext, start: number) => void> = {
  'foodborne-point-source': foodborne,
  'school-influenza': schoolInfluenza,
  'care-home-norovirus': careHomeNorovirus,
  'community-measles': measles,
  'class-a-cholera': cholera,
};

export class Outbreaks {
  private readonly ctx: OutbreakContext;

  constructor(
    private readonly w: World,
    rec: Recorder,
    acute: Acute,
    feeds: Feeds,
    immunizer: Immunizer,
    private readonly truth: Truth,
  ) {
    this.ctx = new OutbreakContext(w, rec, acute, feeds, immunizer, truth);
  }

  /** Runs what the outbreaks planned for a day. */
  day(day: number): void {
    this.ctx.runDay(day);
  }

  /** Plans every outbreak of the run (an outbreak that found nobody is dropped). */
  plan(): void {
    this.planAll();
    for (let i = this.truth.outbreaks.length - 1; i >= 0; i--)
      if (this.truth.outbreaks[i]!.cases.length === 0) this.truth.outbreaks.splice(i, 1);
  }

  private planAll(): void {
    const personYears = (this.w.pop.n * this.w.days) / 365;
    const kinds = Object.keys(RATES) as OutbreakKind[];
    for (const kind of kinds) {
      const count = Math.max(1, Math.round((RATES[kind] * personYears) / 1e5 + (this.ctx.rng.float() - 0.5)));
      for (let k = 0; k < count; k++) {
        const start = this.pickDay(kind);
        if (start === null) continue;
        SCENARIOS[kind](this.ctx, start);
      }
    }
  }

  private pickDay(kind: OutbreakKind): number | null {
    const { startDay, endDay } = this.w;
    const lo = startDay + Math.min(14, Math.floor(this.w.days / 8));
    const hi = endDay - Math.min(28, Math.floor(this.w.days / 4));
    if (hi <= lo) return null;
    const preferred: number[] = [];
    for (let d = lo; d < hi; d++) if (PREFERRED_MONTHS[kind].includes(civilFromDay(d).m)) preferred.push(d);
    if (preferred.length > 0) return preferred[this.ctx.rng.int(preferred.length)]!;
    return lo + this.ctx.rng.int(hi - lo);
  }
}
