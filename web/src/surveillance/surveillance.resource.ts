/** Data access for the surveillance screens (alerts, report cards, signals). */
import { apiRequest } from '../api/http.js';

export interface AlertSummary {
  id: number;
  status: string;
  level: string;
  areaCode: string;
  /** Every street the alert covers (its own and, after a spatial join, its evidence's). */
  areaCodes?: string[];
  areaName: string | null;
  title: string;
  sources: string[];
  score: number;
  jointP: number | null;
  firstEvidenceAt: string;
  lastEvidenceAt: string;
  triggerDay: string;
  createdAt: string;
  assignee: string | null;
  dueAt: string | null;
  overdue: boolean;
  version: number;
}

export interface AlertEvidence {
  signal: string;
  areaCode: string;
  day: string;
  method: string;
  source: string;
  observed: number;
  threshold: number | null;
  expected: number;
  pValue: number;
  weak?: boolean;
}
export interface AlertEvent {
  id: number;
  action: string;
  from: string | null;
  to: string | null;
  actor: string;
  at: string;
  reason: string | null;
  detail: Record<string, unknown> | null;
}
export interface AlertComment {
  id: number;
  author: string;
  organization: string | null;
  body: string;
  at: string;
}
export interface AlertDetail extends AlertSummary {
  diseaseKey: string | null;
  evidence: AlertEvidence[];
  events: AlertEvent[];
  comments: AlertComment[];
  nextSteps: string[];
}
/** evidence: 'alarm' (the detector alarmed) or 'weak' (only sub-threshold days, counted by the joint rule). */
export interface SignalSeries {
  signal: string;
  label: string;
  areaCode: string;
  method: string | null;
  days: string[];
  observed: number[];
  compared: number[];
  threshold: (number | null)[];
  alarm: boolean[];
  evidence?: 'alarm' | 'weak';
}
export interface AlertCase {
  kind: string;
  id: string;
  day: string;
  areaCode: string;
  areaName: string;
  detail: string;
  facility: string | null;
  location: [number, number] | null;
}

export interface GeoFeatureCollection {
  type: 'FeatureCollection';
  features: { type: 'Feature'; properties: { code: string; name: string; centroid?: [number, number] }; geometry: unknown }[];
}

export const listAlerts = (query: { status?: string; level?: string } = {}, signal?: AbortSignal) => {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => !!v) as [string, string][]).toString();
  return apiRequest<AlertSummary[]>(`/api/alerts${q ? `?${q}` : ''}`, { signal, accept: 'application/json' });
};
export const getAlert = (id: number, signal?: AbortSignal) =>
  apiRequest<AlertDetail>(`/api/alerts/${id}`, { signal, accept: 'application/json' });
export const getAlertSeries = (id: number, signal?: AbortSignal) =>
  apiRequest<SignalSeries[]>(`/api/alerts/${id}/series`, { signal, accept: 'application/json' });
export const getAlertCases = (id: number, signal?: AbortSignal) =>
  apiRequest<AlertCase[]>(`/api/alerts/${id}/cases`, { signal, accept: 'application/json' });
export const transitionAlert = (id: number, body: { to: string; version: number; reason?: string; assignee?: string }) =>
  apiRequest<AlertSummary>(`/api/alerts/${id}/transitions`, { method: 'POST', body, accept: 'application/json' });
export const addAlertComment = (id: number, text: string) =>
  apiRequest<AlertComment>(`/api/alerts/${id}/comments`, { method: 'POST', body: { body: text }, accept: 'application/json' });
export const getGeography = (level: 'street' | 'community' = 'street', signal?: AbortSignal) =>
  apiRequest<GeoFeatureCollection>(`/api/surveillance/geography?level=${level}`, { signal, accept: 'application/json' });

export interface OverviewArea {
  areaCode: string;
  areaName: string;
  counts: number[];
  denominators: number[];
  alarms: boolean[];
}
export interface Overview {
  from: string;
  to: string;
  days: string[];
  signals: { signal: string; label: string; source: string | null; areas: OverviewArea[] }[];
}
export const getOverview = (days = 28, signal?: AbortSignal) =>
  apiRequest<Overview>(`/api/surveillance/overview?days=${days}`, { signal, accept: 'application/json' });

export interface CardRow {
  id: string;
  status: string;
  card_type: string;
  disease_name: string;
  disease_key: string;
  case_classification: string | null;
  area_code: string | null;
  facility_code: string | null;
  facility_name: string | null;
  onset_date: string | null;
  diagnosed_at: string | null;
  deadline_at: string | null;
  submitted_at: string | null;
  reviewed_at: string | null;
  reviewed_by: string | null;
  return_reason: string | null;
  late: boolean;
  incomplete: boolean;
  duplicate_of: string | null;
  card: Record<string, unknown>;
  version: number;
}
export interface CardChange {
  field: string;
  before: unknown;
  after: unknown;
}
export interface CardEvent {
  action: string;
  actor: string;
  at: string;
  reason: string | null;
  detail: { changes?: CardChange[]; previousVersion?: number; previousStatus?: string } | null;
}
export interface CardDetail extends CardRow {
  events: CardEvent[];
}
export const listCards = (query: { status?: string; overdue?: boolean } = {}, signal?: AbortSignal) => {
  const q = new URLSearchParams();
  if (query.status) q.set('status', query.status);
  if (query.overdue) q.set('overdue', 'true');
  return apiRequest<{ total: number; cards: CardRow[] }>(`/api/report-cards?${q.toString()}`, { signal, accept: 'application/json' });
};
export const getCard = (id: string, signal?: AbortSignal) =>
  apiRequest<CardDetail>(`/api/report-cards/${encodeURIComponent(id)}`, { signal, accept: 'application/json' });
export const submitCard = (id: string, version: number, card: Record<string, unknown>) =>
  apiRequest<CardRow>(`/api/report-cards/${encodeURIComponent(id)}/submit`, {
    method: 'POST',
    body: { version, card },
    accept: 'application/json',
  });
export const reviewCard = (
  id: string,
  body: { action: 'approve' | 'correct' | 'return'; version: number; reason?: string; corrections?: Record<string, unknown> },
) => apiRequest<CardRow>(`/api/report-cards/${encodeURIComponent(id)}/review`, { method: 'POST', body, accept: 'application/json' });
/** 订正: corrected fields with the reason; the server keeps each field's prior value in the card's history. */
export const correctCard = (id: string, body: { version: number; reason: string; corrections: Record<string, unknown> }) =>
  apiRequest<CardRow>(`/api/report-cards/${encodeURIComponent(id)}/correct`, { method: 'POST', body, accept: 'application/json' });
export interface FacilityStat {
  facility: string;
  name: string | null;
  total: number;
  late: number;
  incomplete: number;
  duplicate: number;
  rejected: number;
  returned: number;
  overdueDrafts: number;
}
export const getCardStats = (signal?: AbortSignal) =>
  apiRequest<FacilityStat[]>('/api/report-cards/stats', { signal, accept: 'application/json' });

export interface AlertNotification {
  id: number;
  alertId: number;
  action: string;
  to: string | null;
  actor: string;
  at: string;
  reason: string | null;
  level: string;
  title: string;
  areaCode: string;
}
export const getNotifications = (signal?: AbortSignal) =>
  apiRequest<AlertNotification[]>('/api/surveillance/notifications', { signal, accept: 'application/json' });
