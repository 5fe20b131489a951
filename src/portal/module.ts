/**
 * The resident portal (issue #22 items 1–3): sign-in by ID number + phone with a one-time code,
 * the merged record in words, the vaccination schedule, home readings, who read the record,
 * consent choices, guardians, weekly reminders through an outbox, and online family-doctor
 * contracts. Messages leave through an SMS gateway (YIFANG_SMS_GATEWAY_URL) or, unset, the
 * server log (the demo reads the sign-in code there).
 */
import { Mpi } from '../identity/index.js';
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { loadChronicConfig } from '../primary-care/index.js';
import { dispatchOutbox, HttpSmsTransport, LogTransport, type SmsTransport } from './outbox.js';
import { loadPackages } from './packages.js';
import { runReminders } from './reminders.js';
import { registerPortalRoutes } from './routes.js';
import { selfPatients, type PortalDeps } from './service.js';
import { purgeCodes } from './store.js';

/** Declared in src/platform/config.ts as YIFANG_SMS_GATEWAY_URL; read here as the module list passes no settings down. */
export function smsGatewayUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.YIFANG_SMS_GATEWAY_URL || undefined;
}

const DISPATCH_MS = 5_000;
const REMINDER_MS = 3_600_000;

export const portalModule: YifangModule = {
  name: 'portal',
  migrations: {
    range: [800, 819],
    list: [{ version: 800, name: 'resident portal', sql: sqlFile(new URL('./migrations/800_portal.sql', import.meta.url)) }],
  },
  async register(ctx) {
    const url = smsGatewayUrl();
    const transport: SmsTransport = url ? new HttpSmsTransport(url) : new LogTransport((line) => console.log(line));
    const dispatcher = new PollingLoop(
      async () => {
        const { failed } = await dispatchOutbox(ctx.db, transport);
        if (failed) ctx.log(`portal: ${failed} message(s) not accepted by the ${transport.name} transport, retried later`);
      },
      DISPATCH_MS,
      'portal outbox',
    );
    const chronic = loadChronicConfig();
    const deps: PortalDeps = {
      db: ctx.db,
      repo: ctx.repo,
      audit: ctx.audit,
      auth: ctx.auth,
      mpi: new Mpi(ctx.db, ctx.repo),
      schedules: chronic.schedules,
      chronic,
      packages: loadPackages(),
      ...(ctx.access ? { access: ctx.access } : {}),
      poke: () => dispatcher.poke(),
      now: () => new Date(),
    };
    // The access policy's `self` scope: whom a signed-in resident may act for.
    ctx.access?.useSelfResolver((username) => selfPatients(deps, username));
    registerPortalRoutes(ctx, deps);
    dispatcher.start();
    const reminders = new PollingLoop(
      async () => {
        const run = await runReminders(deps);
        if (run.messages) ctx.log(`portal: weekly reminders for ${run.residents} resident(s)`);
        await purgeCodes(ctx.db);
      },
      REMINDER_MS,
      'portal reminders',
    );
    reminders.start();
    ctx.onClose(async () => {
      ctx.access?.useSelfResolver(undefined);
      await dispatcher.stop();
      await reminders.stop();
    });
  },
};

export default portalModule;
