/**
 * Turns simulated events into records in the format each facility sends: FHIR resources for
 * facilities on the FHIR feed, HL7 v2 messages for the hospitals on HL7, report cards, and
 * later events (discharges, lab reports, late cards) through the day scheduler.
 *
 * The Recorder is the one door the rest of the simulator uses; each kind of record is written
 * by its own file (encounters, vitals, labs, report cards, immunizations, orders), all sharing
 * one RecordContext so that ids, HL7 message numbers and the random stream stay in one order.
 */
import type { Department, Facility } from '../district.js';
import type { Hl7Patient } from '../hl7.js';
import type { Identities } from '../identity.js';
import type { PanelKey } from '../labs.js';
import type { CaseClassification, DiseaseKey } from '../report-card.js';
import type { Rng } from '../rng.js';
import type { Sink } from '../sink.js';
import type { Truth } from '../truth.js';
import type { PatientView, Visit, VisitSpec, World } from '../types.js';
import { hl7Patient, RecordContext } from './context.js';
import { recordVisit } from './encounters.js';
import { recordImmunization, type DoseGiven } from './immunizations.js';
import { orderLab } from './labs.js';
import { prescribe, refer } from './orders.js';
import { fileReportCard, type ReportCardOptions } from './report-cards.js';

export type { DoseGiven } from './immunizations.js';
export type { ReportCardOptions } from './report-cards.js';

export class Recorder {
  private readonly ctx: RecordContext;
  readonly rng: Rng;

  constructor(
    w: World,
    sink: Sink,
    readonly identity: Identities,
    truth: Truth,
    /** Schedules work on a later day; returns false when that day is after the run. */
    later: (day: number, fn: () => void) => boolean,
  ) {
    this.ctx = new RecordContext(w, sink, identity, truth, later);
    this.rng = this.ctx.rng;
  }

  /** Minute of arrival for a department on a day. */
  arrivalMinute(dept: Pick<Department, 'kind'>): number {
    return this.ctx.arrivalMinute(dept);
  }

  hl7Patient(v: PatientView): Hl7Patient {
    return hl7Patient(v);
  }

  /** Records one encounter. */
  visit(s: VisitSpec): Visit {
    return recordVisit(this.ctx, s);
  }

  /**
   * Orders a laboratory test for a visit. Returns the lab record id, or null if nothing about
   * it reaches the output within the run.
   */
  lab(v: Visit, panelKey: PanelKey, positives: ReadonlySet<string>, labFacility?: Facility): string | null {
    return orderLab(this.ctx, v, panelKey, positives, labFacility);
  }

  /**
   * Files a report card for a case (with the delays, duplicates and errors of real reporting).
   * Returns the ids of cards that reach the output within the run.
   */
  reportCard(v: Visit, disease: DiseaseKey, icd: string, classification: CaseClassification, opts: ReportCardOptions = {}): string[] {
    return fileReportCard(this.ctx, v, disease, icd, classification, opts);
  }

  /** Records a vaccination: FHIR Immunization, or VXU^V04 from an HL7-fed facility. */
  immunization(o: DoseGiven): string {
    return recordImmunization(this.ctx, o);
  }

  /** A prescription at a FHIR-fed visit. */
  medication(v: Visit, drug: { code: string; atc: string | null; text: string; dosage: string }): void {
    prescribe(this.ctx, v, drug);
  }

  /** A referral (转诊) from a FHIR-fed visit. */
  referral(v: Visit, target: Facility, deptName: string, urgent: boolean, reason: string): void {
    refer(this.ctx, v, target, deptName, urgent, reason);
  }
}
