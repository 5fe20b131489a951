/**
 * HTTP routes of the surveillance capability: report cards (/api/report-cards), alerts
 * (/api/alerts) and signals (/api/surveillance/...). Each is described in OpenAPI next to its
 * registration and guarded by a permission.
 */
import type { FastifyRequest } from 'fastify';
import { hasPermission, type AuthUser } from '../platform/auth.js';
import { badRequest, HttpError } from '../platform/errors.js';
import type { ModuleContext } from '../platform/module.js';
import { describeRoute } from '../platform/openapi.js';
import { addDays, dayDiff, dayRange, judgeSeries, loadDerivedSeriesByArea } from './alerts/detect.js';
import { addComment, getAlert, listAlerts, notifications, transitionAlert } from './alerts/store.js';
import { addWebhook, listDeliveries, listWebhooks } from './alerts/webhooks.js';
import { areaAt, signalConfigFor } from './config.js';
import type { SurveillanceEngine } from './engine.js';
import { geographyFeatures } from './geography.js';
import {
  correctCard,
  facilityStats,
  getCard,
  ingestCards,
  listCards,
  reviewCard,
  submitCard,
  updateDraft,
  type ReportingDeps,
  type WriteAudit,
} from './reporting/store.js';
import { ingestAbsenceRows, ingestPharmacyRows, parseAbsenceCsv, parsePharmacyCsv } from './signals/feeds.js';

const TAG_CARDS = 'surveillance-report-cards';
const TAG_ALERTS = 'surveillance-alerts';
const TAG_SIGNALS = 'surveillance-signals';

const q = (req: FastifyRequest) => (req.query ?? {}) as Record<string, string | undefined>;
const body = (req: FastifyRequest) => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
const DAY = /^\d{4}-\d{2}-\d{2}$/;
function dayParam(v: string | undefined, name: string): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (!DAY.test(v)) throw badRequest(`${name}: must be YYYY-MM-DD (got '${v}')`);
  return v;
}
function alertId(req: FastifyRequest): number {
  const id = Number((req.params as { id: string }).id);
  if (!Number.isInteger(id) || id < 1) throw badRequest(`alert id must be a positive integer (got '${(req.params as { id: string }).id}')`);
  return id;
}

export function registerSurveillanceRoutes(ctx: ModuleContext, engine: SurveillanceEngine, reporting: ReportingDeps): void {
  const { app, db } = ctx;
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
  describeRoute({
    method: 'post',
    path: '/api/report-cards',
    tag: TAG_CARDS,
    summary:
      'Receive complete report cards (传染病报告卡) from another system: one card object or an array (the simulator report-cards.ndjson shape)',
    requestBody: { contentType: 'application/json', schema: { oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] } },
    responses: {
      '200':
        'Array input: {"accepted","rejected","results":[{"index","cardId","status","errors":[{"field","message"}],"duplicateOf","late"}]}',
      '201': 'One card accepted',
      '400': 'One card rejected: OperationOutcome naming the field',
    },
  });
  app.post('/api/report-cards', async (req, reply) => {
    const user = await ctx.guard(req, 'fhir:write');
    const input = req.body;
    if (input === undefined || input === null || typeof input !== 'object')
      throw badRequest('Send one report card (JSON object) or an array of them');
    const list = Array.isArray(input) ? input : [input];
    if (list.length > 5000) throw badRequest(`At most 5000 cards per request (got ${list.length})`);
    const results = await ingestCards(reporting, list, user.username, writeAudit(user, 'C', req.ip));
    if (!Array.isArray(input)) {
      const r = results[0]!;
      if (r.status === 'rejected') {
        throw new HttpError(
          400,
          `Report card rejected: ${r.errors!.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
          'invalid',
          r.errors!.map((e) => ({ severity: 'error', code: 'invalid', expression: [e.field], diagnostics: `${e.field}: ${e.message}` })),
        );
      }
      return reply.code(r.status === 'accepted' ? 201 : 200).send(r);
    }
    return reply.send({
      accepted: results.filter((r) => r.status === 'accepted').length,
      rejected: results.filter((r) => r.status === 'rejected').length,
      results,
    });
  });

  describeRoute({
    method: 'get',
    path: '/api/report-cards',
    tag: TAG_CARDS,
    summary:
      'Report cards, newest first. Query: status (draft,submitted,reviewed,returned,superseded; comma list), facility, disease, overdue=true, limit, offset',
    responses: { '200': '{"total","cards":[...]}' },
  });
  app.get('/api/report-cards', async (req) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const p = q(req);
    const r = await listCards(db, {
      status: p.status,
      facility: p.facility,
      disease: p.disease,
      overdue: p.overdue === 'true',
      limit: p.limit ? Number(p.limit) : undefined,
      offset: p.offset ? Number(p.offset) : undefined,
    });
    audit(user, 'R', 'search', 'report cards');
    return r;
  });

  describeRoute({
    method: 'get',
    path: '/api/report-cards/stats',
    tag: TAG_CARDS,
    summary: 'Late, incomplete and duplicate reporting per facility',
    responses: { '200': '[{"facility","name","total","late","incomplete","duplicate","rejected","returned","overdueDrafts"}]' },
  });
  app.get('/api/report-cards/stats', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    return facilityStats(db);
  });

  describeRoute({
    method: 'get',
    path: '/api/report-cards/{id}',
    tag: TAG_CARDS,
    summary: 'One report card with its history (who did what, when, why)',
    responses: { '200': 'The card row with "card" (JSON) and "events"', '404': 'No such card' },
  });
  app.get('/api/report-cards/:id', async (req) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const id = (req.params as { id: string }).id;
    const r = await getCard(db, id);
    audit(user, 'R', 'read', `report card ${id}`);
    return r;
  });

  describeRoute({
    method: 'put',
    path: '/api/report-cards/{id}',
    tag: TAG_CARDS,
    summary: 'Save changes to a draft or returned card: {"card": {...fields}, "version"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['card', 'version'] } },
    responses: { '200': 'The card', '400': 'A field is invalid (named)', '409': 'Not a draft, or changed by someone else' },
  });
  app.put('/api/report-cards/:id', async (req) => {
    const user = await ctx.guard(req, 'fhir:write');
    const b = body(req);
    if (!b.card || typeof b.card !== 'object') throw badRequest('card: send the fields to change as an object');
    return updateDraft(
      reporting,
      (req.params as { id: string }).id,
      b.card as never,
      b.version,
      user.username,
      writeAudit(user, 'U', req.ip),
    );
  });

  describeRoute({
    method: 'post',
    path: '/api/report-cards/{id}/submit',
    tag: TAG_CARDS,
    summary: 'Doctor submits a completed draft (optionally with last changes): {"card"?, "version"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['version'] } },
    responses: {
      '200': 'The submitted card (late, duplicateOf)',
      '400': 'A mandatory field is missing or invalid (named)',
      '409': 'Out of order or changed by someone else',
    },
  });
  app.post('/api/report-cards/:id/submit', async (req) => {
    const user = await ctx.guard(req, 'fhir:write');
    const b = body(req);
    return submitCard(
      reporting,
      (req.params as { id: string }).id,
      b.card as never,
      b.version,
      user.username,
      writeAudit(user, 'U', req.ip),
    );
  });

  describeRoute({
    method: 'post',
    path: '/api/report-cards/{id}/review',
    tag: TAG_CARDS,
    summary: 'CDC review: {"action": "approve" (审核) | "correct" (订正, with "corrections") | "return" (退卡, with "reason"), "version"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['action', 'version'] } },
    responses: { '200': 'The reviewed card', '400': 'Missing reason/corrections', '409': 'Not submitted, or changed by someone else' },
  });
  app.post('/api/report-cards/:id/review', async (req) => {
    const user = await ctx.guard(req, 'surveillance:write');
    const b = body(req);
    return reviewCard(
      reporting,
      (req.params as { id: string }).id,
      {
        action: b.action as never,
        reason: typeof b.reason === 'string' ? b.reason : undefined,
        corrections: b.corrections as never,
        version: b.version,
      },
      user.username,
      writeAudit(user, 'U', req.ip),
    );
  });

  describeRoute({
    method: 'post',
    path: '/api/report-cards/{id}/correct',
    tag: TAG_CARDS,
    summary:
      '订正 a submitted or reviewed card: {"corrections": {...fields}, "reason", "version"}. The event keeps each changed field before and after; a CDC correction (surveillance:write) leaves the card reviewed, a reporting doctor\'s sends it back to review (submitted)',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['corrections', 'reason', 'version'] } },
    responses: {
      '200': 'The corrected card',
      '400': 'Missing reason, nothing changed, or a field is invalid (named)',
      '409': 'Not submitted/reviewed, or changed by someone else',
    },
  });
  app.post('/api/report-cards/:id/correct', async (req) => {
    const user = await ctx.guard(req, 'fhir:write');
    const b = body(req);
    return correctCard(
      reporting,
      (req.params as { id: string }).id,
      { corrections: b.corrections as never, reason: typeof b.reason === 'string' ? b.reason : undefined, version: b.version },
      user.username,
      { reviewer: hasPermission(user, 'surveillance:write') },
      writeAudit(user, 'U', req.ip),
    );
  });

  // ------------------------------------------------------------------ alerts
  describeRoute({
    method: 'get',
    path: '/api/alerts',
    tag: TAG_ALERTS,
    summary:
      'Alerts, newest first (id, status, level, areaCode, areaCodes (every street the alert covers), sources, firstEvidenceAt, lastEvidenceAt, createdAt, ...). Query: status (comma list or "open"), level, area, overdue=true, limit',
    responses: { '200': 'JSON array of alerts' },
  });
  app.get('/api/alerts', async (req) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const p = q(req);
    const r = await listAlerts(db, {
      status: p.status,
      level: p.level,
      area: p.area,
      overdue: p.overdue === 'true',
      limit: p.limit ? Number(p.limit) : undefined,
    });
    audit(user, 'R', 'search', 'alerts');
    return r;
  });

  describeRoute({
    method: 'get',
    path: '/api/alerts/{id}',
    tag: TAG_ALERTS,
    summary: 'One alert: evidence, workflow events, discussion (研判会商) and allowed next steps',
    responses: { '200': 'The alert', '404': 'No such alert' },
  });
  app.get('/api/alerts/:id', async (req) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const id = alertId(req);
    const r = await getAlert(db, id);
    audit(user, 'R', 'read', `alert ${id}`);
    return r;
  });

  describeRoute({
    method: 'get',
    path: '/api/alerts/{id}/series',
    tag: TAG_ALERTS,
    summary:
      'Time series of every signal contributing to the alert, with the detector threshold per day; evidence: alarm, or weak (sub-threshold days only)',
    responses: { '200': '[{"signal","label","areaCode","days","observed","compared","threshold","alarm","evidence"}]' },
  });
  app.get('/api/alerts/:id/series', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    const a = await getAlert(db, alertId(req));
    const to = addDays(a.lastEvidenceAt.slice(0, 10), 7);
    const from = addDays(a.firstEvidenceAt.slice(0, 10), -42);
    const seen = new Set<string>();
    const out = [];
    const evidence = a.evidence as { signal: string; areaCode: string; weak?: boolean }[];
    for (const e of evidence) {
      const k = `${e.signal}|${e.areaCode}`;
      if (seen.has(k)) continue;
      seen.add(k);
      // 'weak': this signal joined only with sub-threshold evidence (its detector never alarmed here).
      const weak = evidence.filter((x) => x.signal === e.signal && x.areaCode === e.areaCode).every((x) => x.weak === true);
      out.push({ ...(await seriesFor(e.signal, e.areaCode, from, to)), label: engine.label(e.signal), evidence: weak ? 'weak' : 'alarm' });
    }
    return out;
  });

  describeRoute({
    method: 'get',
    path: '/api/alerts/{id}/cases',
    tag: TAG_ALERTS,
    summary:
      'Line list of the cases behind the alert (visits with the syndrome, report cards, lab positives) with community centroids for the map',
    responses: { '200': '[{"kind","id","day","areaCode","areaName","detail","facility","location"}]' },
  });
  app.get('/api/alerts/:id/cases', async (req) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const id = alertId(req);
    const a = await getAlert(db, id);
    audit(user, 'R', 'read', `alert ${id} cases`);
    return alertCases(a.evidence as { signal: string; areaCode: string; day: string }[], engine);
  });

  describeRoute({
    method: 'post',
    path: '/api/alerts/{id}/transitions',
    tag: TAG_ALERTS,
    summary: 'Workflow step: {"to": triage|dismissed|suspected|confirmed|response|closed, "version", "reason", "assignee"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['to', 'version'] } },
    responses: {
      '200': 'The alert after the step',
      '400': 'Missing reason/assignee/version',
      '409': 'Step out of order, or the alert was changed by someone else (version)',
    },
  });
  app.post('/api/alerts/:id/transitions', async (req) => {
    const user = await ctx.guard(req, 'surveillance:write');
    const id = alertId(req);
    const b = body(req);
    const r = await transitionAlert(
      { db, repo: ctx.repo, fusion: engine.config.fusion },
      id,
      {
        to: String(b.to ?? ''),
        version: b.version,
        reason: typeof b.reason === 'string' ? b.reason : undefined,
        assignee: typeof b.assignee === 'string' ? b.assignee : undefined,
      },
      user,
      writeAudit(user, 'U', req.ip),
    );
    void engine.notify({ alertId: id, kind: `status.${r.status}`, level: r.level, areaCode: r.areaCode }).catch(() => undefined);
    return r;
  });

  describeRoute({
    method: 'post',
    path: '/api/alerts/{id}/comments',
    tag: TAG_ALERTS,
    summary: 'Add to the 研判会商 discussion: {"body"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['body'] } },
    responses: { '201': 'The comment' },
  });
  app.post('/api/alerts/:id/comments', async (req, reply) => {
    const user = await ctx.guard(req, 'surveillance:read');
    const r = await addComment(db, alertId(req), body(req).body, user, writeAudit(user, 'C', req.ip));
    return reply.code(201).send(r);
  });

  // ------------------------------------------------------------------ signals
  async function seriesFor(signal: string, areaCode: string, from: string, to: string) {
    const cfg = signalConfigFor(engine.config.signals, signal);
    const histFrom = addDays(from, -400);
    const len = areaCode.length === 12 && !areaCode.endsWith('000') ? 12 : areaCode.endsWith('000000') ? 6 : 9;
    if (cfg?.derive) {
      // Derived class-rule series (school:class_cluster): classes meeting the rule per day.
      const days = dayRange(histFrom, to);
      const series = await loadDerivedSeriesByArea(
        db,
        { ...cfg, areaLevel: len === 12 ? 'community' : len === 6 ? 'district' : 'street' },
        histFrom,
        to,
        areaCode,
      );
      const observed = [...series.values()][0] ?? new Array(days.length).fill(0);
      const start = dayDiff(histFrom, from);
      const v = judgeSeries(cfg, days, observed, start);
      return {
        signal,
        areaCode,
        method: cfg.method,
        days: days.slice(start),
        observed: observed.slice(start),
        denominator: new Array(days.length - start).fill(0),
        compared: v.compared.slice(start),
        threshold: v.threshold.slice(start),
        alarm: v.alarm.slice(start),
        messages: v.messages,
      };
    }
    const r = await db.query<{ day: string; n: number; denom: number }>(
      `SELECT day::text AS day, sum(n)::int AS n, sum(denom)::int AS denom FROM signal_count WHERE signal = $1 AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 GROUP BY 1`,
      [signal, histFrom, to, `${areaCode.slice(0, len)}%`],
    );
    const days = dayRange(histFrom, to);
    const observed = new Array(days.length).fill(0);
    const denom = new Array(days.length).fill(0);
    for (const x of r.rows) {
      const i = dayDiff(histFrom, x.day);
      observed[i] = Math.max(0, x.n);
      denom[i] = x.denom;
    }
    const start = dayDiff(histFrom, from);
    const v = cfg ? judgeSeries(cfg, days, observed, start) : null;
    return {
      signal,
      areaCode,
      method: cfg?.method ?? null,
      days: days.slice(start),
      observed: observed.slice(start),
      denominator: denom.slice(start),
      compared: v ? v.compared.slice(start) : observed.slice(start),
      threshold: v ? v.threshold.slice(start) : [],
      alarm: v ? v.alarm.slice(start) : [],
      messages: v?.messages ?? [],
    };
  }

  describeRoute({
    method: 'get',
    path: '/api/surveillance/series',
    tag: TAG_SIGNALS,
    summary:
      'Daily counts of one signal in one area with the configured detector threshold. Query: signal, area (community, street or district code), from, to',
    responses: { '200': '{"days","observed","denominator","compared","threshold","alarm","messages"}', '400': 'Bad parameter (named)' },
  });
  app.get('/api/surveillance/series', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    const p = q(req);
    if (!p.signal) throw badRequest('signal: mandatory');
    if (!p.area || !/^\d{6}(\d{6})?$/.test(p.area)) throw badRequest('area: a 6- or 12-digit area code');
    const to = dayParam(p.to, 'to') ?? new Date().toISOString().slice(0, 10);
    const from = dayParam(p.from, 'from') ?? addDays(to, -89);
    if (from > to) throw badRequest('from: must not be after to');
    if (dayDiff(from, to) > 3 * 366) throw badRequest('from/to: at most 3 years');
    return seriesFor(p.signal, p.area.length === 6 ? `${p.area}000000` : p.area, from, to);
  });

  describeRoute({
    method: 'get',
    path: '/api/surveillance/overview',
    tag: TAG_SIGNALS,
    summary:
      'Recent trend of every signal by street: daily counts for the last `days` (28) days up to `to` (default: the latest day with data), and alarms',
    responses: {
      '200': '{"from","to","days","signals":[{"signal","label","source","areas":[{"areaCode","areaName","counts","alarms"}]}]}',
    },
  });
  app.get('/api/surveillance/overview', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    const p = q(req);
    const span = Math.min(Math.max(Number(p.days ?? 28) || 28, 7), 180);
    const latest = await db.query<{ d: string | null }>('SELECT max(day)::text AS d FROM signal_count');
    const to = dayParam(p.to, 'to') ?? latest.rows[0]?.d ?? new Date().toISOString().slice(0, 10);
    const from = addDays(to, -(span - 1));
    const rows = await db.query<{ signal: string; area: string; day: string; n: number; denom: number }>(
      `SELECT signal, left(area_code, 9) || '000' AS area, day::text AS day, sum(n)::int AS n, sum(denom)::int AS denom FROM signal_count
       WHERE day BETWEEN $1::date AND $2::date AND area_code <> '' GROUP BY 1, 2, 3`,
      [from, to],
    );
    const alarms = await db.query<{ signal: string; area: string; day: string }>(
      `SELECT signal, left(area_code, 9) || '000' AS area, day::text AS day FROM surv_detection WHERE alarm AND day BETWEEN $1::date AND $2::date`,
      [from, to],
    );
    const days = dayRange(from, to);
    const bySignal = new Map<string, Map<string, { counts: number[]; denominators: number[]; alarms: boolean[] }>>();
    const cell = (signal: string, area: string) => {
      let m = bySignal.get(signal);
      if (!m) bySignal.set(signal, (m = new Map()));
      let c = m.get(area);
      if (!c)
        m.set(
          area,
          (c = {
            counts: new Array(days.length).fill(0),
            denominators: new Array(days.length).fill(0),
            alarms: new Array(days.length).fill(false),
          }),
        );
      return c;
    };
    for (const r of rows.rows) {
      const c = cell(r.signal, r.area);
      c.counts[dayDiff(from, r.day)] += r.n;
      c.denominators[dayDiff(from, r.day)] += r.denom;
    }
    for (const r of alarms.rows) if (bySignal.get(r.signal)?.get(r.area)) cell(r.signal, r.area).alarms[dayDiff(from, r.day)] = true;
    return {
      from,
      to,
      days,
      signals: [...bySignal.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([signal, m]) => ({
          signal,
          label: engine.label(signal),
          source: signalConfigFor(engine.config.signals, signal)?.source ?? null,
          areas: [...m.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([areaCode, c]) => ({ areaCode, areaName: engine.areaName(areaCode), ...c })),
        })),
    };
  });

  describeRoute({
    method: 'get',
    path: '/api/surveillance/ili',
    tag: TAG_SIGNALS,
    summary:
      'ILI % (ILI visits ÷ outpatient and emergency visits) by day and facility or age group. Query: from, to, by=facility|age_group',
    responses: { '200': '[{"day","key","ili","visits","percent"}]' },
  });
  app.get('/api/surveillance/ili', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    const p = q(req);
    const by = p.by === 'age_group' ? 'age_group' : 'facility';
    const to = dayParam(p.to, 'to') ?? new Date().toISOString().slice(0, 10);
    const from = dayParam(p.from, 'from') ?? addDays(to, -27);
    const r = await db.query<{ day: string; key: string; ili: number; visits: number }>(
      `SELECT day::text AS day, ${by} AS key, sum(n)::int AS ili, sum(denom)::int AS visits FROM signal_count WHERE signal = 'ili' AND day BETWEEN $1::date AND $2::date GROUP BY 1, 2 ORDER BY 1, 2`,
      [from, to],
    );
    return r.rows.map((x) => ({ ...x, percent: x.visits ? Math.round((1000 * x.ili) / x.visits) / 10 : null }));
  });

  describeRoute({
    method: 'get',
    path: '/api/surveillance/signals',
    tag: TAG_SIGNALS,
    summary: 'The detector configuration of every signal (config/surveillance/signals.json)',
    responses: { '200': '[{"key","label","source","areaLevel","method","control"}]' },
  });
  app.get('/api/surveillance/signals', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    return engine.config.signals;
  });

  describeRoute({
    method: 'get',
    path: '/api/surveillance/geography',
    tag: TAG_SIGNALS,
    summary: 'District areas as GeoJSON for maps. Query: level=street|community',
    responses: { '200': 'GeoJSON FeatureCollection (properties code, name)' },
  });
  app.get('/api/surveillance/geography', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    const level = q(req).level === 'community' ? 'community' : 'street';
    return geographyFeatures(db, level);
  });

  describeRoute({
    method: 'post',
    path: '/api/surveillance/public-reports',
    tag: TAG_SIGNALS,
    summary: 'Enter a public or media report (舆情/群众报告): {"day","areaCode","category","description","source"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['day', 'areaCode', 'description'] } },
    responses: { '201': '{"id"}', '400': 'Bad field (named)' },
  });
  app.post('/api/surveillance/public-reports', async (req, reply) => {
    const user = await ctx.guard(req, 'surveillance:write');
    const b = body(req);
    const day = dayParam(typeof b.day === 'string' ? b.day : undefined, 'day');
    if (!day) throw badRequest('day: mandatory (YYYY-MM-DD)');
    if (typeof b.areaCode !== 'string' || !/^\d{12}$/.test(b.areaCode)) throw badRequest('areaCode: a 12-digit community code');
    if (typeof b.description !== 'string' || !b.description.trim()) throw badRequest('description: mandatory');
    const { applyCountDeltas } = await import('./signals/counts.js');
    const id = await db.transaction(async (c) => {
      const r = await c.query<{ id: number }>(
        'INSERT INTO surv_public_report (day, area_code, category, description, source, entered_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
        [
          day,
          b.areaCode,
          typeof b.category === 'string' ? b.category : 'other',
          (b.description as string).trim(),
          typeof b.source === 'string' ? b.source : null,
          user.username,
        ],
      );
      await applyCountDeltas(c, [{ signal: 'public:report', day, areaCode: b.areaCode as string, n: 1 }], engine.touch);
      await writeAudit(user, 'C', req.ip)(c, { subtype: 'public-report', entities: [`public report ${r.rows[0]!.id}`] });
      return r.rows[0]!.id;
    });
    return reply.code(201).send({ id });
  });

  describeRoute({
    method: 'post',
    path: '/api/surveillance/feeds/{feed}',
    tag: TAG_SIGNALS,
    summary:
      'Fallback feed import (text/csv) when the feeds module is absent: feed = school-absenteeism | pharmacy-sales (the simulator CSV columns)',
    requestBody: { contentType: 'text/csv', schema: { type: 'string' } },
    responses: { '200': '{"rows","errors":[{"line","message"}]}' },
  });
  app.post('/api/surveillance/feeds/:feed', async (req) => {
    const user = await ctx.guard(req, 'import');
    const feed = (req.params as { feed: string }).feed;
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : typeof req.body === 'string' ? req.body : '';
    if (!text) throw badRequest('Send the CSV as text/csv');
    let result: { rows: number; errors: { line: number; message: string }[] };
    if (feed === 'school-absenteeism') {
      const p = parseAbsenceCsv(text);
      await db.transaction(async (c) => {
        await ingestAbsenceRows(c, p.rows, engine.touch);
        await writeAudit(user, 'C', req.ip)(c, { subtype: 'import', entities: [`feed ${feed}: ${p.rows.length} rows`] });
      });
      result = { rows: p.rows.length, errors: p.errors };
    } else if (feed === 'pharmacy-sales') {
      const p = parsePharmacyCsv(text);
      await db.transaction(async (c) => {
        await ingestPharmacyRows(c, p.rows, engine.touch);
        await writeAudit(user, 'C', req.ip)(c, { subtype: 'import', entities: [`feed ${feed}: ${p.rows.length} rows`] });
      });
      result = { rows: p.rows.length, errors: p.errors };
    } else throw badRequest(`feed: school-absenteeism or pharmacy-sales (got '${feed}')`);
    return result;
  });

  describeRoute({
    method: 'post',
    path: '/api/surveillance/detect',
    tag: TAG_SIGNALS,
    summary: 'Re-run every detector and fusion over a range: {"from","to"}',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['from', 'to'] } },
    responses: { '200': '{"created","updated","series","alarms","messages"}' },
  });
  app.post('/api/surveillance/detect', async (req) => {
    await ctx.guard(req, 'surveillance:write');
    const b = body(req);
    const from = dayParam(b.from as string | undefined, 'from');
    const to = dayParam(b.to as string | undefined, 'to');
    if (!from || !to || from > to) throw badRequest('from, to: mandatory days with from ≤ to');
    const r = await engine.runAll(from, to);
    return { ...r, messages: r.messages.slice(0, 50) };
  });

  describeRoute({
    method: 'get',
    path: '/api/surveillance/notifications',
    tag: TAG_SIGNALS,
    summary: 'Recent alert events for in-app notifications. Query: since (ISO time)',
    responses: { '200': '[{"id","alertId","action","to","actor","at","level","title"}]' },
  });
  app.get('/api/surveillance/notifications', async (req) => {
    await ctx.guard(req, 'surveillance:read');
    return notifications(db, q(req).since);
  });

  describeRoute({
    method: 'post',
    path: '/api/surveillance/webhooks',
    tag: TAG_SIGNALS,
    summary: 'Subscribe a URL to alert events: {"url","secret"?}; deliveries retried with backoff, signed with HMAC-SHA256',
    requestBody: { contentType: 'application/json', schema: { type: 'object', required: ['url'] } },
    responses: { '201': '{"id","url"}' },
  });
  app.post('/api/surveillance/webhooks', async (req, reply) => {
    const user = await ctx.guard(req, 'surveillance:write');
    const b = body(req);
    return reply.code(201).send(await addWebhook(db, b.url, b.secret, user.username, writeAudit(user, 'C', req.ip)));
  });
  describeRoute({
    method: 'get',
    path: '/api/surveillance/webhooks',
    tag: TAG_SIGNALS,
    summary: 'Webhook subscriptions with pending/failed delivery counts',
  });
  app.get('/api/surveillance/webhooks', async (req) => {
    await ctx.guard(req, 'surveillance:write');
    return listWebhooks(db);
  });
  describeRoute({
    method: 'get',
    path: '/api/surveillance/webhooks/{id}/deliveries',
    tag: TAG_SIGNALS,
    summary: 'Deliveries of one subscription (status, attempts, last error)',
  });
  app.get('/api/surveillance/webhooks/:id/deliveries', async (req) => {
    await ctx.guard(req, 'surveillance:write');
    return listDeliveries(db, Number((req.params as { id: string }).id));
  });

  async function alertCases(evidence: { signal: string; areaCode: string; day: string }[], eng: SurveillanceEngine) {
    const out: {
      kind: string;
      id: string;
      day: string;
      areaCode: string;
      areaName: string;
      detail: string;
      facility: string | null;
      location: unknown;
    }[] = [];
    const centroids = new Map(
      (await db.query<{ code: string; centroid: unknown }>(`SELECT code, centroid FROM surv_area WHERE level = 'community'`)).rows.map(
        (r) => [r.code, r.centroid],
      ),
    );
    const seen = new Set<string>();
    for (const e of evidence) {
      const cfg = signalConfigFor(eng.config.signals, e.signal);
      const win = cfg?.method === 'cidarsMpm' ? 7 : cfg?.derive ? cfg.derive.days : 1;
      const from = addDays(e.day, -(win - 1));
      const prefix = `${e.areaCode.replace(/0+$/, '')}%`;
      let rows: { id: string; day: string; area_code: string; detail: string; facility: string | null }[] = [];
      if (e.signal.startsWith('syndrome:') || e.signal === 'ili') {
        const s = e.signal === 'ili' ? 'ili' : e.signal.slice(9);
        rows = (
          await db.query(
            `SELECT encounter_id AS id, day::text AS day, area_code, coalesce(complaint, '') || coalesce(' T' || temperature_c::text || '℃', '') AS detail, facility FROM surv_visit
          WHERE $1 = ANY(syndromes) AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
            [s, from, e.day, prefix],
          )
        ).rows as never;
      } else if (e.signal.startsWith('report:')) {
        rows = (
          await db.query(
            `SELECT id, counted_day::text AS day, area_code, disease_name || ' ' || coalesce(case_classification, '') AS detail, facility_name AS facility FROM surv_report_card
          WHERE disease_key = $1 AND counted_day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
            [e.signal.slice(7), from, e.day, prefix],
          )
        ).rows as never;
      } else if (e.signal.startsWith('lab:')) {
        rows = (
          await db.query(
            `SELECT observation_id AS id, day::text AS day, area_code, signal AS detail, NULL AS facility FROM surv_lab_positive WHERE signal = $1 AND day BETWEEN $2::date AND $3::date AND area_code LIKE $4 LIMIT 200`,
            [e.signal, from, e.day, prefix],
          )
        ).rows as never;
      } else if (e.signal === 'school:illness_absence' || e.signal === 'school:class_cluster') {
        rows = (
          await db.query(
            `SELECT f.school || '/' || f.class_code AS id, f.day::text AS day, f.area_code, coalesce(p.name, f.school) || ' ' || f.class_code || ' 因病缺课 ' || f.illness_absent || '/' || f.enrolled AS detail, f.school AS facility
          FROM surv_feed_absence f LEFT JOIN surv_place p ON p.code = f.school WHERE f.illness_absent > 0 AND f.day BETWEEN $1::date AND $2::date AND f.area_code LIKE $3 LIMIT 200`,
            [from, e.day, prefix],
          )
        ).rows as never;
      } else if (e.signal === 'public:report') {
        rows = (
          await db.query(
            `SELECT id::text AS id, day::text AS day, area_code, description AS detail, source AS facility FROM surv_public_report WHERE day BETWEEN $1::date AND $2::date AND area_code LIKE $3 LIMIT 200`,
            [from, e.day, prefix],
          )
        ).rows as never;
      }
      for (const r of rows) {
        const k = `${e.signal}|${r.id}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({
          kind: e.signal,
          id: r.id,
          day: r.day,
          areaCode: r.area_code,
          areaName: eng.areaName(r.area_code),
          detail: r.detail,
          facility: r.facility,
          location: centroids.get(r.area_code) ?? null,
        });
      }
    }
    return out.sort((a, b) => a.day.localeCompare(b.day));
  }

  void areaAt;
}
