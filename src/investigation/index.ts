/** The investigation capability's public entry: the module, its rules and the pure helpers others may reuse. */
export { default as investigationModule, investigationRuntime, openInvestigationAs } from './module.js';
export { diseaseFor, loadRules, parseRules, type DiseaseRule, type InvestigationRules } from './rules.js';
export { useInvestigationDeadlineLookup, type InvestigationDeadlineLookup } from './mode-deadline.js';
export { staysOf, type StayRow } from './stays.js';
export type {
  Candidate,
  CandidateList,
  Check,
  Contact,
  ContactList,
  Escalation,
  EscalationList,
  Form,
  Investigation,
  InvestigationList,
  OutsideContact,
  Worklist,
} from './schemas.js';
