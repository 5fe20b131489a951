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
