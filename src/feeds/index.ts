/**
 * The feeds capability's public entry: the only file other capabilities, the CLI and the
 * composition root import from (dependency-cruiser rule capabilities-meet-through-their-entry).
 */
export { default as feedsModule } from './module.js';
export { COLUMNS, FEEDS, MAX_FEED_ROWS, parseFeed, type FeedName, type PharmacySalesRow, type SchoolAbsenceRow } from './parse.js';
export {
  classDaysReported,
  listUploads,
  MAX_FEED_BYTES,
  receiveFeed,
  storeFeed,
  type FeedAudit,
  type FeedResult,
  type StoreFeedOptions,
} from './store.js';
export type { FeedError, FeedUpload, FeedUploadList } from './schemas.js';
export { charsetOf, decodeFeed, normalizeEncoding, type DecodeResult } from '../shared/encoding.js';
export { printable, SENTINEL_SYNDROMES, type SentinelSyndrome } from './parse.js';
