/**
 * Vaccine lots, stock and the cold chain (issue #22 items 4–6): clinics, lots (scanned from GS1
 * codes), receipts, transfers, discards and doses given (followed from Immunization resources by
 * the change-log processor), stock warnings; fridges whose sensors publish over MQTT (or POST a
 * batch), excursions with alarms, acknowledgement and escalation, silent sensors; the recall list
 * of an excursion and the trace of a lot. Settings in config/vaccine-supply/settings.json (a bad
 * file stops the server); the MQTT subscriber starts only when YIFANG_MQTT_URL is set.
 */
import { sqlFile } from '../platform/migrations.js';
import type { YifangModule } from '../platform/module.js';
import { PollingLoop } from '../platform/polling-loop.js';
import { ColdChainSubscriber } from './mqtt.js';
import { dosesProcessor } from './processor.js';
import { registerSupplyRoutes } from './routes.js';
import { ingestReadings, scanColdChain, type SupplyDeps } from './service.js';
import { loadSettings } from './settings.js';

/**
 * The broker's address (mqtt://host:1883). Declared in src/platform/config.ts as YIFANG_MQTT_URL;
 * read here, like WEBHOOKS_CONFIG in the alerts, because the module list passes no settings down.
 */
export function mqttUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.YIFANG_MQTT_URL || undefined;
}

const vaccineSupplyModule: YifangModule = {
  name: 'vaccine-supply',
  migrations: {
    range: [740, 759],
    list: [{ version: 740, name: 'vaccine supply', sql: sqlFile(new URL('./migrations/740_vaccine_supply.sql', import.meta.url)) }],
  },
  processors: ({ repo }) => [dosesProcessor(repo)],
  async register(ctx) {
    const settings = loadSettings();
    const logAlarms = (ids: number[]) => {
      if (ids.length) ctx.log(`cold chain: ${ids.length} alarm(s) raised (${ids.slice(0, 10).join(', ')})`);
    };
    const deps: SupplyDeps = { db: ctx.db, repo: ctx.repo, settings, onAlarms: logAlarms };
    registerSupplyRoutes(ctx, deps);
    const loop = new PollingLoop(
      async () => {
        const { silent, escalated } = await scanColdChain(ctx.db, settings.rules);
        if (silent.length) ctx.log(`cold chain: ${silent.length} sensor(s) went silent`);
        if (escalated.length) ctx.log(`cold chain: ${escalated.length} alarm(s) not acknowledged in time, escalated to the CDC`);
      },
      settings.scanMs,
      'cold-chain scan',
    );
    loop.start();
    ctx.onClose(() => loop.stop());
    const url = mqttUrl();
    if (url) {
      const sub = new ColdChainSubscriber({
        url,
        settings: settings.mqtt,
        log: ctx.log,
        async store(batch, bad) {
          const answer = await ingestReadings(ctx.db, settings.rules, batch, new Date(), bad);
          logAlarms(answer.alarms);
        },
      });
      // Not awaited: a broker that is down must not hold the server's start.
      void sub.start();
      ctx.onClose(() => sub.stop());
      ctx.log(`cold chain: subscribing to ${settings.mqtt.topic} at ${url}`);
    }
  },
};

export default vaccineSupplyModule;
