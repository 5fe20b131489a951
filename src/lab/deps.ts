/** What the lab's operations run on: the store, the FHIR repository, audit, the clocks' limits and results back. */
import type { AuditLog } from '../fhir/audit.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import type { LabLimits } from './limits.js';
import type { ModeLookup } from './mode-lookup.js';
import type { ResultsConfig } from './results-config.js';

export interface LabDeps {
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
  limits: LabLimits;
  /** The server's clock (tests move it). */
  now?: () => Date;
  /** Results back (config/lab/results.json); absent: verified results are not queued for delivery. */
  results?: ResultsConfig;
  /** Moves a report card's case classification for a positive (module.ts wires surveillance's classifyCaseFromLab); absent: the update waits. */
  classifier?: CaseClassifier;
  /** The mode an order naming none takes (the emergency mode in force); absent: the store's installed one (`useModeLookup`), else routine. */
  modeLookup?: ModeLookup;
  /** Called after a transaction that queued a message or a card update commits (pokes the delivery loop). */
  onQueued?: () => void;
}

export interface CaseClassificationRequest {
  cardId: string;
  patientId: string;
  classification: string;
  /** Why, in words (the specimen, test and value), for the card's history. */
  reason: string;
  specimenId: string;
  barcode: string;
  testCode: string;
}
/** Applies a classification to a report card; answers what it did, in words. */
export type CaseClassifier = (req: CaseClassificationRequest) => Promise<{ applied: boolean; detail: string }>;
