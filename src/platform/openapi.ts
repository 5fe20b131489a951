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
  return err.validation
    .map((v) => {
      const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
      return `${where}${field ? '.' + field : ''}: ${v.message}`;
    })
    .join('; ');
}

/**
 * @deprecated Hand-written route descriptions, kept only until every route declares zod
 * schemas; merged into the generated document where the route has none.
 */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  auth?: boolean;
  requestBody?: { contentType: string; schema: Record<string, unknown> };
  responses?: Record<string, string>;
}

const legacy: RouteDoc[] = [];

/** @deprecated Declare `schema` on the route instead (see the top of this file). */
export function describeRoute(doc: RouteDoc): void {
  legacy.push(doc);
}

export function openApiDocumentWithLegacy(app: FastifyInstance): Record<string, unknown> {
  const doc = openApiDocument(app) as { paths?: Record<string, Record<string, unknown>> };
  const paths = (doc.paths ??= {});
  for (const r of legacy) {
    if (paths[r.path]?.[r.method]) continue;
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.auth === false ? { security: [] } : {}),
      ...(r.requestBody
        ? { requestBody: { required: true, content: { [r.requestBody.contentType]: { schema: r.requestBody.schema } } } }
        : {}),
      responses: Object.fromEntries(Object.entries(r.responses ?? { '200': 'OK' }).map(([code, description]) => [code, { description }])),
    };
  }
  return doc as Record<string, unknown>;
}
