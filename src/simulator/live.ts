/**
 * Live mode: sends each simulated day to a running Yifang through its real endpoints, then waits
 * a few seconds before the next day. FHIR as transaction Bundles (POST {url}/fhir), HL7 v2
 * messages one per request (POST {url}/api/hl7), the two CSV feeds (POST {url}/api/feeds/...),
 * report cards as a JSON array (POST {url}/api/report-cards). Failures are counted and reported,
 * and never stop the simulation; a failed login does.
 */
import type { Facility } from './district.js';
import type { ReportCard } from './report-card.js';
import { ABSENTEEISM_HEADER, PHARMACY_HEADER, transactionBundle, type BundleEntry, type Sink } from './sink.js';

/** Bundles' worth of waiting records after which pause() sends them. */
const PAUSE_BUNDLES = 20;

export interface LiveOptions {
  url: string;
  intervalSeconds: number;
  token?: string;
  username?: string;
  password?: string;
  /** Where progress and failures are reported (default: stderr). */
  log?: (line: string) => void;
  fetch?: typeof fetch;
  /** FHIR entries per transaction Bundle. */
  bundleSize?: number;
  signal?: AbortSignal;
}

export interface LiveFailure {
  endpoint: string;
  date: string;
  status: number | null;
  message: string;
}

export class LiveSink implements Sink {
  private fhirEntries: BundleEntry[] = [];
  private hl7Messages: string[] = [];
  private absences: string[] = [];
  private sales: string[] = [];
  private cards: ReportCard[] = [];
  private token: string | null;
  private readonly base: string;
  private readonly log: (line: string) => void;
  private readonly doFetch: typeof fetch;
  readonly failures: LiveFailure[] = [];
  readonly sent = { bundles: 0, resources: 0, hl7: 0, absenteeismRows: 0, pharmacyRows: 0, reportCards: 0 };
  private bundleSeq = 0;

  constructor(private readonly o: LiveOptions) {
    this.base = o.url.replace(/\/+$/, '');
    this.token = o.token ?? null;
    this.log = o.log ?? ((l) => process.stderr.write(l + '\n'));
    this.doFetch = o.fetch ?? fetch;
  }

  /** Logs in (unless a token was given). Throws with a clear message when it cannot. */
  async connect(): Promise<void> {
    if (this.token) return;
    const url = `${this.base}/auth/login`;
    let res: Response;
    try {
      res = await this.doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: this.o.username ?? 'admin', password: this.o.password ?? 'yifang-admin' }),
        signal: this.o.signal,
      });
    } catch (e) {
      throw new Error(`live: cannot reach ${url}: ${(e as Error).message}`, { cause: e });
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`live: login at ${url} failed: ${res.status} ${res.statusText} ${text.slice(0, 200)}`);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // fall through
    }
    const token = body.token ?? body.accessToken ?? body.access_token;
    if (typeof token !== 'string')
      throw new Error(`live: login at ${url} returned no token (expected "token", "accessToken" or "access_token")`);
    this.token = token;
  }

  fhir(resourceType: string, id: string, json: string): void {
    this.fhirEntries.push({ resourceType, id, json });
  }
  hl7(_facility: Facility, message: string): void {
    this.hl7Messages.push(message);
  }
  absence(line: string): void {
    this.absences.push(line);
  }
  pharmacy(line: string): void {
    this.sales.push(line);
  }
  reportCard(card: ReportCard): void {
    this.cards.push(card);
  }
  beginDay(): void {}
  /**
   * In the middle of the history written before the first day: once many records are waiting,
   * sends the full Bundles (the same ones endDay would send) and the HL7 messages so far.
   */
  async pause(): Promise<void> {
    const size = this.o.bundleSize ?? 500;
    if (this.fhirEntries.length + this.hl7Messages.length < size * PAUSE_BUNDLES) return;
    await this.sendFhir('reference data', false);
    await this.sendHl7('reference data');
  }

  /** Sends the FHIR entries as transaction Bundles; all of them, or only as many as fill whole Bundles. */
  private async sendFhir(label: string, all: boolean): Promise<void> {
    const size = this.o.bundleSize ?? 500;
    const entries = this.fhirEntries;
    const n = all ? entries.length : entries.length - (entries.length % size);
    this.fhirEntries = entries.slice(n);
    for (let i = 0; i < n; i += size) {
      const chunk = entries.slice(i, i + size);
      const ok = await this.post('/fhir', 'application/fhir+json', transactionBundle(`live-${++this.bundleSeq}`, chunk), label);
      if (ok) {
        this.sent.bundles++;
        this.sent.resources += chunk.length;
      }
    }
  }

  private async sendHl7(label: string): Promise<void> {
    const messages = this.hl7Messages;
    this.hl7Messages = [];
    await pool(messages, 4, async (m) => {
      if (await this.post('/api/hl7', 'x-application/hl7-v2+er7', m, label)) this.sent.hl7++;
    });
  }

  async endDay(day: number, date: string): Promise<void> {
    const label = day < 0 ? 'reference data' : date;
    await this.sendFhir(label, true);
    await this.sendHl7(label);
    if (this.absences.length > 0) {
      const rows = this.absences;
      this.absences = [];
      if (await this.post('/api/feeds/school-absenteeism', 'text/csv', [ABSENTEEISM_HEADER, ...rows].join('\n') + '\n', label))
        this.sent.absenteeismRows += rows.length;
    }
    if (this.sales.length > 0) {
      const rows = this.sales;
      this.sales = [];
      if (await this.post('/api/feeds/pharmacy-sales', 'text/csv', [PHARMACY_HEADER, ...rows].join('\n') + '\n', label))
        this.sent.pharmacyRows += rows.length;
    }
    if (this.cards.length > 0) {
      const cards = this.cards;
      this.cards = [];
      if (await this.post('/api/report-cards', 'application/json', JSON.stringify(cards), label)) this.sent.reportCards += cards.length;
    }
    if (day >= 0) {
      const failed = this.failures.filter((f) => f.date === label).length;
      this.log(`live: ${label} sent${failed ? `, ${failed} request(s) failed` : ''}`);
      if (this.o.intervalSeconds > 0) await sleep(this.o.intervalSeconds * 1000, this.o.signal);
    }
  }

  private async post(path: string, contentType: string, body: string, date: string): Promise<boolean> {
    const url = this.base + path;
    try {
      const res = await this.doFetch(url, {
        method: 'POST',
        headers: { 'content-type': contentType, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body,
        signal: this.o.signal,
      });
      if (res.ok) {
        await res.arrayBuffer();
        return true;
      }
      const text = (await res.text()).slice(0, 300);
      this.fail({ endpoint: `POST ${path}`, date, status: res.status, message: `${res.statusText} ${text}`.trim() });
    } catch (e) {
      if (this.o.signal?.aborted) throw e;
      this.fail({ endpoint: `POST ${path}`, date, status: null, message: (e as Error).message });
    }
    return false;
  }

  private fail(f: LiveFailure): void {
    this.failures.push(f);
    const sameDay = this.failures.filter((x) => x.date === f.date && x.endpoint === f.endpoint).length;
    if (sameDay <= 3) this.log(`live: ${f.endpoint} failed for ${f.date}: ${f.status ?? 'no response'} ${f.message}`);
    else if (sameDay === 4) this.log(`live: ${f.endpoint}: more failures for ${f.date} not shown`);
  }

  /** One line for the end of the run. */
  summary(): string {
    const s = this.sent;
    const byEndpoint = new Map<string, number>();
    for (const f of this.failures) byEndpoint.set(f.endpoint, (byEndpoint.get(f.endpoint) ?? 0) + 1);
    const failed = [...byEndpoint].map(([e, n]) => `${e} ×${n}`).join(', ');
    return `live: sent ${s.resources} FHIR resources in ${s.bundles} bundles, ${s.hl7} HL7 messages, ${s.absenteeismRows} absenteeism rows, ${s.pharmacyRows} pharmacy rows, ${s.reportCards} report cards${failed ? `; failed: ${failed}` : '; no failures'}`;
  }
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
