/** Requests and answers of /api/registry/* (zod; the web app imports the inferred types). */
import { z } from 'zod';

export const RegistryKindSchema = z.enum(['areas', 'organizations', 'places']);
export type RegistryKindName = z.infer<typeof RegistryKindSchema>;

export const Refusal = z.object({
  where: z.string().describe("Where in the file: 'line 7', 'feature 3' or 'file'"),
  line: z.number().int().optional(),
  feature: z.number().int().optional(),
  code: z.string().optional(),
  reason: z.string(),
});

export const ImportReport = z.object({
  importId: z.number().int().optional(),
  fileName: z.string().optional(),
  kind: z.enum(['areas', 'organizations', 'places', 'bundle']).describe("What the file held; 'bundle' for a FHIR Bundle"),
  format: z.string().optional(),
  encoding: z.string().optional(),
  stored: z.boolean().describe('True when the whole file was stored; false when anything was refused (then nothing was stored)'),
  records: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  refused: z.array(Refusal),
  message: z.string().optional(),
  boundaryBytes: z.number().int().optional(),
  seconds: z.number(),
});
export type ImportReport = z.infer<typeof ImportReport>;
export type RegistryRefusal = z.infer<typeof Refusal>;

export const ImportList = z.object({ items: z.array(z.object({ id: z.number().int(), at: z.string(), report: ImportReport })) });
export type ImportList = z.infer<typeof ImportList>;

export const ImportQuery = z.object({
  kind: RegistryKindSchema.optional().describe('What the file holds; detected when absent (JSON → areas; CSV → from its header)'),
  encoding: z.string().max(40).optional().describe('The encoding of a CSV (utf-8, gb18030, gbk, …); detected when absent'),
  fileName: z.string().max(200).optional(),
});

const Paging = {
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(20),
  q: z.string().max(100).optional().describe('Part of the name, or the start of the code'),
};

export const AreaListQuery = z.object({
  level: z.enum(['district', 'street', 'community']).optional(),
  parent: z.string().max(12).optional(),
  ...Paging,
});
export const SiteListQuery = z.object({
  type: z.string().max(40).optional(),
  area: z.string().max(12).optional().describe('An area code: sites in it or below it'),
  sentinel: z.string().max(40).optional().describe('Places that are sentinel sites of this type'),
  ...Paging,
});

const LonLat = z.tuple([z.number(), z.number()]);
export const AreaItem = z.object({
  code: z.string(),
  gb2260: z.string(),
  name: z.string(),
  level: z.string(),
  parentCode: z.string().nullable(),
  /** The parent area's name (lists). */
  parentName: z.string().nullable().optional(),
  resourceId: z.string(),
  centroid: LonLat.nullable(),
  children: z.number().int().optional(),
  boundary: z.record(z.unknown()).nullable().optional(),
});
export type AreaItem = z.infer<typeof AreaItem>;
export const SiteItem = z.object({
  code: z.string(),
  category: z.enum(['organization', 'place']),
  type: z.string(),
  name: z.string(),
  areaCode: z.string().nullable(),
  streetCode: z.string().nullable(),
  parentCode: z.string().nullable(),
  resourceType: z.string(),
  resourceId: z.string(),
  position: LonLat.nullable(),
  details: z.record(z.unknown()),
});
export type SiteItem = z.infer<typeof SiteItem>;
export const AreaPage = z.object({ total: z.number().int(), items: z.array(AreaItem) });
export const SitePage = z.object({ total: z.number().int(), items: z.array(SiteItem) });
export type AreaPage = z.infer<typeof AreaPage>;
export type SitePage = z.infer<typeof SitePage>;

/** One record for the edit form: the fields of the CSV of its kind. */
export const RecordBody = z
  .object({
    name: z.string().max(200),
    level: z.string().max(40).optional(),
    parent: z.string().max(64).optional(),
    gb2260: z.string().max(6).optional(),
    type: z.string().max(40).optional(),
    area: z.string().max(12).optional(),
    organization: z.string().max(64).optional(),
    address: z.string().max(200).optional(),
    sentinel: z.string().max(400).optional(),
    grades: z.string().max(400).optional(),
    classes: z.string().max(400).optional(),
    longitude: z.union([z.number(), z.string().max(20)]).optional(),
    latitude: z.union([z.number(), z.string().max(20)]).optional(),
  })
  .strict();
export type RecordBody = z.infer<typeof RecordBody>;

export const CodeOption = z.object({ code: z.string(), zh: z.string(), en: z.string() });
export const RegistryCodesAnswer = z.object({
  organizationTypes: z.array(CodeOption),
  hospitalLevels: z.array(CodeOption),
  placeTypes: z.array(CodeOption),
  sentinelTypes: z.array(CodeOption),
  areaLevels: z.array(CodeOption),
});
export type RegistryCodesAnswer = z.infer<typeof RegistryCodesAnswer>;
export type CodeOption = z.infer<typeof CodeOption>;
