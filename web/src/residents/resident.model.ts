/** How a resident (FHIR Patient) is shown: name, ID number, phone, identifiers by facility. */
import { RESIDENT_ID_SYSTEM, FACILITY_MRN_SYSTEM_PREFIX } from '../../../src/shared/uris.js';
import { t } from '../i18n/i18n.js';
import type { Identifier, Patient } from '@medplum/fhirtypes';
import { conceptText, formatAddress, formatHumanName, preferredAddress, preferredName } from '../shared/format.js';

export function residentName(patient: Patient | undefined): string {
  return formatHumanName(preferredName(patient?.name)) || t('resident.unnamed', '（未登记姓名）');
}

/** The resident ID number (公民身份号码), when the Patient carries one. */
export function residentIdNumber(patient: Patient | undefined): string | undefined {
  return patient?.identifier?.find((id) => id.system === RESIDENT_ID_SYSTEM && id.value)?.value;
}

export function residentPhone(patient: Patient | undefined): string {
  const phones = (patient?.telecom ?? []).filter((c) => c.system === 'phone' && c.value);
  const preferred = phones.find((c) => c.use === 'mobile') ?? phones[0];
  return preferred?.value ?? '';
}

export function residentAddress(patient: Patient | undefined): string {
  return formatAddress(preferredAddress(patient?.address));
}

const KNOWN_SYSTEMS: Record<string, () => string> = {
  [RESIDENT_ID_SYSTEM]: () => t('identifier.residentId', '公民身份号码'),
  'http://hl7.org/fhir/sid/us-ssn': () => t('identifier.ssn', '美国社会安全号'),
  'https://github.com/synthetichealth/synthea': () => t('identifier.synthea', 'Synthea 标识'),
};

/** Label for an identifier: resident ID, a facility's patient number, or its type/system. */
export function identifierLabel(identifier: Identifier): string {
  const system = identifier.system ?? '';
  const known = KNOWN_SYSTEMS[system];
  if (known) return known();
  if (system.startsWith(`${FACILITY_MRN_SYSTEM_PREFIX}/`)) {
    const facility = identifier.assigner?.display ?? system.slice(FACILITY_MRN_SYSTEM_PREFIX.length + 1);
    return t('identifier.facilityMrn', '{facility} 病案号', { facility });
  }
  const type = conceptText(identifier.type);
  if (identifier.assigner?.display) return type ? `${identifier.assigner.display} ${type}` : identifier.assigner.display;
  return type || system || t('identifier.other', '其他标识');
}
