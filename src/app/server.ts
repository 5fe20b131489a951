/**
 * Composition root for the HTTP server: database → migrations → modules → routes.
 * `startServer` is what `npm start`, the CLI and the end-to-end tests all call.
 */
import type { Readable } from 'node:stream';
import { NoChineseFontError } from '../shared/report-file.js';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import helmet from '@fastify/helmet';
import { loadDefinitions } from '../fhir/definitions.js';
import { importNdjson, importBundle } from '../fhir/import.js';
import { FhirRepository } from '../fhir/repository.js';
import { FHIR_JSON, registerFhirRoutes } from '../fhir/rest.js';
import { parseJsonBody } from '../fhir/limits.js';
import { AuditLog } from '../fhir/audit.js';
import { defaultAuditKeyDir } from '../fhir/audit-keys.js';
import { AuthService, CREDENTIAL_LIMITS, requirePermission, type AuthUser } from '../platform/auth.js';
import { UserBudget } from '../platform/user-budget.js';
import {
  DB_LIMITS,
  enterForeground,
  isCancelledByClient,
  isConnectionError,
  isStatementTimeout,
  openDatabase,
  QueryScope,
  runInQueryScope,
  type Database,
} from '../platform/db.js';
import { HttpError } from '../platform/errors.js';
import { z } from 'zod';
import { installOpenApi, openApiDocument, typed, validationMessage } from '../platform/openapi.js';
import type { Bundle } from '@medplum/fhirtypes';
import { MODULES, migrateAll } from './modules.js';
import { registerPlatformRoutes } from './platform-routes.js';
import { registerUserRoutes } from './user-routes.js';
import type { YifangModule } from '../platform/module.js';
import type { ModuleContext } from '../platform/module.js';
import { ProcessorHub } from './processor-thread.js';
import { registerAuditRoutes, trustedProxies } from './audit-routes.js';
import { installAccessHooks } from './access-hooks.js';
import { registerAccessRoutes } from './access-routes.js';
import { AccessControl } from '../fhir/access.js';
import { loadPolicy } from '../fhir/policy.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
  /** Load the demo data on first start (empty store). */
  loadDemo?: boolean;
  /** Demo district size (residents, days) and the last days sent as HL7 v2; defaults in demo.ts. */
  demo?: { population?: number; days?: number; hl7Days?: number };
  adminPassword?: string;
  quiet?: boolean;
  bodyLimitMb?: number;
  sharedDir?: string;
  /** MLLP (HL7 v2) listener port; 0 picks a free one; undefined uses MLLP_PORT or 2575. */
  mllpPort?: number;
  /** Use an already open database (tests). */
  db?: Database;
  /** Requests one user may have in progress at once (more wait up to 10 s, then 429). Default 8. */
  userConcurrency?: number;
  /** The capabilities to run (default: all of src/app/modules.ts). */
  modules?: readonly YifangModule[];
  /**
   * Run the change-log processors in a thread of their own (PostgreSQL only; default on there).
   * Off, they share the main thread's event loop with intake.
   */
  processorThread?: boolean;
  /**
   * Reads' AuditEvents through a write-ahead file in the data directory, drained to the
   * database in batches (src/fhir/audit-wal.ts). Default: on for PGlite, off for PostgreSQL.
   */
  auditReadWal?: boolean;
  /** The access policy file (default: ACCESS_POLICY or config/security/policy.json). */
  accessPolicy?: string;
}

/** The access policy file: ACCESS_POLICY if set, else config/security/policy.json. */
export function accessPolicyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.ACCESS_POLICY || path.join(repoRoot, 'config', 'security', 'policy.json');
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  db: Database;
  repo: FhirRepository;
  auth: AuthService;
  audit: AuditLog;
  processors: ProcessorHub;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.quiet ? () => undefined : (m: string) => console.log(m);
  loadDefinitions();
  const db = options.db ?? (await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }));
  const modules = [...(options.modules ?? MODULES)];
  await migrateAll(db, (m) => log(`[db] ${m}`), modules);
  const repo = new FhirRepository(db);
  const auth = new AuthService(db);
  const audit = new AuditLog(db, {
    // On PGlite the file is acknowledged once written, not fdatasynced (audit-wal.ts, syncToDisk).
    readWal: (options.auditReadWal ?? db.kind === 'pglite') ? { syncToDisk: db.kind !== 'pglite' } : false,
    readWalDir: path.join(defaultAuditKeyDir(db.dataDir ?? options.dataDir), 'audit-wal'),
  });
  await audit.init();

  const adminPassword = options.adminPassword ?? 'yifang-admin';
  if (!options.databaseUrl) {
    // Demo mode: make sure the administrator exists with the configured password.
    await auth.addUser({
      username: 'admin',
      password: adminPassword,
      displayName: '系统管理员',
      roles: ['admin'],
      organization: '演示区卫生健康局',
    });
  }

  const app = Fastify({ logger: false, bodyLimit: Math.round((options.bodyLimitMb ?? 32) * 1024 * 1024), trustProxy: trustedProxies() });
  await installOpenApi(app);
  // Security headers on every answer. The web app loads scripts only from its own files; Ant
  // Design injects <style> at run time, hence 'unsafe-inline' for styles (not scripts). HSTS
  // only on requests that came over TLS (X-Forwarded-Proto from the proxy in front).
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onSend', async (req, reply) => {
    if (req.protocol === 'https') void reply.header('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  });

  // FHIR JSON bodies; NDJSON and HL7 stay raw streams/text for the modules that read them.
  // Valid UTF-8, nested within FHIR_LIMITS.jsonDepth (checked on the text first), then parsed.
  app.addContentTypeParser(['application/fhir+json', 'application/json'], { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (err) {
      done(err as HttpError, undefined);
    }
  });
  app.addContentTypeParser(['application/x-ndjson', 'application/fhir+ndjson'], (_req, payload, done) => done(null, payload));
  app.addContentTypeParser(
    [
      'text/plain',
      'text/csv',
      'x-application/hl7-v2+er7',
      'application/hl7-v2',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Database work of each request runs in a query scope: when the client goes away before the
  // answer, its running statements are cancelled instead of holding connections for nobody.
  app.addHook('onRequest', (req, reply, done) => {
    const scope = new QueryScope();
    // On PGlite's one session, background work (a full recompute) waits until no request is in flight.
    const leave = enterForeground(db);
    reply.raw.once('close', () => {
      leave();
      if (!reply.raw.writableFinished) void scope.abort();
    });
    runInQueryScope(scope, done);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    let e: HttpError;
    const invalid = validationMessage(err);
    if (err instanceof HttpError) e = err;
    else if (isConnectionError(err)) {
      console.error(`[http] ${req.method} ${req.url}: database unavailable: ${err.message}`);
      e = new HttpError(
        503,
        'The database is unavailable (connection lost); nothing was changed by this request. Try again shortly.',
        'transient',
      );
      void reply.header('Retry-After', '5');
    } else if (isStatementTimeout(err)) {
      e = new HttpError(
        503,
        `The request ran longer than the database's limit of ${DB_LIMITS.statementTimeoutMs / 1000} s and was cancelled; narrow it (fewer values, a shorter period, paging).`,
        'too-costly',
      );
      void reply.header('Retry-After', '30');
    } else if (isCancelledByClient(err)) e = new HttpError(503, 'The client went away; the request was cancelled.', 'transient');
    else if (err instanceof NoChineseFontError) e = new HttpError(503, err.message, 'not-supported');
    else if (invalid !== undefined) e = new HttpError(400, invalid, 'invalid');
    else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      e = new HttpError(
        413,
        `Request body is larger than the limit of ${options.bodyLimitMb ?? 32} MB; use bulk import for large files`,
        'too-costly',
      );
    else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      e = new HttpError(
        415,
        `Unsupported Content-Type '${req.headers['content-type'] ?? ''}' for ${req.method} ${req.routeOptions.url ?? req.url}: FHIR and /api routes take application/fhir+json or application/json; imports also take application/fhir+ndjson; feeds text/csv (hospital uploads also .xlsx workbooks); HL7 x-application/hl7-v2+er7`,
        'not-supported',
      );
    else if (err.statusCode && err.statusCode < 500) e = new HttpError(err.statusCode, err.message, 'invalid');
    else {
      console.error(`[http] ${req.method} ${req.url}:`, err);
      e = new HttpError(500, 'Internal error; the request was not completed. The server log has details.', 'exception');
    }
    if (e.headers) void reply.headers(e.headers);
    void reply.code(e.status).type(FHIR_JSON).send(e.toOperationOutcome());
  });

  // The pool is shared: a reserve of connections is kept for light requests (health, reads by id,
  // login), so slow searches can never take them all; and one user may not take more than a
  // share of the rest. Requests beyond either wait briefly, then get 503 / 429 with Retry-After.
  const poolMax = (db.pool as unknown as { options: { max?: number } }).options.max ?? 10;
  const reserve = Math.max(1, Math.ceil(poolMax / 4));
  const heavyGate = new UserBudget({ concurrent: Math.max(1, poolMax - reserve), waitMs: 15_000, refusal: 'busy' });
  const budget = new UserBudget({
    concurrent: options.userConcurrency ?? Math.max(1, Math.floor(((poolMax - reserve) * 2) / 3)),
    waitMs: 10_000,
  });
  const LIGHT = /^\/(healthz|auth\/|fhir\/metadata|fhir\/[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?(\?|$))/;
  const isHeavy = (req: FastifyRequest) => !LIGHT.test(req.url) && (req.url.startsWith('/fhir') || req.url.startsWith('/api/'));
  const releaseAll = async (req: FastifyRequest) => {
    budget.release(req);
    heavyGate.release(req);
  };
  app.addHook('onResponse', releaseAll);
  app.addHook('onRequestAbort', releaseAll);
  const authenticate = async (req: FastifyRequest): Promise<AuthUser> => {
    const user = await auth.authenticate(req.headers.authorization);
    if (isHeavy(req)) {
      // The user's own share first, so one user's queue never holds the district's slots.
      await budget.acquire(req, user.username);
      await heavyGate.acquire(req, '*');
    }
    return user;
  };

  const api = typed(app);
  api.get(
    '/healthz',
    {
      schema: {
        summary: 'Health check (no authentication)',
        tags: ['platform'],
        security: [],
        response: { 200: z.object({ status: z.literal('ok'), store: z.enum(['pglite', 'postgres']) }) },
      },
    },
    async () => {
      await db.query('select 1');
      return { status: 'ok' as const, store: db.kind };
    },
  );

  // Bounded before anything else runs: an oversized credential is a 400, never audited or stored.
  const LoginBody = z.object(
    {
      username: z.string().max(CREDENTIAL_LIMITS.username, `at most ${CREDENTIAL_LIMITS.username} characters`),
      password: z.string().max(CREDENTIAL_LIMITS.password, `at most ${CREDENTIAL_LIMITS.password} characters`),
      code: z.string().max(16).optional().describe('the one-time code of a user who enrolled a second factor (TOTP)'),
    },
    { message: 'Send JSON {"username": "...", "password": "..."}' },
  );
  api.post(
    '/auth/login',
    {
      schema: {
        summary: 'Log in; returns a bearer token (OAuth 2.0 token response fields)',
        tags: ['auth'],
        security: [],
        body: LoginBody,
      },
    },
    async (req, reply) => {
      const body = req.body;
      try {
        const { token, user, expiresIn } = await auth.login({ ...body, address: req.ip });
        audit.record({
          user,
          action: 'E',
          subtype: 'login',
          entities: [`user:${user.username}`],
          outcome: 'success',
          sourceAddress: req.ip,
        });
        return reply.send({ access_token: token, token_type: 'Bearer', expires_in: expiresIn, user });
      } catch (err) {
        audit.record({
          user: { username: body.username.slice(0, 64), displayName: body.username.slice(0, 64), roles: [] },
          action: 'E',
          subtype: 'login',
          entities: [`user:${body.username.slice(0, 64)}`],
          outcome: 'failure',
          sourceAddress: req.ip,
        });
        throw err;
      }
    },
  );
  api.post(
    '/auth/logout',
    { schema: { summary: 'End the session of the bearer token', tags: ['auth'], response: { 200: z.object({ ok: z.literal(true) }) } } },
    async (req) => {
      await auth.logout(req.headers.authorization);
      return { ok: true as const };
    },
  );
  api.get('/auth/me', { schema: { summary: 'The logged-in user, roles and organization', tags: ['auth'] } }, async (req) =>
    auth.authenticate(req.headers.authorization, { allowPasswordChange: true }),
  );

  api.get('/api/docs', { schema: { summary: 'This OpenAPI document', tags: ['platform'], security: [] } }, async () =>
    openApiDocument(app),
  );

  const ImportAnswer = z.object({
    resources: z.number().describe('resources stored'),
    errors: z.array(z.object({ file: z.string(), line: z.number().optional(), message: z.string() })),
    files: z.number(),
    seconds: z.number(),
  });
  api.post(
    '/api/import',
    {
      schema: {
        summary:
          'Bulk import: FHIR NDJSON (application/fhir+ndjson, streamed) or a Bundle (application/fhir+json); bad lines are listed, good ones kept',
        tags: ['fhir-import'],
        consumes: ['application/fhir+ndjson', 'application/x-ndjson', 'application/fhir+json'],
        response: { 200: ImportAnswer },
      },
    },
    async (req, reply) => {
      const user = await authenticate(req);
      requirePermission(user, 'import');
      const type = req.headers['content-type'] ?? '';
      const stats = type.includes('ndjson')
        ? await importNdjson(repo, req.body as NodeJS.ReadableStream as Readable, 'request body')
        : await importBundle(repo, req.body as Bundle, 'request body');
      await repo.db.transaction((c) =>
        audit.recordNow(c, {
          user,
          action: 'C',
          subtype: 'import',
          entities: [`import of ${stats.resources} resources`],
          outcome: stats.errors.length ? 'failure' : 'success',
          outcomeText: stats.errors.length ? `${stats.errors.length} lines rejected` : undefined,
        }),
      );
      return reply.send(stats);
    },
  );

  const access = new AccessControl(loadPolicy(options.accessPolicy ?? accessPolicyFile()), db, audit);
  installAccessHooks(app, { access, audit, authenticate });
  registerFhirRoutes(app, { repo, audit, access, authenticate });
  registerAuditRoutes(app, { db, audit, authenticate });
  registerAccessRoutes(app, { db, repo, audit, access, authenticate });

  const processorListeners = new Map<string, ((payload: unknown) => void)[]>();
  const processors = new ProcessorHub({
    db,
    repo,
    modules,
    thread: db.kind === 'postgres' && options.processorThread !== false,
    onEvent: (event, payload) => {
      for (const listener of processorListeners.get(event) ?? []) listener(payload);
    },
    log: (m) => console.error(m),
  });
  const closeHooks: (() => Promise<void>)[] = [];
  const moduleContext: ModuleContext = {
    app,
    db,
    repo,
    audit,
    auth,
    access,
    processors,
    onProcessorEvent(event, listener) {
      processorListeners.set(event, [...(processorListeners.get(event) ?? []), listener]);
    },
    async guard(req, permission) {
      const user = await authenticate(req);
      requirePermission(user, permission);
      return user;
    },
    onClose: (fn) => closeHooks.push(fn),
    log,
    options: { mllpPort: options.mllpPort, host: options.host },
  };
  registerPlatformRoutes(moduleContext);
  registerUserRoutes(moduleContext);
  for (const m of modules) await m.register(moduleContext);
  // Every FHIR write wakes the processors, so derived data follows within milliseconds.
  app.addHook('onResponse', async (req) => {
    if (req.method !== 'GET') processors.poke();
  });

  const webDist = path.join(repoRoot, 'web', 'dist');
  if (fs.existsSync(path.join(webDist, 'index.html'))) {
    // wildcard: files are looked up per request, so a rebuilt app is served without a restart.
    await app.register(fastifyStatic, {
      root: webDist,
      prefix: '/',
      wildcard: true,
      index: false,
      // The build writes .br and .gz copies of its text assets (scripts/compress-web.mjs): sent to browsers that accept them.
      preCompressed: true,
      cacheControl: false,
      setHeaders: (res, file) => {
        // Hashed assets never change; index.html must be revalidated to pick up new builds.
        res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.get('/', (_req, reply) => {
    if (!fs.existsSync(path.join(webDist, 'index.html')))
      return reply.type('text/plain').send('Yifang: the web app is not built; run npm run build');
    return reply
      .header('Cache-Control', 'no-cache')
      .type('text/html')
      .send(fs.createReadStream(path.join(webDist, 'index.html')));
  });
  // The resident portal's own page (web/portal/index.html): React and the portal only, for phones.
  app.get('/portal', (_req, reply) => reply.redirect('/portal/'));
  app.get('/portal/', (_req, reply) => {
    const page = path.join(webDist, 'portal', 'index.html');
    if (!fs.existsSync(page)) return reply.code(404).type('text/plain').send('Yifang: the web app is not built; run npm run build');
    return reply.header('Cache-Control', 'no-cache').type('text/html').send(fs.createReadStream(page));
  });
  app.setNotFoundHandler((req, reply) => {
    const pathname = req.url.split('?')[0]!;
    const isAppRoute =
      !pathname.startsWith('/fhir') && !pathname.startsWith('/api') && !pathname.startsWith('/assets/') && !/\.[a-z0-9]+$/i.test(pathname);
    if (req.method === 'GET' && isAppRoute && fs.existsSync(path.join(webDist, 'index.html'))) {
      return reply
        .header('Cache-Control', 'no-cache')
        .type('text/html')
        .send(fs.createReadStream(path.join(webDist, 'index.html')));
    }
    return reply
      .code(404)
      .type(FHIR_JSON)
      .send(new HttpError(404, `No route ${req.method} ${req.url.split('?')[0]}`, 'not-found').toOperationOutcome());
  });

  if (options.loadDemo) {
    const { loadDemoData } = await import('./demo.js');
    await loadDemoData({ repo, db, app, auth, adminPassword, sharedDir: options.sharedDir, log, ...options.demo });
  }

  processors.start();
  const address = await app.listen({ port: options.port ?? 8080, host: options.host ?? '127.0.0.1' });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
  return {
    url,
    app,
    db,
    repo,
    auth,
    audit,
    processors,
    async close() {
      await app.close();
      await processors.close();
      for (const fn of closeHooks.reverse()) await fn();
      await audit.close();
      if (!options.db) await db.close();
    },
  };
}
