/** Immunization (RXA; RXR route and site and the funding OBX are added by the VXU walker). */
import { UCUM_SYSTEM, VACCINE_SYSTEM } from '../../shared/uris.js';
import { Hl7ParseError } from '../errors.js';
import type { Hl7Segment } from '../parser.js';
import type { Identifier, Immunization } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { asCode, codingSystemUri, compact, concept, CVX, IMM_FUNCTION, MVX, NDC, practitionerRef, toNumber, V2_0203 } from './datatypes.js';

function vaccineSystem(name: string | undefined): string {
  const uri = codingSystemUri(name);
  return uri === CVX || uri === NDC ? uri : VACCINE_SYSTEM;
}

export function mapImmunization(
  rxa: Hl7Segment,
  orc: Hl7Segment | undefined,
  patient: PatientCtx,
  encounter: EncounterCtx | undefined,
  ctx: Ctx,
): BuiltEntry<Immunization> {
  const vaccineCode = concept(rxa.rep(5), vaccineSystem);
  if (!vaccineCode)
    throw new Hl7ParseError('MISSING_FIELD', `${ctx.label(rxa, 5)} (administered vaccine code) is required`, rxa.location(5));
  const occurrence = ctx.dateTime(rxa, 3);
  if (!occurrence)
    throw new Hl7ParseError('MISSING_FIELD', `${ctx.label(rxa, 3)} (date/time of administration) is required`, rxa.location(3));
  const identifiers: Identifier[] = [];
  const filler = orc?.value(3);
  const placer = orc?.value(2);
  if (filler) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'FILL' }] }, system: ctx.system('fillerOrder'), value: filler });
  if (placer) identifiers.push({ type: { coding: [{ system: V2_0203, code: 'PLAC' }] }, system: ctx.system('placerOrder'), value: placer });
  const codeKey = vaccineCode.coding?.[0]?.code ?? vaccineCode.text!;
  const natural = ctx.derived(`patient:${patient.key.value}/imm:${codeKey}/${rxa.value(3)}`, true);
  const key = identifiers[0] ? { system: identifiers[0].system, value: identifiers[0].value } : natural;
  if (!identifiers.length) identifiers.push(natural);

  const completion = rxa.value(20)?.toUpperCase();
  const action = rxa.value(21)?.toUpperCase();
  const status: Immunization['status'] =
    action === 'D' ? 'entered-in-error' : completion === 'RE' || completion === 'NA' ? 'not-done' : 'completed';
  const amount = toNumber(rxa.value(6));
  const unit = rxa.rep(7);
  const unitCode = asCode(unit?.value(1));
  const unitIsUcum = codingSystemUri(unit?.value(3)) === UCUM_SYSTEM;
  const sourceCode = rxa.value(9)?.trim();
  const manufacturer = rxa.rep(17);
  const lot = rxa.value(15);
  const provider = practitionerRef(rxa.rep(10));
  const place = rxa.rep(11);
  const placeName = place ? (place.value(4, 1) ?? place.value(1) ?? place.value(9)) : undefined;

  const imm: Immunization = compact({
    resourceType: 'Immunization' as const,
    identifier: identifiers,
    status,
    statusReason: status === 'not-done' ? concept(rxa.rep(18)) : undefined,
    vaccineCode,
    patient: ref(patient.entry),
    encounter: encounter ? ref(encounter.entry) : undefined,
    occurrenceDateTime: occurrence,
    recorded: ctx.dateTime(rxa, 22),
    primarySource: sourceCode === '00' ? true : sourceCode && /^0[1-8]$/.test(sourceCode) ? false : undefined,
    reportOrigin: sourceCode && sourceCode !== '00' ? concept(rxa.rep(9)) : undefined,
    location: placeName ? { display: placeName } : undefined,
    manufacturer: manufacturer?.value(1)
      ? compact({
          identifier: { system: codingSystemUri(manufacturer.value(3)) === MVX ? MVX : undefined, value: manufacturer.value(1) },
          display: manufacturer.value(2),
        })
      : undefined,
    lotNumber: lot,
    expirationDate: ctx.date(rxa, 16),
    doseQuantity:
      amount !== undefined && amount !== 999
        ? compact({
            value: amount,
            unit: unit?.value(2) ?? unitCode,
            system: unitIsUcum && unitCode ? UCUM_SYSTEM : undefined,
            code: unitIsUcum ? unitCode : undefined,
          })
        : undefined,
    performer: provider ? [{ function: { coding: [{ system: IMM_FUNCTION, code: 'AP' }] }, actor: provider }] : undefined,
    isSubpotent: completion === 'PA' ? true : undefined,
  });
  if (imm.manufacturer?.identifier) imm.manufacturer.identifier = compact(imm.manufacturer.identifier);
  return ctx.builder.add(imm, key, 'update').entry;
}
