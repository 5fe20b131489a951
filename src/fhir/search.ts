/**
 * FHIR search → SQL over the per-type tables. Every user value is a bind parameter; column
 * and table names come only from the R4 definitions, so no input reaches the SQL text.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../platform/errors.js';
import { getTypeDef, type ResourceTypeDef, type SearchParamDef } from './definitions.js';
import type { Queryable } from '../platform/db.js';
import { assertResourceType } from './validate.js';
import { fastExtractSearchValues } from './fast-extract.js';
import { currentContentSql, PREFIX_INDEXED_STRING_PARAMS, PREFIX_KEY_MAX } from './schema.js';
import { assertOrValues, assertSearchBounds, FHIR_LIMITS, tooCostly } from './limits.js';

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = FHIR_LIMITS.searchCount;
/** Totals are exact up to this many matches; beyond it Bundle.total is omitted (counting is a scan). */
const TOTAL_CAP = 10_000;

export interface SearchQuery {
  /** Ordered (name, value) pairs as they arrived in the query string. */
  params: [string, string][];
}

class Sql {
  args: unknown[] = [];
  bind(v: unknown): string {
    this.args.push(v);
    return `$${this.args.length}`;
  }
}

const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
type Prefix = (typeof PREFIXES)[number];

function splitPrefix(value: string): [Prefix, string] {
  const p = value.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && /^[0-9-+.]/.test(value.slice(2))) return [p, value.slice(2)];
  return ['eq', value];
}

/** Splits on unescaped separators and removes FHIR's backslash escapes. */
function splitEscaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** The comma-separated OR values of a parameter, at most FHIR_LIMITS.searchOrValues of them. */
function orValues(name: string, value: string): string[] {
  const values = splitEscaped(value, ',');
  assertOrValues(name, values.length);
  return values;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);

/** Date value → [low, high] ISO instants covering the precision given (2024, 2024-05, ...). */
export function dateRange(value: string, paramName: string): [string, string] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(value);
  if (!m) throw badRequest(`Invalid date '${value}' for search parameter '${paramName}': expected YYYY, YYYY-MM, YYYY-MM-DD or a dateTime`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  if (!mo) return [new Date(Date.UTC(year, 0, 1)).toISOString(), new Date(Date.UTC(year + 1, 0, 1) - 1).toISOString()];
  const month = Number(mo) - 1;
  if (month > 11) throw badRequest(`Invalid month in '${value}' for '${paramName}'`);
  if (!d) return [new Date(Date.UTC(year, month, 1)).toISOString(), new Date(Date.UTC(year, month + 1, 1) - 1).toISOString()];
  const day = Number(d);
  if (day < 1 || day > 31) throw badRequest(`Invalid day in '${value}' for '${paramName}'`);
  if (!h) return [new Date(Date.UTC(year, month, day)).toISOString(), new Date(Date.UTC(year, month, day + 1) - 1).toISOString()];
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${tz ?? 'Z'}`;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw badRequest(`Invalid dateTime '${value}' for '${paramName}'`);
  const width = s ? (frac ? 0 : 999) : 59_999;
  return [new Date(t).toISOString(), new Date(t + width).toISOString()];
}

function dateCondition(sql: Sql, lo: string, hi: string, raw: string, name: string): string {
  const [prefix, v] = splitPrefix(raw);
  const [vlo, vhi] = dateRange(v, name);
  // Bind only the bounds a prefix uses: PostgreSQL rejects parameters that appear nowhere.
  let l: string | undefined;
  let h: string | undefined;
  const bounds = {
    get L() {
      return (l ??= `${sql.bind(vlo)}::timestamptz`);
    },
    get H() {
      return (h ??= `${sql.bind(vhi)}::timestamptz`);
    },
  };
  switch (prefix) {
    case 'eq':
      return `(${lo} >= ${bounds.L} AND ${hi} <= ${bounds.H})`;
    case 'ne':
      return `NOT (${lo} >= ${bounds.L} AND ${hi} <= ${bounds.H})`;
    case 'gt':
      return `(${hi} > ${bounds.H})`;
    case 'lt':
      return `(${lo} < ${bounds.L})`;
    case 'ge':
      return `(${hi} >= ${bounds.L})`;
    case 'le':
      return `(${lo} <= ${bounds.H})`;
    case 'sa':
      return `(${lo} > ${bounds.H})`;
    case 'eb':
      return `(${hi} < ${bounds.L})`;
    case 'ap':
      return `(${lo} <= (${bounds.H} + interval '1 day') AND ${hi} >= (${bounds.L} - interval '1 day'))`;
  }
}

function numberCondition(sql: Sql, column: string, raw: string, name: string): string {
  const [prefix, v] = splitPrefix(raw);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw badRequest(`Invalid number '${raw}' for search parameter '${name}'`);
  const decimals = (v.split('.')[1] ?? '').replace(/e.*$/i, '').length;
  const half = 0.5 * 10 ** -decimals;
  const X = `${sql.bind(n)}::numeric`;
  const ops: Record<Prefix, string> = {
    eq: `x >= ${X} - ${half} AND x < ${X} + ${half}`,
    ne: `NOT (x >= ${X} - ${half} AND x < ${X} + ${half})`,
    gt: `x > ${X}`,
    lt: `x < ${X}`,
    ge: `x >= ${X}`,
    le: `x <= ${X}`,
    sa: `x > ${X}`,
    eb: `x < ${X}`,
    ap: `x >= ${X} * 0.9 AND x <= ${X} * 1.1`,
  };
  return `EXISTS (SELECT 1 FROM unnest(${column}) AS x WHERE ${ops[prefix]})`;
}

function tokenCondition(sql: Sql, column: string, raw: string): string {
  const parts = splitEscaped(raw, '|');
  if (parts.length === 1) return `${column} && ${sql.bind([parts[0]])}::text[]`;
  const [system, code] = [parts[0]!, parts.slice(1).join('|')];
  if (code === '') return `EXISTS (SELECT 1 FROM unnest(${column}) AS v WHERE v LIKE ${sql.bind(escapeLike(system) + '|%')})`;
  return `${column} && ${sql.bind([`${system}|${code}`])}::text[]`;
}

function stringCondition(
  sql: Sql,
  column: string,
  raw: string,
  modifier: string | undefined,
  prefix?: { def: ResourceTypeDef; alias: string; code: string },
): string {
  if (modifier === 'exact') return `${column} && ${sql.bind([raw])}::text[]`;
  const q = escapeLike(raw.toLowerCase());
  if (modifier === 'contains') return `EXISTS (SELECT 1 FROM unnest(${column}) AS v WHERE lower(v) LIKE ${sql.bind('%' + q + '%')})`;
  // Default FHIR string match: starts with, case-insensitive; we also match the start of any word.
  const A = sql.bind(q + '%');
  const B = sql.bind('% ' + q + '%');
  const match = `EXISTS (SELECT 1 FROM unnest(${column}) AS v WHERE lower(v) LIKE ${A} OR lower(v) LIKE ${B})`;
  if (!prefix || !q) return match;
  // Names are in the string_search prefix lookup (lowercased value and every word-suffix):
  // a btree range finds the candidates, the match above rechecks them.
  const key = raw.toLowerCase().slice(0, PREFIX_KEY_MAX);
  const lookup = `SELECT s.id FROM string_search s WHERE s.resource_type = '${prefix.def.type}' AND s.code = '${prefix.code}' AND s.key >= ${sql.bind(key)} AND s.key < ${sql.bind(key + '\u{10FFFF}')}`;
  return `(${prefix.alias}.id IN (${lookup}) AND ${match})`;
}

function referenceValues(p: SearchParamDef, raw: string, modifier: string | undefined): string[] {
  if (raw.includes('/')) {
    const m = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/\d+)?$/.exec(raw);
    return m ? [m[1]!, raw] : [raw];
  }
  if (modifier && /^[A-Z]/.test(modifier)) return [`${modifier}/${raw}`];
  const targets = p.targets.length ? p.targets : ['Patient'];
  return targets.map((t) => `${t}/${raw}`);
}

interface ParsedName {
  code: string;
  modifier?: string;
  chain?: string;
}

function parseName(name: string): ParsedName {
  const dot = name.indexOf('.');
  const head = dot >= 0 ? name.slice(0, dot) : name;
  const chain = dot >= 0 ? name.slice(dot + 1) : undefined;
  const [code, modifier] = head.split(':') as [string, string | undefined];
  return { code, modifier, chain };
}

/** One search parameter (possibly a comma-separated OR list) as an SQL boolean expression. */
function paramCondition(sql: Sql, def: ResourceTypeDef, alias: string, name: string, value: string, depth = 0): string {
  const { code, modifier, chain } = parseName(name);
  if (code === '_id') {
    return `${alias}.id = ANY(${sql.bind(orValues(name, value))}::text[])`;
  }
  if (code === '_lastUpdated') {
    return (
      '(' +
      orValues(name, value)
        .map((v) => dateCondition(sql, `${alias}.last_updated`, `${alias}.last_updated`, v, code))
        .join(' OR ') +
      ')'
    );
  }
  const p = def.params.get(code);
  if (!p) throw badRequest(`Unknown search parameter '${code}' for ${def.type}`);

  if (chain) {
    if (p.kind !== 'reference') throw badRequest(`Chained search needs a reference parameter; '${code}' is ${p.kind}`);
    if (depth >= FHIR_LIMITS.chainDepth)
      throw tooCostly(`Chained parameter '${name}' goes deeper than the limit of ${FHIR_LIMITS.chainDepth} levels`);
    const targetType = modifier ?? (p.targets.length === 1 ? p.targets[0] : p.targets.includes('Patient') ? 'Patient' : undefined);
    if (!targetType) throw badRequest(`Chained parameter '${name}' needs a target type, e.g. ${code}:Patient.${chain}`);
    const target = getTypeDef(targetType);
    if (!target) throw badRequest(`Unknown resource type '${targetType}' in '${name}'`);
    const inner = `c${depth + 1}`;
    const cond = paramCondition(sql, target, inner, chain, value, depth + 1);
    return `${alias}.${p.column} && ARRAY(SELECT '${target.type}/' || ${inner}.id FROM ${target.table} ${inner} WHERE ${cond})`;
  }

  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`':missing' takes true or false, not '${value}'`);
    const col = p.kind === 'date' ? `${alias}.${p.column}_lo` : `${alias}.${p.column}`;
    if (!p.column) throw badRequest(`':missing' is not supported on composite parameter '${code}'`);
    return value === 'true' ? `${col} IS NULL` : `${col} IS NOT NULL`;
  }

  if (p.kind === 'composite') {
    // Each OR-value is "a$b"; it matches when every component matches (components are taken
    // from the same resource, which is exact for single-valued Observation code/value pairs).
    const ors = orValues(name, value).map((v) => {
      const parts = splitEscaped(v, '$');
      if (parts.length !== p.components.length) {
        throw badRequest(`Composite parameter '${code}' needs ${p.components.length} '$'-separated parts`);
      }
      return (
        '(' +
        parts
          .map((part, i) => paramCondition(sql, def, alias, p.components[i]!.code, part.replace(/([,$|\\])/g, '\\$1'), depth))
          .join(' AND ') +
        ')'
      );
    });
    return '(' + ors.join(' OR ') + ')';
  }
  if (p.kind === 'special') throw badRequest(`Search parameter '${code}' (special) is not supported`);
  if (modifier && !['exact', 'contains', 'not', 'missing'].includes(modifier) && !(p.kind === 'reference' && /^[A-Z]/.test(modifier))) {
    throw badRequest(`Modifier ':${modifier}' is not supported on '${code}'`);
  }
  const column = `${alias}.${p.column}`;
  const ors = orValues(name, value).map((v) => {
    switch (p.kind) {
      case 'string':
        return stringCondition(
          sql,
          column,
          v,
          modifier,
          PREFIX_INDEXED_STRING_PARAMS.has(p.code) ? { def, alias, code: p.code } : undefined,
        );
      case 'token':
      case 'uri':
        return tokenCondition(sql, column, p.kind === 'uri' ? v.replace(/\|/g, '\\|') : v);
      case 'reference':
        return `${column} && ${sql.bind(referenceValues(p, v, modifier))}::text[]`;
      case 'date':
        return dateCondition(sql, `${column}_lo`, `${column}_hi`, v, code);
      case 'number':
        return numberCondition(sql, column, v, code);
      case 'quantity': {
        const [num, system, unit] = splitEscaped(v, '|');
        const conds = [numberCondition(sql, column, num ?? '', code)];
        if (unit) conds.push(`${column}_unit && ${sql.bind([system ? `${system}|${unit}` : unit])}::text[]`);
        return '(' + conds.join(' AND ') + ')';
      }
      default:
        throw badRequest(`Search parameter kind '${p.kind}' is not supported`);
    }
  });
  const joined = '(' + ors.join(' OR ') + ')';
  return modifier === 'not' ? `NOT coalesce(${joined}, false)` : joined;
}

function sortExpression(def: ResourceTypeDef, key: string): string {
  const desc = key.startsWith('-');
  const code = desc ? key.slice(1) : key;
  const dir = desc ? 'DESC' : 'ASC';
  if (code === '_id') return `t.id ${dir}`;
  if (code === '_lastUpdated') return `t.last_updated ${dir}`;
  const p = def.params.get(code);
  if (!p || !p.column) throw badRequest(`Cannot sort by '${code}': not a search parameter of ${def.type}`);
  if (p.kind === 'date') return `${desc ? `t.${p.column}_hi` : `t.${p.column}_lo`} ${dir} NULLS LAST`;
  return `(t.${p.column})[1] ${dir} NULLS LAST`;
}

const RESULT_PARAMS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_total',
  '_format',
  '_pretty',
  '_elements',
]);

export interface SearchResult {
  bundle: Bundle;
  /** References to every resource returned (for audit). */
  ids: string[];
}

export async function search(client: Queryable, type: string, query: SearchQuery, baseUrl: string): Promise<SearchResult> {
  assertResourceType(type);
  assertSearchBounds(query.params);
  const def = getTypeDef(type)!;
  const sql = new Sql();
  const where: string[] = [];
  let count = DEFAULT_COUNT;
  let offset = 0;
  let sort: string[] = [];
  let summaryCount = false;
  const includes: string[] = [];
  const revincludes: string[] = [];
  const iterate: { spec: string; rev: boolean }[] = [];

  for (const [name, value] of query.params) {
    switch (name) {
      case '_count': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) throw badRequest(`_count must be a non-negative integer, not '${value}'`);
        if (n > MAX_COUNT) throw tooCostly(`_count=${value} is above the limit of ${MAX_COUNT} per page; page with _offset`);
        count = n;
        continue;
      }
      case '_offset': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) throw badRequest(`_offset must be a non-negative integer, not '${value}'`);
        offset = n;
        continue;
      }
      case '_sort':
        sort = orValues(name, value).filter(Boolean);
        continue;
      case '_summary':
        if (value === 'count') summaryCount = true;
        continue;
      case '_include':
        includes.push(value);
        continue;
      case '_revinclude':
        revincludes.push(value);
        continue;
      case '_include:iterate':
      case '_revinclude:iterate':
        if (!getTypeDef(value.split(':')[0] ?? '')) throw badRequest(`${name} '${value}': unknown resource type '${value.split(':')[0]}'`);
        iterate.push({ spec: value, rev: name.startsWith('_rev') });
        continue;
    }
    if (RESULT_PARAMS.has(name)) continue;
    where.push(paramCondition(sql, def, 't', name, value));
  }

  const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // _summary=count asks for the exact count; a page of results carries it only up to the cap.
  const cap = summaryCount ? '' : `LIMIT ${TOTAL_CAP + 1}`;
  const countResult = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${def.table} t ${whereSql} ${cap}) s`,
    sql.args,
  );
  const matched = countResult.rows[0]!.n;
  const total = summaryCount || matched <= TOTAL_CAP ? matched : undefined;
  const selfUrl = searchUrl(baseUrl, type, query.params);
  if (summaryCount) {
    return { bundle: { resourceType: 'Bundle', type: 'searchset', total, link: [{ relation: 'self', url: selfUrl }] } as Bundle, ids: [] };
  }
  const orderBy = [...sort.map((k) => sortExpression(def, k)), 't.id ASC'].join(', ');
  const rows = await client.query<{ content: Resource }>(
    `SELECT ${currentContentSql('t', def.type)} AS content FROM ${def.table} t ${whereSql} ORDER BY ${orderBy} LIMIT ${count} OFFSET ${offset}`,
    sql.args,
  );
  const matches = rows.rows.map((r) => r.content);
  const entries: BundleEntry[] = matches.map((r) => ({
    fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`,
    resource: r,
    search: { mode: 'match' },
  }));

  const seen = new Set(matches.map((r) => `${r.resourceType}/${r.id}`));
  for (const inc of includes) {
    for (const r of await resolveIncludes(client, def, inc, matches)) {
      const key = `${r.resourceType}/${r.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push({ fullUrl: `${baseUrl}/${key}`, resource: r, search: { mode: 'include' } });
    }
  }
  for (const rev of revincludes) {
    for (const r of await resolveRevIncludes(client, rev, matches)) {
      const key = `${r.resourceType}/${r.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push({ fullUrl: `${baseUrl}/${key}`, resource: r, search: { mode: 'include' } });
    }
  }
  // _include:iterate / _revinclude:iterate follow the resources each round added, for at most
  // FHIR_LIMITS.includeIterations rounds (a loop such as Patient:link:Patient ends there).
  let added = entries.slice(matches.length).map((e) => e.resource!);
  if (iterate.length) added = [...matches, ...added];
  for (let round = 0; iterate.length && added.length && round < FHIR_LIMITS.includeIterations; round++) {
    const next: Resource[] = [];
    for (const { spec, rev } of iterate) {
      const [srcType] = spec.split(':');
      const srcDef = getTypeDef(srcType ?? '');
      if (!srcDef && !rev) throw badRequest(`_include:iterate '${spec}': unknown resource type '${srcType}'`);
      const found = rev
        ? await resolveRevIncludes(client, spec, added)
        : await resolveIncludes(
            client,
            srcDef!,
            spec,
            added.filter((r) => r.resourceType === srcDef!.type),
          );
      for (const r of found) {
        const key = `${r.resourceType}/${r.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        next.push(r);
        entries.push({ fullUrl: `${baseUrl}/${key}`, resource: r, search: { mode: 'include' } });
      }
    }
    added = next;
  }

  const link = [{ relation: 'self', url: selfUrl }];
  const pageParams = query.params.filter(([n]) => n !== '_offset' && n !== '_count');
  if (total === undefined ? matches.length === count : offset + count < total) {
    link.push({
      relation: 'next',
      url: searchUrl(baseUrl, type, [...pageParams, ['_count', String(count)], ['_offset', String(offset + count)]]),
    });
  }
  if (offset > 0) {
    link.push({
      relation: 'previous',
      url: searchUrl(baseUrl, type, [...pageParams, ['_count', String(count)], ['_offset', String(Math.max(0, offset - count))]]),
    });
  }
  return {
    bundle: { resourceType: 'Bundle', type: 'searchset', ...(total !== undefined ? { total } : {}), link, entry: entries } as Bundle,
    ids: [...seen],
  };
}

function searchUrl(baseUrl: string, type: string, params: [string, string][]): string {
  const qs = new URLSearchParams(params).toString();
  return `${baseUrl}/${type}${qs ? '?' + qs : ''}`;
}

/** `_include=Type:param[:Target]`: the resources the matches reference through param. */
async function resolveIncludes(client: Queryable, def: ResourceTypeDef, spec: string, matches: Resource[]): Promise<Resource[]> {
  const [srcType, code, targetType] = spec.split(':');
  if (srcType !== def.type && srcType !== '*') throw badRequest(`_include '${spec}' must start with ${def.type}`);
  const p = def.params.get(code ?? '');
  if (!p || p.kind !== 'reference' || !p.column)
    throw badRequest(`_include '${spec}': '${code}' is not a reference parameter of ${def.type}`);
  const refs = new Set<string>();
  for (const m of matches) {
    const values = fastExtractSearchValues(m)[p.column];
    if (Array.isArray(values)) for (const v of values) if (typeof v === 'string') refs.add(v);
  }
  const byType = new Map<string, string[]>();
  for (const ref of refs) {
    const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref);
    if (!m || (targetType && m[1] !== targetType)) continue;
    const list = byType.get(m[1]!) ?? [];
    list.push(m[2]!);
    byType.set(m[1]!, list);
  }
  const out: Resource[] = [];
  for (const [t, ids] of byType) {
    const td = getTypeDef(t);
    if (!td) continue;
    const r = await client.query<{ content: Resource }>(
      `SELECT ${currentContentSql('t', td.type)} AS content FROM ${td.table} t WHERE t.id = ANY($1::text[])`,
      [ids],
    );
    out.push(...r.rows.map((x) => x.content));
  }
  return out;
}

/** `_revinclude=Type:param`: resources of Type whose param references one of the matches. */
async function resolveRevIncludes(client: Queryable, spec: string, matches: Resource[]): Promise<Resource[]> {
  const [srcType, code] = spec.split(':');
  const td = getTypeDef(srcType ?? '');
  if (!td) throw badRequest(`_revinclude '${spec}': unknown resource type '${srcType}'`);
  const p = td.params.get(code ?? '');
  if (!p || p.kind !== 'reference' || !p.column)
    throw badRequest(`_revinclude '${spec}': '${code}' is not a reference parameter of ${srcType}`);
  if (!matches.length) return [];
  const refs = matches.map((m) => `${m.resourceType}/${m.id}`);
  const r = await client.query<{ content: Resource }>(
    `SELECT ${currentContentSql('t', td.type)} AS content FROM ${td.table} t WHERE t.${p.column} && $1::text[] LIMIT ${MAX_COUNT * 10}`,
    [refs],
  );
  return r.rows.map((x) => x.content);
}

/** Patient/$everything: the patient and every resource in its compartment. */
export async function patientEverything(client: Queryable, patientId: string, limit = 5000): Promise<Resource[]> {
  const { loadDefinitions } = await import('./definitions.js');
  // The access log is not part of the resident's record: AuditEvents are read through /fhir/AuditEvent.
  const defs = [...loadDefinitions().values()].filter(
    (d) => (d.patientCompartmentParams.length > 0 || d.type === 'Patient') && d.type !== 'AuditEvent',
  );
  const union = defs
    .map((d) => `SELECT '${d.type}' AS resource_type, id, version_id FROM ${d.table} WHERE compartments @> $1::text[]`)
    .join(' UNION ALL ');
  // A named statement: planning this 70-branch union costs more than running it.
  const r = await client.query<{ content: Resource }>({
    name: 'patient-everything',
    text: `SELECT ${currentContentSql('c', { typeColumn: 'resource_type' })} AS content FROM (${union} LIMIT $2) c`,
    values: [[`Patient/${patientId}`], limit],
  });
  return r.rows.map((x) => x.content);
}
