/**
 * The lab capability's public entry: the module, the breach scan and custody check (for the CLI's
 * `yifang lab verify` and the bench), the limits, the workflows as a given user for other modules
 * (`orderAs`, `shipmentAs`, `scanAs`: a drill's specimens) and the hook through which the
 * emergency module tells the lab which mode an order naming none takes (`useModeLookup`).
 */
export { default as labModule, BREACH_SCAN_MS, DELIVERY_POLL_MS } from './module.js';
export { deliverDue, applyCaseUpdates, type CaseClassifier, type CaseClassificationRequest } from './results.js';
export { scanBreaches, verifyCustody, type LabDeps } from './service.js';
export { labRuntime, orderAs, scanAs, shipmentAs } from './runtime.js';
export { useModeLookup, type ModeLookup } from './mode-lookup.js';
export { loadLabLimits, parseLabLimits, LIMITS_FILE, type LabLimits } from './limits.js';
export { LEGS, MODES, STATES, STEPS, type Leg, type Mode, type State, type Step } from './codes.js';
export { SPECIMEN_BARCODE_SYSTEM } from './fhir.js';
export type {
  OutboxView,
  OutboxDetail,
  EndpointView,
  PoolView,
  ProgressView,
  CampaignView,
  BreachView,
  CustodyReport,
  Dashboard,
  OrderBody,
  OrderView,
  ScanAnswer,
  ScanBody,
  ShipmentBody,
  ShipmentView,
  SpecimenDetail,
  SpecimenList,
  SpecimenView,
} from './schemas.js';
