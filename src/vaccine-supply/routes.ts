/**
 * /api/vaccine-supply/* (clinics, GS1 codes, lots, receipts, transfers, discards, stock, warnings,
 * doses, the lot trace and its recipients) and /api/cold-chain/* (fridges and sensors, the HTTP
 * intake of readings, excursions and their recall lists, alarms and their acknowledgement).
 * Each route validates, guards, calls one service function and answers.
 */
import { z } from 'zod';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import {
  AckBody,
  AlarmList,
  AlarmQuery,
  AlarmView,
  ClinicBody,
  ClinicList,
  ClinicView,
  CodeParam,
  DiscardBody,
  DoseList,
  DoseQuery,
  ExcursionDetail,
  ExcursionList,
  ExcursionQuery,
  FridgeBody,
  FridgeList,
  FridgeQuery,
  FridgeView,
  Gs1Body,
  Gs1View,
  IdParam,
  IngestAnswer,
  LotList,
  LotQuery,
  LotStatusBody,
  LotTrace,
  LotView,
  MovementAnswer,
  PageQuery,
  ReadingList,
  ReadingQuery,
  ReadingsBody,
  ReceiptBody,
  RecipientList,
  StockList,
  StockQuery,
  TransferBody,
  WarningList,
  WarningQuery,
} from './schemas.js';
import * as svc from './service.js';
import type { SupplyDeps } from './service.js';

const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');

export function registerSupplyRoutes(ctx: ModuleContext, deps: SupplyDeps): void {
  const app = typed(ctx.app);
  const tags = ['vaccine-supply'];
  const cold = ['cold-chain'];

  app.post(
    '/api/vaccine-supply/clinics',
    {
      schema: {
        summary:
          'Registers a vaccination clinic (接种门诊) or the CDC store, with the names Immunization resources give its place (Location/<id>, Organization/<id>, a name): doses are matched to it by them. 409 when the code or a name is taken',
        tags,
        body: ClinicBody,
        response: { 201: ClinicView, 400: Problem, 409: Problem },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await svc.createClinic(deps, req.body));
    },
  );

  app.get(
    '/api/vaccine-supply/clinics',
    { schema: { summary: 'Clinics and stores, paged with the total', tags, querystring: PageQuery, response: { 200: ClinicList } } },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.clinics(deps, req.query);
    },
  );

  app.post(
    '/api/vaccine-supply/gs1',
    {
      schema: {
        summary:
          'Reads a scanned GS1 DataMatrix (raw with GS separators, "]d2" prefix, or the (AI)value form): GTIN (check digit checked), expiry (day 00: end of month), lot, serial. 422 names the problem',
        tags,
        body: Gs1Body,
        response: { 200: Gs1View, 400: Problem, 422: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.gs1(req.body.code);
    },
  );

  app.post(
    '/api/vaccine-supply/receipts',
    {
      schema: {
        summary:
          'Receives doses of a lot into a clinic’s fridge: the lot by id, by vaccine and lot number, or by its scanned GS1 code (a new lot is registered with its expiry and manufacturer). An expired, near-expiry or quarantined lot is received with a warning. 404 unknown clinic or fridge, 409 a lot known with another expiry, 422 a bad GS1 code or a missing field',
        tags,
        body: ReceiptBody,
        response: { 201: MovementAnswer, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await svc.receive(deps, req.body, user));
    },
  );

  app.post(
    '/api/vaccine-supply/transfers',
    {
      schema: {
        summary:
          'Moves doses of a lot from one clinic (or the CDC store) to another’s fridge: taken from one fridge or the fullest first. 409 when the sender has fewer doses',
        tags,
        body: TransferBody,
        response: { 201: MovementAnswer, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await svc.transfer(deps, req.body, user));
    },
  );

  app.post(
    '/api/vaccine-supply/discards',
    {
      schema: {
        summary: 'Discards doses of a lot at a clinic, with the reason (过期, 破损, 冷链中断). 409 when the clinic has fewer',
        tags,
        body: DiscardBody,
        response: { 201: MovementAnswer, 400: Problem, 404: Problem, 409: Problem, 422: Problem },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await svc.discard(deps, req.body, user));
    },
  );

  app.get(
    '/api/vaccine-supply/lots',
    {
      schema: { summary: 'Lots, soonest expiry first, paged with the total', tags, querystring: LotQuery, response: { 200: LotList } },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.lots(deps, req.query);
    },
  );

  app.post(
    '/api/vaccine-supply/lots/:id/status',
    {
      schema: {
        summary: 'Quarantines a lot (doses given from it are flagged) or releases it',
        tags,
        params: IdParam,
        body: LotStatusBody,
        response: { 200: LotView, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:write');
      return svc.setLotStatus(deps, req.params.id, req.body.status);
    },
  );

  app.get(
    '/api/vaccine-supply/lots/:id/trace',
    {
      schema: {
        summary:
          'The trace of a lot: receipts, transfers and discards; per clinic received, given and in stock; doses given; adverse events (AEFI) reported; the fridges it was in with their excursions during its stay',
        tags,
        params: IdParam,
        response: { 200: LotTrace, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return svc.trace(deps, req.params.id);
    },
  );

  app.get(
    '/api/vaccine-supply/lots/:id/recipients',
    {
      schema: {
        summary: 'Residents who received a dose of the lot (Patient id and name, dose, clinic, time), paged with the total',
        tags,
        params: IdParam,
        querystring: PageQuery,
        response: { 200: RecipientList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return svc.recipients(deps, req.params.id, req.query);
    },
  );

  app.get(
    '/api/vaccine-supply/stock',
    {
      schema: {
        summary:
          'Stock per clinic × vaccine × lot (per fridge inside), with expiry, manufacturer, days to expiry and its warnings; paged with the total',
        tags,
        querystring: StockQuery,
        response: { 200: StockList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.stock(deps, req.query);
    },
  );

  app.get(
    '/api/vaccine-supply/warnings',
    {
      schema: {
        summary:
          'Stock warnings: near expiry (90 and 30 days by default), expired in stock, below the minimum per vaccine, below zero, doses flagged (unstocked, expired or quarantined lot, unknown clinic, no lot); paged with the total',
        tags,
        querystring: WarningQuery,
        response: { 200: WarningList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.warnings(deps, req.query);
    },
  );

  app.get(
    '/api/vaccine-supply/doses',
    {
      schema: {
        summary: 'Doses given (from Immunization resources) with their clinic, lot and flags; newest first, paged with the total',
        tags,
        querystring: DoseQuery,
        response: { 200: DoseList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.doses(deps, req.query);
    },
  );

  // -------------------------------------------------------------------------------------------
  // Cold chain

  app.post(
    '/api/cold-chain/fridges',
    {
      schema: {
        summary:
          'Registers a fridge or cold box at a clinic, with the sensors that report for it. 404 unknown clinic, 409 a taken id or sensor',
        tags: cold,
        body: FridgeBody,
        response: { 201: FridgeView, 400: Problem, 404: Problem, 409: Problem },
      },
    },
    async (req, reply) => {
      await ctx.guard(req, 'fhir:write');
      return reply.code(201).send(await svc.createFridge(deps, req.body));
    },
  );

  app.get(
    '/api/cold-chain/fridges',
    {
      schema: {
        summary: 'Fridges and cold boxes with their sensors’ last readings, paged with the total',
        tags: cold,
        querystring: FridgeQuery,
        response: { 200: FridgeList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.fridges(deps, req.query);
    },
  );

  app.post(
    '/api/cold-chain/readings',
    {
      schema: {
        summary:
          'Temperature readings in a batch, for gateways without MQTT: stored, duplicates dropped, late ones stored without detection, unknown sensors’ and future ones kept aside and named; excursions and alarms follow at once',
        tags: cold,
        body: ReadingsBody,
        response: { 200: IngestAnswer, 400: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:write');
      return svc.intake(deps, req.body);
    },
  );

  app.get(
    '/api/cold-chain/sensors/:id/readings',
    {
      schema: {
        summary: 'A sensor’s readings in [from, to), newest first, paged with the total',
        tags: cold,
        params: CodeParam,
        querystring: ReadingQuery,
        response: { 200: ReadingList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.readings(deps, req.params.id, req.query);
    },
  );

  app.get(
    '/api/cold-chain/excursions',
    {
      schema: {
        summary: 'Excursions (one per episode outside the range): start, end, min/max, time outside; newest first, paged with the total',
        tags: cold,
        querystring: ExcursionQuery,
        response: { 200: ExcursionList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.excursions(deps, req.query);
    },
  );

  app.get(
    '/api/cold-chain/excursions/:id',
    {
      schema: {
        summary: 'One excursion with the lots in its fridge during it and the doses given from them since it began',
        tags: cold,
        params: IdParam,
        response: { 200: ExcursionDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.excursionDetail(deps, req.params.id);
    },
  );

  app.get(
    '/api/cold-chain/excursions/:id/recall',
    {
      schema: {
        summary:
          'The recall (revaccination) list of an excursion: residents given a dose of a lot that was in the fridge during it, since it began, at its clinic or where the lot was sent on; paged with the total',
        tags: cold,
        params: IdParam,
        querystring: PageQuery,
        response: { 200: RecipientList, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return svc.recall(deps, req.params.id, req.query);
    },
  );

  app.get(
    '/api/cold-chain/alarms',
    {
      schema: {
        summary:
          'Alarms (excursion, freezing, silent sensor) to the clinic, escalated to the CDC when not acknowledged in time; newest first, paged',
        tags: cold,
        querystring: AlarmQuery,
        response: { 200: AlarmList },
      },
    },
    async (req) => {
      await ctx.guard(req, 'fhir:read');
      return svc.alarms(deps, req.query);
    },
  );

  app.post(
    '/api/cold-chain/alarms/:id/acknowledge',
    {
      schema: {
        summary: 'Acknowledges an alarm (who, when, a note); the first acknowledgement stays. 404 unknown alarm',
        tags: cold,
        params: IdParam,
        body: AckBody,
        response: { 200: AlarmView, 404: Problem },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return svc.acknowledge(deps, req.params.id, req.body.note, user);
    },
  );
}
