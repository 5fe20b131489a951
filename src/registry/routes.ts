/**
 * /api/registry: import a file (multipart or raw body), list and edit areas, organizations and
 * places, the codes for the forms, and recent import reports. Thin: validate, guard, call one
 * service or store function, audit, return.
 */
import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import type { Queryable } from '../platform/db.js';
import type { AuthUser } from '../platform/auth.js';
import { typed } from '../platform/openapi.js';
import { badRequest, notFound } from '../platform/errors.js';
import { registryCodes, type CodeSystemId } from './codes.js';
import { importRegistryFile, saveRecord, type ImportReport as Report } from './import.js';
import {
  AreaItem,
  AreaListQuery,
  AreaPage,
  ImportList,
  ImportQuery,
  ImportReport,
  RecordBody,
  RegistryCodesAnswer,
  SiteItem,
  SiteListQuery,
  SitePage,
} from './schemas.js';
import { getArea, getSite, listAreas, listImports, listSites } from './store.js';

const TAG = 'registry';
/** Largest file accepted by /api/registry/import (also bounded by the server's body limit). */
export const MAX_UPLOAD_BYTES = 32 * 1024 * 1024;
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export async function registerRegistryRoutes(ctx: ModuleContext): Promise<void> {
  const { db, repo } = ctx;
  await ctx.app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });
  ctx.app.addContentTypeParser(
    ['application/geo+json', 'application/vnd.geo+json', 'application/octet-stream'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );
  const app = typed(ctx.app);

  const auditor = (req: FastifyRequest, user: AuthUser, subtype: string) => (client: Queryable, r: Report) =>
    ctx.audit.recordNow(client, {
      user,
      action: r.stored ? (r.created ? 'C' : 'U') : 'C',
      subtype,
      entities: [`registry_import ${r.importId ?? '?'}`, ...(r.fileName ? [r.fileName] : [])],
      outcome: r.stored ? 'success' : 'failure',
      outcomeText: r.stored
        ? `${r.kind}: ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`
        : `${r.kind}: ${r.refused.length} refused, nothing stored${r.refused[0] ? ` (first: ${r.refused[0].where}: ${r.refused[0].reason})` : ''}`,
      sourceAddress: req.ip,
    });

  app.post(
    '/api/registry/import',
    {
      schema: {
        summary:
          'Import a registry file (机构与地点): areas as GeoJSON/TopoJSON or CSV, organizations or places as CSV, or a FHIR Bundle of Organization and Location resources; UTF-8 or GB18030 (detected or named). All or nothing: 200 with counts when stored, 422 naming every refused line or feature (nothing stored), 400 unreadable, 413 too large, 415 unknown encoding. Multipart (field file, optional kind/encoding) or the file as the body.',
        tags: [TAG],
        querystring: ImportQuery,
        body: z.unknown().describe('The file: multipart/form-data, text/csv, application/geo+json or application/json'),
        response: {
          200: ImportReport,
          400: z.union([ImportReport, Problem]),
          413: z.union([ImportReport, Problem]),
          415: z.union([ImportReport, Problem]),
          422: ImportReport,
        },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'import');
      let bytes: Buffer;
      let kind = req.query.kind;
      let encoding = req.query.encoding ?? charset(String(req.headers['content-type'] ?? ''));
      let fileName = req.query.fileName;
      if (req.isMultipart()) {
        const part = await req.file();
        if (!part) throw badRequest('the multipart body has no file part');
        bytes = await part.toBuffer();
        fileName ??= part.filename;
        const field = (name: string) => {
          const f = part.fields[name] as { value?: unknown } | undefined;
          return typeof f?.value === 'string' && f.value ? f.value : undefined;
        };
        const k = field('kind');
        if (k) kind = RegistryKindOf(k);
        encoding = field('encoding') ?? encoding;
      } else if (Buffer.isBuffer(req.body)) bytes = req.body;
      else if (typeof req.body === 'string') bytes = Buffer.from(req.body, 'utf8');
      else if (req.body && typeof req.body === 'object') bytes = Buffer.from(JSON.stringify(req.body), 'utf8');
      else throw badRequest('no file: send it as the body or as the file part of multipart/form-data');
      const r = await importRegistryFile(db, repo, bytes, {
        kind,
        encoding,
        fileName,
        username: user.username,
        audit: auditor(req, user, 'registry-import'),
      });
      const { status, ...report } = r;
      return reply.code(status as 200 | 400 | 413 | 415 | 422).send(report);
    },
  );

  app.get(
    '/api/registry/imports',
    { schema: { summary: 'The last 50 registry imports with their reports', tags: [TAG], response: { 200: ImportList } } },
    async (req) => {
      await ctx.guard(req, 'import');
      return { items: (await listImports(db)) as ImportList['items'] };
    },
  );

  app.get(
    '/api/registry/codes',
    {
      schema: {
        summary: 'Organization types, hospital levels, place types, sentinel types and area levels (Chinese and English)',
        tags: [TAG],
        response: { 200: RegistryCodesAnswer },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      const c = registryCodes();
      const options = (id: CodeSystemId) =>
        c.systems
          .get(id)!
          .concept.map((x) => ({ code: x.code, zh: x.display, en: x.designation.find((d) => d.language === 'en')?.value ?? x.display }));
      return {
        organizationTypes: options('registry-organization-type'),
        hospitalLevels: options('registry-hospital-level'),
        placeTypes: options('registry-place-type'),
        sentinelTypes: options('registry-sentinel-type'),
        areaLevels: options('registry-area-level'),
      };
    },
  );

  app.get(
    '/api/registry/areas',
    {
      schema: {
        summary: 'Areas (district, streets/townships, communities/villages), paged, by level or parent',
        tags: [TAG],
        querystring: AreaListQuery,
        response: { 200: AreaPage },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      const { q, ...rest } = req.query;
      const page = await listAreas(db, { ...rest, search: q });
      return { total: page.total, items: page.items.map(({ boundary: _b, hash: _h, ...a }) => a) };
    },
  );

  app.get(
    '/api/registry/areas/:code',
    {
      schema: {
        summary: 'One area with its simplified boundary',
        tags: [TAG],
        params: z.object({ code: z.string().max(12) }),
        response: { 200: AreaItem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      const a = await getArea(db.pool, req.params.code);
      if (!a) throw notFound(`area ${req.params.code} is not in the registry`);
      const { hash: _h, ...rest } = a;
      return { ...rest, boundary: (a.boundary as Record<string, unknown> | null) ?? null };
    },
  );

  for (const [path, category, kind] of [
    ['organizations', 'organization', 'organizations'],
    ['places', 'place', 'places'],
  ] as const) {
    app.get(
      `/api/registry/${path}`,
      {
        schema: {
          summary: `${category === 'organization' ? 'Organizations (机构)' : 'Places (场所: schools, kindergartens, pharmacies, care homes, sentinel sites)'}, paged, by type and area`,
          tags: [TAG],
          querystring: SiteListQuery,
          response: { 200: SitePage },
        },
      },
      async (req) => {
        await ctx.guard(req, 'fhir:read');
        const { q, ...rest } = req.query;
        const page = await listSites(db, category, { ...rest, search: q });
        return { total: page.total, items: page.items.map(({ hash: _h, ...s }) => s) };
      },
    );
    app.get(
      `/api/registry/${path}/:code`,
      { schema: { summary: `One ${category}`, tags: [TAG], params: z.object({ code: z.string().max(64) }), response: { 200: SiteItem } } },
      async (req) => {
        await ctx.guard(req, 'fhir:read');
        const s = await getSite(db.pool, req.params.code);
        if (!s || s.category !== category) throw notFound(`${category} ${req.params.code} is not in the registry`);
        const { hash: _h, ...rest } = s;
        return rest;
      },
    );
    app.put(
      `/api/registry/${path}/:code`,
      {
        schema: {
          summary: `Create or change one ${category} (the same checks as an import); 422 naming the problem`,
          tags: [TAG],
          params: z.object({ code: z.string().max(64) }),
          body: RecordBody,
          response: { 200: ImportReport, 422: ImportReport },
        },
      },
      async (req, reply) => {
        const user = await ctx.guard(req, 'import');
        const { status, ...report } = await saveRecord(
          db,
          repo,
          kind,
          { ...req.body, code: req.params.code },
          {
            username: user.username,
            audit: auditor(req, user, 'registry-edit'),
          },
        );
        return reply.code(status as 200 | 422).send(report);
      },
    );
  }

  app.put(
    '/api/registry/areas/:code',
    {
      schema: {
        summary: 'Create or change one area (the same checks as an import); 422 naming the problem',
        tags: [TAG],
        params: z.object({ code: z.string().max(12) }),
        body: RecordBody.extend({ boundary: z.record(z.unknown()).optional() }),
        response: { 200: ImportReport, 422: ImportReport },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'import');
      let boundary = req.body.boundary;
      if (!boundary) boundary = ((await getArea(db.pool, req.params.code))?.boundary as Record<string, unknown> | undefined) ?? undefined;
      const { status, ...report } = await saveRecord(
        db,
        repo,
        'areas',
        { ...req.body, boundary, code: req.params.code },
        {
          username: user.username,
          audit: auditor(req, user, 'registry-edit'),
        },
      );
      return reply.code(status as 200 | 422).send(report);
    },
  );
}

function charset(contentType: string): string | undefined {
  return /;\s*charset\s*=\s*"?([^";,\s]+)/i.exec(contentType)?.[1];
}

function RegistryKindOf(k: string): 'areas' | 'organizations' | 'places' {
  if (k === 'areas' || k === 'organizations' || k === 'places') return k;
  throw badRequest(`kind '${k.slice(0, 40)}' is not areas, organizations or places`);
}
