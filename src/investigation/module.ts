/**
 * Case investigation (流调, issue #19): investigations with deadlines from rules as data, a form
 * per disease (FHIR Questionnaire, loaded at start), contact candidates from households, school
 * classes, care homes and co-stays, confirmed contacts with their exposures, and their daily
 * follow-up. Rules and forms are checked at start: a bad file stops the server, naming its line.
 */
import type { Questionnaire } from '@medplum/fhirtypes';
import { Mpi, personOfPatient } from '../identity/index.js';
import { sqlFile } from '../platform/migrations.js';
import type { ModuleContext, YifangModule } from '../platform/module.js';
import { loadQuestionnaires } from './forms.js';
import { stayProcessor } from './processor.js';
import { registerInvestigationRoutes } from './routes.js';
import { loadRules } from './rules.js';
import { openInvestigation, type Actor, type InvestigationDeps, type OpenInput } from './service.js';
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
    ],
  },
  processors: () => [stayProcessor()],
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
    registerInvestigationRoutes(ctx, deps);
    investigationRuntime.set(ctx.db, { deps, audit: ctx.audit });
    ctx.onClose(async () => {
      investigationRuntime.delete(ctx.db);
    });
  },
};

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
): Promise<{ id: number; deadlineAt: string; patientId: string; diseaseName: string }> {
  const runtime = investigationRuntime.get(db);
  if (!runtime) throw new Error('the investigation module is not running on this store');
  const actor: Actor = {
    user,
    audit: (client, e) =>
      runtime.audit.recordNow(client, {
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
  const inv = await openInvestigation(runtime.deps, input, actor);
  return { id: inv.id, deadlineAt: inv.deadlineAt, patientId: inv.patientId, diseaseName: inv.diseaseName };
}

export default investigationModule;
