/**
 * The public entry of data quality: the module, and the pure reading of marks for other
 * capabilities or the CLI. Request and response shapes are in schemas.ts (the web app
 * `import type`s them); the mark itself is src/shared/data-quality.ts.
 */
export { default as qualityModule } from './module.js';
export { facilityOf, marksOf, type Mark } from './marks.js';
