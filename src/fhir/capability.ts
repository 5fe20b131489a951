/** The CapabilityStatement served at /fhir/metadata, generated from the same definitions. */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.js';

export function capabilityStatement(baseUrl: string): CapabilityStatement {
  const resources = [...loadDefinitions().values()].map((def): CapabilityStatementRestResource => ({
    type: def.type as CapabilityStatementRestResource['type'],
    versioning: 'versioned' as const,
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalUpdate: true,
    conditionalDelete: 'not-supported' as const,
    interaction: (['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const).map(
      (code) => ({ code }),
    ),
    searchInclude: [...def.params.values()].filter((p) => p.kind === 'reference').map((p) => `${def.type}:${p.code}`),
    searchParam: [
      { name: '_id', type: 'token' as const },
      { name: '_lastUpdated', type: 'date' as const },
      ...[...def.params.values()].filter((p) => p.kind !== 'special').map((p) => ({ name: p.code, type: p.kind as 'string' })),
    ],
    ...(def.type === 'Patient'
      ? { operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] }
      : {}),
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'Yifang (医防)', version: '0.1.0' },
    implementation: { description: 'Yifang health-data hub (数智基座)', url: baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: { description: 'Bearer token from POST /auth/login; every interaction except metadata is audited as an AuditEvent.' },
        resource: resources,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
      },
    ],
  };
}
