/** Neighbouring areas for fusion's spatial join: touching boundaries, else near centroids; district codes apart. */
import { describe, expect, it } from 'vitest';
import { streetAreas } from '../evaluation/district-sizes.js';
import { areaNeighbours, isDistrictArea, neighbourhood } from './places.js';

const square = (x: number, y: number) => ({
  type: 'Polygon',
  coordinates: [
    [
      [x, y],
      [x + 0.01, y],
      [x + 0.01, y + 0.01],
      [x, y + 0.01],
      [x, y],
    ],
  ],
});

describe('areaNeighbours', () => {
  it('links areas whose boundaries share a vertex, and no others', () => {
    // A row of three squares and one far away: 1–2 and 2–3 touch, 1–3 do not.
    const n = areaNeighbours([
      { code: '339902001000', centroid: [120.005, 30.005], boundary: square(120, 30) },
      { code: '339902002000', centroid: [120.015, 30.005], boundary: square(120.01, 30) },
      { code: '339902003000', centroid: [120.025, 30.005], boundary: square(120.02, 30) },
      { code: '339902004000', centroid: [120.5, 30.5], boundary: square(120.5, 30.5) },
      { code: '339902005000', centroid: [120.515, 30.505], boundary: square(120.51, 30.5) },
    ]);
    expect([...n.get('339902001000')!]).toEqual(['339902002000']);
    expect([...n.get('339902002000')!].sort()).toEqual(['339902001000', '339902003000']);
    expect([...n.get('339902003000')!]).toEqual(['339902002000']);
    expect([...n.get('339902004000')!]).toEqual(['339902005000']);
    expect([...neighbourhood(n, '339902002000')].sort()).toEqual(['339902001000', '339902002000', '339902003000']);
  });

  it('finds exactly the streets next to each other on the simulated ring', () => {
    for (const size of [4, 10, 20]) {
      const areas = streetAreas(size);
      const n = areaNeighbours(areas);
      areas.forEach((a, i) => {
        const expected = [areas[(i + 1) % size]!.code, areas[(i + size - 1) % size]!.code].sort();
        expect([...n.get(a.code)!].sort()).toEqual(expected);
      });
    }
  });

  it('places areas without a boundary by centroid: the nearest, and those within 1.3 × its distance', () => {
    // On a line 1 km apart: each area's nearest are the next ones; the second next (2 km) is not near.
    const line = [0, 1, 2, 3].map((i) => ({ code: `33990200${i + 1}000`, centroid: [120 + i / 96.5, 30] as [number, number] }));
    const n = areaNeighbours(line);
    expect([...n.get('339902001000')!]).toEqual(['339902002000']);
    expect([...n.get('339902002000')!].sort()).toEqual(['339902001000', '339902003000']);
    // An area with no centroid and no boundary has no neighbours (its alarms join nobody's alert).
    expect([...areaNeighbours([...line, { code: '339902009000', centroid: null }]).get('339902009000')!]).toEqual([]);
  });

  it('treats the district itself as no area: district-level evidence has no neighbours', () => {
    expect(isDistrictArea('339902')).toBe(true);
    expect(isDistrictArea('339902000000')).toBe(true);
    expect(isDistrictArea('339902001000')).toBe(false);
    const n = areaNeighbours([
      { code: '339902000000', centroid: [120.01, 30.01], boundary: square(120, 30) },
      { code: '339902001000', centroid: [120.005, 30.005], boundary: square(120, 30) },
    ]);
    expect(n.has('339902000000')).toBe(false);
    expect([...n.get('339902001000')!]).toEqual([]);
  });
});
