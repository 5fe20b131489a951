/** Timing of one detector call for the detector benchmarks. */
import type { CountSeries, Detector, DetectorControl } from '../src/surveillance/detectors/types.js';

/**
 * Time per call as the minimum over several runs after a warm-up (wall clock), with the CPU time
 * of that fastest run. With `batch`, the range is timed in slices of that many points (summed),
 * which suits detectors whose points are independent (the Farrington family): short slices are
 * less likely than one long run to be interrupted by other processes on a loaded machine.
 */
export function timeDetector(
  detector: Detector,
  series: CountSeries,
  control: DetectorControl,
  batch: number | null,
): { wall: number; cpu: number } {
  const slices: number[][] = [];
  if (batch === null) slices.push(series.range);
  else for (let i = 0; i < series.range.length; i += batch) slices.push(series.range.slice(i, i + batch));
  let wall = 0;
  let cpu = 0;
  for (const range of slices) {
    const s: CountSeries = { ...series, range };
    detector(s, control); // warm-up
    let best = { wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY };
    const start = performance.now();
    for (let run = 0; run < 15 || (performance.now() - start < 200 && run < 60); run++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      detector(s, control);
      const dt = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (dt < best.wall) best = { wall: dt, cpu: (c.user + c.system) / 1000 };
    }
    wall += best.wall;
    cpu += best.cpu;
  }
  return { wall, cpu };
}
