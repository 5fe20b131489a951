/** Vaccinations: a FHIR Immunization, or a VXU^V04 from an HL7-fed facility. */
import { VACCINE_SYSTEM } from '../../shared/uris.js';
import type { Facility } from '../district.js';
import { immunizationJson } from '../fhir.js';
import { msh, pid, vxuBody } from '../hl7.js';
import { hl7Patient, type RecordContext } from './context.js';

/** One dose given. */
export interface DoseGiven {
  person: number;
  facility: Facility;
  day: number;
  minute: number;
  vaccine: string;
  doseNumber: number;
  series: string;
  newborn?: boolean;
  /** Historical doses come from the immunization registry, always as FHIR. */
  forceFhir?: boolean;
}

/** Records a vaccination: FHIR Immunization, or VXU^V04 from an HL7-fed facility. */
export function recordImmunization(ctx: RecordContext, o: DoseGiven): string {
  const sched = ctx.w.schedule;
  const vac = sched.vaccines[o.vaccine]!;
  const f = o.facility;
  const dept =
    f.departments.find((x) => x.kind === 'vaccination') ?? f.departments.find((x) => x.code === 'ward-obstetrics') ?? f.departments[0]!;
  const nurse = ctx.practitioner(dept, true);
  const id = 'imm-' + ctx.pad(++ctx.seq.imm, 8);
  const lotYear = ctx.w.clock.iso(o.day).slice(0, 4);
  const lot = `${lotYear}${ctx.pad(1 + (Math.abs(o.day * 7 + o.vaccine.length * 13) % 90), 2)}${ctx.pad(o.vaccine.charCodeAt(0) % 100, 2)}`;
  const expiry = ctx.w.clock.iso(o.day + 300 + (o.day % 200));
  if (f.feed === 'fhir' || o.forceFhir) {
    ctx.sink.fhir(
      'Immunization',
      id,
      immunizationJson({
        id,
        vaccineSystem: VACCINE_SYSTEM,
        vaccineCode: o.vaccine,
        vaccineName: vac.name,
        cvx: vac.cvx,
        patientId: ctx.w.pop.patientId(o.person),
        time: ctx.fhirTime(o.day, o.minute),
        locationId: dept.id,
        manufacturer: vac.manufacturer,
        lot,
        expiry,
        site: vac.site,
        route: vac.route,
        doseMl: vac.doseMl,
        performerId: nurse.id,
        series: o.series,
        doseNumber: o.doseNumber,
      }),
    );
    return id;
  }
  const view = o.newborn ? ctx.identity.newbornView(o.person, f) : ctx.identity.view(o.person, f);
  const time = ctx.hl7Time(o.day, o.minute);
  const segs = [
    msh({
      sendingApp: 'EPI',
      facilityCode: f.code,
      districtCode: ctx.w.district.districtCode,
      time,
      type: 'VXU^V04^VXU_V04',
      controlId: ctx.controlId(f),
    }),
    pid(hl7Patient(view)),
  ];
  const g = ctx.guardianSegment(o.person, o.day);
  if (g) segs.push(g);
  segs.push(
    ...vxuBody({
      orderId: id,
      time,
      vaccineCode: o.vaccine,
      vaccineName: vac.name,
      cvx: vac.cvx,
      doseMl: vac.doseMl,
      nurse: ctx.pname(nurse),
      facilityCode: f.code,
      lot,
      expiry: expiry.replace(/-/g, ''),
      manufacturer: vac.manufacturer,
      route: vac.route,
      site: vac.site,
      doseNumber: o.doseNumber,
    }),
  );
  ctx.sink.hl7(f, segs.join('\r'));
  return id;
}
