/**
 * Registry files into records, each with where it came from (CSV line, GeoJSON/TopoJSON feature
 * index). Pure: bytes in, records and refusals out; checks that need the store (parents, codes
 * already stored) are in import.ts.
 *
 * Formats:
 * - CSV (UTF-8, GB18030/GBK or a named charset; detected by src/feeds' decodeFeed). One kind per
 *   file; headers in English or Chinese (see COLUMN_ALIASES):
 *   areas `code,name,level,parent,gb2260,longitude,latitude`;
 *   organizations `code,name,type,level,area,parent,longitude,latitude,address,id`;
 *   places `code,name,type,sentinel,area,organization,longitude,latitude,address,grades,classes,id`.
 * - GeoJSON FeatureCollection: Polygon/MultiPolygon features are areas (properties as the areas
 *   CSV); with kind organizations or places, Point features are those (properties as their CSV).
 * - TopoJSON Topology: every object's geometries as GeoJSON features (topojson-client).
 *
 * Area codes: 6 digits (a county, GB/T 2260), 9 or 12 digits (统计用区划代码: digits 1–6 the
 * county, 7–9 the township/street, 10–12 the community/village; /work/shared/domain/rules.md §5).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';
import { decodeFeed } from '../shared/encoding.js';
import { registryCodes } from './codes.js';
import { boundaryProblem, type Boundary } from './geometry.js';
import { bundleRecords } from './from-fhir.js';

export type RegistryKind = 'areas' | 'organizations' | 'places';
export const REGISTRY_KINDS: RegistryKind[] = ['areas', 'organizations', 'places'];

export interface AreaRecord {
  code: string;
  name: string;
  level: string;
  /** As given; null = inferred from the code (parentCandidates). */
  parent: string | null;
  gb2260: string;
  centroid: [number, number] | null;
  boundary: Boundary | null;
  id?: string;
}
export interface OrganizationRecord {
  code: string;
  name: string;
  type: string;
  hospitalLevel: string | null;
  area: string | null;
  parent: string | null;
  position: [number, number] | null;
  address: string | null;
  id?: string;
}
export interface SchoolGrade {
  grade: string;
  classes: number;
}
export interface PlaceRecord {
  code: string;
  name: string;
  type: string;
  sentinelTypes: string[];
  area: string | null;
  organization: string | null;
  position: [number, number] | null;
  address: string | null;
  grades: SchoolGrade[];
  id?: string;
}

export interface Refusal {
  /** "line 7", "feature 3": where in the file. */
  where: string;
  line?: number;
  feature?: number;
  code?: string;
  reason: string;
}
export interface Located<T> {
  where: string;
  line?: number;
  feature?: number;
  record: T;
}
export interface ParsedFile {
  /** 'bundle': a FHIR Bundle, which may hold areas, organizations and places together. */
  kind: RegistryKind | 'bundle';
  format: 'csv' | 'geojson' | 'topojson' | 'fhir';
  encoding: string;
  areas: Located<AreaRecord>[];
  organizations: Located<OrganizationRecord>[];
  places: Located<PlaceRecord>[];
  refused: Refusal[];
  /** The whole file refused (unreadable, wrong header, unknown encoding): nothing else applies. */
  fatal?: { status: 400 | 413 | 415 | 422; message: string; line?: number };
}

export const MAX_REGISTRY_BYTES = 64 * 1024 * 1024;
export const MAX_REGISTRY_RECORDS = 50_000;
const MAX_TEXT = 200;
const CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
export const AREA_CODE = /^\d{6}(\d{3}(\d{3})?)?$/;

/** Header words accepted for each field (lower case). */
export const COLUMN_ALIASES: Record<string, string[]> = {
  code: ['code', '代码', '编码', '机构代码', '区划代码', '统计用区划代码', '场所代码'],
  name: ['name', '名称', '机构名称', '场所名称', '区划名称'],
  level: ['level', '级别', '等级', '层级', '医院等级'],
  parent: ['parent', '上级', '上级代码', '上级区划', '上级机构'],
  gb2260: ['gb2260', 'gb/t 2260', '行政区划代码'],
  longitude: ['longitude', 'lon', 'lng', '经度'],
  latitude: ['latitude', 'lat', '纬度'],
  type: ['type', 'kind', '类别', '类型', '机构类别', '场所类别'],
  area: ['area', 'area_code', 'areacode', '所属区划', '所在社区', '所在区划'],
  organization: ['organization', '所属机构', '主管机构'],
  address: ['address', '地址'],
  sentinel: ['sentinel', 'sentinel_type', '哨点类型', '哨点场所类型'],
  grades: ['grades', '年级'],
  classes: ['classes', '班级数', '班级'],
  id: ['id', 'fhir_id'],
};
const ALIAS = new Map<string, string>(Object.entries(COLUMN_ALIASES).flatMap(([k, words]) => words.map((w) => [w, k] as [string, string])));

const REQUIRED_COLUMNS: Record<RegistryKind, string[]> = {
  areas: ['code', 'name'],
  organizations: ['code', 'name', 'type'],
  places: ['code', 'name', 'type'],
};

type Props = Record<string, unknown>;
const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v).trim());

/** Level from a code's shape: county codes (6 digits or ending 000000), township (ending 000), else community. */
export function levelFromCode(code: string): 'district' | 'street' | 'community' {
  if (code.length === 6 || code.endsWith('000000')) return 'district';
  if (code.length === 9 || code.endsWith('000')) return 'street';
  return 'community';
}

/** Codes the parent of an area may have when the file does not say (12-, 9- and 6-digit forms). */
export function parentCandidates(code: string, level: string): string[] {
  if (level === 'community') return [`${code.slice(0, 9)}000`, code.slice(0, 9)];
  if (level === 'street') return [`${code.slice(0, 6)}000000`, code.slice(0, 6)];
  return [];
}

function position(p: Props, problems: string[], point?: unknown): [number, number] | null {
  if (point && typeof point === 'object' && (point as { type?: string }).type === 'Point') {
    const c = (point as { coordinates?: unknown }).coordinates;
    if (Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number') return checkLonLat(c[0], c[1], problems);
    problems.push('Point geometry has no [longitude, latitude]');
    return null;
  }
  const lon = text(p['longitude']);
  const lat = text(p['latitude']);
  if (!lon && !lat) return null;
  if (!lon || !lat) {
    problems.push('longitude and latitude go together (one is empty)');
    return null;
  }
  return checkLonLat(Number(lon), Number(lat), problems);
}
function checkLonLat(lon: number, lat: number, problems: string[]): [number, number] | null {
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    problems.push(`position ${lon}, ${lat} is not a longitude (−180…180) and latitude (−90…90)`);
    return null;
  }
  return [lon, lat];
}

function common(p: Props, problems: string[]): { code: string; name: string; id?: string } {
  const code = text(p['code']);
  const name = text(p['name']);
  if (!code) problems.push('code is empty');
  else if (!CODE.test(code)) problems.push(`code '${code.slice(0, 70)}' is not 1–64 letters, digits, '.', '_' or '-'`);
  if (!name) problems.push('name is empty');
  else if (name.length > MAX_TEXT) problems.push(`name is longer than ${MAX_TEXT} characters`);
  const id = text(p['id']);
  if (id && !FHIR_ID.test(id)) problems.push(`id '${id.slice(0, 70)}' is not a FHIR id (1–64 of A–Z a–z 0–9 - .)`);
  return { code, name, ...(id ? { id } : {}) };
}

function optionalArea(v: unknown, field: string, problems: string[]): string | null {
  const s = text(v);
  if (!s) return null;
  if (!AREA_CODE.test(s)) problems.push(`${field} '${s.slice(0, 40)}' is not an area code (6, 9 or 12 digits)`);
  return s;
}

export function areaRecord(p: Props, geometry: unknown, problems: string[]): AreaRecord {
  const { code, name, id } = common(p, problems);
  if (code && !AREA_CODE.test(code)) problems.push(`area code '${code}' is not 6 digits (GB/T 2260) or 9/12 digits (统计用区划代码)`);
  const codes = registryCodes();
  const levelText = text(p['level']);
  let level = levelText ? codes.resolve('registry-area-level', levelText) : AREA_CODE.test(code) ? levelFromCode(code) : 'community';
  if (!level) {
    problems.push(`level '${levelText}' is not one of ${codes.codes('registry-area-level').join(', ')} (or 区/县, 街道/乡镇, 社区/村)`);
    level = 'community';
  }
  const parent = text(p['parent']) || null;
  if (parent && !AREA_CODE.test(parent)) problems.push(`parent '${parent}' is not an area code`);
  if (parent && parent === code) problems.push('an area cannot be its own parent');
  const gb = text(p['gb2260']);
  if (gb && !/^\d{6}$/.test(gb)) problems.push(`gb2260 '${gb}' is not 6 digits`);
  else if (gb && AREA_CODE.test(code) && gb !== code.slice(0, 6))
    problems.push(`gb2260 ${gb} is not the county part of code ${code} (${code.slice(0, 6)})`);
  let boundary: Boundary | null = null;
  if (geometry !== undefined && geometry !== null) {
    const bad = boundaryProblem(geometry);
    if (bad) problems.push(`boundary: ${bad}`);
    else boundary = geometry as Boundary;
  }
  const pos = position(p, problems);
  return { code, name, level, parent, gb2260: gb || code.slice(0, 6), centroid: pos, boundary, ...(id ? { id } : {}) };
}

export function organizationRecord(p: Props, point: unknown, problems: string[]): OrganizationRecord {
  const { code, name, id } = common(p, problems);
  const codes = registryCodes();
  const typeText = text(p['type']);
  let type = codes.resolve('registry-organization-type', typeText);
  let hospitalLevel: string | null = null;
  const levelText = text(p['level']);
  // "三级医院", "二级甲等医院": the level may be written into the type.
  const m = /^([一二三])级.*医院$/.exec(typeText);
  if (!type && m) {
    type = 'hospital';
    hospitalLevel = { 一: '1', 二: '2', 三: '3' }[m[1] as '一' | '二' | '三'];
  }
  if (!type)
    problems.push(
      `type '${typeText}' is not an organization type (${codes.codes('registry-organization-type').join(', ')} or their names)`,
    );
  if (levelText) {
    // 三级, 三级甲等, 3, level 3: the grade (甲乙丙) is not kept.
    const lv =
      codes.resolve('registry-hospital-level', levelText) ??
      { 一: '1', 二: '2', 三: '3', '1': '1', '2': '2', '3': '3' }[/^(?:level\s*)?([一二三123])(级|$)/i.exec(levelText)?.[1] ?? ''];
    if (!lv) problems.push(`level '${levelText}' is not a hospital level (三级, 二级, 一级 or 3, 2, 1)`);
    else if (type && type !== 'hospital')
      problems.push(`level is for hospitals; this is a ${codes.display('registry-organization-type', type)}`);
    else hospitalLevel = lv;
  }
  const parent = text(p['parent']) || null;
  if (parent && !CODE.test(parent)) problems.push(`parent '${parent.slice(0, 70)}' is not an organization code`);
  if (parent && parent === code) problems.push('an organization cannot be its own parent');
  const address = text(p['address']) || null;
  if (address && address.length > MAX_TEXT) problems.push(`address is longer than ${MAX_TEXT} characters`);
  return {
    code,
    name,
    type: type ?? '',
    hospitalLevel,
    area: optionalArea(p['area'], 'area', problems),
    parent,
    position: position(p, problems, point),
    address,
    ...(id ? { id } : {}),
  };
}

function splitList(v: string): string[] {
  return v
    .split(/[;；、|]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function placeRecord(p: Props, point: unknown, problems: string[]): PlaceRecord {
  const { code, name, id } = common(p, problems);
  const codes = registryCodes();
  const typeText = text(p['type']);
  const type = codes.resolve('registry-place-type', typeText);
  if (!type) problems.push(`type '${typeText}' is not a place type (${codes.codes('registry-place-type').join(', ')} or their names)`);
  const sentinelTypes: string[] = [];
  for (const s of splitList(text(p['sentinel']))) {
    const c = codes.resolve('registry-sentinel-type', s);
    if (!c)
      problems.push(
        `sentinel type '${s}' is not one of the nine (交通场站, 学校, 社区, 供水单位, 机关企事业单位, 生活服务类场所, 特殊人群集中场所, 动物养殖屠宰场所, 密闭式娱乐休闲场所)`,
      );
    else if (!sentinelTypes.includes(c)) sentinelTypes.push(c);
  }
  if (type === 'sentinel-site' && !sentinelTypes.length) problems.push('a sentinel site needs its sentinel type (哨点类型)');
  const grades: SchoolGrade[] = [];
  const gradeList = splitList(text(p['grades']));
  const classList = splitList(text(p['classes']));
  if (gradeList.length || classList.length) {
    if (type && type !== 'school' && type !== 'kindergarten') problems.push('grades and classes are for schools and kindergartens');
    const counts = classList.map(Number);
    if (counts.some((n) => !Number.isInteger(n) || n < 0 || n > 100))
      problems.push(`classes '${text(p['classes'])}' are not whole numbers 0–100`);
    else if (counts.length > 1 && counts.length !== gradeList.length)
      problems.push(`${gradeList.length} grades but ${counts.length} class counts; give one count per grade or one for all`);
    else
      for (let i = 0; i < gradeList.length; i++)
        grades.push({ grade: gradeList[i]!.slice(0, 40), classes: counts.length > 1 ? counts[i]! : (counts[0] ?? 0) });
  }
  const address = text(p['address']) || null;
  if (address && address.length > MAX_TEXT) problems.push(`address is longer than ${MAX_TEXT} characters`);
  const organization = text(p['organization']) || null;
  if (organization && !CODE.test(organization)) problems.push(`organization '${organization.slice(0, 70)}' is not an organization code`);
  return {
    code,
    name,
    type: type ?? '',
    sentinelTypes,
    area: optionalArea(p['area'], 'area', problems),
    organization,
    position: position(p, problems, point),
    address,
    grades,
    ...(id ? { id } : {}),
  };
}

/** Columns of a header row (aliases resolved) or the problem with it. */
function headerColumns(header: string[], kind: RegistryKind | undefined): { columns: (string | null)[]; problem?: string } {
  const columns = header.map((h) => ALIAS.get(h.trim().toLowerCase()) ?? null);
  const seen = new Set<string>();
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    if (!c) continue;
    if (seen.has(c)) return { columns, problem: `column '${c}' appears twice (column ${i + 1}, '${header[i]}')` };
    seen.add(c);
  }
  if (kind)
    for (const r of REQUIRED_COLUMNS[kind])
      if (!seen.has(r))
        return { columns, problem: `the header has no '${r}' column (${COLUMN_ALIASES[r]!.join(' / ')}); found ${header.join(',')}` };
  return { columns };
}

/** Which kind a CSV is, from its header and first row's type, when not named. */
function guessCsvKind(columns: (string | null)[], first: Props | undefined): RegistryKind | undefined {
  const has = (c: string) => columns.includes(c);
  if (has('sentinel') || has('grades') || has('classes') || has('organization')) return 'places';
  if (!has('type')) return has('code') && has('name') ? 'areas' : undefined;
  const t = text(first?.['type']);
  const codes = registryCodes();
  if (codes.resolve('registry-organization-type', t) || /级.*医院$/.test(t)) return 'organizations';
  if (codes.resolve('registry-place-type', t)) return 'places';
  return undefined;
}

function empty(kind: RegistryKind | 'bundle', format: ParsedFile['format'], encoding: string): ParsedFile {
  return { kind, format, encoding, areas: [], organizations: [], places: [], refused: [] };
}

function addRecord(
  out: ParsedFile,
  props: Props,
  geometry: unknown,
  at: { where: string; line?: number; feature?: number },
  kind: RegistryKind = out.kind === 'bundle' ? 'places' : out.kind,
): void {
  const problems: string[] = [];
  const code = text(props['code']) || undefined;
  if (kind === 'areas') {
    const record = areaRecord(props, geometry, problems);
    if (!problems.length) out.areas.push({ ...at, record });
  } else if (kind === 'organizations') {
    const record = organizationRecord(props, geometry, problems);
    if (!problems.length) out.organizations.push({ ...at, record });
  } else {
    const record = placeRecord(props, geometry, problems);
    if (!problems.length) out.places.push({ ...at, record });
  }
  for (const reason of problems) out.refused.push({ ...at, ...(code ? { code } : {}), reason });
}

function parseCsvText(textIn: string, kind: RegistryKind | undefined, encoding: string): ParsedFile {
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parseCsv(textIn, { info: true, relax_column_count: true, skip_empty_lines: true, bom: true }) as typeof rows;
  } catch (e) {
    const line = (e as { lines?: number }).lines;
    return {
      ...empty(kind ?? 'places', 'csv', encoding),
      fatal: { status: 400, message: `not readable as CSV: ${(e as Error).message}`, ...(line ? { line } : {}) },
    };
  }
  if (!rows.length) return { ...empty(kind ?? 'places', 'csv', encoding), fatal: { status: 400, message: 'the file is empty' } };
  if (rows.length - 1 > MAX_REGISTRY_RECORDS)
    return {
      ...empty(kind ?? 'places', 'csv', encoding),
      fatal: { status: 413, message: `${rows.length - 1} rows; at most ${MAX_REGISTRY_RECORDS} per file` },
    };
  const header = rows[0]!.record;
  const first = headerColumns(header, undefined);
  const toProps = (fields: string[]): Props => {
    const p: Props = {};
    first.columns.forEach((c, i) => {
      if (c) p[c] = fields[i];
    });
    return p;
  };
  const k = kind ?? guessCsvKind(first.columns, rows[1] ? toProps(rows[1].record) : undefined);
  if (!k)
    return {
      ...empty('places', 'csv', encoding),
      fatal: {
        status: 400,
        line: 1,
        message: `line 1: cannot tell whether this CSV holds areas, organizations or places; name it (--kind / ?kind=)`,
      },
    };
  const checked = headerColumns(header, k);
  const out = empty(k, 'csv', encoding);
  if (checked.problem) return { ...out, fatal: { status: 400, line: 1, message: `line 1: ${checked.problem}` } };
  for (let i = 1; i < rows.length; i++) {
    const { record, info } = rows[i]!;
    const line = info.lines;
    if (record.length > header.length && record.slice(header.length).some((f) => f.trim())) {
      out.refused.push({ where: `line ${line}`, line, reason: `${record.length} fields but the header has ${header.length}` });
      continue;
    }
    addRecord(out, toProps(record), undefined, { where: `line ${line}`, line });
  }
  return out;
}

function parseJsonText(textIn: string, kind: RegistryKind | undefined, encoding: string): ParsedFile {
  let doc: unknown;
  try {
    doc = JSON.parse(textIn);
  } catch (e) {
    return { ...empty(kind ?? 'areas', 'geojson', encoding), fatal: { status: 400, message: `not JSON: ${(e as Error).message}` } };
  }
  return parseJsonValue(doc, kind, encoding);
}

/** A parsed JSON document (GeoJSON FeatureCollection or TopoJSON Topology). */
export function parseJsonValue(doc: unknown, kind: RegistryKind | undefined, encoding = 'utf-8'): ParsedFile {
  const d = doc as { type?: unknown; features?: unknown; objects?: unknown };
  if ((doc as { resourceType?: unknown })?.resourceType === 'Bundle') {
    const { records, skipped } = bundleRecords(doc as { entry?: { resource?: unknown }[] });
    if (records.length + skipped.length > MAX_REGISTRY_RECORDS)
      return {
        ...empty('bundle', 'fhir', encoding),
        fatal: { status: 413, message: `${records.length + skipped.length} entries; at most ${MAX_REGISTRY_RECORDS} per file` },
      };
    const out = empty('bundle', 'fhir', encoding);
    for (const s of skipped) out.refused.push({ where: `entry ${s.index}`, feature: s.index, reason: s.reason });
    for (const r of records) addRecord(out, r.props, r.geometry, { where: `entry ${r.index}`, feature: r.index }, r.kind);
    return out;
  }
  let features: unknown[];
  let format: ParsedFile['format'] = 'geojson';
  if (d?.type === 'Topology' && d.objects && typeof d.objects === 'object') {
    format = 'topojson';
    features = [];
    try {
      for (const name of Object.keys(d.objects as object)) {
        const f = feature(doc as Topology, (doc as Topology).objects[name]!) as unknown as { type: string; features?: unknown[] };
        if (f.type === 'FeatureCollection') features.push(...(f.features ?? []));
        else features.push(f);
      }
    } catch (e) {
      return {
        ...empty(kind ?? 'areas', format, encoding),
        fatal: { status: 400, message: `not a readable TopoJSON topology: ${(e as Error).message}` },
      };
    }
  } else if (d?.type === 'FeatureCollection' && Array.isArray(d.features)) features = d.features;
  else if (d?.type === 'Feature') features = [d];
  else
    return {
      ...empty(kind ?? 'areas', format, encoding),
      fatal: {
        status: 400,
        message: `a JSON registry file is a GeoJSON FeatureCollection or a TopoJSON Topology (got type '${String(d?.type)}')`,
      },
    };
  if (features.length > MAX_REGISTRY_RECORDS)
    return {
      ...empty(kind ?? 'areas', format, encoding),
      fatal: { status: 413, message: `${features.length} features; at most ${MAX_REGISTRY_RECORDS} per file` },
    };
  const out = empty(kind ?? 'areas', format, encoding);
  features.forEach((f, i) => {
    const at = { where: `feature ${i}`, feature: i };
    const ft = f as { type?: unknown; properties?: unknown; geometry?: unknown };
    if (!ft || ft.type !== 'Feature') {
      out.refused.push({ ...at, reason: `is not a GeoJSON Feature (type '${String(ft?.type)}')` });
      return;
    }
    const raw = (ft.properties && typeof ft.properties === 'object' ? ft.properties : {}) as Props;
    const props: Props = {};
    for (const [k, v] of Object.entries(raw)) {
      const c = ALIAS.get(k.trim().toLowerCase());
      if (c) props[c] = v;
    }
    if (out.kind === 'areas' && (ft.geometry === null || ft.geometry === undefined)) {
      addRecord(out, props, null, at);
      return;
    }
    addRecord(out, props, ft.geometry, at);
  });
  return out;
}

/**
 * Parses one registry file. `kind` names what it holds (detected when absent: JSON → areas,
 * CSV → from its header); `encoding` is the charset the sender named (detected when absent).
 */
export function parseRegistryFile(bytes: Buffer, opts: { kind?: RegistryKind; encoding?: string; fileName?: string } = {}): ParsedFile {
  const kind = opts.kind;
  if (bytes.length > MAX_REGISTRY_BYTES)
    return {
      ...empty(kind ?? 'areas', 'csv', ''),
      fatal: { status: 413, message: `the file is ${bytes.length} bytes; at most ${MAX_REGISTRY_BYTES / 1048576} MB` },
    };
  const decoded = decodeFeed(bytes, opts.encoding);
  if (!decoded.ok)
    return {
      ...empty(kind ?? 'areas', 'csv', ''),
      fatal: { status: decoded.status, message: decoded.message, ...(decoded.line ? { line: decoded.line } : {}) },
    };
  const t = decoded.text;
  const name = (opts.fileName ?? '').toLowerCase();
  const looksJson = /\.(geo|topo)?json$/.test(name) || /^\s*[{[]/.test(t.slice(0, 200));
  return looksJson ? parseJsonText(t, kind, decoded.encoding) : parseCsvText(t, kind, decoded.encoding);
}
