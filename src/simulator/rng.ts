/**
 * Deterministic randomness for the simulator. Never Math.random: every draw comes from a
 * seeded sfc32 stream (Chris Doty-Humphrey's Small Fast Counter, 128-bit state), and values
 * that belong to one entity (a person's phone, a child's timeliness) come from `hash32`, so
 * they do not depend on the order in which the simulation happens to ask for them.
 */

/** murmur3 finaliser: a good 32-bit avalanche. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of a few integers (seed, entity, purpose...) to an unsigned 32-bit integer. */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = mix32((a ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ Math.imul(b | 0, 0x27d4eb2d)) >>> 0);
  h = mix32((h ^ Math.imul(c | 0, 0x165667b1)) >>> 0);
  h = mix32((h ^ Math.imul(d | 0, 0x9e3779b1)) >>> 0);
  return h;
}

/** Uniform [0,1) from a hash of integers. */
export function hashFloat(a: number, b = 0, c = 0, d = 0): number {
  return hash32(a, b, c, d) / 4294967296;
}

/** Stable 32-bit hash of a string (FNV-1a), for naming random streams. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number, stream: string | number = 0) {
    const s = typeof stream === 'string' ? hashString(stream) : stream >>> 0;
    this.a = hash32(seed, s, 1);
    this.b = hash32(seed, s, 2);
    this.c = hash32(seed, s, 3);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform [0,1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Integer in [lo, hi] inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Standard normal (Marsaglia polar method). */
  gauss(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u: number, v: number, s: number;
    do {
      u = this.float() * 2 - 1;
      v = this.float() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * m;
    return u * m;
  }

  normal(mean: number, sd: number): number {
    return mean + sd * this.gauss();
  }

  /** Log-normal with the given median and geometric standard deviation factor. */
  logNormal(median: number, gsd: number): number {
    return median * Math.exp(Math.log(gsd) * this.gauss());
  }

  /** Poisson: inversion for small means, a rounded normal for large ones (adequate here). */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 40) {
      const l = Math.exp(-lambda);
      let k = 0;
      let p = this.float();
      while (p > l) {
        k++;
        p *= this.float();
      }
      return k;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.gauss()));
  }

  /** Binomial: direct for small n, Poisson or normal approximation otherwise. */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (n <= 60) {
      let k = 0;
      for (let i = 0; i < n; i++) if (this.float() < p) k++;
      return k;
    }
    if (n * p < 20) return Math.min(n, this.poisson(n * p));
    const x = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * this.gauss());
    return Math.min(n, Math.max(0, x));
  }

  /** Index drawn from cumulative weights (last element = total). */
  weighted(cumulative: ArrayLike<number>): number {
    const total = cumulative[cumulative.length - 1]!;
    const x = this.float() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i]!;
      items[i] = items[j]!;
      items[j] = t;
    }
    return items;
  }
}

/** Cumulative sums of weights, for Rng.weighted. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) {
    s += weights[i]!;
    out[i] = s;
  }
  return out;
}

/** A weighted table of items, drawn by Rng.weighted. */
export class WeightedTable<T> {
  readonly items: T[];
  readonly cum: Float64Array;
  constructor(entries: readonly (readonly [T, number])[]) {
    this.items = entries.map((e) => e[0]);
    this.cum = cumulative(entries.map((e) => e[1]));
  }
  draw(rng: Rng): T {
    return this.items[rng.weighted(this.cum)]!;
  }
  /** Draw with a given uniform in [0,1) (for hash-based, order-free choices). */
  at(u: number): T {
    const x = u * this.cum[this.cum.length - 1]!;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}
