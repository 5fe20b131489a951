/**
 * The OpenAPI document of every non-FHIR HTTP route (FHIR routes are described by
 * /fhir/metadata), built by @fastify/swagger from the same zod schemas that validate each
 * route's query, parameters, body and response (fastify-type-provider-zod). A route declares
 *
 *   app.get('/api/x', { schema: { summary, tags: ['x'], querystring: z.object(…), response: { 200: z.object(…) } } }, handler)
 *
 * on `typed(ctx.app)`, which types `req.query`/`req.body`/`req.params` from the schemas.
 * A request that fails its schema is answered 400 naming the field (see `validationMessage`);
 * a response that fails its schema is a server bug and answers 500.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';

export type { ZodTypeProvider };

/** The app with request and reply types taken from zod route schemas. */
export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}

/** Routes left out of the document: the FHIR API (its own CapabilityStatement) and the web app. */
const UNDOCUMENTED = /^\/(fhir(\/|$)|assets\/|$)|^\/\*/;

/** Installs zod validation and serialization and the document generator (before any route). */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Yifang (医防) platform API',
        version: '0.1.0',
        description: 'Non-FHIR routes of Yifang. The FHIR R4 API lives at /fhir; its CapabilityStatement is /fhir/metadata.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: (input) => {
      if (UNDOCUMENTED.test(input.url)) return { schema: { ...input.schema, hide: true }, url: input.url };
      return jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
    },
  });
}

/** The document (call after the server is ready). */
export function openApiDocument(app: FastifyInstance): Record<string, unknown> {
  return app.swagger() as unknown as Record<string, unknown>;
}

/** A schema-validation failure as one sentence naming each field, or undefined for other errors. */
export function validationMessage(err: unknown): string | undefined {
  if (!hasZodFastifySchemaValidationErrors(err)) return undefined;
  const where = (err as { validationContext?: string }).validationContext ?? 'request';
  const english = err.validation
    .map((v) => {
      const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return `${where}${field ? '.' + field : ''}: ${v.message}`;
    })
    .join('; ');
  const chinese = err.validation
    .map((v) => {
      const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return `${WHERE_ZH[where] ?? '请求'}${field ? ` ${field}` : ''}：${zhIssue((v.params as { issue?: ZodIssueLike } | undefined)?.issue)}`;
    })
    .join('；');
  return `${english} / ${chinese}`;
}

const WHERE_ZH: Record<string, string> = { querystring: '查询参数', body: '提交内容', params: '路径参数', headers: '请求头' };

interface ZodIssueLike {
  code?: string;
  type?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  expected?: string;
  received?: string;
  options?: unknown[];
  keys?: string[];
}

/** A zod issue in Chinese words, for the user reading the answer in the web app (the English stays first). */
function zhIssue(issue: ZodIssueLike | undefined): string {
  if (!issue) return '格式不正确';
  const n = (v: number | bigint | undefined) => String(v);
  switch (issue.code) {
    case 'too_big':
      return issue.type === 'string'
        ? `最多 ${n(issue.maximum)} 个字符`
        : issue.type === 'array'
          ? `最多 ${n(issue.maximum)} 项`
          : `不能大于 ${n(issue.maximum)}`;
    case 'too_small':
      if (issue.type === 'string') return Number(issue.minimum) <= 1 ? '不能为空' : `至少 ${n(issue.minimum)} 个字符`;
      return issue.type === 'array' ? `至少 ${n(issue.minimum)} 项` : `不能小于 ${n(issue.minimum)}`;
    case 'invalid_type':
      return issue.received === 'undefined' ? '必填' : `应为${TYPE_ZH[issue.expected ?? ''] ?? issue.expected}`;
    case 'invalid_enum_value':
    case 'invalid_literal':
      return issue.options?.length ? `应为以下之一：${issue.options.map(String).join('、')}` : '取值不在允许范围内';
    case 'unrecognized_keys':
      return `不认识的字段：${(issue.keys ?? []).join('、')}`;
    case 'invalid_date':
      return '日期不正确';
    default:
      return '格式不正确';
  }
}

const TYPE_ZH: Record<string, string> = {
  string: '文字',
  number: '数字',
  integer: '整数',
  boolean: '是或否',
  array: '列表',
  object: '对象',
  date: '日期',
};
