/**
 * The de-identified export API as zod schemas: what /api/exports/* accepts and answers (the
 * routes validate with them, /api/docs is generated from them, the web app may `import type`
 * them). This file imports nothing but zod.
 */
import { z } from 'zod';

/** The columns a line list may have, every one de-identified or generalised (no name, ID number, phone, address line, birth date). */
export const LINE_LIST_FIELDS = [
  'pseudonym',
  'sex',
  'ageBand',
  'street',
  'streetName',
  'occupationClass',
  'disease',
  'diseaseClass',
  'diagnosisStatus',
  'onsetDate',
  'diagnosisDate',
  'outcome',
  'outcomeDate',
  'cardStatus',
] as const;
export type LineListField = (typeof LINE_LIST_FIELDS)[number];

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine(
    (v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v),
    'not a calendar day',
  );

const common = {
  profile: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'an export profile name (GET /api/exports/profiles)'),
  disease: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/, 'a notifiable-disease key, e.g. influenza')
    .optional()
    .describe('notifiable-disease key (config/surveillance/notifiable-diseases.json); all diseases when absent'),
  from: Day.describe('first diagnosis day (China time), YYYY-MM-DD'),
  to: Day.describe('last diagnosis day (China time), YYYY-MM-DD'),
  purpose: z
    .string()
    .regex(/^[A-Za-z]{2,20}$/, 'a v3 ActReason code, e.g. HRESCH')
    .optional()
    .describe('purpose of use (v3 ActReason, e.g. HRESCH); or the X-Purpose-Of-Use header'),
};

export const LineListQuery = z.object({
  ...common,
  profile: common.profile.default('research'),
  approval: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^\r\n\t]+$/, 'one line of text')
    .optional()
    .describe('reference of the approval the export is made under (e.g. the ethics committee number); required by the research profile'),
});
export type LineListQuery = z.infer<typeof LineListQuery>;

export const CountsQuery = z.object({ ...common, profile: common.profile.default('public') });
export type CountsQuery = z.infer<typeof CountsQuery>;

const Text = z.string().nullable();

/** One line of a line list; only the columns the profile names are present. */
export const LineListRow = z.object(
  Object.fromEntries(LINE_LIST_FIELDS.map((f) => [f, Text.optional()])) as Record<LineListField, z.ZodOptional<typeof Text>>,
);
export type LineListRow = z.infer<typeof LineListRow>;

const ExportInfo = {
  profile: z.string(),
  from: z.string(),
  to: z.string(),
  disease: z.string().nullable(),
  /** Names the pseudonym key (first 16 hex digits of its SHA-256), never the key. */
  keyId: z.string(),
  generatedAt: z.string(),
};

export const LineListExport = z.object({
  ...ExportInfo,
  columns: z.array(z.enum(LINE_LIST_FIELDS)),
  /** Days every date of a person moved (never shown per person): the range, for readers of the file. */
  dateShiftDays: z.number().int(),
  /**
   * Residents left out because their consent choices refuse this export (research: not opted in
   * to share-for-research in the portal): a count only, nobody named.
   */
  leftOutForConsent: z
    .number()
    .int()
    .describe('residents left out because their consent choices refuse this export (research: not opted in); a count, nobody named'),
  rows: z.array(LineListRow),
});
export type LineListExport = z.infer<typeof LineListExport>;

export const CountRow = z.object({
  disease: z.string(),
  diseaseName: z.string(),
  /** Street code (12 digits); 'unknown' for cards without a coded address; '' on a district total row. */
  street: z.string(),
  streetName: z.string(),
  /** ISO week ('2025-W10'); '' on a total over the period. */
  week: z.string(),
  /** The count, or null when suppressed. */
  count: z.number().int().nullable(),
  /** What the table shows: the count, or the suppression mark. */
  shown: z.string(),
});
export type CountRow = z.infer<typeof CountRow>;

export const CountsExport = z.object({
  ...ExportInfo,
  /** The period widened to whole ISO weeks (Monday … Sunday), so every week's cells are the same in every export. */
  weeks: z.array(z.string()),
  threshold: z.number().int(),
  mark: z.string(),
  suppressed: z.object({ primary: z.number().int(), complementary: z.number().int() }),
  note: z.string(),
  rows: z.array(CountRow),
});
export type CountsExport = z.infer<typeof CountsExport>;

export const ProfileSummary = z.object({
  name: z.string(),
  kind: z.enum(['line-list', 'counts']),
  description: z.string(),
  roles: z.array(z.string()),
  purposes: z.array(z.string()),
  requiresApproval: z.boolean(),
  maxDays: z.number().int(),
  fields: z.array(z.string()).optional(),
  /** Whether the signed-in user's roles fit the profile. */
  allowed: z.boolean(),
});
export type ProfileSummary = z.infer<typeof ProfileSummary>;
