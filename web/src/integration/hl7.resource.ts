/** HL7 v2 dead letters: rejected inbound messages waiting for correction. Types from the server's route schemas. */
import type { DeadLetter, DeadLetterList, Hl7MessageView, Hl7Status, ReprocessResult } from '../../../src/hl7v2/schemas.js';
import { apiRequest } from '../api/http.js';

export type { DeadLetter, Hl7Status };

export const fetchDeadLetters = (signal?: AbortSignal) =>
  apiRequest<DeadLetterList>('/api/hl7/dead-letters', { signal, accept: 'application/json' });
export const fetchHl7Status = (signal?: AbortSignal) => apiRequest<Hl7Status>('/api/hl7/status', { signal, accept: 'application/json' });
export const saveCorrection = (id: number, text: string) =>
  apiRequest<Hl7MessageView>(`/api/hl7/dead-letters/${id}`, { method: 'PUT', body: { text }, accept: 'application/json' });
export const reprocessDeadLetter = (id: number) =>
  apiRequest<ReprocessResult>(`/api/hl7/dead-letters/${id}/reprocess`, { method: 'POST', accept: 'application/json' });
