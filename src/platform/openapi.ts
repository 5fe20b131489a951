/** OpenAPI description of every non-FHIR HTTP route (FHIR routes are described by /fhir/metadata). */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  auth?: boolean;
  requestBody?: { contentType: string; schema: Record<string, unknown> };
  responses?: Record<string, string>;
}

const routes: RouteDoc[] = [];

/** Modules call this next to where they register a route, so the document cannot drift far. */
export function describeRoute(doc: RouteDoc): void {
  routes.push(doc);
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'Yifang (医防) platform API',
      version: '0.1.0',
      description: 'Non-FHIR routes of Yifang. The FHIR R4 API lives at /fhir; its CapabilityStatement is /fhir/metadata.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
