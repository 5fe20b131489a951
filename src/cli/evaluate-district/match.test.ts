import { describe, expect, it } from 'vitest';
import { episodeInStreets } from './index.js';

const A = '339902001000';
const B = '339902002000';
const C = '339902003000';

describe('evaluate-district: which alerts count for an outbreak', () => {
  it('a single source episode counts in its own street only', () => {
    expect(episodeInStreets({ area: A }, [A])).toBe(true);
    expect(episodeInStreets({ area: B }, [A])).toBe(false);
  });

  it("a fused alert counts for its own street, or where at least half of its evidence's cases are", () => {
    // Raised in A (the outbreak's street) with most cases elsewhere: still A's alert.
    expect(
      episodeInStreets(
        {
          area: A,
          evidence: new Map([
            [A, 1],
            [B, 9],
          ]),
        },
        [A],
      ),
    ).toBe(true);
    // Raised in B, 6 of 10 cases from A: counts for A's outbreak.
    expect(
      episodeInStreets(
        {
          area: B,
          evidence: new Map([
            [A, 6],
            [B, 4],
          ]),
        },
        [A],
      ),
    ).toBe(true);
    // Raised in B, 2 of 10 cases from A: one neighbour's few cases do not make it A's.
    expect(
      episodeInStreets(
        {
          area: B,
          areas: [B, A, C],
          evidence: new Map([
            [A, 2],
            [B, 5],
            [C, 3],
          ]),
        },
        [A],
      ),
    ).toBe(false);
    // An outbreak over two streets gathers the cases of both.
    expect(
      episodeInStreets(
        {
          area: B,
          evidence: new Map([
            [A, 3],
            [C, 2],
            [B, 5],
          ]),
        },
        [A, C],
      ),
    ).toBe(true);
  });
});
