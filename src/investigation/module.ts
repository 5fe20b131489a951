/**
 * Case investigation (流调, issue #19): investigations with deadlines from rules as data, a form
 * per disease (FHIR Questionnaire, loaded at start), contact candidates from households, school
 * classes, care homes and co-stays, confirmed contacts with their exposures, and their daily
 * follow-up, escalation notices sent as FHIR Communications and text messages. Rules and forms are checked at start: a bad file stops the server, naming its line.
 */
import type { Questionnaire } from '@medplum/fhirtypes';
import { Mpi, personOfPatient } from '../identity/index.js';
import { sqlFile } from '../platform/migrations.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { loadQuestionnaires } from './forms.js';
import { AUTO_OPEN_EVENT, autoOpenProcessor, stayProcessor } from './processor.js';
import { AUTO_OPEN_PER_STEP, followUpStep } from './follow-up-job.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { HttpSmsTransport, LogTransport, smsGatewayUrl } from '../portal/index.js';
import { dispatchNotices } from './notices.js';
import { registerInvestigationRoutes } from './routes.js';
import { loadRules } from './rules.js';
import { openInvestigation, type Actor, type InvestigationDeps, type OpenInput } from './service.js';
import type { Investigation } from './schemas.js';
import type { AuditLog } from '../fhir/audit.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';

/** Stores each shipped form as a FHIR Questionnaire (rewritten only when its content changed). */
async function publishForms(ctx: ModuleContext, forms: ReadonlyMap<string, Questionnaire>): Promise<void> {
  for (const q of forms.values()) {
    const stored = (await ctx.repo.read('Questionnaire', q.id!).catch(() => undefined)) as Questionnaire | undefined;
    const { meta: _meta, ...content } = stored ?? ({} as Questionnaire);
    // Two servers starting at once may both write: the one that loses leaves the other's (same) form.
    if (JSON.stringify(content) !== JSON.stringify(q))
      await ctx.repo
        .update('Questionnaire', q.id!, q)
        .catch((e) => ctx.log(`investigation: form ${q.id} not stored: ${(e as Error).message}`));
  }
}

const investigationModule: YifangModule = {
  name: 'investigation',
  migrations: {
    range: [700, 719],
    list: [
      { version: 700, name: 'investigation', sql: sqlFile(new URL('./migrations/700_investigation.sql', import.meta.url)) },
      { version: 701, name: 'chains and orders', sql: sqlFile(new URL('./migrations/701_chain_orders.sql', import.meta.url)) },
      { version: 702, name: 'reports', sql: sqlFile(new URL('./migrations/702_reports.sql', import.meta.url)) },
      {
        version: 703,
        name: 'candidates truncated',
        sql: sqlFile(new URL('./migrations/703_candidates_truncated.sql', import.meta.url)),
      },
      { version: 704, name: 'follow-up tasks', sql: sqlFile(new URL('./migrations/704_follow_up_tasks.sql', import.meta.url)) },
      {
        version: 705,
        name: 'notices and routing',
        sql: sqlFile(new URL('./migrations/705_notices_routing.sql', import.meta.url)),
      },
    ],
  },
  processors: (pctx) => [stayProcessor(), autoOpenProcessor(loadRules(), pctx.emit)],
  async register(ctx) {
    const rules = loadRules();
    const forms = loadQuestionnaires(rules);
    await publishForms(ctx, forms);
    const mpi = new Mpi(ctx.db, ctx.repo);
    const deps: InvestigationDeps = {
      db: ctx.db,
      repo: ctx.repo,
      rules,
      forms,
      async personPatients(patientId) {
        const view = await personOfPatient({ db: ctx.db, repo: ctx.repo, mpi }, patientId);
        const ids = view?.patients.map((p) => p.patientId) ?? [];
        return ids.includes(patientId) ? ids : [patientId, ...ids];
      },
      log: ctx.log,
    };
    // Escalation notices' text messages: the portal's gateway (YIFANG_SMS_GATEWAY_URL), else the server log.
    const gateway = smsGatewayUrl();
    deps.transport = gateway
      ? new HttpSmsTransport(gateway)
      : new LogTransport((line) => console.log(line.replace('[portal]', '[investigation]')));
    const notices = new PollingLoop(
      async () => {
        if (!deps.transport) return;
        const { failed } = await dispatchNotices(deps.db, deps.transport);
        if (failed)
          ctx.log(`investigation: ${failed} notice message(s) not accepted by the ${deps.transport.name} transport, retried later`);
      },
      NOTICE_DISPATCH_MS,
      'investigation notices',
    );
    deps.onNoticesQueued = () => notices.poke();
    registerInvestigationRoutes(ctx, deps);
    investigationRuntime.set(ctx.db, { deps, audit: ctx.audit });
    // The follow-up job: cards to open, visits to plan, missed checks to escalate (follow-up-job.ts).
    const jobActor = systemActor(ctx.audit, SYSTEM_USER, 'follow-up job');
    const job = new PollingLoop(
      async () => {
        const r = await followUpStep(deps, jobActor);
        if (r.opened || r.escalated)
          ctx.log(`investigation: ${r.opened} investigation(s) opened from report cards, ${r.escalated} missed check(s) escalated`);
        if (r.opened === AUTO_OPEN_PER_STEP || r.planned > 0) job.poke();
      },
      FOLLOW_UP_JOB_MS,
      'investigation follow-up',
    );
    deps.onContactsChanged = () => job.poke();
    ctx.onProcessorEvent(AUTO_OPEN_EVENT, () => job.poke());
    job.start();
    notices.start();
    ctx.onClose(async () => {
      investigationRuntime.delete(ctx.db);
      await job.stop();
      await notices.stop();
    });
  },
};

/** How often queued notice messages are looked for (the dispatcher is also poked when notices are queued). */
export const NOTICE_DISPATCH_MS = 5_000;

/** How often the follow-up job runs (it is also poked when contacts are confirmed and cards queued). */
export const FOLLOW_UP_JOB_MS = 60_000;

/** Who the follow-up job and automatic openings act as (audited with the purpose EPIINV and the reason). */
export const SYSTEM_USER: AuthUser = { username: 'system-investigation', displayName: '流调自动任务', roles: [] };

/** An actor outside a request: its writes audited as `user` with the purpose EPIINV and the reason; no per-request policy. */
export function systemActor(audit: AuditLog, user: AuthUser, reason: string): Actor {
  return {
    user,
    audit: (client, e) =>
      audit.recordNow(client, {
        user,
        action: e.action ?? 'U',
        subtype: e.subtype,
        entities: e.entities,
        outcome: 'success',
        outcomeText: `${e.text} (${reason})`.slice(0, 1000),
        purpose: 'EPIINV',
        patients: [...new Set(e.patients)].map((p) => `Patient/${p}`),
      }),
    async allow() {},
  };
}

/** The running module's services per store, for other modules' workflows (a drill opens a real investigation). */
export const investigationRuntime = new Map<Database, { deps: InvestigationDeps; audit: AuditLog }>();

/**
 * Opens an investigation as `user` outside an HTTP request (a drill, an automatic rule): the same
 * checks, deadline, form and candidates as POST /api/investigations, audited with the purpose
 * EPIINV and the reason given. Throws when the module is not running on this store.
 */
export async function openInvestigationAs(
  db: Database,
  input: OpenInput,
  user: AuthUser,
  reason: string,
  options: { continueOpen?: boolean } = {},
): Promise<{ id: number; deadlineAt: string; patientId: string; diseaseName: string; continued: boolean }> {
  const runtime = investigationRuntime.get(db);
  if (!runtime) throw new Error('the investigation module is not running on this store');
  const actor = systemActor(runtime.audit, user, reason);
  let inv: Investigation;
  let continued = false;
  try {
    inv = await openInvestigation(runtime.deps, input, actor);
  } catch (err) {
    // continueOpen: the resident's open investigation of that disease (one the automatic rule
    // opened from the same card a moment before, say) is the one to go on with.
    const open = (err as { openInvestigation?: Investigation }).openInvestigation;
    if (!options.continueOpen || !open) throw err;
    inv = open;
    continued = true;
  }
  return { id: inv.id, deadlineAt: inv.deadlineAt, patientId: inv.patientId, diseaseName: inv.diseaseName, continued };
}

export default investigationModule;
