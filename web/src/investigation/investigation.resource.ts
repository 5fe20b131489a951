/**
 * Data access for the 流行病学调查 screens (/api/investigations/*). The answer types are the
 * server's own (src/investigation/schemas.ts), imported as types only. Every read and write of
 * an investigation states the purpose of use EPIINV (流调), which the access policy asks of
 * hospital public-health departments; a community health centre's worklist states its own
 * default purpose (健康管理) instead, see `purposeFor`.
 */
import type { Bundle, CareTeam, Organization, Patient } from '@medplum/fhirtypes';
import type {
  Candidate,
  CandidateList,
  Check,
  Contact,
  ContactList,
  Form,
  Investigation,
  InvestigationList,
  InvestigationStatus,
  Trajectory,
  Worklist,
  ChainAnswer,
  Order,
  OrderList,
  Escalation,
  EscalationList,
} from '../../../src/investigation/schemas.js';
import { apiRequest } from '../api/http.js';
import { getSession } from '../api/session.js';
import { formatHumanName, preferredName } from '../shared/format.js';

export type {
  Candidate,
  CandidateList,
  Check,
  Contact,
  ContactList,
  Form,
  Investigation,
  InvestigationList,
  InvestigationStatus,
  OutsideContact,
  Trajectory,
  Worklist,
  Order,
  Escalation,
  EscalationList,
} from '../../../src/investigation/schemas.js';
export type ChainData = ChainAnswer;
export type OrderKind = Order['kind'];
export type InvClassification = Investigation['classification'];
export type WorklistRow = Worklist['items'][number];
export type TrajectoryStop = Trajectory['items'][number];
export type TrajectoryPlace = Trajectory['places'][number];
export type EscalationItem = EscalationList['items'][number];
export type NoticeDelivery = EscalationItem['deliveries'][number];

/** The purpose of use of the investigation screens. */
export const EPIINV = 'EPIINV';

/**
 * EPIINV for investigators (administrators, CDC epidemiologists, hospital public-health
 * departments); a family doctor recording follow-up checks states nothing, so the server takes
 * their role's default (CAREMGT), the purpose their access rules allow.
 */
export function purposeFor(roles: readonly string[] = getSession()?.user.roles ?? []): string | undefined {
  return roles.some((r) => r === 'admin' || r === 'epidemiologist' || r === 'public-health') ? EPIINV : undefined;
}

const json = (signal?: AbortSignal) => ({ signal, accept: 'application/json', purpose: EPIINV });
const send = (method: string, body: unknown) => ({ method, body, accept: 'application/json', purpose: EPIINV });

export interface ListQuery {
  status?: string;
  limit: number;
  offset: number;
}

export function listInvestigations(q: ListQuery, signal?: AbortSignal): Promise<InvestigationList> {
  const p = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
  if (q.status) p.set('status', q.status);
  return apiRequest<InvestigationList>(`/api/investigations?${p.toString()}`, json(signal));
}

export const getInvestigation = (id: number, signal?: AbortSignal) => apiRequest<Investigation>(`/api/investigations/${id}`, json(signal));

export const openInvestigation = (body: { patientId: string; diseaseCode: string; assignee?: string; onsetDate?: string; note?: string }) =>
  apiRequest<Investigation>('/api/investigations', send('POST', body));

export const updateInvestigation = (
  id: number,
  body: {
    version: number;
    status?: InvestigationStatus;
    classification?: InvClassification;
    assignee?: string;
    note?: string;
    closeNote?: string;
  },
) => apiRequest<Investigation>(`/api/investigations/${id}`, send('PATCH', body));

export const getForm = (id: number, signal?: AbortSignal) => apiRequest<Form>(`/api/investigations/${id}/form`, json(signal));

export const saveForm = (id: number, body: { version: number; answers: Record<string, string | number | boolean>; complete?: boolean }) =>
  apiRequest<Form>(`/api/investigations/${id}/form`, send('PUT', body));

export const getTrajectory = (id: number, signal?: AbortSignal) =>
  apiRequest<Trajectory>(`/api/investigations/${id}/trajectory`, json(signal));

export const getChain = (id: number, signal?: AbortSignal) => apiRequest<ChainAnswer>(`/api/investigations/${id}/chain`, json(signal));

export const listOrders = (id: number, signal?: AbortSignal) => apiRequest<OrderList>(`/api/investigations/${id}/orders`, json(signal));

export const issueOrder = (
  id: number,
  body: { contactId?: number; kind: OrderKind; place: string; startDate: string; endDate: string; reason: string },
) => apiRequest<Order>(`/api/investigations/${id}/orders`, send('POST', body));

export const revokeOrder = (orderId: number, reason: string) =>
  apiRequest<Order>(`/api/investigations/orders/${orderId}/revoke`, send('POST', { reason }));

export const listCandidates = (id: number, signal?: AbortSignal) =>
  apiRequest<CandidateList>(`/api/investigations/${id}/candidates`, json(signal));

export const recomputeCandidates = (id: number) =>
  apiRequest<CandidateList>(`/api/investigations/${id}/candidates/compute`, send('POST', {}));

export const confirmCandidate = (id: number, candidateId: number) =>
  apiRequest<Contact>(`/api/investigations/${id}/candidates/${candidateId}/confirm`, send('POST', {}));

export const rejectCandidate = (id: number, candidateId: number, reason?: string) =>
  apiRequest<Candidate>(`/api/investigations/${id}/candidates/${candidateId}/reject`, send('POST', reason ? { reason } : {}));

export const listContacts = (id: number, signal?: AbortSignal) =>
  apiRequest<ContactList>(`/api/investigations/${id}/contacts`, json(signal));

export interface CheckInput {
  day: string;
  symptoms: boolean;
  temperature?: number;
  note?: string;
}
export const recordCheck = (contactId: number, body: CheckInput) =>
  apiRequest<Check>(`/api/investigations/contacts/${contactId}/checks`, {
    method: 'POST',
    body,
    accept: 'application/json',
    purpose: purposeFor(),
  });

export const contactToSuspect = (contactId: number, note?: string) =>
  apiRequest<Investigation>(`/api/investigations/contacts/${contactId}/suspect`, send('POST', note ? { note } : {}));

export function followUps(
  q: {
    organization?: string;
    team?: string;
    status?: 'due' | 'overdue' | 'done' | 'open';
    date?: string;
    limit?: number;
    offset?: number;
  },
  signal?: AbortSignal,
): Promise<Worklist> {
  const p = new URLSearchParams();
  if (q.organization) p.set('organization', q.organization);
  if (q.team) p.set('team', q.team);
  if (q.status) p.set('status', q.status);
  if (q.date) p.set('date', q.date);
  if (q.limit !== undefined) p.set('limit', String(q.limit));
  if (q.offset !== undefined) p.set('offset', String(q.offset));
  return apiRequest<Worklist>(`/api/investigations/follow-ups?${p.toString()}`, {
    signal,
    accept: 'application/json',
    purpose: purposeFor(),
  });
}

/** Escalation notices (漏访上报) of an investigation, an organisation or a team; a page with the total. */
export function listEscalations(
  q: {
    investigationId?: number;
    organization?: string;
    team?: string;
    state?: 'open' | 'acknowledged' | 'all';
    limit: number;
    offset: number;
  },
  signal?: AbortSignal,
  purpose: string | undefined = purposeFor(),
): Promise<EscalationList> {
  const p = new URLSearchParams({ limit: String(q.limit), offset: String(q.offset) });
  if (q.investigationId) p.set('investigationId', String(q.investigationId));
  if (q.organization) p.set('organization', q.organization);
  if (q.team) p.set('team', q.team);
  if (q.state) p.set('state', q.state);
  return apiRequest<EscalationList>(`/api/investigations/escalations?${p.toString()}`, { signal, accept: 'application/json', purpose });
}

export const acknowledgeEscalation = (escalationId: number, note?: string, purpose: string | undefined = purposeFor()) =>
  apiRequest<Escalation>(`/api/investigations/escalations/${escalationId}/acknowledge`, {
    method: 'POST',
    body: note ? { note } : {},
    accept: 'application/json',
    purpose,
  });

/** Family-doctor teams (CareTeam; R4 has no search by a team's name, so the first 100 are filtered here by the text). */
export async function findTeams(text: string, signal?: AbortSignal): Promise<{ id: string; name: string }[]> {
  const bundle = await apiRequest<Bundle<CareTeam>>('/fhir/CareTeam?status=active&_elements=name&_count=100', { signal });
  const words = text.trim();
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((x): x is CareTeam & { id: string } => !!x?.id)
    .map((x) => ({ id: `CareTeam/${x.id}`, name: x.name ?? x.id }))
    .filter((x) => !words || x.name.includes(words));
}

// ---------------------------------------------------------------------------------------------
// Names for ids: the investigation answers name residents and facilities by id only.

const patientNames = new Map<string, string>();
const organizationNames = new Map<string, string>();

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * Residents' names by Patient id (FHIR search by _id, names only), remembered for the session
 * of the page. Ids the server does not return (not visible to this user) are left out.
 */
export async function residentNames(
  ids: string[],
  signal?: AbortSignal,
  purpose: string | undefined = EPIINV,
): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id) => id && !patientNames.has(id)))];
  for (const part of chunks(wanted, 50)) {
    const bundle = await apiRequest<Bundle<Patient>>(
      `/fhir/Patient?_id=${part.map(encodeURIComponent).join(',')}&_elements=name&_count=${part.length}`,
      { signal, purpose },
    );
    for (const e of bundle.entry ?? []) {
      const p = e.resource;
      const name = formatHumanName(preferredName(p?.name));
      if (p?.id && name) patientNames.set(p.id, name);
    }
  }
  return new Map(ids.filter((id) => patientNames.has(id)).map((id) => [id, patientNames.get(id)!]));
}

/**
 * Facilities' names by Organization id, else by an identifier value (HL7 feeds name the
 * facility by its code), remembered for the session of the page.
 */
export async function facilityNames(keys: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  let wanted = [...new Set(keys.filter((k) => k && !organizationNames.has(k)))];
  if (wanted.length) {
    const byId = await apiRequest<Bundle<Organization>>(
      `/fhir/Organization?_id=${wanted.map(encodeURIComponent).join(',')}&_elements=name&_count=${wanted.length}`,
      { signal },
    );
    for (const e of byId.entry ?? []) if (e.resource?.id && e.resource.name) organizationNames.set(e.resource.id, e.resource.name);
    wanted = wanted.filter((k) => !organizationNames.has(k));
  }
  if (wanted.length) {
    const byCode = await apiRequest<Bundle<Organization>>(
      `/fhir/Organization?identifier=${wanted.map(encodeURIComponent).join(',')}&_elements=name,identifier&_count=${wanted.length * 2}`,
      { signal },
    );
    for (const e of byCode.entry ?? []) {
      const o = e.resource;
      if (!o?.name) continue;
      for (const id of o.identifier ?? []) if (id.value && wanted.includes(id.value)) organizationNames.set(id.value, o.name);
    }
  }
  return new Map(keys.filter((k) => organizationNames.has(k)).map((k) => [k, organizationNames.get(k)!]));
}

/** Organizations whose name contains the text (the worklist's choice of health centre). */
export async function findOrganizations(text: string, signal?: AbortSignal): Promise<{ id: string; name: string }[]> {
  const q = text.trim() ? `name:contains=${encodeURIComponent(text.trim())}&` : '';
  const bundle = await apiRequest<Bundle<Organization>>(`/fhir/Organization?${q}_elements=name&_count=20`, { signal });
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((o): o is Organization & { id: string } => !!o?.id)
    .map((o) => {
      if (o.name) organizationNames.set(o.id, o.name);
      return { id: o.id, name: o.name ?? '' };
    })
    .filter((o) => o.name);
}

/** Forgets the remembered names (tests). */
export function forgetNames(): void {
  patientNames.clear();
  organizationNames.clear();
}
