/**
 * Ground truth collected during the run and written to truth.json at the end: outbreaks with
 * their cases and record ids, transmission chains and report-card defects. truth.json also lists
 * identities (which records are one person: identity.ts keeps them) and who truly has
 * hypertension or diabetes (the population's flags), and each case's contacts (contacts.ts).
 */
import type { Visit } from './types.js';

export type OutbreakKind = 'foodborne-point-source' | 'school-influenza' | 'care-home-norovirus' | 'community-measles' | 'class-a-cholera';

export interface TruthCase {
  patientId: string;
  /** Day the person was infected (or exposed at the source). */
  infectedDate: string;
  onsetDate: string | null;
  /** Carriers have no symptoms. */
  symptomatic: boolean;
  setting: string;
  encounterIds: string[];
  reportCardIds: string[];
  labRecordIds: string[];
  absenceDates: string[];
  pharmacyPurchases: number;
}

export interface TruthOutbreak {
  id: string;
  kind: OutbreakKind;
  disease: string;
  pathogen: string;
  /** 12-digit codes of the communities where cases live, and of the setting. */
  areaCodes: string[];
  setting: { type: string; id: string; name: string };
  start: string;
  end: string;
  cases: TruthCase[];
}

export interface TransmissionEdge {
  outbreakId: string;
  /** Patient id of the infector, or source:<outbreak id> for a common source. */
  from: string;
  to: string;
  day: string;
  setting: 'household' | 'class' | 'school' | 'ward' | 'care-home' | 'community' | 'food' | 'import';
}

export interface ReportCardIssue {
  cardId: string;
  issue: 'late' | 'duplicate' | 'error' | 'correction';
  detail: string;
  /** For duplicates: the card it duplicates. */
  of?: string;
}

/** Follows the cases' contacts (contacts.ts): told of every case and every encounter. */
/** What the contact truth needs of an encounter: who, where, when (home visits and field work put nobody at a department). */
export type FollowedVisit = Pick<Visit, 'person' | 'cls' | 'dept' | 'day' | 'startMin' | 'endDay' | 'endMin'>;

export interface ContactFollower {
  addCase(outbreakId: string, kind: OutbreakKind, person: number, truth: TruthCase, infected: number, onset: number | null): void;
  visit(v: FollowedVisit): void;
  /** After each simulated day. */
  endDay(day: number): void;
}

export class Truth {
  readonly outbreaks: TruthOutbreak[] = [];
  /** Set by the run when contact truth is collected. */
  follower: ContactFollower | null = null;
  readonly transmission: TransmissionEdge[] = [];
  readonly reportCardIssues: ReportCardIssue[] = [];
  /** Case lookup: patient index → case records, for attaching record ids as they are emitted. */
  private readonly casesByPerson = new Map<number, TruthCase[]>();

  addCase(person: number, c: TruthCase): void {
    const list = this.casesByPerson.get(person);
    if (list) list.push(c);
    else this.casesByPerson.set(person, [c]);
  }

  casesOf(person: number): TruthCase[] | undefined {
    return this.casesByPerson.get(person);
  }
}
