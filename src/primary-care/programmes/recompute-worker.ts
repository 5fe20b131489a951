/**
 * Worker thread of the programmes' full recompute (started by recompute.ts): decodes a range's
 * persons and facts, derives their enrolments, summaries and items, and returns them as COPY
 * text, so that the thread holding the database connection only runs SQL.
 */
import { serveRanges } from '../../platform/range-deriver.js';
import { deriveRange } from './recompute-derive.js';

serveRanges(deriveRange);
