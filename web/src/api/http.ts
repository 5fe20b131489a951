/**
 * Fetch wrapper for the Yifang API (same origin). Sends the bearer token, asks for FHIR JSON,
 * turns OperationOutcome bodies into readable errors, and on 401 ends the session so the shell
 * shows the login page again.
 */
import { breakGlassPatients, getSession, setSession } from './session.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const FHIR_JSON = 'application/fhir+json';

/** Message from an OperationOutcome (or a plain {error|message} body), if there is one. */
function messageFromBody(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  if (record.resourceType === 'OperationOutcome' && Array.isArray(record.issue)) {
    const texts = (record.issue as Array<Record<string, unknown>>)
      .map((issue) => (issue.diagnostics as string | undefined) ?? (issue.details as { text?: string } | undefined)?.text)
      .filter((text): text is string => !!text);
    if (texts.length) return texts.join('; ');
  }
  for (const key of ['message', 'error_description', 'error']) {
    if (typeof record[key] === 'string') return record[key] as string;
  }
  return undefined;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reduces an absolute URL on this origin (e.g. a Bundle's `next` link) to path+query; other
 * strings are taken as paths already.
 */
export function toApiPath(url: string): string {
  if (!/^https?:\/\//i.test(url)) return url;
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** When false, a 401 is returned as an error without ending the session (the login call). */
  authRedirect?: boolean;
  accept?: string;
  /** X-Purpose-Of-Use to state; by default BTG on a resident's requests while an emergency grant lasts. */
  purpose?: string;
}

/** Search parameters that name the resident a FHIR search or an /api route is about. */
const RESIDENT_PARAMS = /^(patient|subject|patientId|patient_id)(:Patient)?$/;

/**
 * The resident an emergency grant covers that this request is about, if any: /fhir/Patient/{id}
 * (and its operations, $everything), FHIR searches with patient= or subject= {id} or Patient/{id},
 * and /api routes with {id} as a path segment or as patient/patientId in the query.
 */
export function breakGlassPatientOf(path: string, patients: readonly string[] = breakGlassPatients()): string | undefined {
  if (!patients.length) return undefined;
  let url: URL;
  try {
    url = new URL(toApiPath(path), 'http://yifang.invalid');
  } catch {
    return undefined;
  }
  const segments = url.pathname.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
  const named = new Set<string>();
  for (const [key, value] of url.searchParams) {
    if (!RESIDENT_PARAMS.test(key)) continue;
    for (const one of value.split(',')) named.add(one.replace(/^Patient\//, ''));
  }
  if (segments[1] === 'fhir') {
    if (segments[2] === 'Patient' && segments[3] && patients.includes(segments[3])) return segments[3];
  } else if (segments[1] === 'api') {
    const hit = patients.find((id) => segments.includes(id));
    if (hit) return hit;
  } else return undefined;
  return patients.find((id) => named.has(id));
}

export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: options.accept ?? FHIR_JSON };
  const session = getSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  const purpose = options.purpose ?? (breakGlassPatientOf(path) ? 'BTG' : undefined);
  if (purpose) headers['X-Purpose-Of-Use'] = purpose;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = path.startsWith('/fhir') ? FHIR_JSON : 'application/json';
  }
  const response = await fetch(toApiPath(path), {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body,
    signal: options.signal,
  });
  const parsed = await readBody(response);
  if (!response.ok) {
    if (response.status === 401 && options.authRedirect !== false) {
      setSession(null);
    }
    throw new ApiError(response.status, messageFromBody(parsed) ?? `HTTP ${response.status} ${response.statusText}`, parsed);
  }
  return parsed as T;
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
