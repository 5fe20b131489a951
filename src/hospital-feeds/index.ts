/** The hospital-feeds capability's public entry (the module, its templates and pure row mapping). */
export { default as hospitalFeedsModule, hospitalFeedWorker } from './module.js';
export { TEMPLATES, TEMPLATE_DEFS, templateCsv, type TemplateName } from './templates.js';
export { rowToFhir } from './to-fhir.js';
export type { DeadLetter, DeadLetterList, UploadDetail, UploadList, UploadSummary } from './schemas.js';
