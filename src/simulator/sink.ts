/**
 * Where generated records go. The file sink streams them into the output directory; the live
 * sink (live.ts) posts each simulated day to a running Yifang. Both see the same calls in the
 * same order, so live mode sends exactly what the files hold.
 */
import type { Facility } from './district.js';
import type { FhirResource } from './fhir.js';
import type { ReportCard } from './report-card.js';
import type { OutputDir } from './writers.js';

export const ABSENTEEISM_HEADER = 'school_code,school_name,class_code,date,enrolled,absent,reason,symptom';
/** Entries per transaction Bundle file (large days are split into parts). */
export const BUNDLE_MAX = 5000;

export const PHARMACY_HEADER = 'pharmacy_code,pharmacy_name,date,category,units';

export interface Sink {
  /** One FHIR resource as JSON text. */
  fhir(resourceType: string, id: string, json: string): void;
  hl7(facility: Facility, message: string): void;
  absence(csvLine: string): void;
  pharmacy(csvLine: string): void;
  reportCard(card: ReportCard): void;
  /** Called before each simulated day (day = -1 for the reference data written first). */
  beginDay(day: number, date: string): void;
  /** Called after each simulated day; waits while outputs catch up. */
  endDay(day: number, date: string): Promise<void>;
  /**
   * Waits while outputs catch up, in the middle of a long stretch of records (the history
   * written before the first day). Unlike endDay it marks no boundary: output is unchanged.
   */
  pause(): Promise<void>;
}

export class FileSink implements Sink {
  private absenceStarted = false;
  private pharmacyStarted = false;
  private bundle: BundleEntry[] | null;
  private bundlePart = 0;
  private bundleName = 'reference';

  constructor(
    private readonly out: OutputDir,
    dailyBundles: boolean,
  ) {
    this.bundle = dailyBundles ? [] : null;
  }

  fhir(resourceType: string, id: string, json: string): void {
    this.out.write(`fhir/${resourceType}.ndjson`, 'fhir-ndjson', json + '\n', 1, { resourceType });
    if (this.bundle) {
      this.bundle.push({ resourceType, id, json });
      if (this.bundle.length >= BUNDLE_MAX) this.flushBundle();
    }
  }

  private flushBundle(): void {
    if (!this.bundle || this.bundle.length === 0) return;
    const name = `${this.bundleName}-${String(++this.bundlePart).padStart(4, '0')}`;
    this.out.write(`fhir/bundles/${name}.json`, 'fhir-bundle', transactionBundle(`bundle-${name}`, this.bundle) + '\n', this.bundle.length);
    this.bundle = [];
  }

  hl7(facility: Facility, message: string): void {
    this.out.write(`hl7/${facility.code}.hl7`, 'hl7v2', message + '\n', 1, { facility: facility.id });
  }

  absence(line: string): void {
    if (!this.absenceStarted) {
      this.out.write('feeds/school-absenteeism.csv', 'csv', ABSENTEEISM_HEADER + '\n', 0);
      this.absenceStarted = true;
    }
    this.out.write('feeds/school-absenteeism.csv', 'csv', line + '\n');
  }

  pharmacy(line: string): void {
    if (!this.pharmacyStarted) {
      this.out.write('feeds/pharmacy-sales.csv', 'csv', PHARMACY_HEADER + '\n', 0);
      this.pharmacyStarted = true;
    }
    this.out.write('feeds/pharmacy-sales.csv', 'csv', line + '\n');
  }

  reportCard(card: ReportCard): void {
    this.out.write('report-cards.ndjson', 'report-cards', JSON.stringify(card) + '\n');
  }

  beginDay(day: number, date: string): void {
    this.bundleName = day < 0 ? 'reference' : date;
    this.bundlePart = 0;
  }

  async endDay(): Promise<void> {
    this.flushBundle();
    await this.out.drain();
  }

  async pause(): Promise<void> {
    await this.out.drain();
  }
}

export interface BundleEntry {
  resourceType: string;
  id: string;
  json: string;
}

/** A FHIR transaction Bundle (as JSON text) that PUTs every resource at its own id: idempotent upserts. */
export function transactionBundle(id: string, entries: BundleEntry[]): string {
  const items = entries.map(
    (e) => `{"resource":${e.json},"request":{"method":"PUT","url":${JSON.stringify(`${e.resourceType}/${e.id}`)}}}`,
  );
  return `{"resourceType":"Bundle","id":${JSON.stringify(id)},"type":"transaction","entry":[${items.join(',')}]}`;
}

/** Sends an object-built resource to a sink. */
export function emit(sink: Sink, r: FhirResource): void {
  sink.fhir(r.resourceType, r.id, JSON.stringify(r));
}

/** Sends every call to several sinks (files and live). */
export class TeeSink implements Sink {
  constructor(private readonly sinks: Sink[]) {}
  fhir(resourceType: string, id: string, json: string): void {
    for (const s of this.sinks) s.fhir(resourceType, id, json);
  }
  hl7(f: Facility, m: string): void {
    for (const s of this.sinks) s.hl7(f, m);
  }
  absence(l: string): void {
    for (const s of this.sinks) s.absence(l);
  }
  pharmacy(l: string): void {
    for (const s of this.sinks) s.pharmacy(l);
  }
  reportCard(c: ReportCard): void {
    for (const s of this.sinks) s.reportCard(c);
  }
  beginDay(day: number, date: string): void {
    for (const s of this.sinks) s.beginDay(day, date);
  }
  async endDay(day: number, date: string): Promise<void> {
    for (const s of this.sinks) await s.endDay(day, date);
  }
  async pause(): Promise<void> {
    for (const s of this.sinks) await s.pause();
  }
}
