/**
 * HL7 v2 dead letters (rejected inbound messages waiting for correction) and the change-log
 * processors' dead letters. Types from the server's route schemas, imported as types only.
 */
import type { DeadLetter, DeadLetterList, Hl7MessageView, Hl7Status, ReprocessResult } from '../../../src/hl7v2/schemas.js';
import type { ProcessorDeadLetterPage, ProcessorDeadLetterRow } from '../../../src/app/platform-routes.js';
import { apiRequest } from '../api/http.js';

export type { DeadLetter, Hl7Status };

export const fetchDeadLetters = (signal?: AbortSignal) =>
  apiRequest<DeadLetterList>('/api/hl7/dead-letters', { signal, accept: 'application/json' });
export const fetchHl7Status = (signal?: AbortSignal) => apiRequest<Hl7Status>('/api/hl7/status', { signal, accept: 'application/json' });
export const saveCorrection = (id: number, text: string) =>
  apiRequest<Hl7MessageView>(`/api/hl7/dead-letters/${id}`, { method: 'PUT', body: { text }, accept: 'application/json' });
export const reprocessDeadLetter = (id: number) =>
  apiRequest<ReprocessResult>(`/api/hl7/dead-letters/${id}/reprocess`, { method: 'POST', accept: 'application/json' });

/** Changes a change-log processor failed on: retrying, then parked with their error. */

export type { ProcessorDeadLetterPage, ProcessorDeadLetterRow };
export type { ProcessorDeadLetterStatus } from '../../../src/platform/processor-dead-letters.js';
import type { ProcessorDeadLetterStatus } from '../../../src/platform/processor-dead-letters.js';

export const fetchProcessorDeadLetters = (
  filter: { status?: ProcessorDeadLetterStatus; processor?: string; limit: number; offset: number },
  signal?: AbortSignal,
) => {
  const q = new URLSearchParams();
  if (filter.status) q.set('status', filter.status);
  if (filter.processor) q.set('processor', filter.processor);
  q.set('limit', String(filter.limit));
  q.set('offset', String(filter.offset));
  return apiRequest<ProcessorDeadLetterPage>(`/api/processors/dead-letters?${q}`, { signal, accept: 'application/json' });
};

export const replayProcessorDeadLetter = (processor: string, seq: number) =>
  apiRequest<{ processor: string; seq: number; status: 'retrying' }>(
    `/api/processors/dead-letters/${encodeURIComponent(processor)}/${seq}/replay`,
    { method: 'POST', accept: 'application/json' },
  );
