/**
 * The scorecard capability's public entry: the module, the definition loader (checked at start)
 * the computation for the CLI or a scheduled job, and the ranking as a document's table (the
 * monthly report prints it). Response shapes are in schemas.ts.
 */
export { default as scorecardModule } from './module.js';
export { loadScorecards, parseScorecard, ScorecardConfigError, type ScorecardDefinition } from './definition.js';
export { computeScorecard, readScorecard } from './service.js';
export { INDICATOR_CATALOGUE } from './indicators.js';
export { rankingSection, type RankingSectionOptions } from './ranking-section.js';
