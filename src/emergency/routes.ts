/**
 * /api/emergency/*: units; teams, members, training and certificates, on-call rota, mobilisation
 * and acknowledgements; reserves (receipts, FEFO issues, transfers, stock, movements, cover
 * against the 30-day standard, warnings); the emergency mode and daily zero reports; drills and
 * their after-action reports. Each route validates, guards, calls one service function and answers.
 */
import { z } from 'zod';
import type { AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { createDrill, drill, drills, runDrill } from './drill.js';
import * as S from './schemas.js';
import * as svc from './service.js';
import type { Actor, EmergencyDeps } from './service.js';

const tags = ['emergency'];
const Problem = z.record(z.unknown()).describe('OperationOutcome naming the problem');
const P = { 400: Problem, 404: Problem, 409: Problem, 422: Problem };

export function registerEmergencyRoutes(ctx: ModuleContext, deps: EmergencyDeps): void {
  const app = typed(ctx.app);
  const actor = (user: AuthUser, ip: string): Actor => ({ user, sourceAddress: ip });
  const READ = 'surveillance:read' as const;
  const WRITE = 'surveillance:write' as const;

  // Units ---------------------------------------------------------------------------------------
  app.post(
    '/api/emergency/units',
    {
      schema: {
        summary: 'Registers (or renames) a unit taking part: code, name, area code',
        tags,
        body: S.UnitBody,
        response: { 200: S.UnitView, ...P },
      },
    },
    async (req) => svc.saveUnit(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/units',
    { schema: { summary: 'Units taking part, paged with the total', tags, querystring: S.PageQuery, response: { 200: S.UnitList } } },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.units(deps, req.query);
    },
  );

  // Teams ---------------------------------------------------------------------------------------
  app.post(
    '/api/emergency/teams',
    {
      schema: {
        summary:
          'Creates a team of a unit: 流调队 (epidemiology), 检测队 (testing), 消杀队 (disinfection) or 医疗救治队 (medical). 409 when the unit has a team of that name, 422 for an unregistered unit',
        tags,
        body: S.TeamBody,
        response: { 201: S.TeamView, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.createTeam(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.get(
    '/api/emergency/teams',
    {
      schema: {
        summary: 'Teams with their active members and on-call counts today, paged with the total',
        tags,
        querystring: S.TeamQuery,
        response: { 200: S.TeamList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.teams(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/teams/:id',
    {
      schema: {
        summary: 'One team with its members (role, phone, certificates valid/expiring/expired)',
        tags,
        params: S.IdParam,
        response: { 200: S.TeamDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.teamDetail(deps, req.params.id);
    },
  );
  app.post(
    '/api/emergency/teams/:id/members',
    {
      schema: {
        summary: 'Adds or updates members (practitioner id, name, role leader/deputy/member, phone; active false takes one off the team)',
        tags,
        params: S.IdParam,
        body: S.MembersBody,
        response: { 200: S.TeamDetail, ...P },
      },
    },
    async (req) => svc.saveMembers(deps, req.params.id, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.put(
    '/api/emergency/teams/:id/rota',
    {
      schema: {
        summary:
          "Sets who of the team is on call on the days listed (each day listed replaces that day's entries); 422 for someone not an active member",
        tags,
        params: S.IdParam,
        body: S.RotaBody,
        response: { 200: z.array(S.OnCallView), ...P },
      },
    },
    async (req) => svc.saveRota(deps, req.params.id, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/on-call',
    {
      schema: {
        summary: 'Who is on call on a day (today when absent), by team',
        tags,
        querystring: S.OnCallQuery,
        response: { 200: S.OnCallView },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.onCallOn(deps, req.query);
    },
  );
  app.post(
    '/api/emergency/trainings',
    {
      schema: {
        summary: 'Records training attended or a certificate held by a practitioner (with its expiry)',
        tags,
        body: S.TrainingBody,
        response: { 201: S.TrainingView, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.addTraining(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.get(
    '/api/emergency/trainings',
    {
      schema: {
        summary:
          'Training and certificates, soonest expiry first, paged with the total: by practitioner or team; state expired or expiring (within 90 days) lists what to renew',
        tags,
        querystring: S.TrainingQuery,
        response: { 200: S.TrainingList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.trainings(deps, req.query);
    },
  );

  // Mobilisation --------------------------------------------------------------------------------
  app.post(
    '/api/emergency/mobilisations',
    {
      schema: {
        summary:
          'Mobilises teams from an alert or an investigation: every active member (or those on call today) is notified once and must acknowledge within the limit (the body’s, else the mode’s in force for the area). 404 unknown team, 422 no member to notify',
        tags,
        body: S.MobiliseBody,
        response: { 201: S.MobilisationDetail, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.mobilise(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.get(
    '/api/emergency/mobilisations',
    {
      schema: {
        summary: 'Mobilisations, newest first, paged with the total, with notified / acknowledged / pending / overdue counts; by source',
        tags,
        querystring: S.MobilisationQuery,
        response: { 200: S.MobilisationList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.mobilisations(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/mobilisations/:id',
    {
      schema: {
        summary: 'One mobilisation with every member notified and their acknowledgement',
        tags,
        params: S.IdParam,
        response: { 200: S.MobilisationDetail, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.mobilisationDetail(deps, req.params.id);
    },
  );
  app.post(
    '/api/emergency/mobilisations/:id/acknowledgements',
    {
      schema: {
        summary: 'Records a member’s acknowledgement (at: now when absent). 404 someone not notified, 409 already acknowledged',
        tags,
        params: S.IdParam,
        body: S.AckBody,
        response: { 200: S.MobilisationDetail, ...P },
      },
    },
    async (req) => svc.acknowledgeMobilisation(deps, req.params.id, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/acknowledgements/pending',
    {
      schema: {
        summary: 'Acknowledgements still awaited, the earliest due first, paged with the total; overdue=true: only those past their limit',
        tags,
        querystring: S.PendingQuery,
        response: { 200: S.PendingList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.pendingAcknowledgements(deps, req.query);
    },
  );

  // Reserves ------------------------------------------------------------------------------------
  app.get(
    '/api/emergency/reserves/items',
    {
      schema: {
        summary: 'The item catalogue (config/emergency) with the default emergency-scenario daily use',
        tags,
        response: { 200: S.ItemList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      const r = deps.settings.reserves;
      return { items: r.items, standardDays: r.standardDays, expiryWarningDays: r.expiryWarningDays };
    },
  );
  app.post(
    '/api/emergency/reserves/receipts',
    {
      schema: {
        summary:
          'Receives a batch into a unit’s stock (batch number, expiry, quantity); a batch already held must keep its expiry (422). Warns when it is near expiry',
        tags,
        body: S.ReceiptBody,
        response: { 201: S.MovementAnswer, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.receive(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.post(
    '/api/emergency/reserves/issues',
    {
      schema: {
        summary:
          'Issues stock, first-expiring batches first (expired batches are never issued); one movement per batch. 409 when the unexpired stock is short (nothing written). Warns when the unit falls below the standard',
        tags,
        body: S.IssueBody,
        response: { 201: S.MovementAnswer, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.issue(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.post(
    '/api/emergency/reserves/transfers',
    {
      schema: {
        summary:
          'Transfers stock to another unit, first-expiring first, batches kept: a transfer-out and a transfer-in per batch. 422 an unregistered unit, 409 short stock',
        tags,
        body: S.TransferBody,
        response: { 201: S.MovementAnswer, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.transfer(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.get(
    '/api/emergency/reserves/stock',
    {
      schema: {
        summary: 'Stock by unit, item and batch (expiry class named), paged with the total',
        tags,
        querystring: S.StockQuery,
        response: { 200: S.StockList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.stock(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/reserves/movements',
    {
      schema: {
        summary: 'Stock movements (append-only), newest first, paged with the total',
        tags,
        querystring: S.MovementQuery,
        response: { 200: S.MovementList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.movements(deps, req.query);
    },
  );
  app.put(
    '/api/emergency/reserves/scenario-use',
    {
      schema: {
        summary: "Sets a unit's emergency-scenario daily use per item (0: not held there); answers the unit's cover",
        tags,
        body: S.ScenarioUseBody,
        response: { 200: S.UnitCover, ...P },
      },
    },
    async (req) => svc.setScenarioUse(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/reserves/cover',
    {
      schema: {
        summary:
          'Days of cover per unit and item: usable stock, observed daily use (issues over the last 30 days), scenario daily use, days at the larger of the two, and whether the unit meets the ≥ 30-day standard; paged by unit with the total',
        tags,
        querystring: S.CoverQuery,
        response: { 200: S.CoverList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.coverList(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/reserves/warnings',
    {
      schema: {
        summary: 'Below-standard items, expired batches and batches expiring within 90 or 30 days, paged with the total',
        tags,
        querystring: S.WarningQuery,
        response: { 200: S.WarningList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.warnings(deps, req.query);
    },
  );

  // Mode and zero reports ----------------------------------------------------------------------
  app.post(
    '/api/emergency/modes',
    {
      schema: {
        summary:
          'Switches the district or an area into emergency mode at level I–IV (平急转换 / 应急分级响应); an open mode of the same area changes level (ended and replaced in one transaction). Audited. 409 when already at that level',
        tags,
        body: S.ModeBody,
        response: { 201: S.ModeAnswer, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await svc.startMode(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.post(
    '/api/emergency/modes/:id/end',
    {
      schema: {
        summary: 'Ends an emergency mode (back to routine there). Audited. 409 when already ended',
        tags,
        params: S.IdParam,
        body: S.EndModeBody,
        response: { 200: S.ModeView, ...P },
      },
    },
    async (req) => svc.finishMode(deps, req.params.id, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/modes',
    {
      schema: {
        summary: 'Emergency modes, newest first, paged with the total: active or ended, by area',
        tags,
        querystring: S.ModeQuery,
        response: { 200: S.ModeList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.modes(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/modes/current',
    {
      schema: {
        summary:
          'The mode in force for an area at an instant (now when absent) and what it changes: lab limits column, report deadline hours, daily zero reporting, acknowledgement limit',
        tags,
        querystring: S.CurrentModeQuery,
        response: { 200: S.CurrentModeView },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.modeNow(deps, req.query);
    },
  );
  app.post(
    '/api/emergency/zero-reports',
    {
      schema: {
        summary:
          'A unit’s daily report (零报告): counts by category, or none / all 0 for a zero report; a second report of the same day replaces the first',
        tags,
        body: S.ZeroReportBody,
        response: { 200: S.ZeroReportView, ...P },
      },
    },
    async (req) => svc.zeroReport(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/zero-reports',
    {
      schema: {
        summary: 'Daily reports, newest first, paged with the total',
        tags,
        querystring: S.ZeroReportQuery,
        response: { 200: S.ZeroReportList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.zeroReports(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/zero-reports/missing',
    {
      schema: {
        summary:
          'Units that must report daily on a day (today when absent: their area is in a mode requiring it) and have not, paged with the total',
        tags,
        querystring: S.MissingQuery,
        response: { 200: S.MissingList },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return svc.missingZeroReports(deps, req.query);
    },
  );

  // Drills --------------------------------------------------------------------------------------
  app.post(
    '/api/emergency/drills',
    {
      schema: {
        summary: 'Records a planned drill (always an exercise): the teams it mobilises, specimens, targets per step',
        tags,
        body: S.DrillBody,
        response: { 201: S.DrillView, ...P },
      },
    },
    async (req, reply) => reply.code(201).send(await createDrill(deps, req.body, actor(await ctx.guard(req, WRITE), req.ip))),
  );
  app.post(
    '/api/emergency/drills/:id/run',
    {
      schema: {
        summary:
          'Runs a planned drill end to end on synthetic data marked as an exercise — alert (a report card in the drill area) → mobilisation → investigation → specimens → results — timing each step, and answers the after-action report (steps not reachable through the modules’ exports are recorded as skipped with the reason). 409 when not planned',
        tags,
        params: S.IdParam,
        response: { 200: S.DrillView, ...P },
      },
    },
    async (req) => runDrill(deps, req.params.id, actor(await ctx.guard(req, WRITE), req.ip)),
  );
  app.get(
    '/api/emergency/drills',
    { schema: { summary: 'Drills, newest first, paged with the total', tags, querystring: S.PageQuery, response: { 200: S.DrillList } } },
    async (req) => {
      await ctx.guard(req, READ);
      return drills(deps, req.query);
    },
  );
  app.get(
    '/api/emergency/drills/:id',
    {
      schema: {
        summary: 'One drill with its scenario and after-action report',
        tags,
        params: S.IdParam,
        response: { 200: S.DrillView, 404: Problem },
      },
    },
    async (req) => {
      await ctx.guard(req, READ);
      return drill(deps, req.params.id);
    },
  );
}
