/**
 * The identity capability's public entry: the only file other capabilities, the CLI, benches and
 * the composition root import from (dependency-cruiser rule capabilities-meet-through-their-entry).
 */
export { default as identityModule } from './module.js';
export { Mpi, type LinkOutcome, type MpiOptions } from './mpi.js';
export {
  acceptReview,
  linkPatient,
  listEvents,
  matchBundle,
  mergePersons,
  openReviewItems,
  personEverything,
  personOfPatient,
  rejectReview,
  undoEvent,
  unlinkPatient,
  type DecisionAudit,
  type DecisionAuditEntry,
  type IdentityDeps,
} from './store.js';
export {
  candidateComparisons,
  evaluateLinkage,
  fitWeights,
  linkageQualityColumns,
  loadSimulatedIdentities,
  type LabelledRecord,
  type LinkageResult,
} from './evaluate.js';
export { loadLinkageConfig, weightsOf, type LinkageConfig, type Parameters, type Weights } from './linkage.js';
export { blockingKeys, toIdentityRecord, type IdentityRecord } from './record.js';
export { householdGroupId, householdKey } from './household.js';
export { PINYIN_GROUPS } from './pinyin-table.js';
export type {
  EventResult,
  IdentityData,
  IdentityEvent,
  IdentityEventList,
  Move,
  PersonView,
  RejectResult,
  ReviewItem,
  ReviewLinkResult,
  ReviewList,
  UnlinkResult,
  WeightFit,
} from './schemas.js';
