/**
 * A FHIR Bundle of Organization and Location resources as registry records (pure), so a Bundle
 * goes through the same checks as a CSV or GeoJSON file. Areas are Locations with an area-level
 * type, a 统计用区划代码 identifier or physicalType `jdn`; other Locations are places. References
 * (`partOf`, `managingOrganization`) to resources in the Bundle become their codes; references
 * to stored resources are kept as ids and looked up by the import (a registry id is also found).
 */
import { AREA_CODE_EXTENSION, AREA_CODE_SYSTEM, ORGANIZATION_CODE_SYSTEM } from '../shared/uris.js';
import { registryCodes } from './codes.js';
import { BOUNDARY_EXTENSION, GB2260_SYSTEM, GEOLOCATION_EXTENSION, PLACE_CODE_SYSTEM, SCHOOL_GRADES_EXTENSION } from './uris.js';

type Props = Record<string, unknown>;
interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Ext {
  url?: string;
  valueString?: string;
  valueDecimal?: number;
  valueInteger?: number;
  valueAttachment?: { data?: string };
  extension?: Ext[];
}
interface Res {
  resourceType?: string;
  id?: string;
  identifier?: { system?: string; value?: string }[];
  name?: string;
  type?: { coding?: Coding[] }[];
  physicalType?: { coding?: Coding[] };
  partOf?: { reference?: string };
  managingOrganization?: { reference?: string };
  position?: { longitude?: number; latitude?: number };
  address?: Address | Address[];
  extension?: Ext[];
}
interface Address {
  text?: string;
  extension?: Ext[];
}

export interface BundleEntryRecord {
  kind: 'areas' | 'organizations' | 'places';
  index: number;
  props: Props;
  geometry: unknown;
}

const codings = (r: Res): Coding[] => (r.type ?? []).flatMap((t) => t.coding ?? []);
const refId = (ref: string | undefined, type: string) => (ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined);
const identifier = (r: Res, system: string) => r.identifier?.find((i) => i.system === system)?.value;

function firstAddress(r: Res): Address | undefined {
  return Array.isArray(r.address) ? r.address[0] : r.address;
}

function geolocation(a: Address | undefined): [number, number] | undefined {
  const g = a?.extension?.find((e) => e.url === GEOLOCATION_EXTENSION);
  const lat = g?.extension?.find((e) => e.url === 'latitude')?.valueDecimal;
  const lon = g?.extension?.find((e) => e.url === 'longitude')?.valueDecimal;
  return lat !== undefined && lon !== undefined ? [lon, lat] : undefined;
}

function isArea(r: Res): boolean {
  const levels = registryCodes().url('registry-area-level');
  return (
    codings(r).some((c) => c.system === levels) ||
    !!identifier(r, AREA_CODE_SYSTEM) ||
    !!r.physicalType?.coding?.some((c) => c.code === 'jdn')
  );
}

/** The code of the first coding of a kind: by its system, else any code or display the CodeSystem knows. */
function codeOf(r: Res, system: Parameters<ReturnType<typeof registryCodes>['url']>[0]): string | undefined {
  const codes = registryCodes();
  const url = codes.url(system);
  const all = codings(r);
  const own = all.find((c) => c.system === url)?.code;
  if (own) return own;
  for (const c of all) {
    const hit = (c.code && codes.resolve(system, c.code)) || (c.display && codes.resolve(system, c.display));
    if (hit) return hit;
  }
  return undefined;
}

export function bundleRecords(bundle: { entry?: { resource?: unknown }[] }): {
  records: BundleEntryRecord[];
  skipped: { index: number; reason: string }[];
} {
  const entries = (bundle.entry ?? []).map((e, index) => ({ index, r: (e?.resource ?? {}) as Res }));
  // Codes of the Bundle's own resources by id, so references inside it become codes.
  const codeById = new Map<string, string>();
  const codeOfResource = (r: Res): string | undefined => {
    if (r.resourceType === 'Organization') return identifier(r, ORGANIZATION_CODE_SYSTEM) ?? r.identifier?.[0]?.value;
    if (isArea(r)) return identifier(r, AREA_CODE_SYSTEM) ?? r.identifier?.[0]?.value;
    return identifier(r, PLACE_CODE_SYSTEM) ?? r.identifier?.[0]?.value;
  };
  for (const { r } of entries) {
    const code = codeOfResource(r);
    if (r.id && code) codeById.set(`${r.resourceType}/${r.id}`, code);
  }
  const ref = (reference: string | undefined, type: string) => {
    if (!reference) return undefined;
    const inBundle = codeById.get(reference);
    if (inBundle) return inBundle;
    const id = refId(reference, type);
    // Registry ids are prefix-code; a stored resource is otherwise found by its id.
    return id?.replace(/^(area|org|place)-/, '') ?? undefined;
  };
  const records: BundleEntryRecord[] = [];
  const skipped: { index: number; reason: string }[] = [];
  for (const { index, r } of entries) {
    const code = codeOfResource(r) ?? '';
    const base: Props = { code, name: r.name ?? '', ...(r.id ? { id: r.id } : {}) };
    const addr = firstAddress(r);
    const area = addr?.extension?.find((e) => e.url === AREA_CODE_EXTENSION)?.valueString;
    if (r.resourceType === 'Organization') {
      const pos = geolocation(addr);
      records.push({
        kind: 'organizations',
        index,
        geometry: null,
        props: {
          ...base,
          type: codeOf(r, 'registry-organization-type') ?? codings(r)[0]?.display ?? codings(r)[0]?.code ?? '',
          level: codings(r).find((c) => c.system === registryCodes().url('registry-hospital-level'))?.code,
          area,
          address: addr?.text,
          parent: ref(r.partOf?.reference, 'Organization'),
          ...(pos ? { longitude: pos[0], latitude: pos[1] } : {}),
        },
      });
    } else if (r.resourceType === 'Location' && isArea(r)) {
      const b = r.extension?.find((e) => e.url === BOUNDARY_EXTENSION)?.valueAttachment?.data;
      let geometry: unknown = null;
      if (b) {
        try {
          geometry = JSON.parse(Buffer.from(b, 'base64').toString('utf8'));
        } catch {
          skipped.push({ index, reason: 'the boundary extension is not base64 GeoJSON' });
          continue;
        }
      }
      records.push({
        kind: 'areas',
        index,
        geometry,
        props: {
          ...base,
          level: codeOf(r, 'registry-area-level'),
          gb2260: identifier(r, GB2260_SYSTEM),
          parent: ref(r.partOf?.reference, 'Location'),
          ...(r.position?.longitude !== undefined ? { longitude: r.position.longitude, latitude: r.position.latitude } : {}),
        },
      });
    } else if (r.resourceType === 'Location') {
      const grades = (r.extension ?? []).filter((e) => e.url === SCHOOL_GRADES_EXTENSION);
      const sentinelUrl = registryCodes().url('registry-sentinel-type');
      records.push({
        kind: 'places',
        index,
        geometry: null,
        props: {
          ...base,
          type: codeOf(r, 'registry-place-type') ?? codings(r)[0]?.display ?? '',
          sentinel: codings(r)
            .filter((c) => c.system === sentinelUrl)
            .map((c) => c.code)
            .join(';'),
          area: area ?? ref(r.partOf?.reference, 'Location'),
          organization: ref(r.managingOrganization?.reference, 'Organization'),
          address: addr?.text,
          grades: grades.map((g) => g.extension?.find((e) => e.url === 'grade')?.valueString ?? '').join(';'),
          classes: grades.map((g) => g.extension?.find((e) => e.url === 'classes')?.valueInteger ?? 0).join(';'),
          ...(r.position?.longitude !== undefined ? { longitude: r.position.longitude, latitude: r.position.latitude } : {}),
        },
      });
    } else
      skipped.push({
        index,
        reason: `a ${r.resourceType ?? 'resource without resourceType'} is not registry data (Organization or Location)`,
      });
  }
  return { records, skipped };
}
