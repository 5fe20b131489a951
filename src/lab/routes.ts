/**
 * /api/lab/*: orders, shipments (courier, seal, temperature readings), the barcode scan that
 * moves a specimen one step, specimen lists and details (with the custody chain checked),
 * breaches of the clocks, custody flags, the dashboard, the limits and the custody check.
 * Each route validates, guards, calls one service function and answers.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import {
  BarcodeParam,
  BreachList,
  BreachQuery,
  CustodyReport,
  Dashboard,
  DashboardQuery,
  FlagList,
  FlagQuery,
  LimitsView,
  OrderBody,
  OrderView,
  ReadingsBody,
  ScanAnswer,
  ScanBody,
  ShipmentBody,
  ShipmentParam,
  ShipmentView,
  SpecimenDetail,
  SpecimenList,
  SpecimenQuery,
} from './schemas.js';
import {
  addReadings,
  breaches,
  createOrder,
  createShipment,
  dashboard,
  flags,
  scan,
  shipment,
  specimenDetail,
  specimens,
  verifyCustody,
  type Actor,
  type LabDeps,
} from './service.js';

const tags = ['lab'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerLabRoutes(ctx: ModuleContext, deps: LabDeps): void {
  const app = typed(ctx.app);
  const actor = (user: AuthUser, ip: string) => ({ user, sourceAddress: ip });
  /**
   * A scan (or an adopted order) is about a resident the request does not name: the access policy
   * decides for that resident once the barcode (or the ServiceRequest) names them.
   */
  const writer = (req: FastifyRequest, user: AuthUser, resourceType: 'Specimen' | 'ServiceRequest'): Actor => {
    const access = ctx.access;
    return {
      user,
      sourceAddress: req.ip,
      authorize: access
        ? async (patientId) => {
            await access.enforce(req, user, { action: 'write', resourceType, patientIds: await access.residentIds(patientId) });
          }
        : undefined,
    };
  };

  app.post(
    '/api/lab/orders',
    {
      schema: {
        summary:
          'Registers a lab order: creates its ServiceRequest (test, mode routine/emergency, resident, ordering unit, investigation as text), or adopts an existing one from a hospital (serviceRequestId). 404 for an unknown resident or ServiceRequest, 409 when already registered, 422 when the test or the ordering unit is missing',
        tags,
        body: OrderBody,
        response: { 201: OrderView, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await createOrder(deps, req.body, writer(req, user, 'ServiceRequest')));
    },
  );

  app.post(
    '/api/lab/shipments',
    {
      schema: {
        summary:
          'Opens a shipment (a box or batch) from a unit to a lab: courier, seal number, departure, temperature range (default from config/lab/limits.json) and readings; readings out of range are stored and flagged (warnings), never refused',
        tags,
        body: ShipmentBody,
        response: { 201: ShipmentView, 400: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await createShipment(deps, req.body, actor(user, req.ip)));
    },
  );

  app.post(
    '/api/lab/shipments/:id/readings',
    {
      schema: {
        summary: 'Adds temperature readings (and the departure, if not yet set) to a shipment; out of range: stored, flagged, warned',
        tags,
        params: ShipmentParam,
        body: ReadingsBody,
        response: { 200: ShipmentView, 400: Problem, 404: Problem, 422: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return addReadings(deps, req.params.id, req.body, actor(user, req.ip));
    },
  );

  app.get(
    '/api/lab/shipments/:id',
    {
      schema: {
        summary: 'One shipment: courier, seal, readings (out-of-range ones named), specimens scanned into it',
        tags,
        params: ShipmentParam,
        response: { 200: ShipmentView, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return shipment(deps, req.params.id);
    },
  );

  app.post(
    '/api/lab/scan',
    {
      schema: {
        summary:
          'Moves one specimen one step, by its barcode: collect (order, type, container, collector) → ship (into a shipment) → receive (accepted, or rejected with the reason) → test → result → verify → report; refer sends a received specimen to another lab under the same identity. Who (the signed-in user, and the performer), when (at; now when absent) and where (unit, location) go into an append-only custody event chained by SHA-256. 404 unknown barcode or shipment; 409 a step not allowed now (duplicate barcode, receipt before shipment, received twice (flagged), anything after a rejection); 422 a time in the future or before the last step, the wrong unit',
        tags,
        body: ScanBody,
        response: { 200: ScanAnswer, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return scan(deps, req.body, writer(req, user, 'Specimen'));
    },
  );

  app.get(
    '/api/lab/specimens',
    {
      schema: {
        summary:
          'Specimens, paged with the total: by state, in flight (on a clocked leg), leg, unit, test, overdue, order or investigation; in flight ordered by deadline',
        tags,
        querystring: SpecimenQuery,
        response: { 200: SpecimenList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return specimens(deps, req.query);
    },
  );

  app.get(
    '/api/lab/specimens/:barcode',
    {
      schema: {
        summary: 'One specimen by barcode: its state and clock, order, every custody event (with the chain checked), breaches and flags',
        tags,
        params: BarcodeParam,
        response: { 200: SpecimenDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return specimenDetail(deps, req.params.barcode);
    },
  );

  app.get(
    '/api/lab/breaches',
    {
      schema: {
        summary: 'Breaches of the clocks, newest first, paged with the total: by leg, by the unit answering for it, open (still late) only',
        tags,
        querystring: BreachQuery,
        response: { 200: BreachList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return breaches(deps, req.query);
    },
  );

  app.get(
    '/api/lab/flags',
    {
      schema: {
        summary: 'Custody flags, newest first, paged with the total: no receipt by the limit, received twice, temperature out of range',
        tags,
        querystring: FlagQuery,
        response: { 200: FlagList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return flags(deps, req.query);
    },
  );

  app.get(
    '/api/lab/dashboard',
    {
      schema: {
        summary:
          'The lab loop now: specimens in flight and overdue by leg and unit, breaches by leg and unit; over specimens collected in [from, to): turnaround (median, p90 hours) per test and lab, rejection rate per test and collecting unit',
        tags,
        querystring: DashboardQuery,
        response: { 200: Dashboard, 422: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return dashboard(deps, req.query);
    },
  );

  app.get(
    '/api/lab/limits',
    {
      schema: { summary: 'The clocks: hours per leg by test group and mode (config/lab/limits.json)', tags, response: { 200: LimitsView } },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return {
        temperature: deps.limits.temperature,
        futureSkewSeconds: deps.limits.futureSkewMs / 1000,
        tests: deps.limits.table(),
      };
    },
  );

  app.get(
    '/api/lab/custody/verify',
    {
      schema: {
        summary: "Checks every specimen's custody chain (hashes, links, positions, heads) and names the first broken link",
        tags,
        response: { 200: CustodyReport },
      },
    },
    async (req) => {
      await ctx.guard(req, 'audit:read');
      return verifyCustody(deps.db);
    },
  );
}
