/**
 * Scorecards (医防融合评估, issue #21 item 4): weighted items read from other capabilities'
 * indicators, scored against targets per institution and per street, ranked, with the trend; a
 * red cell opens a task for its owner, closed when a later computation finds it green. The
 * definitions (config/scorecard/) are checked at start: a bad file stops the server naming it and the item.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { loadScorecards } from './definition.js';
import { registerScorecardRoutes } from './routes.js';

const scorecardModule: YifangModule = {
  name: 'scorecard',
  migrations: {
    range: [780, 799],
    list: [{ version: 780, name: 'scorecard', sql: sqlFile(new URL('./migrations/780_scorecard.sql', import.meta.url)) }],
  },
  async register(ctx) {
    registerScorecardRoutes(ctx, loadScorecards());
  },
};

export default scorecardModule;
