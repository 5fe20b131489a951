/** Master patient index: review queue and the person behind a Patient. Types from the server's route schemas. */
import type {
  EventResult,
  IdentityData,
  PersonView,
  RejectResult,
  ReviewItem,
  ReviewLinkResult,
  ReviewList,
  UnlinkResult,
} from '../../../src/identity/schemas.js';
import { apiRequest } from '../api/http.js';

export type { IdentityData, PersonView, ReviewItem };

export const fetchReview = (signal?: AbortSignal) => apiRequest<ReviewList>('/api/identity/review', { signal, accept: 'application/json' });
export const acceptReview = (id: number) =>
  apiRequest<ReviewLinkResult>(`/api/identity/review/${id}/link`, { method: 'POST', accept: 'application/json' });
export const rejectReview = (id: number) =>
  apiRequest<RejectResult>(`/api/identity/review/${id}/reject`, { method: 'POST', accept: 'application/json' });
export const fetchPersonOfPatient = (patientId: string, signal?: AbortSignal) =>
  apiRequest<PersonView>(`/api/identity/patients/${encodeURIComponent(patientId)}/person`, { signal, accept: 'application/json' });
export const unlinkPatient = (patient: string) =>
  apiRequest<UnlinkResult>('/api/identity/unlink', { method: 'POST', body: { patient }, accept: 'application/json' });
export const undoEvent = (id: number) =>
  apiRequest<EventResult>(`/api/identity/events/${id}/undo`, { method: 'POST', accept: 'application/json' });
