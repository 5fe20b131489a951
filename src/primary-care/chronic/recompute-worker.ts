/**
 * Worker thread of the full recompute (started by recompute.ts): decodes a range's facts,
 * derives its registry entries, visit evaluations and confirmation-list entries, and returns
 * them as COPY text, so that the thread holding the database connection only
 * runs SQL.
 */
import { serveRanges } from '../../platform/range-deriver.js';
import { deriveRange } from './recompute-derive.js';

serveRanges(deriveRange);
