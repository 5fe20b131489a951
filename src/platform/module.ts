/**
 * How a capability (hl7v2, feeds, identity, surveillance, ...) plugs into the server: it gets
 * the shared services, registers its routes (describing each in OpenAPI), and may add
 * change-log processors and shutdown hooks. server.ts lists the modules in order.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FhirRepository } from '../fhir/repository.js';
import type { AuditLog } from './audit.js';
import type { AuthService, AuthUser, Permission } from './auth.js';
import type { Database } from './db.js';
import type { ProcessorRunner } from './processors.js';

export interface ModuleContext {
  app: FastifyInstance;
  db: Database;
  repo: FhirRepository;
  audit: AuditLog;
  auth: AuthService;
  processors: ProcessorRunner;
  /** Authenticates the request and checks one permission; throws 401/403 otherwise. */
  guard(req: FastifyRequest, permission: Permission): Promise<AuthUser>;
  onClose(fn: () => Promise<void>): void;
  log(message: string): void;
  options: { mllpPort?: number; host?: string };
}

export interface YifangModule {
  name: string;
  register(ctx: ModuleContext): Promise<void>;
}
