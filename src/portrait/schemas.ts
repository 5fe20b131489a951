/**
 * Requests and responses of /api/portrait* as zod schemas (validation, OpenAPI, and the types the
 * web app imports with `import type`). Every figure may be null: suppressed for a role outside
 * the CDC (suppressed true), or not computable (a zero denominator, no age-specific data).
 */
import { z } from 'zod';

export const INDICATOR_CODES = [
  'infectious-incidence',
  'htn-standard-management',
  'htn-control',
  'dm-standard-management',
  'dm-control',
  'contract-coverage',
  'vaccine-coverage',
] as const;
export const PortraitIndicator = z.enum(INDICATOR_CODES);
export type PortraitIndicator = z.infer<typeof PortraitIndicator>;

const PeriodText = z.string().regex(/^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$/, { message: 'a period: YYYY, YYYY-Qn or YYYY-MM' });
const StreetCode = z.string().regex(/^\d{9}(\d{3})?$/, { message: 'a street code: 9 digits, or 12 ending in 000' });
const DiseaseKey = z.string().max(100);

export const PeriodView = z.object({ label: z.string(), kind: z.enum(['month', 'quarter', 'year']), from: z.string(), to: z.string() });
export type PeriodView = z.infer<typeof PeriodView>;

export const MapQuery = z.object({
  indicator: PortraitIndicator.default('infectious-incidence'),
  period: PeriodText.optional().describe('YYYY, YYYY-Qn or YYYY-MM (China time); default: this year'),
  disease: DiseaseKey.optional().describe('infectious-incidence only: one disease key (default: every notifiable disease)'),
});
export type MapQuery = z.infer<typeof MapQuery>;

export const Suppression = z.enum(['small', 'complementary']).nullable();

export const Cell = z.object({
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  /** numerator ÷ denominator, in the indicator's unit (percent or per 100 000). */
  crude: z.number().nullable(),
  /** Directly age-standardised to the standard population; null where the indicator is not standardised. */
  standardised: z.number().nullable(),
  /** Marshall's global empirical-Bayes estimate (streets only). */
  smoothed: z.number().nullable(),
  suppressed: z.boolean(),
  /** small: fewer than minCell people in the numerator or denominator; complementary: hidden so a small one cannot be recovered. */
  suppression: Suppression,
});
export type Cell = z.infer<typeof Cell>;

export const StreetCell = Cell.extend({ code: z.string(), name: z.string().nullable() });
export type StreetCell = z.infer<typeof StreetCell>;

export const IndicatorInfo = z.object({
  code: PortraitIndicator,
  name: z.string(),
  unit: z.enum(['percent', 'per-100000']),
  /** Where the figures come from (the capability's export). */
  provider: z.string(),
  /** Whether standardised rates are given, and why not when they are not. */
  standardised: z.boolean(),
  note: z.string(),
});
export type IndicatorInfo = z.infer<typeof IndicatorInfo>;

export const GeoFeatures = z.object({
  type: z.literal('FeatureCollection'),
  features: z.array(
    z.object({
      type: z.literal('Feature'),
      properties: z.object({ code: z.string(), name: z.string() }),
      geometry: z.record(z.unknown()),
    }),
  ),
});
export type GeoFeatures = z.infer<typeof GeoFeatures>;

export const PortraitMap = z.object({
  indicator: IndicatorInfo,
  indicators: z.array(IndicatorInfo),
  period: PeriodView,
  disease: z.string().nullable(),
  /** Diseases with counted cards in the period (infectious-incidence). */
  diseases: z.array(z.object({ key: z.string(), name: z.string() })),
  viewer: z.object({ cdc: z.boolean() }),
  minCell: z.number().int(),
  standardPopulation: z.object({ name: z.string(), source: z.string() }).nullable(),
  district: Cell,
  streets: z.array(StreetCell),
  geography: GeoFeatures,
});
export type PortraitMap = z.infer<typeof PortraitMap>;

export const ProfileParams = z.object({ code: StreetCode });
export const ProfileQuery = z.object({
  period: PeriodText.optional().describe('programmes and services: YYYY, YYYY-Qn or YYYY-MM; default this year'),
});

export const Figure = z.object({
  numerator: z.number().nullable(),
  denominator: z.number().nullable(),
  /** Percent (one decimal) or per 100 000 (two decimals). */
  value: z.number().nullable(),
  suppressed: z.boolean(),
});
export type Figure = z.infer<typeof Figure>;

export const StreetProfile = z.object({
  code: z.string(),
  name: z.string().nullable(),
  period: PeriodView,
  viewer: z.object({ cdc: z.boolean() }),
  minCell: z.number().int(),
  population: z.object({
    on: z.string(),
    bands: z.array(z.string()),
    rows: z.array(
      z.object({
        sex: z.enum(['male', 'female', 'unknown']),
        counts: z.array(z.number().nullable()),
        total: z.number().nullable(),
      }),
    ),
    totals: z.array(z.number().nullable()),
    total: z.number().nullable(),
    /** Residents whose birth date is unknown (in the total only). */
    ageUnknown: z.number().nullable(),
    suppressed: z.boolean(),
  }),
  programmes: z.array(
    z.object({
      disease: z.enum(['htn', 'dm']),
      name: z.string(),
      /** 期内管理: in the registry with at least one follow-up in the period. */
      managed: z.number().nullable(),
      standardManagement: Figure,
      control: Figure,
      suppressed: z.boolean(),
    }),
  ),
  burden: z.object({
    from: z.string(),
    to: z.string(),
    population: z.number().nullable(),
    diseases: z.array(
      z.object({
        key: z.string(),
        name: z.string(),
        cases: z.number().nullable(),
        per100k: z.number().nullable(),
        suppressed: z.boolean(),
      }),
    ),
    total: Figure,
  }),
  services: z.object({
    contracts: z.array(z.object({ population: z.string(), label: z.string() }).merge(Figure)),
    vaccineDoses: Figure,
  }),
  /** What the portrait would show but no capability exports yet. */
  notExported: z.array(z.string()),
});
export type StreetProfile = z.infer<typeof StreetProfile>;

export const ResidentsQuery = z.object({
  indicator: PortraitIndicator,
  street: StreetCode,
  period: PeriodText.optional(),
  disease: DiseaseKey.optional(),
});
export type ResidentsQuery = z.infer<typeof ResidentsQuery>;

export const CellResidents = z.object({
  indicator: PortraitIndicator,
  street: z.string(),
  period: PeriodView,
  /** True when the cell is hidden from this role: no people are given, whatever the cell holds. */
  suppressed: z.boolean(),
  total: z.number().int().nullable(),
  residents: z
    .array(
      z.object({
        patientId: z.string().nullable(),
        name: z.string().nullable(),
        sex: z.string().nullable(),
        age: z.number().nullable(),
        disease: z.string().nullable(),
        diagnosedOn: z.string().nullable(),
      }),
    )
    .nullable(),
  /** Where the residents of a primary-care cell are listed (its own drill-down, under its own policy). */
  via: z.string().nullable(),
  note: z.string().nullable(),
});
export type CellResidents = z.infer<typeof CellResidents>;
