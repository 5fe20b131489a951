/**
 * The identity HTTP API as zod schemas (validation, serialization, the OpenAPI document); the web
 * app may `import type` the response types. Imports nothing but zod.
 */
import { z } from 'zod';

/** A Patient as the person index holds it (record.ts IdentityRecord): normalised for matching. */
export const IdentityData = z.object({
  patientId: z.string(),
  /** Managing organisation or the facility of the MRN. */
  facility: z.string(),
  /** A resident ID number that passes the GB 11643 check. */
  idNumber: z.string().optional(),
  /** Any ID number given (also invalid ones). */
  idRaw: z.string().optional(),
  name: z.string(),
  namePinyin: z.string(),
  familyPinyin: z.string(),
  givenPinyin: z.string(),
  birthDate: z.string().optional(),
  sex: z.string().optional(),
  phone: z.string().optional(),
  /** Address line without spaces or punctuation. */
  address: z.string().optional(),
  areaCode: z.string().optional(),
});
export type IdentityData = z.infer<typeof IdentityData>;

export const Thresholds = z.object({ upper: z.number(), lower: z.number() });
export type Thresholds = z.infer<typeof Thresholds>;

/** The person a Patient belongs to, its Patients, its household and the household Groups. */
export const PersonView = z.object({
  personId: z.string(),
  /** assurance: level4 ID number / level3 score or manual / level2 awaiting review. */
  patients: z.array(z.object({ patientId: z.string(), assurance: z.string(), data: IdentityData })),
  /** Persons at the same house address (this one included). */
  household: z.array(z.string()),
  /** FHIR Group per household address (GET /fhir/Group?member=Patient/{id} finds the same). */
  householdGroups: z.array(z.object({ group: z.string(), addressKey: z.string() })),
});
export type PersonView = z.infer<typeof PersonView>;

/** A pair scored between the thresholds, waiting for a person to decide. */
export const ReviewItem = z.object({
  id: z.number().int(),
  patientId: z.string(),
  candidatePersonId: z.string(),
  candidatePatientId: z.string(),
  score: z.number(),
  /** Level index per compared field (name, birth, sex, phone, address, id); -1 when a side lacks it. */
  comparison: z.record(z.number()),
  createdAt: z.string(),
  /** The records side by side (null when a record has gone since). */
  patient: IdentityData.nullable(),
  candidate: IdentityData.nullable(),
});
export type ReviewItem = z.infer<typeof ReviewItem>;

export const ReviewList = z.object({ items: z.array(ReviewItem), thresholds: Thresholds });
export type ReviewList = z.infer<typeof ReviewList>;

/** One Patient moved by a manual decision (kept so the decision can be undone). */
export const Move = z.object({ patient: z.string(), from: z.string(), to: z.string(), fromAssurance: z.string() });
export type Move = z.infer<typeof Move>;

/** A manual link, unlink, merge or undo. */
export const IdentityEvent = z.object({
  id: z.number().int(),
  action: z.enum(['link', 'unlink', 'merge', 'undo']),
  username: z.string(),
  at: z.string(),
  reason: z.string().nullable(),
  moves: z.array(Move),
  /** The event that undid this one. */
  undoneBy: z.number().int().nullable(),
});
export type IdentityEvent = z.infer<typeof IdentityEvent>;

export const IdentityEventList = z.object({ items: z.array(IdentityEvent) });
export type IdentityEventList = z.infer<typeof IdentityEventList>;

const id = (field: string) =>
  z
    .string({ message: `Send JSON with a non-empty string field '${field}'` })
    .trim()
    .min(1, { message: `Send JSON with a non-empty string field '${field}'` });

export const LinkBody = z.object({ patient: id('patient'), person: id('person'), reason: z.string().optional() });
export type LinkBody = z.infer<typeof LinkBody>;
export const UnlinkBody = z.object({ patient: id('patient'), reason: z.string().optional() });
export type UnlinkBody = z.infer<typeof UnlinkBody>;
export const MergeBody = z.object({ from: id('from'), into: id('into'), reason: z.string().optional() });
export type MergeBody = z.infer<typeof MergeBody>;

/** The event number of a manual decision (for undo). */
export const EventResult = z.object({ event: z.number().int() });
export type EventResult = z.infer<typeof EventResult>;
export const ReviewLinkResult = EventResult.extend({ personId: z.string() });
export type ReviewLinkResult = z.infer<typeof ReviewLinkResult>;
/** Unlink: the event and the new Person the Patient now has. */
export const UnlinkResult = EventResult.extend({ person: z.string() });
export type UnlinkResult = z.infer<typeof UnlinkResult>;
export const RejectResult = z.object({ ok: z.literal(true) });
export type RejectResult = z.infer<typeof RejectResult>;

/** m (agreement among matches) and u (among non-matches) per level of one field. */
export const MU = z.object({ m: z.array(z.number()), u: z.array(z.number()) });
export const WeightFit = z.object({ pairs: z.number().int(), matchShare: z.number(), parameters: z.record(MU) });
export type WeightFit = z.infer<typeof WeightFit>;

/** Numeric ids: review items and events. */
export const NumericIdParams = z.object({
  id: z.coerce
    .number({ message: 'id must be a positive integer' })
    .int({ message: 'id must be a positive integer' })
    .positive({ message: 'id must be a positive integer' }),
});
export type NumericIdParams = z.infer<typeof NumericIdParams>;

/** FHIR resource ids (Patient, Person). */
export const ResourceIdParams = z.object({ id: z.string().min(1) });
export type ResourceIdParams = z.infer<typeof ResourceIdParams>;

/** A FHIR resource or Bundle: free JSON here (the FHIR definitions describe it; send a Bundle as `{ ...bundle }`). */
export const FhirResource = z.record(z.unknown());
