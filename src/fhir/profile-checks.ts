/**
 * The checks medplum's validator does not make, by walking a resource with medplum's schema
 * (`tryGetDataType`): text PostgreSQL cannot store (NUL, unpaired surrogates), required value-set
 * bindings and reference target types. This is the slow path: it runs when the compiled validator
 * (fast-validate.ts, which makes the same checks in its one pass) hands a resource to medplum, and
 * it is the reference the compiled checks are tested against (fast-validate.test.ts).
 *
 * Recursive: callers bound the depth first (FHIR_LIMITS.jsonDepth).
 */
import { capitalize, getElementDefinitionFromElements, isPrimitiveType, tryGetDataType } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { getTypeDef, loadDefinitions } from './definitions.js';
import { findUnstorableText } from './limits.js';
import { codeProblem, codeableProblem, codingProblem, referenceProblem, referenceTargets, requiredCodes } from './terminology.js';

type Issue = OperationOutcomeIssue;

const issue = (code: Issue['code'], path: string, text: string): Issue => ({
  severity: 'error',
  code,
  details: { text },
  expression: [path],
});

const isResourceType = (t: string): boolean => getTypeDef(t) !== undefined;

/** The error issues of those checks for one resource ([] when it passes them). */
export function slowProfileIssues(resource: Resource): Issue[] {
  loadDefinitions();
  const issues: Issue[] = [];
  const root = typeof resource.resourceType === 'string' ? resource.resourceType : 'Resource';
  const text = findUnstorableText(resource, root);
  if (text) issues.push(issue('value', text.path, text.problem));
  walk(resource as unknown as Record<string, unknown>, root, root, issues);
  return issues;
}

function walk(obj: Record<string, unknown>, type: string, at: string, issues: Issue[]): void {
  const schema = tryGetDataType(type);
  if (!schema) return;
  for (const key of Object.keys(obj)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const el = getElementDefinitionFromElements(schema.elements, key);
    if (!el || typeof el.path !== 'string' || !Array.isArray(el.type)) continue;
    const last = el.path.slice(el.path.lastIndexOf('.') + 1);
    const t = el.type.find((x) => last.replace('[x]', capitalize(x.code)) === key) ?? el.type[0];
    if (!t) continue;
    const code = t.code;
    const required = requiredCodes(el.binding);
    const targets = code === 'Reference' ? referenceTargets(t.targetProfile) : undefined;
    const value = obj[key];
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, i) => {
      const p = Array.isArray(value) ? `${at}.${key}[${i}]` : `${at}.${key}`;
      if (isPrimitiveType(code)) {
        // An empty string is an absent element (as medplum reads it).
        if (required && typeof item === 'string' && item !== '') {
          const problem = codeProblem(required, item);
          if (problem) issues.push(issue('code-invalid', p, problem));
        }
        return;
      }
      if (!item || typeof item !== 'object' || Array.isArray(item)) return;
      const next = code === 'Resource' ? (item as { resourceType?: unknown }).resourceType : code;
      if (typeof next === 'string') walk(item as Record<string, unknown>, next, p, issues);
      if (required && (code === 'Coding' || code === 'CodeableConcept')) {
        const problem = code === 'Coding' ? codingProblem(required, item) : codeableProblem(required, item);
        if (problem) issues.push(issue('code-invalid', p, problem));
      }
      if (targets) {
        const problem = referenceProblem(targets, item, isResourceType);
        if (problem) issues.push(issue('value', p, problem));
      }
    });
  }
}
