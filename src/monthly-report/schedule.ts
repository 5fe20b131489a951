/**
 * The monthly report's schedule: a background job (PollingLoop) that every `pollMs` (an hour by
 * default) runs `scheduledStep` — from the 1st of a month (China time) the previous month's report
 * is generated once. The clock is injected, so tests drive the job without waiting for a month.
 */
import type { AuditLog } from '../fhir/audit.js';
import type { AuthUser } from '../platform/auth.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { scheduledStep, type MonthlyReportDeps } from './service.js';

/** How often the job looks for a month to generate. */
export const MONTHLY_REPORT_POLL_MS = 60 * 60_000;

/** Who the schedule acts as in the audit trail. */
export const SCHEDULE_USER: AuthUser = { username: 'schedule', displayName: '月报定时任务', roles: [] };

export interface ScheduleOptions {
  pollMs?: number;
  now?: () => Date;
  audit?: AuditLog;
  log?: (message: string) => void;
}

export class MonthlyReportSchedule {
  private readonly loop: PollingLoop;

  constructor(deps: MonthlyReportDeps, o: ScheduleOptions = {}) {
    const now = o.now ?? (() => new Date());
    const audit = o.audit;
    this.loop = new PollingLoop(
      async () => {
        const month = await scheduledStep(deps, now(), {
          audit: audit
            ? (client, saved) =>
                audit.recordNow(client, {
                  user: SCHEDULE_USER,
                  action: 'U',
                  subtype: 'monthly-report-generate',
                  entities: [`monthly-report ${saved.month}`],
                  outcome: 'success',
                  outcomeText: `generated on schedule; ${saved.pdfBytes === null ? 'no PDF' : `PDF ${saved.pdfBytes} bytes`}`,
                })
            : undefined,
          scorecardAudit: audit
            ? (client, what) =>
                audit.recordNow(client, {
                  user: SCHEDULE_USER,
                  action: 'U',
                  subtype: 'scorecard-compute',
                  entities: [`scorecard ${what.period} (for the monthly report)`],
                  outcome: 'success',
                  outcomeText: `${what.opened} task(s) opened, ${what.closed} closed`,
                })
            : undefined,
        });
        if (month) o.log?.(`monthly report: ${month} generated on schedule`);
      },
      o.pollMs ?? MONTHLY_REPORT_POLL_MS,
      'monthly report',
    );
  }

  /** Starts the job: the first look after one interval (a fresh demo store is loaded by then), then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Runs a look now (tests; after a restore). */
  poke(): void {
    this.loop.poke();
  }

  /** Stops the job, waiting for a generation in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }
}
