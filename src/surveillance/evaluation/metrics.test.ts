import { describe, expect, it } from 'vitest';
import { addCounts, averageSummaries, countDetections, median, outbreaksFromTruth, summarize } from './metrics.js';

// Weeks 1 … 12 evaluated; two outbreaks: weeks 3–4 and weeks 8–10.
const truth = [0, 0, 5, 2, 0, 0, 0, 1, 4, 3, 0, 0];
const range = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const T = true;
const F = false;

describe('outbreaksFromTruth', () => {
  it('reads maximal runs of weeks with outbreak cases (1-based)', () => {
    expect(outbreaksFromTruth(truth)).toEqual([{ weeks: [3, 4] }, { weeks: [8, 9, 10] }]);
    expect(outbreaksFromTruth([1, 0, null, 2])).toEqual([{ weeks: [1] }, { weeks: [4] }]);
    expect(outbreaksFromTruth([])).toEqual([]);
  });
});

describe('countDetections', () => {
  it('scores detection, first-week detection, delay and false alarms', () => {
    //           1  2  3  4  5  6  7  8  9  10 11 12
    const alarm = [F, T, F, T, F, F, F, T, F, F, F, T];
    const c = countDetections(alarm, truth, range);
    expect(c.outbreaks).toBe(2);
    expect(c.detected).toBe(2);
    expect(c.detectedFirstWeek).toBe(1); // week 8
    expect(c.delays).toEqual([1, 0]); // week 4 − week 3; week 8 − week 8
    expect(c.quietWeeks).toBe(7); // weeks 1, 2, 5, 6, 7, 11, 12
    expect(c.falseAlarms).toBe(2); // weeks 2 and 12
    expect(c.alarms).toBe(4);
    const s = summarize(c);
    expect(s.pod).toBe(1);
    expect(s.podFirstWeek).toBe(0.5);
    expect(s.fpr).toBeCloseTo(2 / 7, 15);
    expect(s.medianDelay).toBe(0.5);
  });

  it('an alarm just after an outbreak (in a week without its cases) does not detect it', () => {
    const alarm = [F, F, F, F, T, F, F, F, F, F, F, F];
    const s = summarize(countDetections(alarm, truth, range));
    expect(s.pod).toBe(0);
    expect(s.fpr).toBeCloseTo(1 / 7, 15);
    expect(Number.isNaN(s.medianDelay)).toBe(true);
  });

  it('no-verdict weeks neither detect nor count as quiet weeks', () => {
    const alarm = [null, null, null, null, F, F, F, T, null, null, null, null];
    const c = countDetections(alarm, truth, range);
    expect(c.noVerdict).toBe(8);
    expect(c.quietWeeks).toBe(3);
    expect(c.detected).toBe(1);
    expect(c.outbreaks).toBe(2);
  });

  it('only evaluated weeks count; outbreaks that begin before the range are not scored', () => {
    const alarm = [T, T, T, T, F, F, F, F, T, F, F, F];
    const c = countDetections(alarm, truth, [4, 5, 6, 7, 8, 9, 10]);
    expect(c.outbreaks).toBe(1); // weeks 3–4 began before the range
    expect(c.detected).toBe(1);
    expect(c.delays).toEqual([1]);
    expect(c.quietWeeks).toBe(3); // 5, 6, 7
    expect(c.falseAlarms).toBe(0);
    expect(c.alarms).toBe(2); // weeks 4 and 9
  });

  it('uses a given outbreak list instead of runs of truth', () => {
    const t = [0, 3, 0, 2, 0];
    const alarm = [F, F, F, T, F];
    expect(summarize(countDetections(alarm, t, [1, 2, 3, 4, 5])).outbreaks).toBe(2);
    const one = summarize(countDetections(alarm, t, [1, 2, 3, 4, 5], [{ weeks: [2, 4] }]));
    expect(one.outbreaks).toBe(1);
    expect(one.pod).toBe(1);
    expect(one.medianDelay).toBe(2);
  });
});

describe('pooling and averaging', () => {
  it('adds counts and averages rates over summaries', () => {
    const a = countDetections([F, F, T, F], [0, 0, 1, 0], [1, 2, 3, 4]);
    const b = countDetections([T, F, F, F], [0, 0, 1, 0], [1, 2, 3, 4]);
    const pooled = summarize(addCounts(a, b));
    expect(pooled.pod).toBe(0.5);
    expect(pooled.fpr).toBeCloseTo(1 / 6, 15);
    const avg = averageSummaries([summarize(a), summarize(b)]);
    expect(avg.pod).toBe(0.5);
    expect(avg.fpr).toBeCloseTo((0 + 1 / 3) / 2, 15);
    expect(avg.outbreaks).toBe(2);
  });

  it('median of odd and even lists; NaN when empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
  });
});
