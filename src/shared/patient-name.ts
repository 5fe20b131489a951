/**
 * A resident's name as Chinese screens and documents write it: the official name (else the first
 * one), its text when given, else family name and given names run together (王小明). The one copy
 * for server code that names a Patient in words.
 */
import type { Patient } from '@medplum/fhirtypes';

export function patientDisplayName(p: Patient | undefined | null): string | null {
  const n = p?.name?.find((x) => x.use === 'official') ?? p?.name?.[0];
  if (!n) return null;
  if (n.text) return n.text;
  return `${n.family ?? ''}${(n.given ?? []).join('')}` || null;
}
