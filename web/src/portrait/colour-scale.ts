/**
 * The map's colour scale: ColorBrewer's sequential YlGnBu, 6 classes (Cynthia Brewer,
 * colorbrewer2.org — marked there as colour-blind safe and print friendly), light for low and
 * dark for high, so the order reads without telling hues apart. Suppressed streets are grey and
 * hatched, with no value: they are not the low end of the scale.
 */
export const SEQUENTIAL = ['#ffffcc', '#c7e9b4', '#7fcdbb', '#41b6c4', '#2c7fb8', '#253494'] as const;
export const SUPPRESSED_FILL = '#d9d9d9';
export const NO_DATA_FILL = '#ffffff';

/** Class breaks: equal steps from the lowest to the highest value shown (one class when all are equal). */
export function classBreaks(values: readonly number[], classes = SEQUENTIAL.length): { from: number; to: number; colour: string }[] {
  if (!values.length) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  if (lo === hi) return [{ from: lo, to: hi, colour: SEQUENTIAL[Math.floor(SEQUENTIAL.length / 2)]! }];
  const step = (hi - lo) / classes;
  return Array.from({ length: classes }, (_, i) => ({
    from: lo + i * step,
    to: i === classes - 1 ? hi : lo + (i + 1) * step,
    colour: SEQUENTIAL[i]!,
  }));
}

/** The colour of a value (null: no value). */
export function colourOf(value: number | null, breaks: readonly { from: number; to: number; colour: string }[]): string | null {
  if (value === null || !breaks.length) return null;
  for (const b of breaks) if (value <= b.to) return b.colour;
  return breaks[breaks.length - 1]!.colour;
}
