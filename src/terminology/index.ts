/**
 * The public entry of code mapping: the module, and what the signal processors call — the
 * resolver (a result's codes → a lab-test code, or unmapped), the facility of a result, whether
 * a result is positive, the unmapped queue, and the stored results with one code.
 */
export { default as terminologyModule } from './module.js';
export { createLabResolver, type LabResolver } from './resolver.js';
export { TerminologyIndex, type LabResolution } from './resolve.js';
export { resultFacility } from './facility.js';
export { isPositiveResult } from './positive.js';
export { noteUnmapped, observationsWithCode, settleQueue, type UnmappedSighting } from './store.js';
export { mappingsOf, SOURCE_FACILITY_EXTENSION, type Mapping } from './concept-map.js';
export { LAB_TEST_SYSTEM, labTables } from './targets.js';
export { suggestTargets } from './suggest.js';
