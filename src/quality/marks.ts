/**
 * Reading data-quality marks out of a stored resource (pure). A mark is an extension
 * (DATA_QUALITY_EXTENSION) on the element whose value is doubtful; for a primitive it sits on the
 * element's `_name` sibling (`_birthDate`). The field is the element's path without positions
 * ('Patient.identifier', 'Patient.birthDate'), so reordering a list does not reopen an issue.
 */
import type { Identifier, Resource } from '@medplum/fhirtypes';
import { isDataQualityMark } from '../shared/data-quality.js';
import { FACILITY_MRN_SYSTEM_PREFIX } from '../shared/uris.js';

export interface Mark {
  field: string;
  problem: string;
}

/** Every distinct (field, problem) marked anywhere in the resource. */
export function marksOf(resource: Resource): Mark[] {
  const found = new Map<string, Mark>();
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item, path);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'extension' && Array.isArray(value)) {
        for (const e of value as { url?: string; valueString?: unknown }[]) {
          if (!isDataQualityMark(e)) continue;
          const problem = typeof e.valueString === 'string' && e.valueString.trim() ? e.valueString.trim() : '(no description)';
          found.set(`${path}\u0000${problem}`, { field: path, problem });
        }
      }
      // contained resources and nested extensions are walked too; `_x` is primitive x's element
      if (value && typeof value === 'object') visit(value, `${path}.${key.startsWith('_') ? key.slice(1) : key}`);
    }
  };
  visit(resource, resource.resourceType);
  return [...found.values()].sort((a, b) => (a.field === b.field ? a.problem.localeCompare(b.problem) : a.field.localeCompare(b.field)));
}

/**
 * The facility a record belongs to: its managing organisation, else the facility named in its
 * medical record number's system (…/sid/mrn/<facility>); '' when neither is given.
 */
export function facilityOf(resource: Resource): string {
  const org = (resource as { managingOrganization?: { reference?: string } }).managingOrganization?.reference;
  if (org) return org.replace(/^Organization\//, '');
  const identifiers = (resource as { identifier?: Identifier[] }).identifier ?? [];
  const prefix = `${FACILITY_MRN_SYSTEM_PREFIX}/`;
  const mrn =
    identifiers.find((i) => i.system?.startsWith(prefix)) ??
    identifiers.find((i) => i.system && i.type?.coding?.some((c) => c.code === 'MR'));
  if (!mrn?.system) return '';
  const last = mrn.system.startsWith(prefix) ? mrn.system.slice(prefix.length) : (mrn.system.split('/').pop() ?? '');
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}
