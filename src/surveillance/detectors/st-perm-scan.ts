/**
 * Prospective space-time permutation scan statistic (Kulldorff M, Heffernan R, Hartman J,
 * Assunção R, Mostashari F. A space-time permutation scan statistic for disease outbreak
 * detection. PLoS Med 2005;2(3):e59), the method of SaTScan's "space-time permutation" model.
 *
 * Only case counts by area and day are needed. With C cases in the study period, C_z of them in
 * area z and C_d on day d, the expected count in area z on day d is μ_zd = C_z·C_d / C.
 * Candidate clusters are cylinders: a circle of areas (a centre area and its nearest
 * neighbours by centroid distance, grown while the circle holds at most `maxSpatialShare` of
 * all cases) times a window of the last 1 … `maxWindowDays` days ending on `endDay` (prospective
 * surveillance: only clusters still going on count). For a cylinder with c observed and μ
 * expected (μ = C_Z·C_D / C summed over its areas and days), the log-likelihood ratio is
 * c·ln(c/μ) + (C − c)·ln((C − c)/(C − μ)) when c > μ, else 0.
 * `maxAreas` caps a circle at that many areas (the centre and its nearest neighbours) as well.
 * Significance by Monte Carlo: the days of the cases are randomly permuted among the cases
 * (keeping every area total and every day total, hence every μ), the maximum LLR is recomputed
 * for each of R replications, and p = (1 + #{replications with max LLR ≥ observed}) / (R + 1).
 * Only the cases that a permutation puts on the last `maxWindowDays` days enter a cylinder, so a
 * replicate draws just those: a uniformly random ordered sample (partial Fisher–Yates) of as many
 * cases as the last days hold, given those days in turn — the same distribution as shuffling
 * every case's day, at a cost proportional to the recent cases instead of all cases.
 * Recurrence interval = 1/p days (daily prospective analysis, as SaTScan reports it).
 * Secondary clusters are reported when they share no area with a more likely one (SaTScan's
 * default "no geographical overlap").
 *
 * The permutation uses a seeded generator (xoshiro128**, Blackman & Vigna 2018, seeded by
 * splitmix32), so a run is reproducible for a given seed.
 */
import { DetectorInputError } from './types.js';

export interface StArea {
  code: string;
  x: number;
  y: number;
}

export interface StPermScanInput {
  areas: StArea[];
  /** One entry per case: its area code and day number (integers, any origin). */
  cases?: { area: string; day: number }[];
  /** Alternatively a count matrix: counts[a][d] cases in areas[a] on day firstDay + d. */
  counts?: number[][];
  /** Day number of counts[·][0] (default 0). */
  firstDay?: number;
  /** The last day of the study period: clusters must end on it. */
  endDay: number;
  /** Length of the study period in days, ending on endDay (default: from the earliest case). */
  studyDays?: number;
  /** Longest temporal window (days), default 7. */
  maxWindowDays?: number;
  /** Largest share of all cases a circle may hold, default 0.5. */
  maxSpatialShare?: number;
  /** Most areas in a circle (the centre and its nearest neighbours), default no limit. */
  maxAreas?: number;
  /** Monte Carlo replications, default 999. */
  replications?: number;
  /** Seed of the permutation generator, default 1. */
  seed?: number;
  /** Most clusters to report, default 10. */
  maxClusters?: number;
}

export interface StCluster {
  /** Area codes in the cluster, nearest to the centre first. */
  areas: string[];
  center: string;
  /** Distance from the centre to the farthest area included. */
  radius: number;
  startDay: number;
  endDay: number;
  observed: number;
  expected: number;
  /** (c/μ) / ((C − c)/(C − μ)). */
  relativeRisk: number;
  llr: number;
  p: number;
  recurrenceIntervalDays: number;
}

export interface StPermScanResult {
  /** Clusters with c > μ, most likely first, no two sharing an area. */
  clusters: StCluster[];
  totalCases: number;
  studyStartDay: number;
  endDay: number;
  replications: number;
  messages: string[];
}

// ---------------------------------------------------------------------------------------------
// Seeded random numbers
// ---------------------------------------------------------------------------------------------

/** A uniform [0, 1) generator: xoshiro128** with its state filled by splitmix32 from the seed. */
export function createRng(seed: number): () => number {
  let sm = seed >>> 0;
  const splitmix = () => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(arr: T[], rng: () => number): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i]!;
    arr[i] = arr[j]!;
    arr[j] = tmp;
  }
  return arr;
}

/**
 * One permutation replicate: the same cases with their days shuffled among them. Area totals
 * and day totals are unchanged (the permutation null hypothesis of Kulldorff et al. 2005).
 */
export function permuteCaseDays<T extends { area: string; day: number }>(
  cases: readonly T[],
  rng: () => number,
): { area: string; day: number }[] {
  const days = shuffleInPlace(
    cases.map((c) => c.day),
    rng,
  );
  return cases.map((c, i) => ({ area: c.area, day: days[i]! }));
}

// ---------------------------------------------------------------------------------------------
// The scan
// ---------------------------------------------------------------------------------------------

function llrOf(c: number, mu: number, C: number): number {
  if (!(c > mu)) return 0;
  const inside = c * Math.log(c / mu);
  const outside = C - c > 0 ? (C - c) * Math.log((C - c) / (C - mu)) : 0;
  return inside + outside;
}

/** The nested circles around one centre: circle k holds members[0 … k]. */
interface Circles {
  center: number;
  /** Area indices by distance from the centre (the centre first). */
  members: number[];
  /** Cases (whole study period) in circle k. */
  casesTotal: number[];
  /** Distance from the centre to members[k]. */
  radius: number[];
}

function readInput(input: StPermScanInput) {
  if (!input || !Array.isArray(input.areas) || input.areas.length === 0) throw new DetectorInputError('areas must be a non-empty array');
  const index = new Map<string, number>();
  input.areas.forEach((a, i) => {
    if (!a || typeof a.code !== 'string') throw new DetectorInputError(`areas[${i}].code must be a string`);
    if (!Number.isFinite(a.x) || !Number.isFinite(a.y)) throw new DetectorInputError(`areas[${i}] (${a.code}) needs finite x and y`);
    if (index.has(a.code)) throw new DetectorInputError(`areas[${i}].code ${a.code} is duplicated`);
    index.set(a.code, i);
  });
  if (!Number.isInteger(input.endDay)) throw new DetectorInputError(`endDay must be an integer day number, got ${String(input.endDay)}`);
  const maxWindowDays = input.maxWindowDays ?? 7;
  if (!Number.isInteger(maxWindowDays) || maxWindowDays < 1)
    throw new DetectorInputError(`maxWindowDays must be a positive integer, got ${String(maxWindowDays)}`);
  const share = input.maxSpatialShare ?? 0.5;
  if (!(share > 0 && share <= 1)) throw new DetectorInputError(`maxSpatialShare must be in (0, 1], got ${String(share)}`);
  const maxAreas = input.maxAreas ?? Number.POSITIVE_INFINITY;
  if (input.maxAreas !== undefined && !(Number.isInteger(maxAreas) && maxAreas >= 1))
    throw new DetectorInputError(`maxAreas must be a positive integer, got ${String(input.maxAreas)}`);
  const replications = input.replications ?? 999;
  if (!Number.isInteger(replications) || replications < 0)
    throw new DetectorInputError(`replications must be a non-negative integer, got ${String(replications)}`);
  const seed = input.seed ?? 1;
  if (!Number.isFinite(seed)) throw new DetectorInputError(`seed must be a number, got ${String(seed)}`);
  const maxClusters = input.maxClusters ?? 10;
  if (!Number.isInteger(maxClusters) || maxClusters < 1)
    throw new DetectorInputError(`maxClusters must be a positive integer, got ${String(maxClusters)}`);
  if (input.studyDays !== undefined && !(Number.isInteger(input.studyDays) && input.studyDays >= 1)) {
    throw new DetectorInputError(`studyDays must be a positive integer, got ${String(input.studyDays)}`);
  }

  // Cases as (area index, day), limited to the study period.
  const caseArea: number[] = [];
  const caseDay: number[] = [];
  const startLimit = input.studyDays !== undefined ? input.endDay - input.studyDays + 1 : -Infinity;
  const push = (a: number, d: number) => {
    if (d > input.endDay || d < startLimit) return;
    caseArea.push(a);
    caseDay.push(d);
  };
  if (input.cases && input.counts) throw new DetectorInputError('give either cases or counts, not both');
  if (input.cases) {
    input.cases.forEach((c, i) => {
      const a = index.get(c?.area);
      if (a === undefined) throw new DetectorInputError(`cases[${i}].area ${JSON.stringify(c?.area)} is not one of the areas`);
      if (!Number.isInteger(c.day)) throw new DetectorInputError(`cases[${i}].day must be an integer day number, got ${String(c.day)}`);
      push(a, c.day);
    });
  } else if (input.counts) {
    if (input.counts.length !== input.areas.length)
      throw new DetectorInputError(`counts has ${input.counts.length} rows for ${input.areas.length} areas`);
    const firstDay = input.firstDay ?? 0;
    if (!Number.isInteger(firstDay)) throw new DetectorInputError(`firstDay must be an integer, got ${String(firstDay)}`);
    input.counts.forEach((row, a) => {
      if (!Array.isArray(row)) throw new DetectorInputError(`counts[${a}] must be an array`);
      row.forEach((v, d) => {
        if (!(Number.isInteger(v) && v >= 0))
          throw new DetectorInputError(`counts[${a}][${d}] must be a non-negative integer, got ${String(v)}`);
        for (let k = 0; k < v; k++) push(a, firstDay + d);
      });
    });
  } else {
    throw new DetectorInputError('cases or counts is required');
  }
  return { index, maxWindowDays, share, maxAreas, replications, seed, maxClusters, caseArea, caseDay };
}

/**
 * Space-time permutation scan. Deterministic for a given seed. Throws DetectorInputError for
 * malformed input; a study period with too few cases gives no clusters and a message.
 */
export function stPermScan(input: StPermScanInput): StPermScanResult {
  const { maxWindowDays: W, share, maxAreas, replications: R, seed, maxClusters, caseArea, caseDay } = readInput(input);
  const areas = input.areas;
  const A = areas.length;
  const endDay = input.endDay;
  const C = caseArea.length;
  let earliest = endDay;
  for (const d of caseDay) if (d < earliest) earliest = d;
  const studyStartDay = input.studyDays !== undefined ? endDay - input.studyDays + 1 : earliest;
  const result: StPermScanResult = { clusters: [], totalCases: C, studyStartDay, endDay, replications: R, messages: [] };
  if (C < 2) {
    result.messages.push(`only ${C} case(s) in the study period: nothing to scan`);
    return result;
  }
  if (endDay - studyStartDay + 1 <= W) {
    result.messages.push(
      `the study period (${endDay - studyStartDay + 1} days) is not longer than the temporal window (${W} days): the permutation model has nothing to compare with`,
    );
  }

  // Marginals (invariant under permutation).
  const areaTotal = new Array<number>(A).fill(0);
  for (const a of caseArea) areaTotal[a]! += 1;
  // Cases on each of the last W days, and cumulative totals C_D for windows of 1 … W days.
  const dayTotalRecent = new Array<number>(W).fill(0);
  for (const d of caseDay) {
    const back = endDay - d;
    if (back < W) dayTotalRecent[back]! += 1;
  }
  const windowTotal = new Array<number>(W).fill(0);
  for (let w = 0; w < W; w++) windowTotal[w] = (w > 0 ? windowTotal[w - 1]! : 0) + dayTotalRecent[w]!;

  // Circles: for each centre, the areas by distance, grown while the circle holds ≤ share·C
  // cases. The circles of one centre are nested, so each is a prefix of its centre's list.
  const limit = share * C;
  const circles: Circles[] = [];
  let zoneCount = 0;
  for (let c = 0; c < A; c++) {
    const dist = (i: number) => Math.hypot(areas[i]!.x - areas[c]!.x, areas[i]!.y - areas[c]!.y);
    const order = [...Array(A).keys()].sort((i, j) => dist(i) - dist(j) || (i === c ? -1 : j === c ? 1 : i - j));
    const members: number[] = [];
    const casesTotal: number[] = [];
    const radius: number[] = [];
    let total = 0;
    for (const i of order) {
      if (members.length >= maxAreas || total + areaTotal[i]! > limit) break;
      total += areaTotal[i]!;
      members.push(i);
      casesTotal.push(total);
      radius.push(dist(i));
    }
    circles.push({ center: c, members, casesTotal, radius });
    zoneCount += members.length;
  }
  if (zoneCount === 0) {
    result.messages.push(`every single area holds more than ${share * 100}% of the cases: no circle qualifies`);
    return result;
  }

  /** recent[a·W + w]: cases of area a within the last w + 1 days. */
  const recentCounts = (days: readonly number[]): Float64Array => {
    const r = new Float64Array(A * W);
    for (let i = 0; i < C; i++) {
      const back = endDay - days[i]!;
      if (back >= 0 && back < W) r[caseArea[i]! * W + back]! += 1;
    }
    for (let a = 0; a < A; a++) for (let w = 1; w < W; w++) r[a * W + w]! += r[a * W + w - 1]!;
    return r;
  };

  /** Visits every cylinder with an excess: (circle, prefix size k, window index w, c, μ, llr). */
  const forEachExcess = (
    recent: Float64Array,
    visit: (circle: Circles, k: number, w: number, c: number, mu: number, llr: number) => void,
  ) => {
    const acc = new Float64Array(W);
    for (const circle of circles) {
      acc.fill(0);
      for (let k = 0; k < circle.members.length; k++) {
        const a = circle.members[k]!;
        const zoneCases = circle.casesTotal[k]!;
        for (let w = 0; w < W; w++) {
          acc[w]! += recent[a * W + w]!;
          const mu = (zoneCases * windowTotal[w]!) / C;
          const obs = acc[w]!;
          if (obs > mu) visit(circle, k, w, obs, mu, llrOf(obs, mu, C));
        }
      }
    }
  };

  // Observed data: every cylinder with an excess, most likely first.
  interface Cand {
    circle: Circles;
    k: number;
    w: number;
    c: number;
    mu: number;
    llr: number;
  }
  const cands: Cand[] = [];
  forEachExcess(recentCounts(caseDay), (circle, k, w, c, mu, llr) => cands.push({ circle, k, w, c, mu, llr }));
  cands.sort((p, q) => q.llr - p.llr || q.c - p.c || p.w - q.w || p.k - q.k || p.circle.center - q.circle.center);

  const chosen: Cand[] = [];
  const used = new Set<number>();
  for (const cand of cands) {
    if (chosen.length >= maxClusters) break;
    const members = cand.circle.members.slice(0, cand.k + 1);
    if (members.some((a) => used.has(a))) continue;
    chosen.push(cand);
    for (const a of members) used.add(a);
  }

  // Monte Carlo: per replicate, the cases a permutation puts on the last W days (see above).
  const rng = createRng(seed);
  const maxima = new Float64Array(R);
  /** slotBack[i]: days back from endDay of the i-th recent day-slot (each recent case's day once). */
  const slotBack: number[] = [];
  for (let w = 0; w < W; w++) for (let k = 0; k < dayTotalRecent[w]!; k++) slotBack.push(w);
  const T = slotBack.length;
  const perm = Int32Array.from(caseArea);
  const recent = new Float64Array(A * W);
  const acc = new Float64Array(W);
  for (let r = 0; r < R; r++) {
    recent.fill(0);
    for (let i = 0; i < T; i++) {
      const j = i + Math.floor(rng() * (C - i));
      const a = perm[j]!;
      perm[j] = perm[i]!;
      perm[i] = a;
      recent[a * W + slotBack[i]!]! += 1;
    }
    for (let a = 0; a < A; a++) for (let w = 1; w < W; w++) recent[a * W + w]! += recent[a * W + w - 1]!;
    let best = 0;
    for (const circle of circles) {
      acc.fill(0);
      const members = circle.members;
      for (let k = 0; k < members.length; k++) {
        const base = members[k]! * W;
        const zoneCases = circle.casesTotal[k]!;
        for (let w = 0; w < W; w++) {
          const obs = (acc[w]! += recent[base + w]!);
          if (obs === 0) continue;
          const mu = (zoneCases * windowTotal[w]!) / C;
          if (obs > mu) {
            const llr = llrOf(obs, mu, C);
            if (llr > best) best = llr;
          }
        }
      }
    }
    maxima[r] = best;
  }

  result.clusters = chosen.map((cand) => {
    let exceed = 0;
    for (let r = 0; r < R; r++) if (maxima[r]! >= cand.llr - 1e-10 * Math.max(1, cand.llr)) exceed++;
    const p = (1 + exceed) / (R + 1);
    const C_out = C - cand.c;
    return {
      areas: cand.circle.members.slice(0, cand.k + 1).map((a) => areas[a]!.code),
      center: areas[cand.circle.center]!.code,
      radius: cand.circle.radius[cand.k]!,
      startDay: endDay - cand.w,
      endDay,
      observed: cand.c,
      expected: cand.mu,
      relativeRisk: C_out > 0 ? cand.c / cand.mu / (C_out / (C - cand.mu)) : Infinity,
      llr: cand.llr,
      p,
      recurrenceIntervalDays: 1 / p,
    };
  });
  if (R === 0) result.messages.push('replications = 0: p-values are 1 (no Monte Carlo)');
  return result;
}
