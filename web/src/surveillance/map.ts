/** Registers the ECharts parts the district maps need (map, geo, scatter, visual map) once. */
import { MapChart, ScatterChart } from 'echarts/charts';
import { GeoComponent, VisualMapComponent } from 'echarts/components';
import { echarts } from '../charts/echarts.js';
import type { GeoFeatureCollection } from '../../../src/surveillance/schemas.js';

echarts.use([MapChart, ScatterChart, GeoComponent, VisualMapComponent]);

export const DISTRICT_MAP = 'yifang-district-streets';

/** Registers the district's street polygons as an ECharts map (idempotent). */
export function registerDistrictMap(geo: GeoFeatureCollection): void {
  const features = geo.features.map((f) => ({ ...f, properties: { ...f.properties, name: f.properties.code } }));
  echarts.registerMap(DISTRICT_MAP, { type: 'FeatureCollection', features } as never);
}
