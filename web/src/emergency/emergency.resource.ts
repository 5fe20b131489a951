/**
 * Data access for the 应急管理 screens (/api/emergency/*): teams, certificates, the on-call rota
 * and mobilisations; reserves (stock, cover against the 30-day standard, warnings, receipts,
 * issues, transfers); the emergency mode and daily zero reports; drills. The answer types are
 * the server's own (src/emergency/schemas.ts), imported as types only. No purpose of use is
 * stated: the server takes the role's default.
 */
import type {
  AfterActionReport,
  BatchView,
  CoverList,
  CoverRow,
  CurrentModeView,
  DrillList,
  DrillStepView,
  DrillView,
  ItemList,
  MemberView,
  MissingList,
  MobilisationDetail,
  MobilisationList,
  MobilisationView,
  MobilisedMember,
  ModeAnswer,
  ModeList,
  ModeView,
  MovementAnswer,
  MovementList,
  MovementView,
  OnCallView,
  ReserveWarning,
  StockList,
  TeamDetail,
  TeamList,
  TeamView,
  TrainingList,
  TrainingView,
  UnitCover,
  UnitList,
  UnitView,
  WarningList,
  ZeroReportList,
  ZeroReportView,
} from '../../../src/emergency/schemas.js';
import { apiRequest } from '../api/http.js';

export type {
  AfterActionReport,
  BatchView,
  CoverList,
  CoverRow,
  CurrentModeView,
  DrillList,
  DrillStepView,
  DrillView,
  ItemList,
  MemberView,
  MissingList,
  MobilisationDetail,
  MobilisationList,
  MobilisationView,
  MobilisedMember,
  ModeAnswer,
  ModeList,
  ModeView,
  MovementAnswer,
  MovementList,
  MovementView,
  OnCallView,
  ReserveWarning,
  StockList,
  TeamDetail,
  TeamList,
  TeamView,
  TrainingList,
  TrainingView,
  UnitCover,
  UnitList,
  UnitView,
  WarningList,
  ZeroReportList,
  ZeroReportView,
};
export type TeamKindValue = TeamView['kind'];
export type ModeLevel = ModeView['level'];
export type DrillListRow = DrillList['items'][number];
export type MissingUnit = MissingList['items'][number];
export type ReserveItem = ItemList['items'][number];

const BASE = '/api/emergency';
const json = (signal?: AbortSignal) => ({ signal, accept: 'application/json' });
const send = (method: string, body: unknown) => ({ method, body, accept: 'application/json' });

/** A query string from the defined values only. */
function qs(q: Record<string, string | number | boolean | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface PageRequest {
  limit: number;
  offset: number;
}

// Units and catalogue -------------------------------------------------------------------------

export const listUnits = (page: PageRequest = { limit: 200, offset: 0 }, signal?: AbortSignal) =>
  apiRequest<UnitList>(`${BASE}/units${qs({ ...page })}`, json(signal));

export const reserveItems = (signal?: AbortSignal) => apiRequest<ItemList>(`${BASE}/reserves/items`, json(signal));

// Teams ---------------------------------------------------------------------------------------

export const listTeams = (q: PageRequest & { unit?: string; kind?: string }, signal?: AbortSignal) =>
  apiRequest<TeamList>(`${BASE}/teams${qs({ ...q })}`, json(signal));

export const getTeam = (id: number, signal?: AbortSignal) => apiRequest<TeamDetail>(`${BASE}/teams/${id}`, json(signal));

export const listTrainings = (q: PageRequest & { teamId?: number; practitionerId?: string; state?: string }, signal?: AbortSignal) =>
  apiRequest<TrainingList>(`${BASE}/trainings${qs({ ...q })}`, json(signal));

export const onCall = (q: { day: string; teamId?: number }, signal?: AbortSignal) =>
  apiRequest<OnCallView>(`${BASE}/on-call${qs({ ...q })}`, json(signal));

export const listMobilisations = (q: PageRequest & { sourceKind?: string }, signal?: AbortSignal) =>
  apiRequest<MobilisationList>(`${BASE}/mobilisations${qs({ ...q })}`, json(signal));

export const getMobilisation = (id: number, signal?: AbortSignal) =>
  apiRequest<MobilisationDetail>(`${BASE}/mobilisations/${id}`, json(signal));

export const acknowledge = (id: number, practitionerId: string) =>
  apiRequest<MobilisationDetail>(`${BASE}/mobilisations/${id}/acknowledgements`, send('POST', { practitionerId }));

// Reserves ------------------------------------------------------------------------------------

export const listCover = (q: PageRequest & { unit?: string; belowStandard?: boolean }, signal?: AbortSignal) =>
  apiRequest<CoverList>(`${BASE}/reserves/cover${qs({ ...q })}`, json(signal));

export const listStock = (q: PageRequest & { unit?: string; item?: string }, signal?: AbortSignal) =>
  apiRequest<StockList>(`${BASE}/reserves/stock${qs({ ...q })}`, json(signal));

export const listWarnings = (q: PageRequest & { unit?: string; kind?: string }, signal?: AbortSignal) =>
  apiRequest<WarningList>(`${BASE}/reserves/warnings${qs({ ...q })}`, json(signal));

export const listMovements = (q: PageRequest & { unit?: string; item?: string; kind?: string }, signal?: AbortSignal) =>
  apiRequest<MovementList>(`${BASE}/reserves/movements${qs({ ...q })}`, json(signal));

export const receive = (body: {
  unit: string;
  item: string;
  batchNo: string;
  expiresOn?: string;
  quantity: number;
  from?: string;
  note?: string;
}) => apiRequest<MovementAnswer>(`${BASE}/reserves/receipts`, send('POST', body));

export const issueStock = (body: { unit: string; item: string; quantity: number; to?: string; note?: string }) =>
  apiRequest<MovementAnswer>(`${BASE}/reserves/issues`, send('POST', body));

export const transferStock = (body: { fromUnit: string; toUnit: string; item: string; quantity: number; note?: string }) =>
  apiRequest<MovementAnswer>(`${BASE}/reserves/transfers`, send('POST', body));

// Mode and zero reports -----------------------------------------------------------------------

export const currentMode = (areaCode?: string, signal?: AbortSignal) =>
  apiRequest<CurrentModeView>(`${BASE}/modes/current${qs({ areaCode })}`, json(signal));

export const listModes = (q: PageRequest & { active?: boolean }, signal?: AbortSignal) =>
  apiRequest<ModeList>(`${BASE}/modes${qs({ ...q })}`, json(signal));

export const startMode = (body: { areaCode?: string; level: ModeLevel; reason: string; exercise?: boolean }) =>
  apiRequest<ModeAnswer>(`${BASE}/modes`, send('POST', body));

export const endMode = (id: number, reason: string) => apiRequest<ModeView>(`${BASE}/modes/${id}/end`, send('POST', { reason }));

export const missingReports = (q: PageRequest & { day?: string }, signal?: AbortSignal) =>
  apiRequest<MissingList>(`${BASE}/zero-reports/missing${qs({ ...q })}`, json(signal));

export const listZeroReports = (q: PageRequest & { day?: string; unit?: string }, signal?: AbortSignal) =>
  apiRequest<ZeroReportList>(`${BASE}/zero-reports${qs({ ...q })}`, json(signal));

export const postZeroReport = (body: { unit: string; day?: string; counts: Record<string, number>; note?: string }) =>
  apiRequest<ZeroReportView>(`${BASE}/zero-reports`, send('POST', body));

// Drills --------------------------------------------------------------------------------------

export const listDrills = (q: PageRequest, signal?: AbortSignal) => apiRequest<DrillList>(`${BASE}/drills${qs({ ...q })}`, json(signal));

export const getDrill = (id: number, signal?: AbortSignal) => apiRequest<DrillView>(`${BASE}/drills/${id}`, json(signal));

export const createDrill = (body: { name: string; plannedFor?: string; teamIds: number[] }) =>
  apiRequest<DrillView>(`${BASE}/drills`, send('POST', body));

export const runDrill = (id: number) => apiRequest<DrillView>(`${BASE}/drills/${id}/run`, send('POST', {}));
