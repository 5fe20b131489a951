/** district.json: the places and services of the simulated district, for maps and lookups. */
import { FACILITY_KIND_NAMES } from './district.js';
import type { World } from './types.js';

export function districtJson(w: World): Record<string, unknown> {
  const d = w.district;
  const cfg = w.cfg;
  const area = (a: (typeof d.streets)[number]) => ({
    code: a.code,
    name: a.name,
    type: a.type,
    level: a.level,
    ...(a.level === 'community' ? { streetCode: d.streets[a.street]!.code } : {}),
    centroid: a.centroid,
    polygon: { type: 'Polygon', coordinates: [a.polygon] },
  });
  const facility = (i: number) => {
    const f = d.facilities[i]!;
    return {
      id: f.id,
      code: f.code,
      name: f.name,
      kind: f.kind,
      kindName: FACILITY_KIND_NAMES[f.kind],
      feed: f.feed,
      areaCode: d.communities[f.community]!.code,
      streetCode: d.streets[f.street]!.code,
      address: f.address,
      location: f.lonLat,
      ...(f.parent >= 0 ? { parentId: d.facilities[f.parent]!.id } : {}),
      ...(f.departments.length
        ? {
            departments: f.departments.map((x) => ({
              id: x.id,
              code: x.code,
              name: x.name,
              kind: x.kind,
              subjectCode: x.subject,
              practitioners: x.doctors.length + x.nurses.length,
            })),
          }
        : {}),
    };
  };
  const kinds = (...k: string[]) => d.facilities.filter((f) => k.includes(f.kind)).map((f) => facility(f.index));
  return {
    fictional: true,
    note: cfg.note,
    province: cfg.province,
    city: cfg.city,
    district: { ...cfg.district, centre: cfg.centre },
    streets: d.streets.map(area),
    communities: d.communities.map(area),
    healthFacilities: kinds('general-hospital', 'tcm-hospital', 'mch-hospital', 'cdc', 'chc', 'health-station'),
    schools: d.facilities
      .filter((f) => f.kind.endsWith('school') || f.kind === 'kindergarten')
      .map((f) => ({
        ...facility(f.index),
        classes: (w.schools.classesBySchool.get(f.index) ?? []).map((c) => {
          const cl = w.schools.classes[c]!;
          return { code: cl.code, name: cl.name, entryYear: cl.entryYear, enrolled: cl.count, groupId: `class-${cl.code}` };
        }),
      })),
    pharmacies: kinds('pharmacy'),
    careHomes: d.facilities
      .filter((f) => f.kind === 'care-home')
      .map((f, h) => ({ ...facility(f.index), residents: w.care.residents[h]!.length, staff: w.care.staff[h]!.length })),
    familyDoctorTeams: d.teams.map((t) => ({
      id: t.id,
      name: t.name,
      areaCode: d.communities[t.community]!.code,
      facilityId: d.facilities[t.facility]!.id,
      practitionerIds: t.members.map((m) => d.practitioners[m]!.id),
    })),
    practitioners: d.practitioners.length,
  };
}
