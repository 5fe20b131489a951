/**
 * One Synthea patient (Frankie174 Jast432) loaded through the FHIR transaction endpoint, with a
 * valid resident ID number added so ID search and masking are covered.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, Patient, Resource } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { makeIdNumber, RESIDENT_ID_SYSTEM } from '../../src/shared/id-number.js';
import { repoRoot } from './harness.js';
import type { Seeder } from './fixture.js';

const bundleFile = path.join(
  repoRoot,
  '../shared/data/synthea-fhir-r4-bundles/Frankie174_Jast432_a5b737fb-1f94-4767-802b-1112051f5101.json',
);
export const ID_NUMBER = makeIdNumber('110105', '1975-08-12', 1);
const GLUCOSE_CODES = ['2339-0', '1558-6', '2345-7'];

export interface SyntheaResident {
  patientId: string;
  encounterCount: number;
  hasGlucose: boolean;
}

export async function seedSyntheaResident(s: Seeder): Promise<SyntheaResident> {
  const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as Bundle;
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => !!r);
  const patient = resources.find((r): r is Patient => r.resourceType === 'Patient')!;
  patient.identifier = [...(patient.identifier ?? []), { system: RESIDENT_ID_SYSTEM, value: ID_NUMBER }];
  const encounterCount = resources.filter((r) => r.resourceType === 'Encounter').length;
  const hasGlucose = resources.some(
    (r) => r.resourceType === 'Observation' && !!r.code?.coding?.some((c) => c.code && GLUCOSE_CODES.includes(c.code)),
  );
  const response = await s.transaction<Bundle>(bundle);
  const patientIndex = (bundle.entry ?? []).findIndex((e: BundleEntry) => e.resource === patient);
  const location = response.entry?.[patientIndex]?.response?.location ?? '';
  const patientId = /Patient\/([^/]+)/.exec(location)?.[1] ?? '';
  expect(patientId, `transaction-response location for the Patient: '${location}'`).not.toBe('');
  return { patientId, encounterCount, hasGlucose };
}
