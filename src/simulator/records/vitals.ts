/**
 * Vital signs and point-of-care results taken at a visit (temperature, blood pressure, glucose,
 * HbA1c): FHIR Observations at FHIR-fed facilities, OBX segments of the ADT message otherwise.
 */
import { bloodPressureJson, quantityObservationJson } from '../fhir.js';
import { obxNumeric, obxTemperature } from '../hl7.js';
import type { Extra } from '../types.js';
import type { RecordContext } from './context.js';

/** Writes the visit's measurements as FHIR Observations. */
export function vitalsFhir(
  ctx: RecordContext,
  at: { patientId: string; encounterId: string; time: string; performerId: string },
  temperature: number | null,
  extras: Extra[],
): void {
  const { patientId, encounterId, time, performerId } = at;
  if (temperature !== null) {
    const oid = ctx.obsId();
    ctx.sink.fhir(
      'Observation',
      oid,
      quantityObservationJson({
        id: oid,
        patientId,
        encounterId,
        loinc: '8310-5',
        display: 'Body temperature',
        value: Math.round(temperature * 10) / 10,
        unit: 'Cel',
        ucum: 'Cel',
        time,
        category: 'vital-signs',
      }),
    );
  }
  for (const x of extras) {
    const oid = ctx.obsId();
    if (x.kind === 'bp') {
      ctx.sink.fhir('Observation', oid, bloodPressureJson({ id: oid, patientId, encounterId, sbp: x.sbp, dbp: x.dbp, time, performerId }));
    } else {
      const glucose = x.kind === 'glucose';
      ctx.sink.fhir(
        'Observation',
        oid,
        quantityObservationJson({
          id: oid,
          patientId,
          encounterId,
          loinc: glucose ? '1558-6' : '4548-4',
          display: glucose ? 'Fasting glucose [Moles/volume] in Serum or Plasma' : 'Hemoglobin A1c/Hemoglobin.total in Blood',
          value: Math.round(x.value * 10) / 10,
          unit: glucose ? 'mmol/L' : '%',
          ucum: glucose ? 'mmol/L' : '%',
          time,
          category: 'laboratory',
          performerId,
        }),
      );
    }
  }
}

/** The visit's measurements as OBX segments (numbered from 1) of an ADT message. */
export function vitalsObx(temperature: number | null, extras: Extra[], measured: string): string[] {
  const segs: string[] = [];
  let set = 0;
  if (temperature !== null) segs.push(obxTemperature(++set, temperature, measured));
  for (const x of extras) {
    if (x.kind === 'bp') {
      segs.push(obxNumeric(++set, '8480-6', 'Systolic blood pressure', 'LN', String(x.sbp), 'mm[Hg]', measured));
      segs.push(obxNumeric(++set, '8462-4', 'Diastolic blood pressure', 'LN', String(x.dbp), 'mm[Hg]', measured));
    } else if (x.kind === 'glucose') {
      segs.push(obxNumeric(++set, '1558-6', 'Fasting glucose', 'LN', x.value.toFixed(1), 'mmol/L', measured));
    }
  }
  return segs;
}
