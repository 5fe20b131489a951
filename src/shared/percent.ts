/**
 * A share as a percentage with one decimal (1 of 3 → 33.3), the way every rate in the product is
 * shown: null when there is no denominator (a rate of nothing is not 0 %).
 */
export function percentOf(numerator: number, denominator: number): number | null {
  return denominator > 0 ? Math.round((1000 * numerator) / denominator) / 10 : null;
}
