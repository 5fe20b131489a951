/**
 * Laboratory orders and results: ServiceRequest, Specimen, Observations and DiagnosticReport
 * from FHIR-fed laboratories, an ORU^R01 from the others; results arrive on their report day.
 */
import { PANELS, type PanelKey } from '../labs.js';
import type { Facility } from '../district.js';
import { codedLabObservation, diagnosticReportResource, serviceRequestLab, specimenResource } from '../fhir.js';
import { msh, oruBody, pid, pv1 } from '../hl7.js';
import { emit } from '../sink.js';
import type { LabResult, Visit } from '../types.js';
import { LAB_ORDER_ID_SYSTEM, LAB_TESTED_EXTENSION, LAB_TEST_SYSTEM, SPECIMEN_SHIPPED_EXTENSION } from '../uris.js';
import { hl7Patient, type RecordContext } from './context.js';

/**
 * Orders a laboratory test for a visit. Returns the lab record id, or null if nothing about
 * it reaches the output within the run.
 */
export function orderLab(
  ctx: RecordContext,
  v: Visit,
  panelKey: PanelKey,
  positives: ReadonlySet<string>,
  labFacility?: Facility,
): string | null {
  const r = ctx.rng;
  const panel = PANELS[panelKey];
  const lab = labFacility ?? v.facility;
  const toCdc = lab.kind === 'cdc';
  const collectMin = v.startMin + 10 + r.int(50);
  const shipMin = collectMin + (toCdc ? 120 + r.int(600) : 15 + r.int(90));
  const receivedMin = shipMin + (toCdc ? 30 + r.int(120) : 10 + r.int(40));
  const testedMin = receivedMin + 60 + r.int(toCdc ? 900 : 300);
  const reportMin = testedMin + 30 + r.int(toCdc ? 600 : 180);
  const d = v.day;
  const reportDay = d + Math.floor(reportMin / 1440);
  const seq = ctx.pad(++ctx.seq.lab, 8);
  const labId = 'lab-' + seq;
  const specimenId = 'spec-' + seq;
  const reportId = 'dr-' + seq;
  const results: LabResult[] = panel.analytes.map((a) => ({ code: a.code, positive: positives.has(a.code) }));
  const positiveNames = panel.analytes.filter((a) => positives.has(a.code)).map((a) => a.name);
  const conclusion = positiveNames.length ? `${positiveNames.join('、')}阳性` : '均阴性';
  const collector = ctx.practitioner(v.dept, true);
  if (lab.feed === 'fhir') {
    // The visit's patient record when the lab belongs to the same FHIR-fed facility, else the
    // regional record; the encounter only when it exists in FHIR.
    const patientId = lab === v.facility && v.fhir ? v.view.fhirId! : ctx.w.pop.patientId(v.person);
    const encounterId = v.fhir ? v.id : null;
    const completed = reportDay < ctx.w.endDay;
    emit(
      ctx.sink,
      serviceRequestLab({
        id: labId,
        labId,
        identifierSystem: LAB_ORDER_ID_SYSTEM,
        panelSystem: LAB_TEST_SYSTEM,
        panelCode: panel.code,
        panelName: panel.name,
        patientId,
        encounterId,
        time: ctx.fhirTime(d, collectMin),
        requesterId: v.doctor.id,
        performerOrgId: lab.id,
        specimenId,
        completed,
      }),
    );
    emit(
      ctx.sink,
      specimenResource({
        id: specimenId,
        labId,
        identifierSystem: LAB_ORDER_ID_SYSTEM,
        type: panel.specimen,
        patientId,
        requestId: labId,
        collected: ctx.fhirTime(d, collectMin),
        shipped: ctx.fhirTime(d, shipMin),
        received: ctx.fhirTime(d, receivedMin),
        collectorId: collector.id,
        shippedExtension: SPECIMEN_SHIPPED_EXTENSION,
      }),
    );
    ctx.later(reportDay, () => {
      const issued = ctx.fhirTime(d, reportMin);
      const obsIds = panel.analytes.map((a, k) => {
        const id = ctx.obsId();
        const codings = [{ system: LAB_TEST_SYSTEM, code: a.code, display: a.name }];
        if (a.loinc) codings.push({ system: 'http://loinc.org', code: a.loinc, display: a.loincDisplay ?? a.name });
        emit(
          ctx.sink,
          codedLabObservation({
            id,
            patientId,
            encounterId,
            codings,
            text: a.name,
            positive: results[k]!.positive,
            time: ctx.fhirTime(d, collectMin),
            issued,
            specimenId,
            performerOrgId: lab.id,
          }),
        );
        return id;
      });
      emit(
        ctx.sink,
        diagnosticReportResource({
          id: reportId,
          requestId: labId,
          panelSystem: LAB_TEST_SYSTEM,
          panelCode: panel.code,
          panelName: panel.name,
          patientId,
          encounterId,
          collected: ctx.fhirTime(d, collectMin),
          tested: ctx.fhirTime(d, testedMin),
          issued,
          performerOrgId: lab.id,
          specimenId,
          resultIds: obsIds,
          conclusion,
          testedExtension: LAB_TESTED_EXTENSION,
        }),
      );
    });
    return labId;
  }
  const view = lab === v.facility ? v.view : ctx.identity.view(v.person, lab);
  const scheduled = ctx.later(reportDay, () => {
    const time = ctx.hl7Time(d, reportMin);
    const segs = [
      msh({
        sendingApp: 'LIS',
        facilityCode: lab.code,
        districtCode: ctx.w.district.districtCode,
        time,
        type: 'ORU^R01^ORU_R01',
        controlId: ctx.controlId(lab),
      }),
      pid(hl7Patient(view)),
      pv1({
        patientClass: v.cls === 'IMP' ? 'I' : v.cls === 'EMER' ? 'E' : 'O',
        deptCode: v.dept.code,
        deptName: v.dept.name,
        facilityCode: lab.code,
        doctor: ctx.pname(v.doctor),
        visitNumber: v.id,
        admit: ctx.hl7Time(v.day, v.startMin),
        discharge: null,
      }),
      ...oruBody({
        placer: labId,
        filler: reportId,
        panelCode: panel.code,
        panelName: panel.name,
        collect: ctx.hl7Time(d, collectMin),
        ship: ctx.hl7Time(d, shipMin),
        received: ctx.hl7Time(d, receivedMin),
        tested: ctx.hl7Time(d, testedMin),
        reported: time,
        orderer: ctx.pname(v.doctor),
        specimenId,
        specimenType: panel.specimen.code,
        specimenName: panel.specimen.text,
        results: panel.analytes.map((a, k) => ({ code: a.code, name: a.name, loinc: a.loinc, positive: results[k]!.positive })),
      }),
    ];
    ctx.sink.hl7(lab, segs.join('\r'));
  });
  return scheduled ? labId : null;
}
