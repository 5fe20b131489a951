/**
 * The feeds HTTP API as zod schemas (validation, serialization, the OpenAPI document); the web
 * app may `import type` the response types. Imports nothing but zod.
 */
import { z } from 'zod';

export const FeedName = z.enum(['school-absenteeism', 'pharmacy-sales', 'sentinel-reports']);
export type FeedName = z.infer<typeof FeedName>;

/** A bad line: its number (CSV: the header is line 1; JSON: index + 1), the field when one is to blame, and why. */
export const FeedError = z.object({ line: z.number().int(), field: z.string().optional(), message: z.string() });
export type FeedError = z.infer<typeof FeedError>;

/** The outcome of one upload: good lines stored, bad lines listed; `fatal` when nothing could be read. */
export const FeedResult = z.object({
  uploadId: z.number().int().optional(),
  feed: FeedName,
  lines: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(FeedError),
  /** The encoding the file was read in ('utf-8', 'gb18030', …): the one named on upload, else detected. Absent when the bytes could not be decoded. */
  encoding: z.string().optional(),
  /** Set when nothing could be read (wrong header, not JSON, bytes not valid in any encoding); nothing was stored but the upload. */
  fatal: z.string().optional(),
});
export type FeedResult = z.infer<typeof FeedResult>;

/** One stored upload (the raw file is kept too, not listed). */
export const FeedUpload = z.object({
  id: z.number().int(),
  feed: z.string(),
  source: z.string().nullable(),
  contentType: z.string(),
  /** The encoding the file was read in; null when it could not be decoded (or for uploads before encodings were recorded). */
  encoding: z.string().nullable(),
  receivedAt: z.string(),
  lines: z.number().int(),
  accepted: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(FeedError),
});
export type FeedUpload = z.infer<typeof FeedUpload>;

export const FeedUploadList = z.object({ items: z.array(FeedUpload) });
export type FeedUploadList = z.infer<typeof FeedUploadList>;

/** One sentinel site's report for a day: what it sent (per syndrome) or that it sent nothing. */
export const SentinelSiteDay = z.object({
  siteCode: z.string(),
  siteName: z.string(),
  /** The site's sentinel place types (registry codes) and their words. */
  sentinelTypes: z.array(z.object({ code: z.string(), name: z.string() })),
  areaCode: z.string().nullable(),
  /** True when the site sent anything for the day (a zero report counts). */
  reported: z.boolean(),
  /** Cases per syndrome (fever, respiratory, diarrhoea) when reported. */
  cases: z.record(z.number().int()),
});
export type SentinelSiteDay = z.infer<typeof SentinelSiteDay>;

export const SentinelStatus = z.object({
  date: z.string(),
  /** Sentinel sites in the registry (all pages). */
  total: z.number().int(),
  /** Of them, how many reported for the day (a zero report counts). */
  reported: z.number().int(),
  missing: z.number().int(),
  rows: z.array(SentinelSiteDay),
});
export type SentinelStatus = z.infer<typeof SentinelStatus>;
