/**
 * HTTP routes of de-identified exports (/api/exports/*). Each checks the permission
 * export:deidentified, lets the service check the profile (roles, purpose, approval: 403 naming
 * the rule, itself audited as a refused export), builds the release, audits it (subtype
 * 'export', with the purpose, the approval, the row count, how many residents were left out for
 * their consent choices, and the SHA-256 of what was sent) and answers it.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuthUser } from '../platform/auth.js';
import type { ModuleContext } from '../platform/module.js';
import { typed } from '../platform/openapi.js';
import { CountsExport, CountsQuery, LineListExport, LineListQuery, ProfileSummary } from './schemas.js';
import {
  counts,
  countsCsv,
  digestOf,
  ExportRefusal,
  lineList,
  lineListCsv,
  mayUse,
  purposeOf,
  type ExportDeps,
  type ExportRequest,
} from './service.js';
import type { ExportProfile } from './profiles.js';

const TAG = 'exports';

export function registerExportRoutes(ctx: ModuleContext, deps: ExportDeps): void {
  const app = typed(ctx.app);

  const requestOf = (
    req: FastifyRequest,
    user: AuthUser,
    q: { profile: string; from: string; to: string; disease?: string; purpose?: string; approval?: string },
  ): ExportRequest => {
    const header = req.headers['x-purpose-of-use'];
    return {
      user,
      profile: q.profile,
      from: q.from,
      to: q.to,
      disease: q.disease,
      purpose: q.purpose ?? (typeof header === 'string' && header.trim() ? header.trim().slice(0, 200) : undefined),
      approval: q.approval,
    };
  };

  const what = (r: ExportRequest, kind: string) => [
    `export profile ${r.profile} (${kind}) ${r.from}..${r.to}${r.disease ? ` disease ${r.disease}` : ''}`,
    ...(r.approval ? [`approval ${r.approval}`] : []),
  ];

  /** Runs the export; a profile refusal is audited as a failed export before it is answered. */
  const run = async <T>(req: FastifyRequest, r: ExportRequest, kind: string, make: () => Promise<T>): Promise<T> => {
    try {
      return await make();
    } catch (err) {
      if (err instanceof ExportRefusal)
        void ctx.audit.record({
          user: r.user,
          action: 'E',
          subtype: 'export',
          entities: what(r, kind),
          outcome: 'failure',
          outcomeText: `${err.refusal.rule}: ${err.message}`,
          purpose: r.purpose,
          query: req.url,
          sourceAddress: req.ip,
        });
      throw err;
    }
  };

  const audited = (req: FastifyRequest, r: ExportRequest, kind: string, profile: ExportProfile, summary: string) =>
    void ctx.audit.record({
      user: r.user,
      action: 'E',
      subtype: 'export',
      entities: what(r, kind),
      outcome: 'success',
      outcomeText: `${summary}; pseudonym key ${deps.key.keyId}`,
      purpose: purposeOf(profile, r.purpose),
      query: req.url,
      sourceAddress: req.ip,
    });

  /** The report's line on consent: how many residents were left out, never who. */
  const consentNote = (x: { leftOutForConsent: number }) => `${x.leftOutForConsent} resident(s) left out for consent`;

  const attachment = (kind: string, x: { profile: string; from: string; to: string }) =>
    `attachment; filename="yifang-${kind}-${x.profile}-${x.from}-${x.to}.csv"`;

  app.get(
    '/api/exports/profiles',
    {
      schema: {
        summary: 'De-identified export profiles (config/exports/profiles.json) and whether the signed-in user may use each',
        tags: [TAG],
        response: { 200: z.array(ProfileSummary) },
      },
    },
    async (req) => {
      const user = await ctx.guard(req, 'export:deidentified');
      return [...deps.profiles.profiles.values()].map((p) => ({
        name: p.name,
        kind: p.kind,
        description: p.description,
        roles: [...p.roles],
        purposes: [...p.purposes],
        requiresApproval: p.requiresApproval,
        maxDays: p.maxDays,
        ...(p.kind === 'line-list' ? { fields: [...p.fields] } : {}),
        allowed: mayUse(p, user),
      }));
    },
  );

  const lineListSummary =
    'De-identified line list of counted report cards (传染病报告卡) diagnosed in the period: pseudonymous person id (keyed hash), dates shifted per person, age band, street; no name, ID number, phone, address line or birth date. Residents whose consent choices refuse the export are left out (research, HRESCH: those who have not opted in to share-for-research in the portal) and only counted (leftOutForConsent; the CSV in the X-Left-Out-For-Consent header). Needs a line-list profile (research: roles epidemiologist or admin, purpose HRESCH, an approval reference); at most the profile’s maxRows rows, more is refused (422) naming the cap';

  app.get(
    '/api/exports/line-list.csv',
    { schema: { summary: `${lineListSummary}. CSV, UTF-8 with BOM`, tags: [TAG], querystring: LineListQuery } },
    async (req, reply) => {
      const user = await ctx.guard(req, 'export:deidentified');
      const r = requestOf(req, user, req.query);
      const x = await run(req, r, 'line-list', () => lineList(deps, r));
      const csv = lineListCsv(x);
      audited(req, r, 'line-list', x.profileUsed, `${x.rows.length} rows, ${consentNote(x)}; CSV sha256 ${digestOf(csv)}`);
      return reply
        .type('text/csv; charset=utf-8')
        .header('Content-Disposition', attachment('line-list', x))
        .header('X-Left-Out-For-Consent', String(x.leftOutForConsent))
        .send(csv);
    },
  );

  app.get(
    '/api/exports/line-list',
    { schema: { summary: `${lineListSummary}. JSON`, tags: [TAG], querystring: LineListQuery, response: { 200: LineListExport } } },
    async (req) => {
      const user = await ctx.guard(req, 'export:deidentified');
      const r = requestOf(req, user, req.query);
      const { profileUsed, ...x } = await run(req, r, 'line-list', () => lineList(deps, r));
      audited(
        req,
        r,
        'line-list',
        profileUsed,
        `${x.rows.length} rows, ${consentNote(x)}; rows JSON sha256 ${digestOf(JSON.stringify(x.rows))}`,
      );
      return x;
    },
  );

  const countsSummary =
    'Aggregate counts of counted report cards by disease × street × ISO week (diagnosis date; the period is widened to whole weeks), with week totals; counts below the profile threshold (5) and the values suppressed to protect them show one mark. Needs a counts profile (public: roles epidemiologist, public-health or admin)';

  app.get(
    '/api/exports/counts.csv',
    { schema: { summary: `${countsSummary}. CSV, UTF-8 with BOM`, tags: [TAG], querystring: CountsQuery } },
    async (req, reply) => {
      const user = await ctx.guard(req, 'export:deidentified');
      const r = requestOf(req, user, req.query);
      const x = await run(req, r, 'counts', () => counts(deps, r));
      const csv = countsCsv(x);
      audited(
        req,
        r,
        'counts',
        x.profileUsed,
        `${x.rows.length} rows, ${x.suppressed.primary} + ${x.suppressed.complementary} suppressed; CSV sha256 ${digestOf(csv)}`,
      );
      return reply.type('text/csv; charset=utf-8').header('Content-Disposition', attachment('counts', x)).send(csv);
    },
  );

  app.get(
    '/api/exports/counts',
    { schema: { summary: `${countsSummary}. JSON`, tags: [TAG], querystring: CountsQuery, response: { 200: CountsExport } } },
    async (req) => {
      const user = await ctx.guard(req, 'export:deidentified');
      const r = requestOf(req, user, req.query);
      const { profileUsed, ...x } = await run(req, r, 'counts', () => counts(deps, r));
      audited(
        req,
        r,
        'counts',
        profileUsed,
        `${x.rows.length} rows, ${x.suppressed.primary} + ${x.suppressed.complementary} suppressed; rows JSON sha256 ${digestOf(JSON.stringify(x.rows))}`,
      );
      return x;
    },
  );
}
