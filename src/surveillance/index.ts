/**
 * The surveillance capability's public entry: the only file other capabilities, the CLI and the
 * composition root import from (dependency-cruiser rule capabilities-meet-through-their-entry).
 * The HTTP API's request and response shapes are in schemas.ts (the web app `import type`s them).
 */

// The module and its running engine
export { default as surveillanceModule, surveillanceRuntime } from './module.js';
export type { SurveillanceEngine } from './engine.js';

// Configuration
export { areaAt, loadSurveillanceConfig, signalConfigFor, type AreaLevel, type FusionConfig, type SignalConfig } from './config.js';

// Geography (demo loader, tests)
export { loadDistrictGeographyJson } from './geography.js';

// Report cards: intake, and what primary care may know of a resident's cards
export { ingestCards, reportCardsForPatients, OPEN_CARD_STATUSES, type ReportingDeps } from './reporting/store.js';
// … and what de-identified exports page through: counted cards, and area names
export { countedCardsPage, type CountedCard } from './reporting/store.js';
// … and a verified lab result's classification of its card (the lab's results back)
export { classifyCaseFromLab, type LabClassification } from './reporting/lab-classification.js';
export { useReportDeadlineLookup, type ReportDeadlineLookup } from './reporting/deadline.js';
// … and the reporting-quality figures per facility and period (the scorecard reads them)
export { REPORTING_QUALITY_DEFINITIONS, parseQualityPeriod, previousPeriods, reportingQualityByFacility } from './reporting/quality.js';
export type { FacilityReportingQuality, QualityPeriod, ReportingQualityCode } from './reporting/quality-schemas.js';
export { areaNames } from './geography.js';
export type { IngestResult, PatientReportCard, ReportCardRecord, ReportCardStatus } from './schemas.js';

// Detection and fusion over stored counts (district evaluation)
export {
  alarmsFromVerdict,
  judgeSeries,
  loadSeriesByArea,
  runDetection,
  type DetectionAlarm,
  type SeriesVerdict,
} from './alerts/detect.js';
export { fuseDays, type FusionResult } from './alerts/fusion.js';

// Pure detectors and their evaluation (CLI detect / evaluate, benchmarks)
export {
  detectorDescriptions,
  detectors,
  DetectorInputError,
  NOUFAILY_CONTROL,
  runDetector,
  type CountSeries,
  type Detector,
  type DetectorControl,
  type DetectorResult,
} from './detectors/index.js';
export {
  addCounts,
  averageSummaries,
  countDetections,
  emptyCounts,
  outbreaksFromTruth,
  summarize,
  type DetectionCounts,
  type DetectionSummary,
  type OutbreakWeeks,
} from './evaluation/metrics.js';
export { EVALUATION_SEED, simulateScenario, simulateSeries, STANDARD_SCENARIOS } from './evaluation/simulate-series.js';

// Alerts as a page (newest first or ranked), for the monthly report's counts
export { alertPage } from './alerts/store.js';
