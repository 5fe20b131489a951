/**
 * Requests and responses of the reporting-quality routes (/api/reporting-quality*) as zod
 * schemas: validation, the OpenAPI document and the types the web app imports with `import type`.
 */
import { z } from 'zod';

export const REPORTING_QUALITY_CODES = [
  'timely-reporting',
  'card-completeness',
  'duplicate-cards',
  'timely-review',
  'corrected-cards',
] as const;
export const ReportingQualityCode = z.enum(REPORTING_QUALITY_CODES);
export type ReportingQualityCode = z.infer<typeof ReportingQualityCode>;

/** YYYY (a year), YYYY-Qn (a quarter) or YYYY-MM (a month), in China time. */
export const QualityPeriodText = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/, { message: 'a period: YYYY, YYYY-Qn or YYYY-MM' });

export const ReportingQualityQuery = z.object({
  period: QualityPeriodText.optional().describe('YYYY, YYYY-Qn or YYYY-MM (China time); default: this month'),
  facility: z.string().max(100).optional().describe('One reporting facility (its code)'),
});
export type ReportingQualityQuery = z.infer<typeof ReportingQualityQuery>;

export const QualityPeriod = z.object({
  label: z.string(),
  kind: z.enum(['month', 'quarter', 'year']),
  /** First and last day (China dates, both included). */
  from: z.string(),
  to: z.string(),
});
export type QualityPeriod = z.infer<typeof QualityPeriod>;

export const ReportingQualityDefinition = z.object({
  code: ReportingQualityCode,
  name: z.string(),
  numerator: z.string(),
  denominator: z.string(),
  /** Which way is good: a high 及时报告率, a low 重卡率. */
  better: z.enum(['higher', 'lower']),
  source: z.string(),
});
export type ReportingQualityDefinition = z.infer<typeof ReportingQualityDefinition>;

export const ReportingQualityRate = z.object({
  code: ReportingQualityCode,
  numerator: z.number().int(),
  denominator: z.number().int(),
  /** Percentage with one decimal; null when the denominator is 0. */
  value: z.number().nullable(),
});
export type ReportingQualityRate = z.infer<typeof ReportingQualityRate>;

export const FacilityReportingQuality = z.object({
  facility: z.string(),
  name: z.string().nullable(),
  /** Initial cards reported in the period (the common denominator). */
  reported: z.number().int(),
  /** Of those, cards the CDC has not reviewed yet. */
  awaitingReview: z.number().int(),
  rates: z.array(ReportingQualityRate),
});
export type FacilityReportingQuality = z.infer<typeof FacilityReportingQuality>;

export const ReportingQualityList = z.object({
  period: QualityPeriod,
  definitions: z.array(ReportingQualityDefinition),
  /** The district: every facility's counts summed, then divided. */
  district: FacilityReportingQuality,
  facilities: z.array(FacilityReportingQuality),
});
export type ReportingQualityList = z.infer<typeof ReportingQualityList>;

export const ReportingQualityCardsQuery = z.object({
  period: QualityPeriodText.optional(),
  facility: z.string().max(100).describe('The reporting facility (its code; empty string for cards naming none)'),
  indicator: ReportingQualityCode,
  numerator: z.enum(['true', 'false']).optional().describe('true: the cards counted in the numerator; false: the rest of the denominator'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type ReportingQualityCardsQuery = z.infer<typeof ReportingQualityCardsQuery>;

export const ReportingQualityCard = z.object({
  cardId: z.string(),
  patientId: z.string().nullable(),
  /** The resident's name as written on the card. */
  name: z.string().nullable(),
  diseaseName: z.string(),
  reportedAt: z.string(),
  deadlineAt: z.string().nullable(),
  timely: z.boolean(),
  missing: z.array(z.string()),
  duplicateOf: z.string().nullable(),
  firstReviewedAt: z.string().nullable(),
  reviewLimitHours: z.number().int(),
  reviewTimely: z.boolean(),
  corrected: z.boolean(),
  inNumerator: z.boolean(),
});
export type ReportingQualityCard = z.infer<typeof ReportingQualityCard>;

export const ReportingQualityCards = z.object({
  period: QualityPeriod,
  indicator: ReportingQualityCode,
  facility: z.string(),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  cards: z.array(ReportingQualityCard),
});
export type ReportingQualityCards = z.infer<typeof ReportingQualityCards>;
