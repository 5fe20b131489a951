/** Small numeric helpers for evidence strength (pure). */

/** P(X ≥ k) for X ~ Poisson(lambda), computed in log space. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  // 1 − P(X ≤ k − 1); for k far above lambda sum the upper terms directly for precision.
  if (k > lambda) {
    let logTerm = -lambda + k * Math.log(lambda) - logFactorial(k);
    let sum = 0;
    for (let i = k; i < k + 1000; i++) {
      const t = Math.exp(logTerm);
      sum += t;
      if (t < sum * 1e-15) break;
      logTerm += Math.log(lambda) - Math.log(i + 1);
    }
    return Math.min(1, sum);
  }
  let logTerm = -lambda;
  let cdf = 0;
  for (let i = 0; i < k; i++) {
    cdf += Math.exp(logTerm);
    logTerm += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.max(0, 1 - cdf);
}

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** Fisher's method: combined p of independent p-values (chi-square with 2k df, closed form). */
export function fisherCombine(ps: readonly number[]): number {
  if (!ps.length) return 1;
  const x = -2 * ps.reduce((s, p) => s + Math.log(Math.max(p, 1e-300)), 0);
  const half = x / 2;
  let term = 1;
  let sum = 1;
  for (let i = 1; i < ps.length; i++) {
    term *= half / i;
    sum += term;
  }
  return Math.min(1, Math.exp(-half) * sum);
}

/**
 * Truncated product method (Zaykin et al., Genet Epidemiol 2002;22:170–185): combined p of
 * `ps` when, of `tests` independent tests, only the p-values at or below `tau` are kept (the
 * others are unknown but above tau). W = ∏ kept p;
 * P(W ≤ w) = Σ_{k=1..L} C(L,k) (1−τ)^(L−k) · [ w Σ_{s<k} (k ln τ − ln w)^s / s!  if w ≤ τ^k, else τ^k ].
 * Fisher's method on the kept p-values alone would ignore that they were chosen for being small.
 */
export function truncatedProductP(ps: readonly number[], tests: number, tau: number): number {
  const kept = ps.filter((p) => p <= tau);
  if (!kept.length) return 1;
  const L = Math.max(tests, kept.length);
  const lnW = kept.reduce((s, p) => s + Math.log(Math.max(p, 1e-300)), 0);
  const lnTau = Math.log(tau);
  let total = 0;
  let binom = 1; // C(L, k), updated per k
  for (let k = 1; k <= L; k++) {
    binom = (binom * (L - k + 1)) / k;
    const weight = binom * Math.pow(1 - tau, L - k);
    if (lnW <= k * lnTau) {
      const x = k * lnTau - lnW; // ≥ 0
      let term = 1;
      let sum = 1;
      for (let s = 1; s < k; s++) {
        term *= x / s;
        sum += term;
      }
      total += weight * Math.exp(lnW) * sum;
    } else total += weight * Math.pow(tau, k);
  }
  return Math.min(1, Math.max(0, total));
}
