/**
 * The simulated district as master-data registry files, the same files a real district would
 * upload (src/registry): registry/areas.geojson (the district, streets and communities with
 * their boundaries), registry/organizations.csv (hospitals, CDC, MCH, community health centres
 * and stations) and registry/places.csv (schools and kindergartens with their grades and
 * classes, pharmacies, care homes). Facility codes and FHIR ids are those of the simulator's
 * FHIR Organizations, so records naming a facility either way find it.
 */
import type { FacilityKind } from './district.js';
import type { World } from './types.js';

/** Simulator facility kinds → registry organization type and hospital level. */
const ORGANIZATION_TYPE: Partial<Record<FacilityKind, [type: string, level: string]>> = {
  'general-hospital': ['hospital', '2'],
  'tcm-hospital': ['hospital', '2'],
  'mch-hospital': ['mch', ''],
  cdc: ['cdc', ''],
  chc: ['chc', ''],
  'health-station': ['health-station', ''],
};
const PLACE_TYPE: Partial<Record<FacilityKind, string>> = {
  kindergarten: 'kindergarten',
  'primary-school': 'school',
  'junior-school': 'school',
  'senior-school': 'school',
  pharmacy: 'pharmacy',
  'care-home': 'care-home',
};

const field = (v: string | number): string => {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const row = (fields: (string | number)[]) => fields.map(field).join(',') + '\n';

export interface RegistryFile {
  path: string;
  type: string;
  text: string;
  records: number;
}

export function registryFiles(w: World): RegistryFile[] {
  const d = w.district;
  const cfg = w.cfg;
  const districtCode = `${cfg.district.code}000000`;
  const area = (a: (typeof d.streets)[number], parent: string) => ({
    type: 'Feature',
    properties: {
      code: a.code,
      name: a.name,
      level: a.level,
      parent,
      longitude: a.centroid[0],
      latitude: a.centroid[1],
    },
    geometry: { type: 'Polygon', coordinates: [a.polygon] },
  });
  const features = [
    {
      type: 'Feature',
      properties: { code: districtCode, name: cfg.district.name, level: 'district', longitude: cfg.centre[0], latitude: cfg.centre[1] },
      geometry: null,
    },
    ...d.streets.map((s) => area(s, districtCode)),
    ...d.communities.map((c) => area(c, d.streets[c.street]!.code)),
  ];
  const areas = JSON.stringify({ type: 'FeatureCollection', features }) + '\n';

  let orgs = row(['code', 'name', 'type', 'level', 'area', 'parent', 'longitude', 'latitude', 'address', 'id']);
  let nOrgs = 0;
  let places = row(['code', 'name', 'type', 'area', 'longitude', 'latitude', 'address', 'grades', 'classes', 'id']);
  let nPlaces = 0;
  // Parents first: a station names its centre, which must already be in the file or stored.
  const ordered = [...d.facilities].sort((a, b) => (a.parent >= 0 ? 1 : 0) - (b.parent >= 0 ? 1 : 0) || a.index - b.index);
  for (const f of ordered) {
    const community = d.communities[f.community]!.code;
    const org = ORGANIZATION_TYPE[f.kind];
    if (org) {
      const parent = f.parent >= 0 ? d.facilities[f.parent]!.code : '';
      orgs += row([f.code, f.name, org[0], org[1], community, parent, f.lonLat[0], f.lonLat[1], f.address, f.id]);
      nOrgs++;
      continue;
    }
    const type = PLACE_TYPE[f.kind];
    if (!type) continue;
    let grades = '';
    let classes = '';
    if (type === 'school' || type === 'kindergarten') {
      const byYear = new Map<number, number>();
      for (const c of w.schools.classesBySchool.get(f.index) ?? []) {
        const cl = w.schools.classes[c]!;
        byYear.set(cl.entryYear, (byYear.get(cl.entryYear) ?? 0) + 1);
      }
      const years = [...byYear.keys()].sort();
      grades = years.map((y) => `${y}级`).join(';');
      classes = years.map((y) => byYear.get(y)).join(';');
    }
    places += row([f.code, f.name, type, community, f.lonLat[0], f.lonLat[1], f.address, grades, classes, f.id]);
    nPlaces++;
  }
  return [
    { path: 'registry/areas.geojson', type: 'geojson', text: areas, records: features.length },
    { path: 'registry/organizations.csv', type: 'csv', text: orgs, records: nOrgs },
    { path: 'registry/places.csv', type: 'csv', text: places, records: nPlaces },
  ];
}
