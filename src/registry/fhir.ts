/**
 * Registry records as FHIR R4 resources (pure). Areas and places are Locations, organizations
 * Organizations; codes are identifiers, kinds are codings from config/registry/codes.json,
 * hierarchy is `partOf`, a place's area is `partOf` and its organization `managingOrganization`.
 * A boundary travels in the core extension location-boundary-geojson (an Attachment of
 * application/geo+json, base64), a school's grades in an extension of ours.
 */
import type { Location, Organization, Extension, Address } from '@medplum/fhirtypes';
import { AREA_CODE_EXTENSION, AREA_CODE_SYSTEM, ORGANIZATION_CODE_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import { registryCodes } from './codes.js';
import type { AreaRecord, OrganizationRecord, PlaceRecord } from './parse.js';

import { BOUNDARY_EXTENSION, GB2260_SYSTEM, GEOLOCATION_EXTENSION, PLACE_CODE_SYSTEM, SCHOOL_GRADES_EXTENSION } from './uris.js';

export { BOUNDARY_EXTENSION, GB2260_SYSTEM, GEOLOCATION_EXTENSION, PLACE_CODE_SYSTEM, SCHOOL_GRADES_EXTENSION };
/** meta.tag marking resources the registry keeps (so a FHIR search can find them). */
export const REGISTRY_TAG = { system: `${YIFANG_BASE}/CodeSystem/registry`, code: 'master-data' };

const JURISDICTION = { system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'jdn', display: 'Jurisdiction' };
const SITE = { system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'si', display: 'Site' };

function coding(system: Parameters<ReturnType<typeof registryCodes>['url']>[0], code: string) {
  const c = registryCodes();
  return { system: c.url(system), code, display: c.display(system, code) };
}

function address(area: string | null, text: string | null, position: [number, number] | null): Address[] | undefined {
  if (!area && !text && !position) return undefined;
  const extension: Extension[] = [];
  if (area) extension.push({ url: AREA_CODE_EXTENSION, valueString: area });
  if (position)
    extension.push({
      url: GEOLOCATION_EXTENSION,
      extension: [
        { url: 'latitude', valueDecimal: position[1] },
        { url: 'longitude', valueDecimal: position[0] },
      ],
    });
  return [{ ...(extension.length ? { extension } : {}), use: 'work', type: 'physical', ...(text ? { text } : {}), country: 'CN' }];
}

export function areaLocation(a: AreaRecord, id: string, parentId: string | null, boundaryJson: string | null): Location {
  return {
    resourceType: 'Location',
    id,
    meta: { tag: [REGISTRY_TAG] },
    identifier: [
      { system: AREA_CODE_SYSTEM, value: a.code },
      { system: GB2260_SYSTEM, value: a.gb2260 },
    ],
    status: 'active',
    name: a.name,
    mode: 'instance',
    type: [{ coding: [coding('registry-area-level', a.level)] }],
    physicalType: { coding: [JURISDICTION] },
    ...(a.centroid ? { position: { longitude: a.centroid[0], latitude: a.centroid[1] } } : {}),
    ...(parentId ? { partOf: { reference: `Location/${parentId}` } } : {}),
    ...(boundaryJson
      ? {
          extension: [
            {
              url: BOUNDARY_EXTENSION,
              valueAttachment: { contentType: 'application/geo+json', data: Buffer.from(boundaryJson, 'utf8').toString('base64') },
            },
          ],
        }
      : {}),
  };
}

export function organizationResource(o: OrganizationRecord, id: string, parentId: string | null): Organization {
  const type = [{ coding: [coding('registry-organization-type', o.type)] }];
  if (o.hospitalLevel) type.push({ coding: [coding('registry-hospital-level', o.hospitalLevel)] });
  const addr = address(o.area, o.address, o.position);
  return {
    resourceType: 'Organization',
    id,
    meta: { tag: [REGISTRY_TAG] },
    identifier: [{ system: ORGANIZATION_CODE_SYSTEM, value: o.code }],
    active: true,
    type,
    name: o.name,
    ...(addr ? { address: addr } : {}),
    ...(parentId ? { partOf: { reference: `Organization/${parentId}` } } : {}),
  };
}

export function placeLocation(p: PlaceRecord, id: string, areaId: string | null, organizationId: string | null): Location {
  const type = [{ coding: [coding('registry-place-type', p.type)] }];
  for (const s of p.sentinelTypes) type.push({ coding: [coding('registry-sentinel-type', s)] });
  const addr = address(p.area, p.address, null);
  return {
    resourceType: 'Location',
    id,
    meta: { tag: [REGISTRY_TAG] },
    identifier: [{ system: PLACE_CODE_SYSTEM, value: p.code }],
    status: 'active',
    name: p.name,
    mode: 'instance',
    type,
    physicalType: { coding: [SITE] },
    ...(addr ? { address: addr[0] } : {}),
    ...(p.position ? { position: { longitude: p.position[0], latitude: p.position[1] } } : {}),
    ...(organizationId ? { managingOrganization: { reference: `Organization/${organizationId}` } } : {}),
    ...(areaId ? { partOf: { reference: `Location/${areaId}` } } : {}),
    ...(p.grades.length
      ? {
          extension: p.grades.map((g) => ({
            url: SCHOOL_GRADES_EXTENSION,
            extension: [
              { url: 'grade', valueString: g.grade },
              { url: 'classes', valueInteger: g.classes },
            ],
          })),
        }
      : {}),
  };
}

/** The id a new registry resource gets: prefix-code when the code is a valid FHIR id. */
export function defaultId(prefix: 'area' | 'org' | 'place', code: string): string | undefined {
  const id = `${prefix}-${code}`;
  return /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? id : undefined;
}
