/** A resident's area code (统计用区划代码) as recorded on the home address (else the first address), if any. */
import type { Patient } from '@medplum/fhirtypes';
import { AREA_CODE_EXTENSION } from './uris.js';

export function homeAreaCode(p: Patient | undefined): string | null {
  const home = p?.address?.find((a) => a.use === 'home') ?? p?.address?.[0];
  const ext = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION);
  return ext?.valueCode ?? ext?.valueString ?? null;
}
