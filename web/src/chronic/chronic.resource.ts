/** Data access for chronic care, contracts, referrals, check-in, immunization and indicators. */
import type { ImmunizationRecommendation } from '@medplum/fhirtypes';
import { apiRequest } from '../api/http.js';
import type { Confirmations, FollowUpInput, FollowUpResult, RegistryPage, Worklist } from '../../../src/primary-care/chronic/schemas.js';
import type {
  CheckInResult,
  ContractRow,
  ContractsMade,
  DueServices,
  FlagMade,
  KeyPopulationRow,
  ReferralMade,
  ReferralRow,
  TeamRow,
} from '../../../src/primary-care/care/schemas.js';
import type { IndicatorResidents, Indicators } from '../../../src/primary-care/indicators/schemas.js';

// The server's response types (zod schemas in src/primary-care/*/schemas.ts), for the screens.
export type {
  ChronicPatient,
  FollowUpInput,
  FollowUpResult,
  OpenReferral,
  RegistryRow,
  Worklist,
  WorkRow,
} from '../../../src/primary-care/chronic/schemas.js';
export type { ContractRow, DueItem, KeyPopulationRow, ReferralRow, TeamRow } from '../../../src/primary-care/care/schemas.js';
export type { IndicatorResident, Indicators, IndicatorValue } from '../../../src/primary-care/indicators/schemas.js';
export type { ImmunizationRecommendation };

const JSON_ACCEPT = { accept: 'application/json' };
const qs = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
};

export const getWorklist = (q: { doctor?: string; team?: string; asOf?: string }) =>
  apiRequest<Worklist>(`/api/chronic/worklist${qs(q)}`, JSON_ACCEPT);
export const getRegistry = (q: Record<string, string | undefined>) =>
  apiRequest<RegistryPage>(`/api/chronic/registry${qs(q)}`, JSON_ACCEPT);
export const getConfirmations = () => apiRequest<Confirmations>('/api/chronic/confirmations', JSON_ACCEPT);
export const setConfirmation = (patientId: string, disease: string, status: 'confirmed' | 'dismissed') =>
  apiRequest(`/api/chronic/confirmations/${encodeURIComponent(patientId)}/${disease}`, { ...JSON_ACCEPT, method: 'PUT', body: { status } });

export const recordFollowUp = (input: FollowUpInput) =>
  apiRequest<FollowUpResult>('/api/chronic/follow-ups', { ...JSON_ACCEPT, body: input });

export const getDueServices = (id: string) => apiRequest<DueServices>(`/api/residents/${encodeURIComponent(id)}/due-services`, JSON_ACCEPT);
export const checkIn = (patientId: string) => apiRequest<CheckInResult>('/api/care/check-in', { ...JSON_ACCEPT, body: { patientId } });
export const issueEducation = (patientId: string, itemIds: string[]) =>
  apiRequest('/api/care/education', { ...JSON_ACCEPT, body: { patientId, itemIds } });

export const getContracts = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: ContractRow[]; total: number }>(`/api/care/contracts${qs(q)}`, JSON_ACCEPT);
export const getTeams = () => apiRequest<{ rows: TeamRow[] }>('/api/care/teams', JSON_ACCEPT);
export const createContract = (body: Record<string, unknown>) => apiRequest<ContractsMade>('/api/care/contracts', { ...JSON_ACCEPT, body });
export const renewContract = (episodeId: string) =>
  apiRequest(`/api/care/contracts/${episodeId}/renew`, { ...JSON_ACCEPT, method: 'POST', body: {} });
export const getReferrals = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: ReferralRow[]; total: number }>(`/api/care/referrals${qs(q)}`, JSON_ACCEPT);
export const createReferral = (body: Record<string, unknown>) => apiRequest<ReferralMade>('/api/care/referrals', { ...JSON_ACCEPT, body });
export const getKeyPopulations = (q: Record<string, string | undefined>) =>
  apiRequest<{ rows: KeyPopulationRow[]; total: number }>(`/api/care/key-populations${qs(q)}`, JSON_ACCEPT);
export const flagKeyPopulation = (body: { patientId: string; population: string; start?: string; note?: string }) =>
  apiRequest<FlagMade>('/api/care/key-populations', { ...JSON_ACCEPT, body });
export const endKeyPopulationFlag = (flagId: string) =>
  apiRequest(`/api/care/key-populations/${encodeURIComponent(flagId)}/end`, { ...JSON_ACCEPT, body: {} });
export const decideReferral = (taskId: string, body: Record<string, unknown>) =>
  apiRequest(`/api/care/referrals/${taskId}/decision`, { ...JSON_ACCEPT, body });

export const getRecommendation = (id: string) =>
  apiRequest<ImmunizationRecommendation>(`/api/immunization/residents/${encodeURIComponent(id)}/recommendation`, JSON_ACCEPT);

export const getIndicators = (q: Record<string, string | undefined>) => apiRequest<Indicators>(`/api/indicators${qs(q)}`, JSON_ACCEPT);
export const getIndicatorResidents = (code: string, q: Record<string, string | undefined>) =>
  apiRequest<IndicatorResidents>(`/api/indicators/${code}/residents${qs(q)}`, JSON_ACCEPT);
