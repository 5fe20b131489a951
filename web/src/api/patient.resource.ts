/** Data access for residents (FHIR Patient) and their full record ($everything). */
import { apiRequest } from './http.js';
import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { bundleLink } from './bundle.js';

/** A search text that looks like a resident ID number: 15 digits, or 17 digits and a digit/X. */
export function looksLikeIdNumber(text: string): boolean {
  return /^(\d{15}|\d{17}[\dXx])$/.test(text.trim());
}

/** Builds the first-page search URL for a name or ID-number query. */
export function patientSearchPath(text: string, pageSize = 20): string {
  const query = text.trim();
  // encodeURIComponent rather than URLSearchParams: a space goes as %20, never as '+'.
  if (looksLikeIdNumber(query)) return `/fhir/Patient?identifier=${encodeURIComponent(query.toUpperCase())}`;
  const name = query ? `name=${encodeURIComponent(query)}&` : '';
  return `/fhir/Patient?${name}_count=${pageSize}&_sort=family`;
}

/** Fetches one page of a Patient search: either a fresh search path or a Bundle `next` link. */
export function fetchPatientPage(pathOrLink: string, signal?: AbortSignal): Promise<Bundle<Patient>> {
  return apiRequest<Bundle<Patient>>(pathOrLink, { signal });
}

/**
 * Fetches everything in the resident's compartment. Follows `next` links should the server
 * page the result (bounded, to keep a runaway server from looping the page).
 */
export async function fetchPatientEverything(id: string, signal?: AbortSignal): Promise<Resource[]> {
  let next: string | undefined = `/fhir/Patient/${encodeURIComponent(id)}/$everything?_count=1000`;
  const resources: Resource[] = [];
  const seen = new Set<string>();
  for (let page = 0; next && page < 50; page++) {
    const bundle: Bundle = await apiRequest<Bundle>(next, { signal });
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource;
      if (!resource) continue;
      const key = `${resource.resourceType}/${resource.id ?? entry.fullUrl ?? resources.length}`;
      if (seen.has(key)) continue;
      seen.add(key);
      resources.push(resource);
    }
    const link = bundleLink(bundle, 'next');
    next = link && link !== next ? link : undefined;
  }
  return resources;
}
