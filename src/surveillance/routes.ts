/**
 * HTTP routes of the surveillance capability: report cards (/api/report-cards), alerts
 * (/api/alerts) and signals (/api/surveillance/...). Each route declares its zod schemas
 * (schemas.ts: validation, serialization and the OpenAPI document), checks one permission and
 * calls one store or service function; the SQL lives in those.
 */
import { z } from 'zod';
import { contentDisposition } from '../shared/table-file.js';
import { hasPermission, type AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { addComment, alertPage, alertsFile, getAlert, notifications, transitionAlert } from './alerts/store.js';
import { alertCases, alertSeries } from './alerts/views.js';
import { addWebhook, listDeliveries, listWebhooks } from './alerts/webhooks.js';
import type { SurveillanceEngine } from './engine.js';
import { geographyFeatures } from './geography.js';
import {
  correctCard,
  facilityStats,
  getCard,
  cardsFile,
  listCards,
  receiveCards,
  reviewCard,
  submitCard,
  updateDraft,
  type ReportingDeps,
  type WriteAudit,
} from './reporting/store.js';
import {
  AlertCase,
  AlertComment,
  AlertDetail,
  AlertIdParams,
  AlertListQuery,
  AlertPage,
  AlertNotification,
  AlertSeries,
  AlertSummary,
  CardIdParams,
  CardListQuery,
  CommentBody,
  CorrectBody,
  DetectBody,
  DetectResult,
  DraftUpdateBody,
  FacilityStat,
  FallbackFeedParams,
  FallbackFeedResult,
  GeoFeatureCollection,
  GeographyQuery,
  IliQuery,
  IliRow,
  IngestBatch,
  IngestResult,
  NotificationsQuery,
  Overview,
  OverviewQuery,
  PublicReportBody,
  ReportCardDetail,
  ReportCardList,
  ReportCardRecord,
  ReportCardsInput,
  ReviewBody,
  SeriesQuery,
  SignalConfig,
  SignalSeries,
  SubmitBody,
  TransitionBody,
  Webhook,
  WebhookBody,
  WebhookCreated,
  WebhookDelivery,
  WebhookIdParams,
} from './schemas.js';
import { addPublicReport, detectRange, iliPercent, importFeedCsv, seriesInRange, signalOverview } from './signals/store.js';

const TAG_CARDS = 'surveillance-report-cards';
const TAG_ALERTS = 'surveillance-alerts';
const TAG_SIGNALS = 'surveillance-signals';

export function registerSurveillanceRoutes(ctx: ModuleContext, engine: SurveillanceEngine, reporting: ReportingDeps): void {
  const { db } = ctx;
  const app = typed(ctx.app);
  /** Reads are audited through the buffered log (off the read path). */
  const audit = (user: AuthUser, action: 'R', subtype: string, entity: string) =>
    ctx.audit.record({ user, action, subtype, entities: [entity], outcome: 'success' });
  /** Writes record their AuditEvent in the writing transaction (commit or roll back together). */
  const writeAudit =
    (user: AuthUser, action: 'C' | 'U', sourceAddress?: string): WriteAudit =>
    (client, what) =>
      ctx.audit.recordNow(client, {
        user,
        action,
        subtype: what.subtype,
        entities: what.entities,
        outcome: 'success',
        outcomeText: what.outcomeText,
        sourceAddress,
      });

  // ------------------------------------------------------------------ report cards
  app.post(
    '/api/report-cards',
    {
      schema: {
        summary:
          'Receive complete report cards (传染病报告卡) from another system: one card object or an array of at most 5000 (the simulator report-cards.ndjson shape). One card: 201 accepted, 200 unchanged, 400 naming the fields; an array: per-card results',
        tags: [TAG_CARDS],
        body: ReportCardsInput,
        response: { 200: z.union([IngestBatch, IngestResult]), 201: IngestResult },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'fhir:write');
      const r = await receiveCards(reporting, req.body, user.username, writeAudit(user, 'C', req.ip));
      return reply.code(r.status).send(r.body);
    },
  );

  app.get(
    '/api/report-cards',
    {
      schema: {
        summary: 'Report cards, newest first (at most `limit`, 50 by default, 500 at most)',
        tags: [TAG_CARDS],
        querystring: CardListQuery,
        response: { 200: ReportCardList },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const r = await listCards(db, req.query);
      audit(user, 'R', 'search', 'report cards');
      return r;
    },
  );

  app.get(
    '/api/report-cards/export',
    {
      schema: {
        summary:
          'The filtered report-card list as a file: format=xlsx (Excel) or csv (GB18030, opens in Chinese Excel); the same filters as the list, newest first, in words, at most 50,000 cards',
        tags: [TAG_CARDS],
        querystring: CardListQuery.omit({ limit: true, offset: true }).extend({ format: z.enum(['xlsx', 'csv']).default('xlsx') }),
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const { format, ...q } = req.query;
      const file = await cardsFile(db, q, format);
      audit(user, 'R', 'export', 'report cards');
      return reply.type(file.contentType).header('content-disposition', contentDisposition(file.fileName)).send(file.body);
    },
  );

  app.get(
    '/api/report-cards/stats',
    {
      schema: {
        summary: 'Late, incomplete and duplicate reporting per facility',
        tags: [TAG_CARDS],
        response: { 200: z.array(FacilityStat) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return facilityStats(db);
    },
  );

  app.get(
    '/api/report-cards/:id',
    {
      schema: {
        summary: 'One report card with its history (who did what, when, why); 404 when there is no such card',
        tags: [TAG_CARDS],
        params: CardIdParams,
        response: { 200: ReportCardDetail },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const r = await getCard(db, req.params.id);
      audit(user, 'R', 'read', `report card ${req.params.id}`);
      return r;
    },
  );

  app.put(
    '/api/report-cards/:id',
    {
      schema: {
        summary: 'Save changes to a draft or returned card (400 names an invalid field; 409: not a draft, or changed by someone else)',
        tags: [TAG_CARDS],
        params: CardIdParams,
        body: DraftUpdateBody,
        response: { 200: ReportCardRecord },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return updateDraft(reporting, req.params.id, req.body.card, req.body.version, user.username, writeAudit(user, 'U', req.ip));
    },
  );

  app.post(
    '/api/report-cards/:id/submit',
    {
      schema: {
        summary:
          'Doctor submits a completed draft (optionally with last changes); the answer says late and duplicateOf. 400 names a missing or invalid field; 409: out of order or changed by someone else',
        tags: [TAG_CARDS],
        params: CardIdParams,
        body: SubmitBody,
        response: { 200: ReportCardRecord },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return submitCard(reporting, req.params.id, req.body.card, req.body.version, user.username, writeAudit(user, 'U', req.ip));
    },
  );

  app.post(
    '/api/report-cards/:id/review',
    {
      schema: {
        summary:
          'CDC review: action "approve" (审核), "correct" (订正, with corrections) or "return" (退卡, with reason). 409: not submitted, or changed by someone else',
        tags: [TAG_CARDS],
        params: CardIdParams,
        body: ReviewBody,
        response: { 200: ReportCardRecord },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:write');
      return reviewCard(reporting, req.params.id, req.body, user.username, writeAudit(user, 'U', req.ip));
    },
  );

  app.post(
    '/api/report-cards/:id/correct',
    {
      schema: {
        summary:
          "订正 a submitted or reviewed card: corrections, reason, version. The event keeps each changed field before and after; a CDC correction (surveillance:write) leaves the card reviewed, a reporting doctor's sends it back to review (submitted)",
        tags: [TAG_CARDS],
        params: CardIdParams,
        body: CorrectBody,
        response: { 200: ReportCardRecord },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'fhir:write');
      return correctCard(
        reporting,
        req.params.id,
        req.body,
        user.username,
        { reviewer: hasPermission(user, 'surveillance:write') },
        writeAudit(user, 'U', req.ip),
      );
    },
  );

  // ------------------------------------------------------------------ alerts
  app.get(
    '/api/alerts',
    {
      schema: {
        summary:
          'A page of alerts, worst first (open, past the 研判 deadline, level, agreeing sources, joint p, latest evidence) or newest first, with the total and the count per status; areaCodes lists every street an alert covers',
        tags: [TAG_ALERTS],
        querystring: AlertListQuery,
        response: { 200: AlertPage },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const r = await alertPage(db, req.query);
      audit(user, 'R', 'search', 'alerts');
      return r;
    },
  );

  app.get(
    '/api/alerts/export',
    {
      schema: {
        summary:
          "The board's filtered alert list as a file: format=xlsx (Excel) or csv (GB18030, for Chinese Excel), in the board's order, in words, at most 10,000 alerts",
        tags: [TAG_ALERTS],
        querystring: AlertListQuery.omit({ limit: true, offset: true }).extend({ format: z.enum(['xlsx', 'csv']).default('xlsx') }),
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const { format, ...q } = req.query;
      const file = await alertsFile(db, q, format);
      audit(user, 'R', 'export', 'alerts');
      return reply.type(file.contentType).header('content-disposition', contentDisposition(file.fileName)).send(file.body);
    },
  );

  app.get(
    '/api/alerts/:id',
    {
      schema: {
        summary: 'One alert: evidence, workflow events, discussion (研判会商) and allowed next steps; 404 when there is no such alert',
        tags: [TAG_ALERTS],
        params: AlertIdParams,
        response: { 200: AlertDetail },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const r = await getAlert(db, req.params.id);
      audit(user, 'R', 'read', `alert ${req.params.id}`);
      return r;
    },
  );

  app.get(
    '/api/alerts/:id/series',
    {
      schema: {
        summary:
          'Time series of every signal contributing to the alert, with the detector threshold per day; evidence: alarm, or weak (sub-threshold days only)',
        tags: [TAG_ALERTS],
        params: AlertIdParams,
        response: { 200: z.array(AlertSeries) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return alertSeries(engine, req.params.id);
    },
  );

  app.get(
    '/api/alerts/:id/cases',
    {
      schema: {
        summary:
          'Line list of the cases behind the alert (visits with the syndrome, report cards, lab positives) with community centroids for the map',
        tags: [TAG_ALERTS],
        params: AlertIdParams,
        response: { 200: z.array(AlertCase) },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:read');
      const r = await alertCases(engine, req.params.id);
      audit(user, 'R', 'read', `alert ${req.params.id} cases`);
      return r;
    },
  );

  app.post(
    '/api/alerts/:id/transitions',
    {
      schema: {
        summary:
          'Workflow step to triage (with assignee), dismissed, suspected, confirmed (with reason), response or closed. 400: missing reason/assignee/version; 409: step out of order, or the alert was changed by someone else (version)',
        tags: [TAG_ALERTS],
        params: AlertIdParams,
        body: TransitionBody,
        response: { 200: AlertSummary },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'surveillance:write');
      return transitionAlert(
        { db, repo: ctx.repo, fusion: engine.config.fusion, notify: (e) => engine.notify(e) },
        req.params.id,
        req.body,
        user,
        writeAudit(user, 'U', req.ip),
      );
    },
  );

  app.post(
    '/api/alerts/:id/comments',
    {
      schema: {
        summary: 'Add to the 研判会商 discussion',
        tags: [TAG_ALERTS],
        params: AlertIdParams,
        body: CommentBody,
        response: { 201: AlertComment },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:read');
      return reply.code(201).send(await addComment(db, req.params.id, req.body.body, user, writeAudit(user, 'C', req.ip)));
    },
  );

  // ------------------------------------------------------------------ signals
  app.get(
    '/api/surveillance/series',
    {
      schema: {
        summary:
          'Daily counts of one signal in one area (community, street or district code) with the configured detector threshold; from defaults to 89 days before to (default today), at most 3 years',
        tags: [TAG_SIGNALS],
        querystring: SeriesQuery,
        response: { 200: SignalSeries },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return seriesInRange(engine, req.query);
    },
  );

  app.get(
    '/api/surveillance/overview',
    {
      schema: {
        summary:
          'Recent trend of every signal by street: daily counts for the last `days` (28) days up to `to` (default: the latest day with data), and alarms',
        tags: [TAG_SIGNALS],
        querystring: OverviewQuery,
        response: { 200: Overview },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return signalOverview(engine, req.query);
    },
  );

  app.get(
    '/api/surveillance/ili',
    {
      schema: {
        summary: 'ILI % (ILI visits ÷ outpatient and emergency visits) by day and facility or age group (default the last 28 days)',
        tags: [TAG_SIGNALS],
        querystring: IliQuery,
        response: { 200: z.array(IliRow) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return iliPercent(db, req.query);
    },
  );

  app.get(
    '/api/surveillance/signals',
    {
      schema: {
        summary: 'The detector configuration of every signal (config/surveillance/signals.json)',
        tags: [TAG_SIGNALS],
        response: { 200: z.array(SignalConfig) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return engine.config.signals;
    },
  );

  app.get(
    '/api/surveillance/geography',
    {
      schema: {
        summary: 'District areas as a GeoJSON FeatureCollection for maps (properties code, name, level, parent, centroid)',
        tags: [TAG_SIGNALS],
        querystring: GeographyQuery,
        response: { 200: GeoFeatureCollection },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return geographyFeatures(db, req.query.level ?? 'street');
    },
  );

  app.post(
    '/api/surveillance/public-reports',
    {
      schema: {
        summary: 'Enter a public or media report (舆情/群众报告)',
        tags: [TAG_SIGNALS],
        body: PublicReportBody,
        response: { 201: z.object({ id: z.number().int() }) },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:write');
      return reply.code(201).send(await addPublicReport(engine, req.body, user.username, writeAudit(user, 'C', req.ip)));
    },
  );

  app.post(
    '/api/surveillance/feeds/:feed',
    {
      schema: {
        summary: 'Fallback feed import (text/csv, the simulator CSV columns) when the feeds module is absent',
        tags: [TAG_SIGNALS],
        params: FallbackFeedParams,
        body: z.unknown().describe('CSV text (text/csv)'),
        response: { 200: FallbackFeedResult },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'import');
      return importFeedCsv(engine, req.params.feed, req.body, writeAudit(user, 'C', req.ip));
    },
  );

  app.post(
    '/api/surveillance/detect',
    {
      schema: {
        summary: 'Re-run every detector and fusion over a range (from ≤ to)',
        tags: [TAG_SIGNALS],
        body: DetectBody,
        response: { 200: DetectResult },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:write');
      return detectRange(engine, req.body.from, req.body.to);
    },
  );

  app.get(
    '/api/surveillance/notifications',
    {
      schema: {
        summary: 'Recent alert events for in-app notifications (since: ISO time, default the last 7 days)',
        tags: [TAG_SIGNALS],
        querystring: NotificationsQuery,
        response: { 200: z.array(AlertNotification) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:read');
      return notifications(db, req.query.since);
    },
  );

  app.post(
    '/api/surveillance/webhooks',
    {
      schema: {
        summary: 'Subscribe a URL to alert events; deliveries retried with backoff, signed with HMAC-SHA256 when there is a secret',
        tags: [TAG_SIGNALS],
        body: WebhookBody,
        response: { 201: WebhookCreated },
      },
    },
    async (req, reply) => {
      const user = await ctx.guard(req, 'surveillance:write');
      return reply.code(201).send(await addWebhook(db, req.body.url, req.body.secret, user.username, writeAudit(user, 'C', req.ip)));
    },
  );

  app.get(
    '/api/surveillance/webhooks',
    {
      schema: {
        summary: 'Webhook subscriptions with pending/failed delivery counts',
        tags: [TAG_SIGNALS],
        response: { 200: z.array(Webhook) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:write');
      return listWebhooks(db);
    },
  );

  app.get(
    '/api/surveillance/webhooks/:id/deliveries',
    {
      schema: {
        summary: 'Deliveries of one subscription (status, attempts, last error)',
        tags: [TAG_SIGNALS],
        params: WebhookIdParams,
        response: { 200: z.array(WebhookDelivery) },
      },
    },
    async (req) => {
      await ctx.guard(req, 'surveillance:write');
      return listDeliveries(db, req.params.id);
    },
  );
}
