/**
 * Extracts the indexed values of every search parameter of a resource, by evaluating the
 * parameter's FHIRPath expression from the R4 definitions. The result maps SQL columns to
 * values ready to bind: arrays for repeating kinds, a [low, high] pair for dates.
 */
import {
  convertToSearchableDates,
  convertToSearchableQuantities,
  convertToSearchableReferences,
  convertToSearchableStrings,
  convertToSearchableTokens,
  evalFhirPathTyped,
  toTypedValue,
} from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { getTypeDef, type ResourceTypeDef, type SearchParamDef } from './definitions.js';

export type ColumnValue = string[] | number[] | string | number | null;

/** SQL columns a search parameter occupies, in table order. */
export function paramColumns(p: SearchParamDef): { name: string; sqlType: string }[] {
  if (!p.column) return [];
  switch (p.kind) {
    case 'date':
      return [
        { name: `${p.column}_lo`, sqlType: 'timestamptz' },
        { name: `${p.column}_hi`, sqlType: 'timestamptz' },
      ];
    case 'number':
      return [{ name: p.column, sqlType: 'numeric[]' }];
    case 'quantity':
      return [
        { name: p.column, sqlType: 'numeric[]' },
        { name: `${p.column}_unit`, sqlType: 'text[]' },
      ];
    default:
      return [{ name: p.column, sqlType: 'text[]' }];
  }
}

const FAR_PAST = '0001-01-01T00:00:00Z';
const FAR_FUTURE = '9999-12-31T23:59:59Z';

/** Token entries stored per coded value: "system|code" always, and the bare code. */
export function tokenEntries(system: string | undefined, value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return [`${system ?? ''}|${value}`, value];
}

export function extractSearchValues(
  resource: Resource,
  def: ResourceTypeDef = getTypeDef(resource.resourceType)!,
): Record<string, ColumnValue> {
  const out: Record<string, ColumnValue> = {};
  const typed = [toTypedValue(resource)];
  for (const p of def.params.values()) {
    if (!p.column) continue;
    let values: ReturnType<typeof evalFhirPathTyped>;
    try {
      values = evalFhirPathTyped(p.expression, typed);
    } catch {
      values = [];
    }
    switch (p.kind) {
      case 'string': {
        const strings = convertToSearchableStrings(values).filter((s) => s);
        // Chinese names are written family-first without spaces ("张伟"): index that form and
        // HumanName.text too, so a search for the full name as people write it matches.
        for (const v of values) {
          if (v.type !== 'HumanName' || !v.value || typeof v.value !== 'object') continue;
          const name = v.value as { text?: string; family?: string; given?: string[] };
          if (name.text) strings.push(name.text);
          if (name.family && name.given?.length) strings.push(name.family + name.given.join(''));
        }
        out[p.column] = strings.length ? dedupe(strings) : null;
        break;
      }
      case 'token': {
        const entries: string[] = [];
        for (const v of values) {
          if (v.type === 'boolean' && typeof v.value === 'boolean') {
            entries.push(...tokenEntries(undefined, String(v.value)));
            continue;
          }
          for (const t of convertToSearchableTokens([v])) entries.push(...tokenEntries(t.system, t.value));
        }
        out[p.column] = entries.length ? dedupe(entries) : null;
        break;
      }
      case 'reference': {
        const refs = convertToSearchableReferences(values).filter((r) => r && !r.startsWith('#'));
        out[p.column] = refs.length ? dedupe(refs) : null;
        break;
      }
      case 'uri': {
        const uris = values.map((v) => v.value).filter((v): v is string => typeof v === 'string');
        out[p.column] = uris.length ? dedupe(uris) : null;
        break;
      }
      case 'date': {
        const periods = convertToSearchableDates(values);
        let lo: string | null = null;
        let hi: string | null = null;
        for (const per of periods) {
          const s = per.start ?? FAR_PAST;
          const e = per.end ?? FAR_FUTURE;
          if (lo === null || s < lo) lo = s;
          if (hi === null || e > hi) hi = e;
        }
        out[`${p.column}_lo`] = lo;
        out[`${p.column}_hi`] = hi;
        break;
      }
      case 'number': {
        const nums = values.map((v) => Number(v.value)).filter((n) => Number.isFinite(n));
        out[p.column] = nums.length ? nums : null;
        break;
      }
      case 'quantity': {
        const qs = convertToSearchableQuantities(values);
        const nums = qs.map((q) => q.value).filter((n): n is number => typeof n === 'number');
        const units: string[] = [];
        for (const q of qs) {
          units.push(...tokenEntries(q.system, q.code));
          if (q.unit) units.push(q.unit);
        }
        out[p.column] = nums.length ? nums : null;
        out[`${p.column}_unit`] = units.length ? dedupe(units) : null;
        break;
      }
    }
  }
  return out;
}

/** Patient compartment membership: "Patient/<id>" for each patient the resource belongs to. */
export function patientCompartments(resource: Resource, values: Record<string, ColumnValue>, def: ResourceTypeDef): string[] {
  const out = new Set<string>();
  if (resource.resourceType === 'Patient' && resource.id) out.add(`Patient/${resource.id}`);
  for (const code of def.patientCompartmentParams) {
    const p = def.params.get(code);
    const refs = p?.column ? values[p.column] : null;
    if (Array.isArray(refs)) for (const r of refs) if (typeof r === 'string' && r.startsWith('Patient/')) out.add(r);
  }
  return [...out];
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
