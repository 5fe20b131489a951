/**
 * Requests and responses of the indicator routes (/api/indicators*) as zod schemas: they
 * validate each request, check each response and make the OpenAPI document. The web app takes
 * the inferred types with `import type`.
 */
import { z } from 'zod';
import { OptionalText, oneOf } from '../common-schemas.js';

export const GroupBy = oneOf(['total', 'doctor', 'team', 'organization', 'street']);
export type GroupBy = z.infer<typeof GroupBy>;

export const IndicatorQuery = z.object({
  /** Indicator codes, comma-separated (default: all). */
  indicator: OptionalText,
  /** YYYY or YYYY-MM-DD/YYYY-MM-DD (default: this year). */
  period: OptionalText,
  /** Area code prefix, 6–12 digits (street or community). */
  area: z
    .string()
    .regex(/^\d{6,12}$/, { message: 'a 6–12 digit area code prefix' })
    .optional(),
  organization: OptionalText,
  groupBy: GroupBy.optional(),
});
export type IndicatorQuery = z.infer<typeof IndicatorQuery>;
export const IndicatorFileQuery = IndicatorQuery.extend({ format: z.enum(['xlsx', 'csv', 'pdf']).default('xlsx') });

export const Period = z.object({ from: z.string(), to: z.string(), label: z.string() });
export type Period = z.infer<typeof Period>;

export const IndicatorDefinition = z.object({
  code: z.string(),
  name: z.string(),
  numerator: z.string(),
  denominator: z.string(),
  source: z.string(),
  /** The published target (a percentage the rate should reach), null where no national target exists. */
  target: z.number().nullable(),
  /** Where the target comes from. */
  targetSource: z.string().optional(),
});
export type IndicatorDefinition = z.infer<typeof IndicatorDefinition>;

export const IndicatorValue = z.object({
  indicator: z.string(),
  group: z.string(),
  /** The group in words (全区, the street's, centre's, team's or doctor's name); the code when nobody names it. */
  groupName: z.string().optional(),
  /** Key population (contract coverage) or dose (vaccine coverage) the value is about. */
  population: z.string().optional(),
  /** The population in words (65岁及以上老年人, 卡介苗第1剂). */
  populationLabel: z.string().optional(),
  numerator: z.number(),
  denominator: z.number(),
  /** Percentage with one decimal, null when the denominator is 0. */
  value: z.number().nullable(),
});
export type IndicatorValue = z.infer<typeof IndicatorValue>;

export const Indicators = z.object({
  period: Period,
  groupBy: GroupBy,
  definitions: z.array(IndicatorDefinition),
  values: z.array(IndicatorValue),
});
export type Indicators = z.infer<typeof Indicators>;

export const IndicatorParams = z.object({ code: z.string() });
export const IndicatorResidentsQuery = IndicatorQuery.extend({
  /** Only residents of this group (as in the values' `group`). */
  group: OptionalText,
  /** Contract coverage: a key population; vaccine coverage: a dose (e.g. MMR-1). */
  population: OptionalText,
  /** Only residents in (true) or out of (false) the numerator. */
  numerator: z.enum(['true', 'false']).optional(),
  /** A page of the rows (at most 5000, the default); `total` counts them all. */
  limit: z.coerce.number().int().min(1).max(5000).default(5000),
  offset: z.coerce.number().int().min(0).default(0),
});
export type IndicatorResidentsQuery = z.infer<typeof IndicatorResidentsQuery>;

export const IndicatorResident = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  group: z.string(),
  inNumerator: z.boolean(),
  detail: z.record(z.unknown()).optional(),
});
export type IndicatorResident = z.infer<typeof IndicatorResident>;

export const IndicatorResidents = z.object({
  indicator: z.string(),
  period: Period,
  /** Every row the filters give (the page is `rows`). */
  total: z.number().int(),
  /** Of them, in the numerator. */
  numerator: z.number().int().optional(),
  rows: z.array(IndicatorResident),
});
export type IndicatorResidents = z.infer<typeof IndicatorResidents>;
