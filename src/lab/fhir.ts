/**
 * The FHIR side of the lab loop (pure): ServiceRequest of an order, Specimen, the Task whose
 * state follows every scan, and the Observation and DiagnosticReport of a result, each built
 * from the lab tables' rows so a step writes them without reading them first.
 */
import type { DiagnosticReport, Observation, ServiceRequest, Specimen, Task } from '@medplum/fhirtypes';
import { ORGANIZATION_CODE_SYSTEM, YIFANG_BASE } from '../shared/uris.js';
import { STATE_ZH } from './codes.js';
import type { OrderRow, SpecimenRow } from './store.js';

/** Identifier system of specimen barcodes (one per physical specimen, kept across referrals). */
export const SPECIMEN_BARCODE_SYSTEM = `${YIFANG_BASE}/sid/specimen-barcode`;
/** Identifier system of investigations (流调) an order is linked to. */
export const INVESTIGATION_SYSTEM = `${YIFANG_BASE}/sid/investigation`;
/** Lab-test codes (config/terminology/lab-tests.json). */
export const LAB_TEST_SYSTEM = `${YIFANG_BASE}/CodeSystem/lab-test`;
/** Task code of the specimen loop, and the specimen's state as the Task's business status. */
export const LAB_TASK_SYSTEM = `${YIFANG_BASE}/CodeSystem/lab-task`;
export const SPECIMEN_STATE_SYSTEM = `${YIFANG_BASE}/CodeSystem/specimen-state`;
const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const INTERPRETATION = {
  positive: ['POS', 'Positive', '阳性'],
  negative: ['NEG', 'Negative', '阴性'],
  indeterminate: ['IND', 'Indeterminate', '不确定'],
};

const org = (code: string) => ({ identifier: { system: ORGANIZATION_CODE_SYSTEM, value: code }, display: code });
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : undefined);

export function testCoding(o: Pick<OrderRow, 'testCode' | 'testSystem' | 'testName'>) {
  return {
    coding: [{ system: o.testSystem ?? LAB_TEST_SYSTEM, code: o.testCode, ...(o.testName ? { display: o.testName } : {}) }],
    ...(o.testName ? { text: o.testName } : {}),
  };
}

export function orderServiceRequest(o: OrderRow, note?: string): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: o.id,
    status: 'active',
    intent: 'order',
    priority: o.mode === 'emergency' ? 'stat' : 'routine',
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '108252007', display: 'Laboratory procedure' }], text: '检验' }],
    code: testCoding(o),
    ...(o.patientId ? { subject: { reference: `Patient/${o.patientId}` } } : { subject: { display: '环境或无主标本 (no resident)' } }),
    authoredOn: o.createdAt.toISOString(),
    requester: org(o.orderingUnit),
    ...(o.investigationId
      ? {
          supportingInfo: [
            { identifier: { system: INVESTIGATION_SYSTEM, value: o.investigationId }, display: `流调 ${o.investigationId}` },
          ],
        }
      : {}),
    ...(note ? { note: [{ text: note }] } : {}),
  };
}

export function specimenResource(s: SpecimenRow): Specimen {
  return {
    resourceType: 'Specimen',
    id: s.id,
    identifier: [{ system: SPECIMEN_BARCODE_SYSTEM, value: s.barcode }],
    status: s.state === 'rejected' ? 'unsatisfactory' : 'available',
    ...(s.specimenType ? { type: { text: s.specimenType } } : {}),
    ...(s.patientId ? { subject: { reference: `Patient/${s.patientId}` } } : {}),
    ...(s.receivedAt ? { receivedTime: iso(s.receivedAt) } : {}),
    request: [{ reference: `ServiceRequest/${s.orderId}` }],
    collection: {
      ...(s.collector ? { collector: { display: s.collector } } : {}),
      collectedDateTime: iso(s.collectedAt),
    },
    ...(s.container
      ? { container: [{ type: { text: s.container }, identifier: [{ system: SPECIMEN_BARCODE_SYSTEM, value: s.barcode }] }] }
      : {}),
    ...(s.condition || s.rejectedReason
      ? { condition: [{ text: [s.condition, s.rejectedReason ? `拒收: ${s.rejectedReason}` : undefined].filter(Boolean).join('; ') }] }
      : {}),
  };
}

/** The Task of a specimen's loop: its status and business status follow the specimen's state. */
export function specimenTask(s: SpecimenRow): Task {
  const status: Task['status'] = s.state === 'rejected' ? 'rejected' : s.state === 'reported' ? 'completed' : 'in-progress';
  const owner = s.holder.startsWith('shipment:') ? { display: `转运箱 ${s.holder.slice(9)}` } : org(s.holder);
  return {
    resourceType: 'Task',
    id: s.taskId,
    status,
    intent: 'order',
    priority: s.mode === 'emergency' ? 'stat' : 'routine',
    code: { coding: [{ system: LAB_TASK_SYSTEM, code: 'specimen-loop', display: '采送检报' }] },
    businessStatus: { coding: [{ system: SPECIMEN_STATE_SYSTEM, code: s.state, display: STATE_ZH[s.state] }], text: STATE_ZH[s.state] },
    basedOn: [{ reference: `ServiceRequest/${s.orderId}` }],
    focus: { reference: `Specimen/${s.id}` },
    ...(s.patientId ? { for: { reference: `Patient/${s.patientId}` } } : {}),
    authoredOn: iso(s.collectedAt),
    lastModified: iso(s.lastAt),
    requester: org(s.collectingUnit),
    owner,
    executionPeriod: { start: iso(s.collectedAt), ...(s.reportedAt ? { end: iso(s.reportedAt) } : {}) },
    ...(s.rejectedReason ? { statusReason: { text: s.rejectedReason } } : {}),
  };
}

export function resultObservation(s: SpecimenRow, o: OrderRow): Observation {
  const interp = s.resultInterpretation ? INTERPRETATION[s.resultInterpretation as keyof typeof INTERPRETATION] : undefined;
  return {
    resourceType: 'Observation',
    id: s.observationId!,
    status: s.state === 'resulted' ? 'preliminary' : 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: testCoding(o),
    ...(s.patientId ? { subject: { reference: `Patient/${s.patientId}` } } : {}),
    basedOn: [{ reference: `ServiceRequest/${s.orderId}` }],
    specimen: { reference: `Specimen/${s.id}` },
    effectiveDateTime: iso(s.collectedAt),
    issued: iso(s.verifiedAt ?? s.resultAt),
    ...(s.lab ? { performer: [org(s.lab)] } : {}),
    valueString: s.resultValue ?? '',
    ...(interp
      ? { interpretation: [{ coding: [{ system: INTERPRETATION_SYSTEM, code: interp[0], display: interp[1] }], text: interp[2] }] }
      : {}),
  };
}

export function resultReport(s: SpecimenRow, o: OrderRow): DiagnosticReport {
  return {
    resourceType: 'DiagnosticReport',
    id: s.reportId!,
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB' }] }],
    code: testCoding(o),
    ...(s.patientId ? { subject: { reference: `Patient/${s.patientId}` } } : {}),
    basedOn: [{ reference: `ServiceRequest/${s.orderId}` }],
    specimen: [{ reference: `Specimen/${s.id}` }],
    effectiveDateTime: iso(s.collectedAt),
    issued: iso(s.verifiedAt),
    ...(s.lab ? { performer: [org(s.lab)] } : {}),
    result: [{ reference: `Observation/${s.observationId}` }],
  };
}
