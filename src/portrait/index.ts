/**
 * The portrait capability's public entry: the module, its settings loader and the pure rate
 * functions (standardisation, empirical-Bayes smoothing, suppression). Response shapes are in schemas.ts.
 */
export { default as portraitModule } from './module.js';
export { loadPortraitConfig, parsePortraitConfig, PortraitConfigError, type PortraitConfig } from './config.js';
export { directStandardised, marshallGlobalEb, suppressCells, isSmall } from './rates.js';
