/**
 * /api/hospital-feeds/*: templates (and their CSV files), per-facility column mappings, uploads
 * (202, processed in the background; progress and report), and dead letters (list, reprocess a
 * corrected line, dismiss). Every route needs the 'import' permission; uploads and reprocessing
 * are audited.
 */
import { z } from 'zod';
import { badRequest, notFound } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import {
  DeadLetterList,
  DeadLetterQuery,
  DismissAnswer,
  IdParam,
  MappingAnswer,
  MappingBody,
  MappingParams,
  ReprocessAnswer,
  ReprocessBody,
  TemplateFileParam,
  TemplateList,
  UploadAccepted,
  UploadDetail,
  UploadList,
  UploadListQuery,
  UploadQuery,
  TemplateParam,
} from './schemas.js';
import { dismissDeadLetter, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, receiveUpload, reprocessDeadLetter, type UploadWorker } from './service.js';
import { getMapping, getUpload, listDeadLetters, listUploads, saveMappingAudited } from './store.js';
import { isTemplate, mappingProblems, TEMPLATE_DEFS, TEMPLATES, templateCsv } from './templates.js';

const tags = ['hospital-feeds'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerHospitalFeedRoutes(ctx: ModuleContext, worker: UploadWorker): void {
  const app = typed(ctx.app);
  const deps = { db: ctx.db, repo: ctx.repo, audit: ctx.audit };

  app.get(
    '/api/hospital-feeds/templates',
    {
      schema: {
        summary: 'The six hospital CSV templates: columns (Chinese header, aliases, required), resources',
        tags,
        response: { 200: TemplateList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return {
        items: TEMPLATES.map((t) => ({
          ...TEMPLATE_DEFS[t],
          resources: [...TEMPLATE_DEFS[t].resources],
          columns: TEMPLATE_DEFS[t].columns.map((c) => ({ ...c, aliases: [...c.aliases] })),
        })),
      };
    },
  );

  app.get(
    '/api/hospital-feeds/templates/:template',
    {
      schema: {
        summary:
          'A template as a CSV file (UTF-8 with BOM so Excel opens it; the Chinese header and one example row): /api/hospital-feeds/templates/patients.csv',
        tags,
        params: TemplateFileParam,
        response: { 200: z.string(), 404: Problem },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'import');
      const name = req.params.template.replace(/\.csv$/, '');
      if (!isTemplate(name)) throw notFound(`no template '${name}'; one of ${TEMPLATES.join(', ')}`);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.csv"`)
        .send(templateCsv(name));
    },
  );

  app.get(
    '/api/hospital-feeds/mappings/:facility/:template',
    {
      schema: {
        summary: "A facility's column mapping for a template (empty and saved=false when none)",
        tags,
        params: MappingParams,
        response: { 200: MappingAnswer },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      const { facility, template } = req.params;
      const columns = await getMapping(ctx.db.pool, facility, template);
      return { facility, template, columns: columns ?? {}, saved: !!columns };
    },
  );

  app.put(
    '/api/hospital-feeds/mappings/:facility/:template',
    {
      schema: {
        summary:
          "Saves a facility's column mapping: template column key → the facility's header name (400 for an unknown key or a file column mapped twice)",
        tags,
        params: MappingParams,
        body: MappingBody,
        response: { 200: MappingAnswer, 400: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const { facility, template } = req.params;
      const columns = Object.fromEntries(Object.entries(req.body.columns).filter(([, v]) => v.trim() !== ''));
      const problems = mappingProblems(template, columns);
      if (problems.length) throw badRequest(problems.join('; '));
      await saveMappingAudited(ctx.db, facility, template, columns, user.username, (client) =>
        ctx.audit.recordNow(client, {
          user,
          action: 'U',
          subtype: 'hospital-feed-mapping',
          entities: [`hf_mapping ${facility}/${template}`],
          outcome: 'success',
          sourceAddress: req.ip,
        }),
      );
      return { facility, template, columns, saved: true };
    },
  );

  app.post(
    '/api/hospital-feeds/:template/uploads',
    {
      bodyLimit: MAX_UPLOAD_BYTES,
      schema: {
        summary: `Uploads a hospital CSV file (raw body, text/csv; UTF-8, GB18030 or the encoding named): kept raw and answered 202 with the upload id, then processed in the background (GET …/uploads/:id for progress and report). 400 naming the line and bytes when the file is not valid in the named or any detected encoding, or naming the column when the mapping names a column the header lacks (the raw file still kept); 413 over ${MAX_UPLOAD_BYTES / 1048576} MB or ${MAX_UPLOAD_ROWS} rows; 415 for an unknown encoding name`,
        tags,
        params: TemplateParam,
        querystring: UploadQuery,
        body: z.unknown().describe('The CSV file as sent (text/csv or text/plain)'),
        response: { 202: UploadAccepted, 400: Problem, 413: Problem, 415: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'import');
      const r = await receiveUpload(deps, {
        facility: req.query.facility,
        template: req.params.template,
        body: req.body as Buffer,
        encoding: req.query.encoding,
        fileName: req.query.fileName,
        user,
        sourceAddress: req.ip,
      });
      worker.enqueue(r.uploadId);
      return reply.code(202).send({ uploadId: r.uploadId, status: 'queued', rowsTotal: r.rowsTotal, encoding: r.encoding });
    },
  );

  app.get(
    '/api/hospital-feeds/uploads',
    {
      schema: {
        summary: 'Hospital feed uploads, newest first, paged with the total',
        tags,
        querystring: UploadListQuery,
        response: { 200: UploadList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      return listUploads(ctx.db.pool, req.query);
    },
  );

  app.get(
    '/api/hospital-feeds/uploads/:id',
    {
      schema: {
        summary:
          'One upload: status, progress counters (rows read, stored, unchanged, dead-lettered, flagged) and the first problems by line and column',
        tags,
        params: IdParam,
        response: { 200: UploadDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'import');
      const u = await getUpload(ctx.db.pool, req.params.id);
      if (!u) throw notFound(`upload ${req.params.id} not found`);
      return u;
    },
  );

  app.get(
    '/api/hospital-feeds/dead-letters',
    {
      schema: {
        summary:
          'Rows that could not be stored (line, original text, column, reason), newest first, paged with the total; filter by facility, upload, status',
        tags,
        querystring: DeadLetterQuery,
        response: { 200: DeadLetterList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      const list = await listDeadLetters(ctx.db.pool, req.query);
      void ctx.audit.record({
        user,
        action: 'E',
        subtype: 'search',
        entities: ['hospital feed dead letters'],
        outcome: 'success',
        query: req.url,
        sourceAddress: req.ip,
      });
      return list;
    },
  );

  app.post(
    '/api/hospital-feeds/dead-letters/:id/reprocess',
    {
      schema: {
        summary:
          "Reprocesses a dead letter with a corrected line (the upload's column order): stored → resolved; still unstorable → stays open with the new reason",
        tags,
        params: IdParam,
        body: ReprocessBody,
        response: { 200: ReprocessAnswer, 400: Problem, 404: Problem, 409: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      return reprocessDeadLetter(deps, req.params.id, req.body.line, user, req.ip);
    },
  );

  app.post(
    '/api/hospital-feeds/dead-letters/:id/dismiss',
    {
      schema: {
        summary: 'Dismisses a dead letter (the row will not be stored)',
        tags,
        params: IdParam,
        response: { 200: DismissAnswer, 404: Problem, 409: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      await dismissDeadLetter(deps, req.params.id, user, req.ip);
      return { status: 'dismissed' as const };
    },
  );
}
