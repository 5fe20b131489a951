/**
 * How a capability (hl7v2, feeds, identity, surveillance, ...) plugs into the server: it gets
 * the shared services, registers its routes (describing each in OpenAPI), and may add
 * change-log processors and shutdown hooks. server.ts lists the modules in order.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FhirRepository } from '../fhir/repository.js';
import type { AuditLog } from '../fhir/audit.js';
import type { AccessControl } from '../fhir/access.js';
import type { AuthService, AuthUser, Permission } from './auth.js';
import type { Database } from './db.js';
import type { Migration } from './migrations.js';
import type { Processor, ProcessorControl } from './processors.js';

export interface ModuleContext {
  app: FastifyInstance;
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
  auth: AuthService;
  /** The access policy, for routes that must decide per resource or per linked Patient (filter, enforce, allowedPatients). */
  access?: AccessControl;
  /** Wake, drain or stop the change-log processors, wherever they run. */
  processors: ProcessorControl;
  /** Listens on this thread for events the module's processors emit (they may run in another thread). */
  onProcessorEvent(event: string, listener: (payload: unknown) => void): void;
  /** Authenticates the request and checks one permission; throws 401/403 otherwise. */
  guard(req: FastifyRequest, permission: Permission): Promise<AuthUser>;
  onClose(fn: () => Promise<void>): void;
  log(message: string): void;
  options: { mllpPort?: number; host?: string };
}

/**
 * What a module's change-log processors are built from. On PostgreSQL they are built and run in
 * the processor thread with its own connections, so they must not capture anything of the main
 * thread: what the main thread needs to hear of goes through `emit` (JSON-cloneable payloads).
 */
export interface ProcessorContext {
  db: Database;
  repo: FhirRepository;
  emit(event: string, payload: unknown): void;
}

export interface YifangModule {
  name: string;
  /**
   * The module's schema: its migrations and the version range they stay in. The composition
   * root collects them; a version outside the range, overlapping ranges or a table created by
   * two modules stop the server at start, naming both.
   */
  migrations?: { range: readonly [number, number]; list: readonly Migration[] };
  register(ctx: ModuleContext): Promise<void>;
  /** The module's change-log processors, built where they will run. */
  processors?(ctx: ProcessorContext): Processor[];
}
