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
import type { InvestigationDeps } from './service.js';

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
  },
};

export default investigationModule;
