/** Master patient index: review queue and the person behind a Patient. */
import { apiRequest } from '../api/http.js';

export interface IdentityData {
  patientId: string;
  facility: string;
  name: string;
  idNumber?: string;
  idRaw?: string;
  birthDate?: string;
  sex?: string;
  phone?: string;
  address?: string;
}

export interface ReviewItem {
  id: number;
  patient_id: string;
  candidate_person_id: string;
  candidate_patient_id: string;
  score: number;
  comparison: Record<string, number>;
  created_at: string;
  patient: IdentityData | null;
  candidate: IdentityData | null;
}

export interface PersonView {
  personId: string;
  patients: { patientId: string; assurance: string; data: IdentityData }[];
  household: string[];
  /** FHIR Group per household address (GET /fhir/Group?member=Patient/{id} finds the same). */
  householdGroups?: { group: string; addressKey: string }[];
}

export const fetchReview = (signal?: AbortSignal) =>
  apiRequest<{ items: ReviewItem[]; thresholds: { upper: number; lower: number } }>('/api/identity/review', {
    signal,
    accept: 'application/json',
  });
export const acceptReview = (id: number) =>
  apiRequest<{ event: number }>(`/api/identity/review/${id}/link`, { method: 'POST', accept: 'application/json' });
export const rejectReview = (id: number) =>
  apiRequest<{ ok: boolean }>(`/api/identity/review/${id}/reject`, { method: 'POST', accept: 'application/json' });
export const fetchPersonOfPatient = (patientId: string, signal?: AbortSignal) =>
  apiRequest<PersonView>(`/api/identity/patients/${encodeURIComponent(patientId)}/person`, { signal, accept: 'application/json' });
export const unlinkPatient = (patient: string) =>
  apiRequest<{ event: number; person: string }>('/api/identity/unlink', { method: 'POST', body: { patient }, accept: 'application/json' });
export const undoEvent = (id: number) =>
  apiRequest<{ event: number }>(`/api/identity/events/${id}/undo`, { method: 'POST', accept: 'application/json' });
