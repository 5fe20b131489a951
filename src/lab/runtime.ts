/**
 * The lab's workflows for other modules, outside an HTTP request (a drill orders, collects,
 * ships, receives, tests, results, verifies and reports a specimen through them): the running
 * module's deps per store (`labRuntime`, set by module.ts at start and removed on close), and
 * functions that run the same service code as the routes as a given user, each step audited with
 * the reason given. The access policy's resident check is the caller's business (the routes do it).
 */
import type { AuthUser } from '../platform/auth.js';
import type { Database } from '../platform/db.js';
import type { OrderBody, OrderView, ScanAnswer, ScanBody, ShipmentBody, ShipmentView } from './schemas.js';
import { createOrder, createShipment, scan, type Actor, type LabDeps } from './service.js';

/** The running module's deps per store. */
export const labRuntime = new Map<Database, LabDeps>();

function actorFor(db: Database, user: AuthUser, reason: string): { deps: LabDeps; actor: Actor } {
  const deps = labRuntime.get(db);
  if (!deps) throw new Error('the lab module is not running on this store');
  return { deps, actor: { user, reason, purpose: 'PUBHLTH' } };
}

/** Registers a lab order as `user` (POST /api/lab/orders without the HTTP request). */
export async function orderAs(db: Database, body: OrderBody, user: AuthUser, reason: string): Promise<OrderView> {
  const { deps, actor } = actorFor(db, user, reason);
  return createOrder(deps, body, actor);
}

/** Opens a shipment as `user` (POST /api/lab/shipments). */
export async function shipmentAs(
  db: Database,
  body: Omit<ShipmentBody, 'readings'> & { readings?: ShipmentBody['readings'] },
  user: AuthUser,
  reason: string,
): Promise<ShipmentView> {
  const { deps, actor } = actorFor(db, user, reason);
  return createShipment(deps, { ...body, readings: body.readings ?? [] }, actor);
}

/** Scans one step of one specimen as `user` (POST /api/lab/scan): the same state machine, clocks, custody and FHIR. */
export async function scanAs(db: Database, body: ScanBody, user: AuthUser, reason: string): Promise<ScanAnswer> {
  const { deps, actor } = actorFor(db, user, reason);
  return scan(deps, body, actor);
}
