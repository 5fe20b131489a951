/**
 * Structural validation against the R4 StructureDefinitions (unknown elements, wrong types,
 * cardinality, required elements) via @medplum/core's validator, which refuses what cannot be
 * stored, plus Yifang's own checks on a Patient's resident ID number and birth date, which mark
 * doubtful values instead of refusing them (markPatientDataQuality).
 */
import { OperationOutcomeError } from '@medplum/core';
import { assertValidResource } from './fast-validate.js';
import type { Element, Extension, Patient, Resource } from '@medplum/fhirtypes';
import { dataQualityMark, isDataQualityMark } from '../shared/data-quality.js';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { badRequest, HttpError } from '../platform/errors.js';
import { getTypeDef, loadDefinitions } from './definitions.js';

export function assertResourceType(type: string): void {
  loadDefinitions();
  if (!getTypeDef(type)) throw new HttpError(404, `Unknown resource type '${type}': not an R4 resource type`, 'not-supported');
}

/** A module's own rule for one resource type: throws (an HttpError, e.g. 422) to refuse the resource. */
export type ResourceCheck = (resource: Resource) => void;
const resourceChecks = new Map<string, Map<string, ResourceCheck>>();

/**
 * Adds (or, under the same name, replaces) a check run on every resource of `type` this function
 * validates — REST create and update, Bundle entries, HL7 and imports prepared on this thread —
 * after the structural validation. Modules register theirs at start (ModuleContext.register).
 */
export function registerResourceCheck(type: string, name: string, check: ResourceCheck): void {
  let checks = resourceChecks.get(type);
  if (!checks) resourceChecks.set(type, (checks = new Map()));
  checks.set(name, check);
}

/**
 * The resource types some module registered a check for. A worker thread has none registered, so
 * imports prepared there hand resources of these types back to this thread (src/fhir/import.ts).
 */
export function checkedResourceTypes(): string[] {
  return [...resourceChecks.keys()].filter((t) => resourceChecks.get(t)!.size > 0);
}

export function validateFhirResource(resource: unknown, expectedType?: string): Resource {
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) {
    throw badRequest('The body must be a JSON object holding one FHIR resource');
  }
  const r = resource as Resource;
  if (typeof r.resourceType !== 'string') throw badRequest('Missing resourceType');
  if (expectedType && r.resourceType !== expectedType) {
    throw badRequest(`Resource type '${r.resourceType}' does not match the URL's type '${expectedType}'`);
  }
  assertResourceType(r.resourceType);
  try {
    // Compiled from the same R4 definitions; equivalent to @medplum/core's validateResource on
    // every shared example and mutation (src/fhir/fast-validate.test.ts), about 38 times faster.
    assertValidResource(r);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      const issues = (err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal');
      if (issues.length) {
        const summary = issues.map((i) => `${i.expression?.[0] ?? ''}: ${i.details?.text ?? i.diagnostics ?? ''}`).join('; ');
        throw badRequest(
          `Invalid ${r.resourceType}: ${summary}`,
          issues.map((i) => ({
            ...i,
            diagnostics: `${i.expression?.[0] ?? r.resourceType}: ${i.details?.text ?? i.diagnostics ?? 'invalid'}`,
          })),
        );
      }
    } else {
      throw err;
    }
  }
  for (const check of resourceChecks.get(r.resourceType)?.values() ?? []) check(r);
  if (r.resourceType === 'Patient') return markPatientDataQuality(r);
  return r;
}

/** A Patient as JSON: the primitive birthDate's own element (`_birthDate`) is not in the generated type. */
type PatientJson = Patient & { _birthDate?: Element };

/**
 * A Patient's resident ID numbers and birth date are checked, but a failure is a data-quality
 * mark, not a refusal: refusing the Patient would lose the hospital's record and every visit
 * that refers to it. Each value is kept exactly as sent; the element gets a mark
 * (DATA_QUALITY_EXTENSION) in words. Marks are recomputed on every write, so a stale mark sent
 * back by a client is dropped and a corrected value clears it:
 *   - an identifier with the resident ID system that fails GB 11643 is marked on that identifier;
 *   - a birthDate that disagrees with the birth date inside a valid ID number is marked on
 *     `_birthDate`: the ID number passed its check character, which catches almost every slip
 *     in typing it, so the separately keyed birth date is the likelier one to be wrong, and the
 *     identifier stays clean for what relies on a valid number (identity linking).
 * Marks on other identifiers (e.g. an HL7 v2 number that was never given the resident system)
 * are left as the sender put them.
 */
function markPatientDataQuality(patient: PatientJson): PatientJson {
  let changed = false;
  const birthDates: string[] = [];
  const identifier = patient.identifier?.map((id) => {
    if (id.system !== RESIDENT_ID_SYSTEM) return id;
    const parsed = parseIdNumber(id.value ?? '');
    if (parsed.ok) birthDates.push(parsed.value.birthDate);
    const marks = parsed.ok ? [] : [dataQualityMark(parsed.reason)];
    const extension = withMarks(id.extension, marks);
    if (extension === id.extension) return id;
    changed = true;
    const { extension: _old, ...rest } = id;
    return extension ? { ...rest, extension } : rest;
  });
  const birthDate = patient.birthDate;
  const disagreeing = birthDate ? [...new Set(birthDates)].filter((d) => !d.startsWith(birthDate)) : [];
  const birthMarks = disagreeing.map((d) =>
    dataQualityMark(
      `出生日期 ${birthDate} 与公民身份号码中的出生日期 ${d} 不一致 / birthDate ${birthDate} disagrees with ${d} in the resident ID number`,
    ),
  );
  const element = patient._birthDate;
  const birthExtension = withMarks(element?.extension, birthMarks);
  let _birthDate = element;
  if (birthExtension !== element?.extension) {
    changed = true;
    const { extension: _old, ...rest } = element ?? {};
    _birthDate = birthExtension ? { ...rest, extension: birthExtension } : rest;
  }
  if (!changed) return patient;
  const { _birthDate: _was, ...out } = patient;
  return {
    ...out,
    ...(identifier ? { identifier } : {}),
    ...(_birthDate && Object.keys(_birthDate).length ? { _birthDate } : {}),
  };
}

/**
 * An element's extensions with our marks replaced by `marks`: the same array when nothing
 * changes (so an unmarked Patient is passed on untouched), undefined when none are left.
 */
function withMarks(extensions: Extension[] | undefined, marks: Extension[]): Extension[] | undefined {
  if (!extensions?.length && !marks.length) return extensions;
  const next = [...(extensions ?? []).filter((e) => !isDataQualityMark(e)), ...marks];
  if (extensions && JSON.stringify(next) === JSON.stringify(extensions)) return extensions;
  return next.length ? next : undefined;
}
