/** HL7 v2 dead letters: rejected inbound messages waiting for correction. */
import { apiRequest } from '../api/http.js';

export interface DeadLetter {
  id: number;
  facility: string | null;
  controlId: string | null;
  messageType: string | null;
  channel: string;
  ackCode: string;
  error: string | null;
  receivedAt: string;
  updatedAt: string;
  attempts: number;
  text: string;
  correctedText: string | null;
}

export const fetchDeadLetters = (signal?: AbortSignal) =>
  apiRequest<{ items: DeadLetter[] }>('/api/hl7/dead-letters', { signal, accept: 'application/json' });
export const fetchHl7Status = (signal?: AbortSignal) =>
  apiRequest<{ mllpPort: number; connections: number; messages: Record<string, number> }>('/api/hl7/status', {
    signal,
    accept: 'application/json',
  });
export const saveCorrection = (id: number, text: string) =>
  apiRequest<DeadLetter>(`/api/hl7/dead-letters/${id}`, { method: 'PUT', body: { text }, accept: 'application/json' });
export const reprocessDeadLetter = (id: number) =>
  apiRequest<{ ackCode: string; ack: string; error?: string }>(`/api/hl7/dead-letters/${id}/reprocess`, {
    method: 'POST',
    accept: 'application/json',
  });
