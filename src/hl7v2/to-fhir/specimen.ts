/** Specimen (SPM, or OBR-15 in older messages). */
import type { Hl7Segment } from '../parser.js';
import type { CodeableConcept, Identifier, Specimen } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, PatientCtx } from './context.js';
import { asCode, codingSystemUri, compact, concept, textConcept } from './datatypes.js';

export function mapSpecimen(spm: Hl7Segment, patient: PatientCtx, scope: string, ctx: Ctx): BuiltEntry<Specimen> {
  const id = spm.value(2, 2, 1) ?? spm.value(2, 1, 1);
  const key: Identifier = id
    ? { system: ctx.system('specimen'), value: id }
    : ctx.derived(`${scope}/spm:${spm.value(1) ?? spm.occurrence}`, true);
  const collectedStart = ctx.dateTime(spm, 17, 1);
  const collectedEnd = ctx.dateTime(spm, 17, 2);
  const collection = compact({
    collectedDateTime: collectedEnd && collectedEnd !== collectedStart ? undefined : collectedStart,
    collectedPeriod: collectedEnd && collectedEnd !== collectedStart ? compact({ start: collectedStart, end: collectedEnd }) : undefined,
    method: concept(spm.rep(7)),
    bodySite: concept(spm.rep(8)),
  });
  const specimen: Specimen = compact({
    resourceType: 'Specimen' as const,
    identifier: [key],
    type: concept(spm.rep(4)),
    subject: ref(patient.entry),
    receivedTime: ctx.dateTime(spm, 18),
    collection: Object.keys(collection).length ? collection : undefined,
    note: spm.value(14) ? [{ text: spm.value(14)! }] : undefined,
  });
  return ctx.builder.add(specimen, key, 'update').entry;
}

export function specimenFromObr(obr: Hl7Segment, patient: PatientCtx, scope: string, ctx: Ctx): BuiltEntry<Specimen> | undefined {
  const source = obr.rep(15);
  if (!source) return undefined;
  // OBR-15 (SPS): specimen source code (sub-components of the first component), ..., body site (4th).
  const typeText = source.value(1, 2) ?? source.value(1, 1);
  const typeCode = asCode(source.value(1, 1));
  const type: CodeableConcept | undefined = typeCode
    ? compact({
        coding: [compact({ system: codingSystemUri(source.value(1, 3)), code: typeCode, display: source.value(1, 2) })],
        text: typeText,
      })
    : textConcept(typeText);
  const key = ctx.derived(`${scope}/specimen`);
  const collected = ctx.dateTime(obr, 7);
  const specimen: Specimen = compact({
    resourceType: 'Specimen' as const,
    identifier: [key],
    type,
    subject: ref(patient.entry),
    receivedTime: ctx.dateTime(obr, 14),
    collection:
      collected || source.value(4) ? compact({ collectedDateTime: collected, bodySite: textConcept(source.value(4)) }) : undefined,
  });
  return ctx.builder.add(specimen, key, 'update').entry;
}
