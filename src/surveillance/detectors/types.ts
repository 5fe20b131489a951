/**
 * Shared shapes for outbreak detectors. A detector is a pure function: no I/O, no clock.
 * The series layout mirrors `../shared/surveillance-refs/` (and R `surveillance`'s sts objects).
 */
export interface CountSeries {
  /** Counts per period, oldest first. May contain null for a missing period (a gap). */
  observed: (number | null)[];
  /** Periods per year: 52 weekly, 365 daily, 12 monthly. */
  freq: number;
  /** [year, period-in-year] of observed[0]. */
  start: [number, number];
  /** 1-based indices into observed that are to be evaluated. */
  range: number[];
  /** Optional ISO dates (YYYY-MM-DD) of each period's first day, for date-aware baselines. */
  dates?: string[];
  /**
   * R `sts` layout (as in ../shared/surveillance-refs/): when epochAsDate is true, `epoch` holds
   * each period's first day as days since 1970-01-01 (R's as.numeric(Date)) and the detectors
   * that use dates read it when `dates` is absent. When epochAsDate is false or absent, epoch is
   * R's plain index 1, 2, … and is not used.
   */
  epochAsDate?: boolean;
  epoch?: number[];
  /** Optional ground truth (outbreak cases per period), used only by evaluation. */
  truth?: number[];
}

export interface DetectorResult {
  /** Full length of observed; null outside range or where the method gives no verdict. */
  alarm: (boolean | null)[];
  /** Full length of observed; null outside range or where the bound is undefined (R's NA). */
  upperbound: (number | null)[];
  /** Per-method extras aligned with range (expected, phi, trend, cusum statistic, ...). */
  extra?: Record<string, (number | null)[]>;
  /** Human-readable notes, e.g. "too little history before week 12: no verdict". */
  messages?: string[];
}

export type DetectorControl = Record<string, unknown>;

export type Detector = (series: CountSeries, control: DetectorControl) => DetectorResult;

/** Thrown for bad control parameters or unusable input; the message names the offending field. */
export class DetectorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorInputError';
  }
}
