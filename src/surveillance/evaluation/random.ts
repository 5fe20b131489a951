/**
 * A small seeded pseudo-random toolkit for the evaluation simulations: deterministic across
 * platforms and Node versions (integer arithmetic with Math.imul, no Math.random).
 *
 * - Uniforms: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number
 *   generators", ACM TOMS 47(4), 2021), seeded through splitmix32-style mixing of the seed.
 * - Normal: Marsaglia's polar method (Marsaglia & Bray 1964).
 * - Gamma: Marsaglia & Tsang (2000), "A simple method for generating gamma variables",
 *   ACM TOMS 26(3):363–372; shape < 1 by the boost x·U^(1/shape).
 * - Poisson: sequential inversion for small means, and for means ≥ 10 the transformed
 *   rejection method PTRS of Hörmann (1993), "The transformed rejection method for generating
 *   Poisson random variables", Insurance: Mathematics and Economics 12:39–45.
 * - Negative binomial with mean μ and variance φ·μ: a gamma–Poisson mixture.
 */

/** A seeded source of uniform numbers in [0, 1). */
export interface Rng {
  /** Uniform in [0, 1) with 32 random bits. */
  next(): number;
}

/** Mixes 32-bit integers into one well-spread 32-bit seed (a splitmix32-style finaliser). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    let x = (Math.floor(part) ^ h) >>> 0;
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
    x = (x ^ (x >>> 16)) >>> 0;
    // Fold in the high bits of large (non-32-bit) parts too.
    const hi = Math.floor(part / 4294967296) >>> 0;
    h = (Math.imul(h ^ x, 0x27d4eb2d) + hi + 0x165667b1) >>> 0;
  }
  return h >>> 0;
}

/** xoshiro128** seeded from one number. */
export function createRng(seed: number): Rng {
  let s = mixSeed(seed, 1);
  const state = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // splitmix32 steps to fill the state (never all zero).
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    state[i] = (z ^ (z >>> 16)) >>> 0;
  }
  if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) state[0] = 1;
  return {
    next(): number {
      const s0 = state[0]!;
      const s1 = state[1]!;
      const s2 = state[2]!;
      const s3 = state[3]!;
      const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      let n2 = (s2 ^ s0) >>> 0;
      let n3 = (s3 ^ s1) >>> 0;
      const n1 = (s1 ^ n2) >>> 0;
      const n0 = (s0 ^ n3) >>> 0;
      n2 = (n2 ^ t) >>> 0;
      n3 = rotl(n3, 11);
      state[0] = n0;
      state[1] = n1;
      state[2] = n2;
      state[3] = n3;
      return r / 4294967296;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniform integer in lo … hi (inclusive). */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** Standard normal by Marsaglia's polar method. */
export function randomNormal(rng: Rng): number {
  for (;;) {
    const u = 2 * rng.next() - 1;
    const v = 2 * rng.next() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
  }
}

/** Gamma(shape, scale 1) by Marsaglia & Tsang (2000). */
export function randomGamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new Error(`gamma shape must be positive, got ${shape}`);
  if (shape < 1) {
    const u = 1 - rng.next(); // (0, 1]
    return randomGamma(rng, shape + 1) * Math.pow(u, 1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = randomNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** log(k!) (exact sums for small k, Stirling's series beyond). */
const LOG_FACTORIAL_SMALL: number[] = (() => {
  const out = [0];
  for (let k = 1; k <= 30; k++) out.push(out[k - 1]! + Math.log(k));
  return out;
})();
export function logFactorial(k: number): number {
  if (k <= 30) return LOG_FACTORIAL_SMALL[k]!;
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x * x) + 1 / (1260 * x ** 5);
}

/** Poisson(mean) variate. */
export function randomPoisson(rng: Rng, mean: number): number {
  if (!(mean >= 0) || !Number.isFinite(mean)) throw new Error(`Poisson mean must be finite and ≥ 0, got ${mean}`);
  if (mean === 0) return 0;
  if (mean < 10) {
    // Sequential inversion.
    let k = 0;
    let p = Math.exp(-mean);
    let cdf = p;
    const u = rng.next();
    while (u > cdf && k < 1000) {
      k++;
      p *= mean / k;
      cdf += p;
    }
    return k;
  }
  // PTRS (Hörmann 1993).
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) return k;
  }
}

/**
 * Negative binomial count with mean μ and variance φ·μ (φ ≥ 1; φ = 1 is Poisson), as the
 * gamma–Poisson mixture λ ~ Gamma(shape μ/(φ − 1), scale φ − 1), Y ~ Poisson(λ).
 */
export function randomNegBin(rng: Rng, mu: number, phi: number): number {
  if (!(phi >= 1)) throw new Error(`dispersion φ must be ≥ 1, got ${phi}`);
  if (mu <= 0) return 0;
  if (phi === 1) return randomPoisson(rng, mu);
  const lambda = randomGamma(rng, mu / (phi - 1)) * (phi - 1);
  return randomPoisson(rng, lambda);
}

/** An index drawn with the given (normalised) probabilities. */
export function randomCategorical(rng: Rng, probs: readonly number[]): number {
  const u = rng.next();
  let c = 0;
  for (let i = 0; i < probs.length; i++) {
    c += probs[i]!;
    if (u < c) return i;
  }
  return probs.length - 1;
}
