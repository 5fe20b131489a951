/**
 * The running surveillance pipeline of one server: counts report what they touch, and the
 * engine re-runs the configured detector for exactly those (signal, area) series, then fusion
 * for the affected areas — within a second of the record (the processors are poked on every
 * write). A daily job and `runAll` (replay, admin) re-run everything over a range.
 */
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import { areaAt, signalConfigFor, type SurveillanceConfig } from './config.js';
import { addDays, todayInChina } from '../shared/dates.js';
import { runDetection } from './alerts/detect.js';
import { fuseDays, loadAreaNeighbours, type FusionResult } from './alerts/fusion.js';
import type { Neighbours } from './alerts/places.js';
import { runDailyScan } from './alerts/scan.js';
import { closeStaleAlerts } from './alerts/store.js';
import type { WebhookDeliverer } from './alerts/webhooks.js';
import { areaNames } from './geography.js';
import { labTables } from '../terminology/index.js';
import { SENTINEL_SYNDROMES } from '../feeds/index.js';

const PHARMACY_NAMES: Record<string, string> = {
  antipyretic: '退热药',
  cold: '感冒药',
  cough: '止咳药',
  antidiarrhoeal: '止泻药',
  ors: '口服补液盐',
};

/** How long the engine keeps the registry's neighbour map before reading it again. */
const NEIGHBOURS_TTL_MS = 60_000;

export class SurveillanceEngine {
  private pending = new Map<string, { signal: string; communityCode: string; day: string; lastDay: string }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private names = new Map<string, string>();
  /** Sentinel sites' names by code (loaded as their signals are first seen). */
  private siteNames = new Map<string, string>();
  /** Neighbouring areas for fusion's spatial join, from the registry (reloaded after NEIGHBOURS_TTL_MS). */
  private neighbours: { map: Neighbours; at: number } | undefined;
  /** Set false in replays: detection then runs explicitly, day by day. */
  live = true;

  constructor(
    readonly db: Database,
    readonly repo: FhirRepository,
    readonly config: SurveillanceConfig,
    private readonly webhooks?: WebhookDeliverer,
    private readonly debounceMs = 100,
  ) {}

  /** Human label of a signal key. */
  label = (signal: string): string => {
    const [prefix, rest] = [signal.split(':')[0]!, signal.split(':').slice(1).join(':')];
    if (prefix === 'report') {
      const d = this.config.notifiable.diseases.find((x) => x.key === rest);
      return d ? `${d.name}${d.subtype ? `(${d.subtype})` : ''}报告` : signal;
    }
    if (prefix === 'pharmacy') return `药店${PHARMACY_NAMES[rest] ?? rest}销售`;
    if (prefix === 'lab') return `实验室阳性·${labTables().byCode.get(rest)?.zh ?? rest}`;
    if (prefix === 'sentinel') {
      const [syndrome, ...site] = rest.split(':');
      const code = site.join(':');
      const words = SENTINEL_SYNDROMES[syndrome as keyof typeof SENTINEL_SYNDROMES]?.zh ?? syndrome;
      return `哨点${words}·${this.siteNames.get(code) ?? code}`;
    }
    return signalConfigFor(this.config.signals, signal)?.label ?? signal;
  };

  areaName = (code: string): string => this.names.get(code) ?? code;

  async refreshNames(): Promise<void> {
    this.names = await areaNames(this.db);
    this.siteNames.clear();
    this.neighbours = undefined;
  }

  /**
   * The registry's areas at the fusion level as neighbours (alerts/places.ts), kept for a minute:
   * on-arrival runs come every 100 ms, and a registry import takes effect within the minute.
   */
  private async areaNeighbours(): Promise<Neighbours> {
    if (!this.neighbours || Date.now() - this.neighbours.at > NEIGHBOURS_TTL_MS)
      this.neighbours = { map: await loadAreaNeighbours(this.db, this.config.fusion.areaLevel), at: Date.now() };
    return this.neighbours.map;
  }

  /**
   * Names of sentinel sites not known yet: those behind these signals, or (none given) every site
   * that has reported. One indexed read.
   */
  private async loadSiteNames(signals?: string[]): Promise<void> {
    if (!signals) {
      const all = await this.db.query<{ code: string; name: string }>(
        'SELECT p.code, p.name FROM surv_place p WHERE p.code IN (SELECT DISTINCT site FROM surv_feed_sentinel)',
      );
      for (const row of all.rows) this.siteNames.set(row.code, row.name);
      return;
    }
    const codes = [...new Set(signals.filter((s) => s.startsWith('sentinel:')).map((s) => s.split(':').slice(2).join(':')))].filter(
      (c) => !this.siteNames.has(c),
    );
    if (!codes.length) return;
    const r = await this.db.query<{ code: string; name: string }>('SELECT code, name FROM surv_place WHERE code = ANY($1::text[])', [
      codes,
    ]);
    for (const row of r.rows) this.siteNames.set(row.code, row.name);
  }

  /** Count listener: remembers the touched series and schedules a run. */
  touch = (signal: string, communityCode: string, day: string): void => {
    if (!this.live || !communityCode) return;
    // Signals derived from this one (class rules) are re-judged with it.
    const keys = [signal, ...this.config.signals.filter((s) => s.derive?.from === signal).map((s) => s.key)].filter((k) =>
      signalConfigFor(this.config.signals, k),
    );
    for (const key of keys) {
      const k = `${key}|${communityCode}`;
      // Keep the first and the last touched day: an upload of several days is judged over all of them.
      const cur = this.pending.get(k);
      if (!cur) this.pending.set(k, { signal: key, communityCode, day, lastDay: day });
      else {
        if (day < cur.day) cur.day = day;
        if (day > cur.lastDay) cur.lastDay = day;
      }
    }
    if (keys.length) this.schedule();
  };

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch((e) => console.error('[surveillance] detection failed:', (e as Error).message));
    }, this.debounceMs);
    this.timer.unref?.();
  }

  /** Runs detection + fusion for everything touched so far (tests call this directly). */
  async flush(): Promise<FusionResult> {
    while (this.running) await this.running;
    const result: FusionResult = { created: [], updated: [] };
    if (!this.pending.size) return result;
    const batch = [...this.pending.values()];
    this.pending.clear();
    let done!: () => void;
    this.running = new Promise<void>((r) => (done = r));
    try {
      if (!this.names.size) await this.refreshNames();
      await this.loadSiteNames(batch.map((b) => b.signal));
      const from = batch.reduce((m, b) => (b.day < m ? b.day : m), batch[0]!.day);
      const maxDay = batch.reduce((m, b) => (b.lastDay > m ? b.lastDay : m), batch[0]!.lastDay);
      // Evidence for a touched day can change the next windowDays of fusion too.
      const to = maxDay;
      await runDetection(this.db, this.config.signals, {
        evalFrom: from,
        to,
        only: batch.map((b) => ({ signal: b.signal, communityCode: b.communityCode })),
      });
      const areas = [...new Set(batch.map((b) => areaAt(this.config.fusion.areaLevel, b.communityCode)).filter(Boolean))];
      const r = await fuseDays(this.db, this.config.fusion, {
        from,
        to,
        areas,
        labels: this.label,
        areaName: this.areaName,
        onAlert: (e) => void this.notify(e),
        neighbours: await this.areaNeighbours(),
      });
      result.created.push(...r.created);
      result.updated.push(...r.updated);
    } finally {
      this.running = undefined;
      done();
    }
    return result;
  }

  /** Full re-run of every detector over [from, to] and fusion day by day (daily job, replay). */
  async runAll(from: string, to: string): Promise<FusionResult & { series: number; alarms: number; messages: string[] }> {
    if (!this.names.size) await this.refreshNames();
    const det = await runDetection(this.db, this.config.signals, { evalFrom: from, to });
    await this.loadSiteNames();
    const r = await fuseDays(this.db, this.config.fusion, {
      from,
      to,
      labels: this.label,
      areaName: this.areaName,
      onAlert: (e) => void this.notify(e),
      neighbours: await this.areaNeighbours(),
    });
    return { ...r, series: det.series, alarms: det.alarms.length, messages: det.messages };
  }

  async notify(e: { alertId: number; kind: string; level: string; areaCode: string }): Promise<void> {
    if (!this.webhooks) return;
    await this.webhooks.enqueue(`alert.${e.kind}`, e.alertId, {
      event: `alert.${e.kind}`,
      alertId: e.alertId,
      level: e.level,
      areaCode: e.areaCode,
      areaName: this.areaName(e.areaCode),
      at: new Date().toISOString(),
    });
  }

  /**
   * Daily job: re-runs the last 7 days every 24 hours (catches anything an on-arrival run missed),
   * after the space-time scan of yesterday (complete) and today (so far), whose clusters fusion
   * then reads as evidence.
   */
  /** Closes the alerts nobody acted on whose evidence is older than the configured days (daily, and after a bulk load). */
  async closeStale(today = todayInChina()): Promise<number> {
    return closeStaleAlerts(this.db, today, this.config.fusion.autoCloseDays ?? 28);
  }

  startDailyJob(): () => void {
    const run = () => {
      const today = todayInChina();
      void this.closeStale(today).catch((e) => console.error('[surveillance] closing stale alerts failed:', (e as Error).message));
      void runDailyScan(this.db, this.config.signals, [addDays(today, -1), today])
        .catch((e) => console.error('[surveillance] daily scan failed:', (e as Error).message))
        .then(() => this.runAll(addDays(today, -7), today))
        .catch((e) => console.error('[surveillance] daily run failed:', (e as Error).message));
    };
    const t = setInterval(run, 24 * 3_600_000);
    t.unref?.();
    return () => clearInterval(t);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running) await this.running;
  }
}
