/** zod schemas of /api/hospital-feeds/* (requests and answers); the inferred types are what the web imports. */
import { z } from 'zod';
import { TEMPLATES } from './templates.js';

export const TemplateParam = z.object({ template: z.enum(TEMPLATES) });
export const TemplateFileParam = z.object({ template: z.string().regex(/^[a-z-]+\.csv$/) });
export const MappingParams = z.object({ facility: z.string().min(1).max(100), template: z.enum(TEMPLATES) });
export const IdParam = z.object({ id: z.coerce.number().int().min(1) });

export const TemplateColumnSchema = z.object({
  key: z.string(),
  zh: z.string(),
  aliases: z.array(z.string()),
  required: z.boolean(),
  kind: z.string(),
  hint: z.string(),
});
export const TemplateSchema = z.object({
  name: z.enum(TEMPLATES),
  zh: z.string(),
  en: z.string(),
  resources: z.array(z.string()),
  columns: z.array(TemplateColumnSchema),
});
export const TemplateList = z.object({ items: z.array(TemplateSchema) });

export const MappingBody = z.object({
  columns: z
    .record(z.string().max(200))
    .refine((r) => Object.keys(r).length <= 60, 'at most 60 columns')
    .describe("template column key → the facility's own header name"),
});
export const MappingAnswer = z.object({
  facility: z.string(),
  template: z.enum(TEMPLATES),
  columns: z.record(z.string()),
  saved: z.boolean().describe('false: no saved mapping, the template names and aliases are matched'),
});

export const UploadQuery = z.object({
  facility: z.string().min(1).max(100).describe('The sending facility (organisation code), used in identifier systems'),
  encoding: z.string().max(40).optional().describe('utf-8, gb18030, gbk, …; detected when absent (or "auto")'),
  fileName: z.string().max(200).optional(),
});

export const Problem = z.object({
  line: z.number().int(),
  column: z.string().nullable().optional(),
  message: z.string(),
  kind: z.enum(['dead-letter', 'flagged', 'refused']),
});
export type Problem = z.infer<typeof Problem>;

export const UploadAccepted = z.object({
  uploadId: z.number().int(),
  status: z.string(),
  rowsTotal: z.number().int(),
  encoding: z.string(),
});

export const UploadSummary = z.object({
  id: z.number().int(),
  facility: z.string(),
  template: z.string(),
  fileName: z.string().nullable(),
  encoding: z.string().nullable(),
  status: z.string(),
  error: z.string().nullable(),
  receivedAt: z.coerce.date(),
  finishedAt: z.coerce.date().nullable(),
  receivedBy: z.string().nullable(),
  bytes: z.number().int(),
  rowsTotal: z.number().int(),
  rowsRead: z.number().int(),
  rowsStored: z.number().int(),
  rowsUnchanged: z.number().int(),
  rowsDead: z.number().int(),
  rowsFlagged: z.number().int(),
  resourcesWritten: z.number().int(),
});
export type UploadSummary = z.infer<typeof UploadSummary>;
export const UploadDetail = UploadSummary.extend({ header: z.array(z.string()).nullable(), problems: z.array(Problem) });
export type UploadDetail = z.infer<typeof UploadDetail>;

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export const UploadListQuery = PageQuery.extend({ facility: z.string().max(100).optional(), template: z.enum(TEMPLATES).optional() });
export const UploadList = z.object({
  items: z.array(UploadSummary),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type UploadList = z.infer<typeof UploadList>;

export const DeadLetterStatus = z.enum(['open', 'resolved', 'dismissed']);
export const DeadLetter = z.object({
  id: z.number().int(),
  uploadId: z.number().int(),
  facility: z.string(),
  template: z.string(),
  line: z.number().int(),
  lineText: z.string(),
  column: z.string().nullable(),
  reason: z.string(),
  status: DeadLetterStatus,
  createdAt: z.coerce.date(),
  closedAt: z.coerce.date().nullable(),
  closedBy: z.string().nullable(),
  correctedText: z.string().nullable(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
export const DeadLetterQuery = PageQuery.extend({
  facility: z.string().max(100).optional(),
  uploadId: z.coerce.number().int().min(1).optional(),
  status: DeadLetterStatus.optional(),
});
export const DeadLetterList = z.object({
  items: z.array(DeadLetter),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
export type DeadLetterList = z.infer<typeof DeadLetterList>;

export const ReprocessBody = z.object({
  line: z.string().min(1).max(100_000).describe("The corrected CSV line, in the upload's column order"),
});
export const ReprocessAnswer = z.object({
  status: z.enum(['resolved', 'open']),
  column: z.string().nullable(),
  reason: z.string().nullable(),
  resources: z.array(z.string()).describe('Type/id of each resource the line wrote or found as sent'),
  warnings: z.array(z.string()),
});
export type ReprocessAnswer = z.infer<typeof ReprocessAnswer>;
export const DismissAnswer = z.object({ status: z.literal('dismissed') });
