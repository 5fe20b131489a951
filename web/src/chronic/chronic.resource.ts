/** Data access for chronic care, contracts, referrals, check-in, immunization and indicators. */
import { apiRequest } from '../api/http.js';

const JSON_ACCEPT = { accept: 'application/json' };
const qs = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};

export interface WorkRow {
  patientId: string;
  name: string | null;
  disease: 'htn' | 'dm';
  nextDue: string;
  decision: string | null;
  controlled: boolean | null;
  lastVisit: string | null;
}
export interface ReferralRow {
  taskId: string;
  patientId: string;
  name: string | null;
  direction: 'up' | 'down';
  status: string;
  urgency?: string | null;
  reason: string | null;
  dueOn: string | null;
  owner?: string | null;
  requester?: string | null;
  authoredOn?: string | null;
}
export interface Worklist {
  asOf: string;
  due: WorkRow[];
  overdue: WorkRow[];
  recall: WorkRow[];
  referred: WorkRow[];
  referrals: ReferralRow[];
}
export const getWorklist = (q: { doctor?: string; team?: string; asOf?: string }) =>
  apiRequest<Worklist>(`/api/chronic/worklist${qs(q)}`, JSON_ACCEPT);

export interface RegistryRow extends WorkRow {
  gender: string | null;
  birthDate: string | null;
  diagnosedOn: string | null;
  source: string;
  status: string;
  teamId: string | null;
  doctorId: string | null;
}
export const getRegistry = (q: Record<string, string | undefined>) =>
  apiRequest<{ total: number; rows: RegistryRow[] }>(`/api/chronic/registry${qs(q)}`, JSON_ACCEPT);
export const getConfirmations = () =>
  apiRequest<{ rows: { patientId: string; name: string | null; disease: string; reason: string; detectedOn: string }[] }>(
    '/api/chronic/confirmations',
    JSON_ACCEPT,
  );
export const setConfirmation = (patientId: string, disease: string, status: 'confirmed' | 'dismissed') =>
  apiRequest(`/api/chronic/confirmations/${encodeURIComponent(patientId)}/${disease}`, { ...JSON_ACCEPT, method: 'PUT', body: { status } });

export interface FollowUpInput {
  patientId: string;
  date: string;
  mode: 'face-to-face' | 'phone' | 'home';
  readings: { sbp?: number; dbp?: number; fpg?: number; hba1c?: number };
  symptoms: string[];
  adherence?: string;
  adverseReaction?: string;
  newComplication?: boolean;
  advice: string[];
}
export interface FollowUpResult {
  encounterId: string;
  ruleVersion: string;
  plans: { disease: string; decision: string; dueDate: string; reasons: string[]; controlled?: boolean }[];
}
export const recordFollowUp = (input: FollowUpInput) =>
  apiRequest<FollowUpResult>('/api/chronic/follow-ups', { ...JSON_ACCEPT, body: input });

export interface DueItem {
  kind: string;
  key: string;
  title: string;
  detail: string;
  dueDate: string | null;
  overdue: boolean;
  patientId: string;
  /** Message keys and parameters for other languages (title/detail are the zh-CN text). */
  i18n?: { title: string; detail?: string; params?: Record<string, string | number> };
  cardId?: string;
  taskId?: string;
}
export const getDueServices = (id: string) =>
  apiRequest<{ residentId: string; asOf: string; items: DueItem[] }>(`/api/residents/${encodeURIComponent(id)}/due-services`, JSON_ACCEPT);
export const checkIn = (patientId: string) =>
  apiRequest<{ encounterId: string; items: DueItem[] }>('/api/care/check-in', { ...JSON_ACCEPT, body: { patientId } });
export const issueEducation = (patientId: string, itemIds: string[]) =>
  apiRequest('/api/care/education', { ...JSON_ACCEPT, body: { patientId, itemIds } });

export interface ContractRow {
  episodeId: string;
  patientId: string;
  name: string | null;
  teamId: string;
  package: string | null;
  start: string;
  end: string;
  populations: string[];
  renewalDue: boolean;
}
export const getContracts = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: ContractRow[] }>(`/api/care/contracts${qs(q)}`, JSON_ACCEPT);
export const getTeams = () =>
  apiRequest<{ rows: { teamId: string; name: string; organizationId: string; members: string[]; contracts: number }[] }>(
    '/api/care/teams',
    JSON_ACCEPT,
  );
export const createContract = (body: Record<string, unknown>) =>
  apiRequest<{ contracts: { episodeId: string }[] }>('/api/care/contracts', { ...JSON_ACCEPT, body });
export const renewContract = (episodeId: string) =>
  apiRequest(`/api/care/contracts/${episodeId}/renew`, { ...JSON_ACCEPT, method: 'POST', body: {} });
export const getReferrals = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: ReferralRow[] }>(`/api/care/referrals${qs(q)}`, JSON_ACCEPT);
export const createReferral = (body: Record<string, unknown>) =>
  apiRequest<{ taskId: string }>('/api/care/referrals', { ...JSON_ACCEPT, body });
export interface KeyPopulationRow {
  source: string;
  patientId: string;
  name: string | null;
  population: string;
  start: string | null;
  end: string | null;
  note: string | null;
}
export const getKeyPopulations = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: KeyPopulationRow[] }>(`/api/care/key-populations${qs(q)}`, JSON_ACCEPT);
export const flagKeyPopulation = (body: { patientId: string; population: string; start?: string; note?: string }) =>
  apiRequest<{ flagId: string }>('/api/care/key-populations', { ...JSON_ACCEPT, body });
export const endKeyPopulationFlag = (flagId: string) =>
  apiRequest(`/api/care/key-populations/${encodeURIComponent(flagId)}/end`, { ...JSON_ACCEPT, body: {} });
export const decideReferral = (taskId: string, body: Record<string, unknown>) =>
  apiRequest(`/api/care/referrals/${taskId}/decision`, { ...JSON_ACCEPT, body });

export interface Recommendation {
  resourceType: 'ImmunizationRecommendation';
  date: string;
  patient: { reference: string; display?: string };
  recommendation: {
    vaccineCode: { text: string; coding: { code: string }[] }[];
    forecastStatus: { text: string; coding: { code: string }[] };
    dateCriterion: { value: string }[];
    description: string;
    series: string;
    doseNumberPositiveInt: number;
  }[];
}
export const getRecommendation = (id: string) =>
  apiRequest<Recommendation>(`/api/immunization/residents/${encodeURIComponent(id)}/recommendation`, JSON_ACCEPT);

export interface IndicatorValue {
  indicator: string;
  group: string;
  population?: string;
  numerator: number;
  denominator: number;
  value: number | null;
}
export interface IndicatorResponse {
  period: { from: string; to: string; label: string };
  definitions: { code: string; name: string; numerator: string; denominator: string; source: string }[];
  values: IndicatorValue[];
}
export const getIndicators = (q: Record<string, string | undefined>) =>
  apiRequest<IndicatorResponse>(`/api/indicators${qs(q)}`, JSON_ACCEPT);
export const getIndicatorResidents = (code: string, q: Record<string, string | undefined>) =>
  apiRequest<{
    total: number;
    rows: { patientId: string; name: string | null; group: string; inNumerator: boolean; detail?: Record<string, unknown> }[];
  }>(`/api/indicators/${code}/residents${qs(q)}`, JSON_ACCEPT);
