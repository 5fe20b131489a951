/**
 * The home page's figures, each read from the list it links to (so the figure and the list agree):
 * open alerts by level and past their 研判 deadline, report cards awaiting review and drafts past
 * their deadline, chronic follow-ups due this week and overdue, contacts' missed checks escalated
 * and not yet acknowledged, and the key indicators against their targets this year and last. A section the user may not read (403) is left out.
 */
import type { Indicators } from '../../../src/primary-care/indicators/schemas.js';
import { ApiError, apiRequest } from '../api/http.js';
import { getIndicators } from '../chronic/chronic.resource.js';
import type { ReportCardList } from '../../../src/surveillance/schemas.js';
import { listAlerts } from '../surveillance/surveillance.resource.js';
import type { Worklist } from '../chronic/chronic.resource.js';

export interface HomeFigures {
  alerts?: { open: number; overdue: number; red: number; orange: number; yellow: number };
  cards?: { awaitingReview: number; overdueDrafts: number };
  followUps?: { due: number; overdue: number; recall: number; referred: number };
  indicators?: { thisYear: Indicators; lastYear: Indicators };
  /** Missed daily checks of contacts escalated and not yet acknowledged (漏访上报). */
  notices?: { open: number };
}

/** undefined when the user may not read it (403); other errors are thrown. */
async function optional<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return undefined;
    throw e;
  }
}

/** What the user's roles may read: sections for the rest are not asked for. */
export interface HomeAccess {
  surveillance: boolean;
  care: boolean;
}

export async function loadHomeFigures(today: string, access: HomeAccess, signal?: AbortSignal): Promise<HomeFigures> {
  const year = Number(today.slice(0, 4));
  const none = async () => undefined;
  const [alerts, cards, followUps, indicators, notices] = await Promise.all([
    !access.surveillance
      ? none()
      : optional(async () => {
          const [all, red, orange, yellow] = await Promise.all(
            [undefined, 'red', 'orange', 'yellow'].map((level) => listAlerts({ status: 'open', level, limit: 1 }, signal)),
          );
          return {
            open: all!.total,
            overdue: all!.counts.overdue ?? 0,
            red: red!.total,
            orange: orange!.total,
            yellow: yellow!.total,
          };
        }),
    !access.surveillance
      ? none()
      : optional(async () => {
          const count = (q: string) => apiRequest<ReportCardList>(`/api/report-cards?${q}&limit=1`, { signal, accept: 'application/json' });
          const [review, late] = await Promise.all([count('status=submitted'), count('overdue=true')]);
          return { awaitingReview: review.total, overdueDrafts: late.total };
        }),
    !access.care
      ? none()
      : optional(
          async () => (await apiRequest<Worklist>('/api/chronic/worklist?summary=true', { signal, accept: 'application/json' })).counts,
        ),
    !access.care
      ? none()
      : optional(async () => {
          const [thisYear, lastYear] = await Promise.all([
            getIndicators({ period: String(year), groupBy: 'total' }),
            getIndicators({ period: String(year - 1), groupBy: 'total' }),
          ]);
          return { thisYear, lastYear };
        }),
    // Contact follow-up is CDC (surveillance) or family-doctor (care) work: either may read the notices.
    !access.surveillance && !access.care
      ? none()
      : optional(async () => {
          const page = await apiRequest<{ total: number }>('/api/investigations/escalations?state=open&limit=1', {
            signal,
            accept: 'application/json',
          });
          return { open: page.total };
        }),
  ]);
  return { alerts, cards, followUps, indicators, notices };
}
