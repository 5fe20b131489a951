/**
 * What every kind of record shares: the world, the output sink, the identities each facility
 * holds, the truth, the day scheduler, the recorder's random stream, the id counters and the
 * HL7 message counters, and small helpers (times, practitioners, patient segments).
 */
import type { Department, Facility, Practitioner } from '../district.js';
import { nk1, type Hl7Patient } from '../hl7.js';
import type { Identities } from '../identity.js';
import { Rng } from '../rng.js';
import type { Sink } from '../sink.js';
import type { Truth } from '../truth.js';
import type { PatientView, World } from '../types.js';

/** Hourly weights for arrivals at emergency departments and fever clinics. */
const EMERGENCY_HOURS = [
  1, 0.8, 0.6, 0.5, 0.5, 0.6, 0.9, 1.3, 1.8, 2.1, 2.2, 2.0, 1.6, 1.5, 1.7, 1.8, 1.8, 1.9, 2.2, 2.5, 2.5, 2.2, 1.8, 1.3,
];
const EMERGENCY_CUM = EMERGENCY_HOURS.reduce<number[]>((a, w) => (a.push((a[a.length - 1] ?? 0) + w), a), []);

export class RecordContext {
  /** Last id issued, per kind of record. */
  readonly seq = { enc: 0, cond: 0, obs: 0, lab: 0, card: 0, imm: 0, med: 0, ref: 0 };
  private readonly msgSeq = new Map<number, number>();
  readonly rng: Rng;

  constructor(
    readonly w: World,
    readonly sink: Sink,
    readonly identity: Identities,
    readonly truth: Truth,
    /** Schedules work on a later day; returns false when that day is after the run. */
    readonly later: (day: number, fn: () => void) => boolean,
  ) {
    this.rng = new Rng(w.seed, 'records');
  }

  pad = (n: number, w: number): string => String(n).padStart(w, '0');
  fhirTime = (day: number, min: number): string => this.w.clock.fhir(day, min);
  hl7Time = (day: number, min: number): string => this.w.clock.hl7(day, min);

  /** Minute of arrival for a department on a day. */
  arrivalMinute(dept: Pick<Department, 'kind'>): number {
    const r = this.rng;
    if (dept.kind === 'emergency' || dept.kind === 'ward') {
      const h = r.weighted(EMERGENCY_CUM);
      return h * 60 + r.int(60);
    }
    if (dept.kind === 'vaccination') return r.chance(0.7) ? 480 + r.int(210) : 840 + r.int(150);
    if (dept.kind === 'public-health') return r.chance(0.8) ? 480 + r.int(200) : 840 + r.int(150);
    return r.chance(0.65) ? 480 + r.int(210) : 810 + r.int(210);
  }

  practitioner(dept: Department, nurse = false): Practitioner {
    const list = nurse && dept.nurses.length > 0 ? dept.nurses : dept.doctors;
    return this.w.district.practitioners[list[this.rng.int(list.length)]!]!;
  }

  pname(p: Practitioner): { id: string; family: string; given: string } {
    return { id: p.id, family: this.w.names.surnames[p.surname]!.hanzi, given: this.w.names.given[p.given]!.hanzi };
  }

  /** The next HL7 message control id of a facility. */
  controlId(f: Facility): string {
    const n = (this.msgSeq.get(f.index) ?? 0) + 1;
    this.msgSeq.set(f.index, n);
    return `${f.code}-${this.pad(n, 9)}`;
  }

  obsId(): string {
    return 'obs-' + this.pad(++this.seq.obs, 9);
  }

  /** NK1 for a child's guardian (under 14), or null. */
  guardianSegment(person: number, day: number): string | null {
    const pop = this.w.pop;
    const g = pop.guardian[person]!;
    if (g < 0 || pop.age(person, day) >= 14) return null;
    const name = this.w.names.fullName(pop.surname[g]!, pop.given[g]!);
    return nk1(name, pop.sex[g] === 2 ? 'MTH' : 'FTH', pop.phone(g));
  }
}

/** The PID fields of what a facility knows about a person. */
export function hl7Patient(v: PatientView): Hl7Patient {
  return {
    mrn: v.mrn,
    facilityCode: v.facility.code,
    idNumber: v.idNumber,
    family: v.name.family,
    given: v.name.given,
    birthDate: v.birthDate,
    sex: v.sex,
    addressLine: v.address.line,
    community: v.address.community,
    city: v.address.city,
    province: v.address.province,
    district: v.address.district,
    postalCode: v.address.postalCode,
    areaCode: v.address.areaCode,
    phone: v.phone,
  };
}
