/** What the lab's operations run on: the store, the FHIR repository, audit, the clocks' limits and results back. */
import type { AuditLog } from '../fhir/audit.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import type { LabLimits } from './limits.js';
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
  /** Called after a transaction that queued a message or a card update commits (pokes the delivery loop). */
  onQueued?: () => void;
}
