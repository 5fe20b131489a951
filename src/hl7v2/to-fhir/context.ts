/** The state of one mapping: the message, options, the Bundle being built, warnings; the Patient and visit handles mappers pass along. */
import { FACILITY_MRN_SYSTEM_PREFIX } from '../../shared/uris.js';
import { hl7ToFhirDate, hl7ToFhirDateTime, hl7ToFhirInstant, type Hl7Message, type Hl7Segment } from '../parser.js';
import type { Encounter, Identifier, Patient } from '@medplum/fhirtypes';
import { BundleBuilder } from './bundle.js';
import type { Hl7ErrorLocation } from '../errors.js';
import { HL7V2_IDENTIFIER_SYSTEMS, type BuiltEntry, type FieldWarning, type ToFhirOptions } from './contract.js';

export interface PatientCtx {
  entry: BuiltEntry<Patient>;
  key: Identifier;
}

export interface EncounterCtx {
  entry: BuiltEntry<Encounter>;
  /** Value used to derive keys of resources belonging to this visit. */
  keyValue: string;
}

export class Ctx {
  readonly builder = new BundleBuilder();
  readonly warnings: string[] = [];
  /** Warnings with the field they are about: also reported in the ACK (ERR, severity W). */
  readonly fieldWarnings: FieldWarning[] = [];
  readonly facility: string;
  private readonly facilityPart: string;
  readonly tz: string;
  readonly controlId: string;
  readonly patientKey: 'facility-mrn' | 'resident-id';
  private readonly usedKeys = new Map<string, number>();

  constructor(
    readonly msg: Hl7Message,
    options: ToFhirOptions,
  ) {
    this.facility = options.facilityId ?? msg.sendingFacility ?? msg.sendingApplication ?? 'unknown';
    this.facilityPart = encodeURIComponent(this.facility);
    this.tz = options.defaultTimezoneOffset ?? '+08:00';
    this.controlId = msg.controlId;
    this.patientKey = options.patientKey ?? 'facility-mrn';
  }

  get mrnSystem(): string {
    return `${FACILITY_MRN_SYSTEM_PREFIX}/${this.facilityPart}`;
  }

  system(kind: keyof typeof HL7V2_IDENTIFIER_SYSTEMS): string {
    return `${HL7V2_IDENTIFIER_SYSTEMS[kind]}/${this.facilityPart}`;
  }

  /** A derived key, made unique within this message if the same key is produced twice. */
  derived(value: string, unique = false): Identifier {
    let v = value;
    if (unique) {
      const n = (this.usedKeys.get(value) ?? 0) + 1;
      this.usedKeys.set(value, n);
      if (n > 1) v = `${value}#${n}`;
    }
    return { system: this.system('derived'), value: v };
  }

  /** 'PID-7', 'OBX[3]-14' */
  label(seg: Hl7Segment, field: number): string {
    return `${seg.name}${seg.occurrence > 1 ? `[${seg.occurrence}]` : ''}-${field}`;
  }

  dateTime(seg: Hl7Segment, field: number, component = 1, repetition = 1): string | undefined {
    return hl7ToFhirDateTime(seg.value(field, component, 1, repetition), this.label(seg, field), this.tz);
  }

  date(seg: Hl7Segment, field: number): string | undefined {
    return hl7ToFhirDate(seg.value(field), this.label(seg, field));
  }

  instant(seg: Hl7Segment, field: number): string | undefined {
    return hl7ToFhirInstant(seg.value(field), this.label(seg, field), this.tz);
  }

  /** A non-fatal problem; with a location it is also told to the sender in the ACK. */
  warn(message: string, location?: Hl7ErrorLocation): void {
    this.warnings.push(message);
    if (location) this.fieldWarnings.push({ message, location });
  }
}

export function nextSegment(msg: Hl7Message, seg: Hl7Segment, name: string, stopAt: string[]): Hl7Segment | undefined {
  for (let i = seg.index + 1; i < msg.segments.length; i++) {
    const s = msg.segments[i]!;
    if (s.name === name) return s;
    if (stopAt.includes(s.name)) return undefined;
  }
  return undefined;
}
