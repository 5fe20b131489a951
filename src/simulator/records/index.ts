/**
 * Turns simulated events into records in the format each facility sends: FHIR resources for
 * facilities on the FHIR feed, HL7 v2 messages for the hospitals on HL7, report cards, and
 * later events (discharges, lab reports, late cards) through the day scheduler.
 */
import { VACCINE_SYSTEM } from '../../shared/uris.js';
import { parseIsoDate } from '../calendar.js';
import type { Department, Facility, Practitioner } from '../district.js';
import {
  bloodPressureJson,
  codedLabObservation,
  conditionJson,
  diagnosticReportResource,
  encounterJson,
  immunizationJson,
  medicationRequestJson,
  quantityObservationJson,
  referralResource,
  serviceRequestLab,
  specimenResource,
  type EncounterClass,
  type VisitType,
} from '../fhir.js';
import { dg1, msh, nk1, obxNumeric, obxTemperature, oruBody, pid, pv1, pv2, vxuBody, type Hl7Patient } from '../hl7.js';
import type { Identities } from '../identity.js';
import { PANELS, type PanelKey } from '../labs.js';
import { OCCUPATIONS, occupationCode } from '../population.js';
import { DISEASES, TWO_HOUR_DISEASES, type CaseClassification, type DiseaseKey, type ReportCard } from '../report-card.js';
import { Rng } from '../rng.js';
import { emit, type Sink } from '../sink.js';
import type { Truth } from '../truth.js';
import { LAB_ORDER_ID_SYSTEM, LAB_TESTED_EXTENSION, LAB_TEST_SYSTEM, MEDICATION_SYSTEM, SPECIMEN_SHIPPED_EXTENSION } from '../uris.js';
import type { Dx, Extra, LabResult, PatientView, Visit, VisitSpec, World } from '../types.js';

/** Hourly weights for arrivals at emergency departments and fever clinics. */
const EMERGENCY_HOURS = [
  1, 0.8, 0.6, 0.5, 0.5, 0.6, 0.9, 1.3, 1.8, 2.1, 2.2, 2.0, 1.6, 1.5, 1.7, 1.8, 1.8, 1.9, 2.2, 2.5, 2.5, 2.2, 1.8, 1.3,
];
const EMERGENCY_CUM = EMERGENCY_HOURS.reduce<number[]>((a, w) => (a.push((a[a.length - 1] ?? 0) + w), a), []);

export class Recorder {
  private encSeq = 0;
  private condSeq = 0;
  private obsSeq = 0;
  private labSeq = 0;
  private cardSeq = 0;
  private immSeq = 0;
  private medSeq = 0;
  private refSeq = 0;
  private readonly msgSeq = new Map<number, number>();
  readonly rng: Rng;

  constructor(
    private readonly w: World,
    private readonly sink: Sink,
    readonly identity: Identities,
    private readonly truth: Truth,
    /** Schedules work on a later day; returns false when that day is after the run. */
    private readonly later: (day: number, fn: () => void) => boolean,
  ) {
    this.rng = new Rng(w.seed, 'records');
  }

  private pad = (n: number, w: number): string => String(n).padStart(w, '0');
  private fhirTime = (day: number, min: number): string => this.w.clock.fhir(day, min);
  private hl7Time = (day: number, min: number): string => this.w.clock.hl7(day, min);

  /** Minute of arrival for a department on a day. */
  arrivalMinute(dept: Pick<Department, 'kind'>): number {
    const r = this.rng;
    if (dept.kind === 'emergency' || dept.kind === 'ward') {
      const h = r.weighted(EMERGENCY_CUM);
      return h * 60 + r.int(60);
    }
    if (dept.kind === 'vaccination') return r.chance(0.7) ? 480 + r.int(210) : 840 + r.int(150);
    if (dept.kind === 'public-health') return r.chance(0.8) ? 480 + r.int(200) : 840 + r.int(150);
    return r.chance(0.65) ? 480 + r.int(210) : 810 + r.int(210);
  }

  private practitioner(dept: Department, nurse = false): Practitioner {
    const list = nurse && dept.nurses.length > 0 ? dept.nurses : dept.doctors;
    return this.w.district.practitioners[list[this.rng.int(list.length)]!]!;
  }

  private pname(p: Practitioner): { id: string; family: string; given: string } {
    return { id: p.id, family: this.w.names.surnames[p.surname]!.hanzi, given: this.w.names.given[p.given]!.hanzi };
  }

  private controlId(f: Facility): string {
    const n = (this.msgSeq.get(f.index) ?? 0) + 1;
    this.msgSeq.set(f.index, n);
    return `${f.code}-${this.pad(n, 9)}`;
  }

  hl7Patient(v: PatientView): Hl7Patient {
    return {
      mrn: v.mrn,
      facilityCode: v.facility.code,
      idNumber: v.idNumber,
      family: v.name.family,
      given: v.name.given,
      birthDate: v.birthDate,
      sex: v.sex,
      addressLine: v.address.line,
      community: v.address.community,
      city: v.address.city,
      province: v.address.province,
      district: v.address.district,
      postalCode: v.address.postalCode,
      areaCode: v.address.areaCode,
      phone: v.phone,
    };
  }

  private guardianSegment(person: number, day: number): string | null {
    const pop = this.w.pop;
    const g = pop.guardian[person]!;
    if (g < 0 || pop.age(person, day) >= 14) return null;
    const name = this.w.names.fullName(pop.surname[g]!, pop.given[g]!);
    return nk1(name, pop.sex[g] === 2 ? 'MTH' : 'FTH', pop.phone(g));
  }

  /** Records one encounter. */
  visit(s: VisitSpec): Visit {
    const r = this.rng;
    const startMin = s.startMin ?? this.arrivalMinute(s.dept);
    let endDay = s.day;
    let endMin: number;
    if (s.cls === 'IMP') {
      endDay = s.day + Math.max(1, s.losDays ?? 5);
      endMin = 540 + r.int(240);
    } else {
      const dur = s.durationMin ?? (s.cls === 'EMER' ? 60 + r.int(240) : 15 + r.int(75));
      endMin = startMin + dur;
      if (endMin >= 1440) {
        endDay += 1;
        endMin -= 1440;
      }
    }
    const doctor = s.doctor !== undefined ? this.w.district.practitioners[s.doctor]! : this.practitioner(s.dept);
    const id = 'enc-' + this.pad(++this.encSeq, 8);
    const view = this.identity.view(s.person, s.facility);
    const temperature = s.temperature ?? null;
    const visit: Visit = {
      id,
      person: s.person,
      view,
      facility: s.facility,
      dept: s.dept,
      cls: s.cls,
      day: s.day,
      startMin,
      endDay,
      endMin,
      doctor,
      fhir: s.facility.feed === 'fhir',
      complaint: s.complaint,
      temperature,
      dx: s.dx,
      onsetDay: s.onsetDay,
    };
    const start = this.fhirTime(s.day, startMin);
    if (visit.fhir) {
      const patientId = view.fhirId!;
      const finished = endDay < this.w.endDay;
      const condIds = s.dx.map(() => 'cond-' + this.pad(++this.condSeq, 8));
      this.sink.fhir(
        'Encounter',
        id,
        encounterJson({
          id,
          patientId,
          cls: s.cls,
          visitType: s.visitType,
          dept: s.dept,
          facility: s.facility,
          doctorId: doctor.id,
          start,
          end: finished ? this.fhirTime(endDay, endMin) : null,
          complaint: s.complaint,
          conditionIds: condIds,
        }),
      );
      const measured = this.fhirTime(s.day, startMin + 5);
      s.dx.forEach((d, k) => {
        this.sink.fhir(
          'Condition',
          condIds[k]!,
          conditionJson({
            id: condIds[k]!,
            patientId,
            encounterId: id,
            icd: d.icd,
            display: d.display,
            category: 'encounter-diagnosis',
            provisional: d.provisional ?? false,
            onset: this.w.clock.iso(s.onsetDay),
            recorded: this.fhirTime(s.day, startMin + 10),
            recorderId: doctor.id,
          }),
        );
      });
      if (temperature !== null) {
        const oid = this.obsId();
        this.sink.fhir(
          'Observation',
          oid,
          quantityObservationJson({
            id: oid,
            patientId,
            encounterId: id,
            loinc: '8310-5',
            display: 'Body temperature',
            value: Math.round(temperature * 10) / 10,
            unit: 'Cel',
            ucum: 'Cel',
            time: measured,
            category: 'vital-signs',
          }),
        );
      }
      for (const x of s.extras ?? []) {
        const oid = this.obsId();
        if (x.kind === 'bp') {
          this.sink.fhir(
            'Observation',
            oid,
            bloodPressureJson({ id: oid, patientId, encounterId: id, sbp: x.sbp, dbp: x.dbp, time: measured, performerId: doctor.id }),
          );
        } else {
          const glucose = x.kind === 'glucose';
          this.sink.fhir(
            'Observation',
            oid,
            quantityObservationJson({
              id: oid,
              patientId,
              encounterId: id,
              loinc: glucose ? '1558-6' : '4548-4',
              display: glucose ? 'Fasting glucose [Moles/volume] in Serum or Plasma' : 'Hemoglobin A1c/Hemoglobin.total in Blood',
              value: Math.round(x.value * 10) / 10,
              unit: glucose ? 'mmol/L' : '%',
              ucum: glucose ? 'mmol/L' : '%',
              time: measured,
              category: 'laboratory',
              performerId: doctor.id,
            }),
          );
        }
      }
    } else {
      this.emitAdt(visit, s.cls === 'IMP' ? 'A01' : 'A04', s.extras ?? []);
      if (s.cls === 'IMP') this.later(endDay, () => this.emitAdt(visit, 'A03', []));
    }
    return visit;
  }

  private obsId(): string {
    return 'obs-' + this.pad(++this.obsSeq, 9);
  }

  private emitAdt(v: Visit, event: 'A01' | 'A03' | 'A04', extras: Extra[]): void {
    const f = v.facility;
    const eventDay = event === 'A03' ? v.endDay : v.day;
    const eventMin = event === 'A03' ? v.endMin : v.startMin;
    const time = this.hl7Time(eventDay, eventMin);
    const structure = event === 'A03' ? 'ADT_A03' : 'ADT_A01';
    const segs = [
      msh({
        sendingApp: 'HIS',
        facilityCode: f.code,
        districtCode: this.w.district.districtCode,
        time,
        type: `ADT^${event}^${structure}`,
        controlId: this.controlId(f),
      }),
      `EVN|${event}|${time}`,
      pid(this.hl7Patient(v.view)),
    ];
    const g = this.guardianSegment(v.person, v.day);
    if (g) segs.push(g);
    const discharge = v.cls === 'IMP' ? (event === 'A03' ? this.hl7Time(v.endDay, v.endMin) : null) : this.hl7Time(v.endDay, v.endMin);
    segs.push(
      pv1({
        patientClass: v.cls === 'IMP' ? 'I' : v.cls === 'EMER' ? 'E' : 'O',
        deptCode: v.dept.code,
        deptName: v.dept.name,
        facilityCode: f.code,
        bed: v.cls === 'IMP' ? String(1 + this.rng.int(40)) : undefined,
        doctor: this.pname(v.doctor),
        visitNumber: v.id,
        admit: this.hl7Time(v.day, v.startMin),
        discharge,
      }),
      pv2(v.complaint),
    );
    let set = 0;
    const measured = this.hl7Time(v.day, v.startMin + 5);
    if (event !== 'A03' && v.temperature !== null) segs.push(obxTemperature(++set, v.temperature, measured));
    for (const x of extras) {
      if (x.kind === 'bp') {
        segs.push(obxNumeric(++set, '8480-6', 'Systolic blood pressure', 'LN', String(x.sbp), 'mm[Hg]', measured));
        segs.push(obxNumeric(++set, '8462-4', 'Diastolic blood pressure', 'LN', String(x.dbp), 'mm[Hg]', measured));
      } else if (x.kind === 'glucose') {
        segs.push(obxNumeric(++set, '1558-6', 'Fasting glucose', 'LN', x.value.toFixed(1), 'mmol/L', measured));
      }
    }
    v.dx.forEach((d, k) =>
      segs.push(dg1(k + 1, d.icd, d.display, this.hl7Time(v.day, v.startMin + 10), !!d.provisional && event !== 'A03')),
    );
    this.sink.hl7(f, segs.join('\r'));
  }

  /**
   * Orders a laboratory test for a visit. Returns the lab record id, or null if nothing about
   * it reaches the output within the run.
   */
  lab(v: Visit, panelKey: PanelKey, positives: ReadonlySet<string>, labFacility?: Facility): string | null {
    const r = this.rng;
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
    const seq = this.pad(++this.labSeq, 8);
    const labId = 'lab-' + seq;
    const specimenId = 'spec-' + seq;
    const reportId = 'dr-' + seq;
    const results: LabResult[] = panel.analytes.map((a) => ({ code: a.code, positive: positives.has(a.code) }));
    const positiveNames = panel.analytes.filter((a) => positives.has(a.code)).map((a) => a.name);
    const conclusion = positiveNames.length ? `${positiveNames.join('、')}阳性` : '均阴性';
    const collector = this.practitioner(v.dept, true);
    if (lab.feed === 'fhir') {
      // The visit's patient record when the lab belongs to the same FHIR-fed facility, else the
      // regional record; the encounter only when it exists in FHIR.
      const patientId = lab === v.facility && v.fhir ? v.view.fhirId! : this.w.pop.patientId(v.person);
      const encounterId = v.fhir ? v.id : null;
      const completed = reportDay < this.w.endDay;
      emit(
        this.sink,
        serviceRequestLab({
          id: labId,
          labId,
          identifierSystem: LAB_ORDER_ID_SYSTEM,
          panelSystem: LAB_TEST_SYSTEM,
          panelCode: panel.code,
          panelName: panel.name,
          patientId,
          encounterId,
          time: this.fhirTime(d, collectMin),
          requesterId: v.doctor.id,
          performerOrgId: lab.id,
          specimenId,
          completed,
        }),
      );
      emit(
        this.sink,
        specimenResource({
          id: specimenId,
          labId,
          identifierSystem: LAB_ORDER_ID_SYSTEM,
          type: panel.specimen,
          patientId,
          requestId: labId,
          collected: this.fhirTime(d, collectMin),
          shipped: this.fhirTime(d, shipMin),
          received: this.fhirTime(d, receivedMin),
          collectorId: collector.id,
          shippedExtension: SPECIMEN_SHIPPED_EXTENSION,
        }),
      );
      this.later(reportDay, () => {
        const issued = this.fhirTime(d, reportMin);
        const obsIds = panel.analytes.map((a, k) => {
          const id = this.obsId();
          const codings = [{ system: LAB_TEST_SYSTEM, code: a.code, display: a.name }];
          if (a.loinc) codings.push({ system: 'http://loinc.org', code: a.loinc, display: a.loincDisplay ?? a.name });
          emit(
            this.sink,
            codedLabObservation({
              id,
              patientId,
              encounterId,
              codings,
              text: a.name,
              positive: results[k]!.positive,
              time: this.fhirTime(d, collectMin),
              issued,
              specimenId,
              performerOrgId: lab.id,
            }),
          );
          return id;
        });
        emit(
          this.sink,
          diagnosticReportResource({
            id: reportId,
            requestId: labId,
            panelSystem: LAB_TEST_SYSTEM,
            panelCode: panel.code,
            panelName: panel.name,
            patientId,
            encounterId,
            collected: this.fhirTime(d, collectMin),
            tested: this.fhirTime(d, testedMin),
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
    const view = lab === v.facility ? v.view : this.identity.view(v.person, lab);
    const scheduled = this.later(reportDay, () => {
      const time = this.hl7Time(d, reportMin);
      const segs = [
        msh({
          sendingApp: 'LIS',
          facilityCode: lab.code,
          districtCode: this.w.district.districtCode,
          time,
          type: 'ORU^R01^ORU_R01',
          controlId: this.controlId(lab),
        }),
        pid(this.hl7Patient(view)),
        pv1({
          patientClass: v.cls === 'IMP' ? 'I' : v.cls === 'EMER' ? 'E' : 'O',
          deptCode: v.dept.code,
          deptName: v.dept.name,
          facilityCode: lab.code,
          doctor: this.pname(v.doctor),
          visitNumber: v.id,
          admit: this.hl7Time(v.day, v.startMin),
          discharge: null,
        }),
        ...oruBody({
          placer: labId,
          filler: reportId,
          panelCode: panel.code,
          panelName: panel.name,
          collect: this.hl7Time(d, collectMin),
          ship: this.hl7Time(d, shipMin),
          received: this.hl7Time(d, receivedMin),
          tested: this.hl7Time(d, testedMin),
          reported: time,
          orderer: this.pname(v.doctor),
          specimenId,
          specimenType: panel.specimen.code,
          specimenName: panel.specimen.text,
          results: panel.analytes.map((a, k) => ({ code: a.code, name: a.name, loinc: a.loinc, positive: results[k]!.positive })),
        }),
      ];
      this.sink.hl7(lab, segs.join('\r'));
    });
    return scheduled ? labId : null;
  }

  /**
   * Files a report card for a case (with the delays, duplicates and errors of real reporting).
   * Returns the ids of cards that reach the output within the run.
   */
  reportCard(
    v: Visit,
    disease: DiseaseKey,
    icd: string,
    classification: CaseClassification,
    opts: {
      subtype?: string | null;
      chronicity?: '急性' | '慢性' | null;
      diagnosisDay?: number;
      diagnosisMin?: number;
      correctTo?: CaseClassification;
      correctDay?: number;
    } = {},
  ): string[] {
    const r = this.rng;
    const ids: string[] = [];
    const dxDay = opts.diagnosisDay ?? v.day;
    const dxMin = opts.diagnosisMin ?? v.startMin + 20;
    const urgent = TWO_HOUR_DISEASES.has(disease);
    // Delay from diagnosis to card: most within the deadline, some late.
    const u = r.float();
    let delay: number;
    let late = false;
    if (urgent) {
      delay = u < 0.9 ? 20 + r.int(95) : 130 + r.int(600);
      late = delay > 120;
    } else if (u < 0.92) delay = 30 + r.int(1200);
    else if (u < 0.98) {
      delay = 1440 + r.int(2880);
      late = true;
    } else {
      delay = 4320 + r.int(10080);
      late = true;
    }
    let reportAbs = dxMin + delay;
    // Cards are mostly filled in during working hours: a card due at night waits for the morning.
    const m = reportAbs % 1440;
    if (!urgent && m < 450) reportAbs += 450 - m + r.int(90);
    const reportDay = dxDay + Math.floor(reportAbs / 1440);
    const reportMin = reportAbs % 1440;
    const cardId = this.nextCardId();
    const card = this.buildCard(v, cardId, disease, icd, classification, opts, dxDay, dxMin, reportDay, reportMin);
    // Data-entry errors, as real cards have.
    const e = r.float();
    let error: string | null = null;
    if (e < 0.06) error = this.corrupt(card, r);
    if (this.later(reportDay, () => this.sink.reportCard(card))) {
      ids.push(cardId);
      if (late) this.truth.reportCardIssues.push({ cardId, issue: 'late', detail: `reported ${Math.round(delay / 60)} h after diagnosis` });
      if (error) this.truth.reportCardIssues.push({ cardId, issue: 'error', detail: error });
    }
    // Duplicates: the same case reported twice (another doctor, a day or two later).
    if (r.chance(0.05)) {
      const dupId = this.nextCardId();
      const dupDay = reportDay + r.int(3);
      const dup = {
        ...card,
        cardId: dupId,
        reportDate: this.fhirTime(dupDay, 480 + r.int(540)),
        reportingDoctor: this.doctorName(this.practitioner(v.dept)),
      };
      if (this.later(dupDay, () => this.sink.reportCard(dup))) {
        ids.push(dupId);
        this.truth.reportCardIssues.push({ cardId: dupId, issue: 'duplicate', detail: 'same case reported again', of: cardId });
      }
    }
    // Corrections (订正): a suspected case confirmed by the laboratory, or an error put right.
    const correctTo = opts.correctTo ?? (error && r.chance(0.5) ? classification : undefined);
    if (correctTo) {
      const cDay = Math.max(reportDay, opts.correctDay ?? reportDay + 1 + r.int(3));
      const corrId = this.nextCardId();
      const fixed = this.buildCard(v, corrId, disease, icd, correctTo, opts, dxDay, dxMin, cDay, 480 + r.int(540));
      fixed.cardType = 'correction';
      fixed.correctsCardId = cardId;
      fixed.correctedDiseaseName = DISEASES[disease].name;
      if (this.later(cDay, () => this.sink.reportCard(fixed))) {
        ids.push(corrId);
        this.truth.reportCardIssues.push({
          cardId: corrId,
          issue: 'correction',
          detail: correctTo !== classification ? `${classification} → ${correctTo}` : `corrects: ${error}`,
          of: cardId,
        });
      }
    }
    return ids;
  }

  private nextCardId(): string {
    return 'rc-' + this.pad(++this.cardSeq, 7);
  }

  private doctorName(p: Practitioner): string {
    return this.w.names.surnames[p.surname]!.hanzi + this.w.names.given[p.given]!.hanzi;
  }

  private buildCard(
    v: Visit,
    cardId: string,
    disease: DiseaseKey,
    icd: string,
    classification: CaseClassification,
    opts: { subtype?: string | null; chronicity?: '急性' | '慢性' | null },
    dxDay: number,
    dxMin: number,
    reportDay: number,
    reportMin: number,
  ): ReportCard {
    const { pop, district, names, schools } = this.w;
    const p = v.person;
    const view = v.view;
    const age = pop.age(p, dxDay);
    const g = pop.guardian[p]!;
    const klass = schools.classOf(pop, p, dxDay);
    let workUnit: string | null = null;
    if (klass >= 0) {
      const c = schools.classes[klass]!;
      workUnit = `${district.facilities[c.school]!.name}${c.name}`;
    } else if (age >= 18 && pop.careHome[p]! < 0) {
      workUnit = null;
    } else if (pop.careHome[p]! >= 0) {
      workUnit = district.facilities[pop.careHome[p]!]!.name;
    }
    const occ = pop.occupation[p]!;
    const a = view.address;
    const info = DISEASES[disease];
    return {
      cardId,
      cardType: 'initial',
      correctsCardId: null,
      name: view.name.text,
      parentName: age <= 14 && g >= 0 ? names.fullName(pop.surname[g]!, pop.given[g]!) : null,
      idType: view.idNumber ? '01' : '99',
      idNumber: view.idNumber,
      sex: view.sex === 1 ? '1' : '2',
      birthDate: view.birthDate,
      age: null,
      workUnit,
      phone: view.phone,
      residenceCategory: '本县区',
      address: {
        province: a.province,
        city: a.city,
        county: a.district,
        township: a.street,
        village: a.community,
        houseNumber: a.line,
        areaCode: a.areaCode,
      },
      occupationClass: { code: occupationCode(occ), name: OCCUPATIONS[occ]! },
      caseClassification: classification,
      chronicity: opts.chronicity ?? null,
      onsetDate: this.w.clock.iso(v.onsetDay),
      diagnosisDateTime: this.fhirTime(dxDay, Math.floor(dxMin / 60) * 60),
      deathDate: null,
      disease: { name: info.name, icd10: icd, subtype: opts.subtype ?? null, class: info.class },
      correctedDiseaseName: null,
      reportingOrganization: { id: v.facility.id, code: v.facility.code, name: v.facility.name },
      reportingDoctor: this.doctorName(v.doctor),
      reportDate: this.fhirTime(reportDay, reportMin),
      patientRef: v.fhir && v.view.fhirId ? `Patient/${v.view.fhirId}` : null,
      facilityPatientId: view.mrn,
      remarks: null,
    };
  }

  /** Introduces one realistic data-entry error; returns what was wrong. */
  private corrupt(card: ReportCard, r: Rng): string {
    const kind = r.int(6);
    if (kind === 0 && card.idNumber) {
      const pos = 6 + r.int(11);
      const digit = String((Number(card.idNumber[pos]) + 1 + r.int(8)) % 10);
      card.idNumber = card.idNumber.slice(0, pos) + digit + card.idNumber.slice(pos + 1);
      return 'idNumber mistyped (one digit)';
    }
    if (kind === 1) {
      const onset = card.onsetDate;
      const later = this.w.clock.iso(parseIsoDate(card.diagnosisDateTime.slice(0, 10))! + 1 + r.int(3));
      card.onsetDate = later;
      return `onsetDate after diagnosis (was ${onset})`;
    }
    if (kind === 2) {
      const c = this.w.district.communities[r.int(this.w.district.communities.length)]!;
      if (c.code !== card.address.areaCode) {
        const was = card.address.areaCode;
        card.address = { ...card.address, areaCode: c.code, village: c.name };
        return `address coded to the wrong community (was ${was})`;
      }
    }
    if (kind === 3 && card.phone) {
      card.phone = null;
      return 'phone missing';
    }
    if (kind === 4) {
      card.sex = card.sex === '1' ? '2' : '1';
      return 'sex wrong';
    }
    const t = this.w.names.lookalike(card.name, r.float()) ?? this.w.names.homophone(card.name, r.float());
    if (t) {
      const was = card.name;
      card.name = t;
      return `name miswritten (was ${was})`;
    }
    card.phone = null;
    return 'phone missing';
  }

  /** Records a vaccination: FHIR Immunization, or VXU^V04 from an HL7-fed facility. */
  immunization(o: {
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
  }): string {
    const sched = this.w.schedule;
    const vac = sched.vaccines[o.vaccine]!;
    const f = o.facility;
    const dept =
      f.departments.find((x) => x.kind === 'vaccination') ?? f.departments.find((x) => x.code === 'ward-obstetrics') ?? f.departments[0]!;
    const nurse = this.practitioner(dept, true);
    const id = 'imm-' + this.pad(++this.immSeq, 8);
    const lotYear = this.w.clock.iso(o.day).slice(0, 4);
    const lot = `${lotYear}${this.pad(1 + (Math.abs(o.day * 7 + o.vaccine.length * 13) % 90), 2)}${this.pad(o.vaccine.charCodeAt(0) % 100, 2)}`;
    const expiry = this.w.clock.iso(o.day + 300 + (o.day % 200));
    if (f.feed === 'fhir' || o.forceFhir) {
      this.sink.fhir(
        'Immunization',
        id,
        immunizationJson({
          id,
          vaccineSystem: VACCINE_SYSTEM,
          vaccineCode: o.vaccine,
          vaccineName: vac.name,
          cvx: vac.cvx,
          patientId: this.w.pop.patientId(o.person),
          time: this.fhirTime(o.day, o.minute),
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
    const view = o.newborn ? this.identity.newbornView(o.person, f) : this.identity.view(o.person, f);
    const time = this.hl7Time(o.day, o.minute);
    const segs = [
      msh({
        sendingApp: 'EPI',
        facilityCode: f.code,
        districtCode: this.w.district.districtCode,
        time,
        type: 'VXU^V04^VXU_V04',
        controlId: this.controlId(f),
      }),
      pid(this.hl7Patient(view)),
    ];
    const g = this.guardianSegment(o.person, o.day);
    if (g) segs.push(g);
    segs.push(
      ...vxuBody({
        orderId: id,
        time,
        vaccineCode: o.vaccine,
        vaccineName: vac.name,
        cvx: vac.cvx,
        doseMl: vac.doseMl,
        nurse: this.pname(nurse),
        facilityCode: f.code,
        lot,
        expiry: expiry.replace(/-/g, ''),
        manufacturer: vac.manufacturer,
        route: vac.route,
        site: vac.site,
        doseNumber: o.doseNumber,
      }),
    );
    this.sink.hl7(f, segs.join('\r'));
    return id;
  }

  /** A prescription at a FHIR-fed visit. */
  medication(v: Visit, drug: { code: string; atc: string | null; text: string; dosage: string }): void {
    if (!v.fhir) return;
    const id = 'mr-' + this.pad(++this.medSeq, 8);
    this.sink.fhir(
      'MedicationRequest',
      id,
      medicationRequestJson({
        id,
        patientId: v.view.fhirId!,
        encounterId: v.id,
        atc: drug.atc,
        localSystem: MEDICATION_SYSTEM,
        localCode: drug.code,
        text: drug.text,
        dosage: drug.dosage,
        time: this.fhirTime(v.day, v.startMin + 15),
        requesterId: v.doctor.id,
      }),
    );
  }

  /** A referral (转诊) from a FHIR-fed visit. */
  referral(v: Visit, target: Facility, deptName: string, urgent: boolean, reason: string): void {
    if (!v.fhir) return;
    emit(
      this.sink,
      referralResource({
        id: 'ref-' + this.pad(++this.refSeq, 7),
        patientId: v.view.fhirId!,
        encounterId: v.id,
        urgent,
        text: `转诊至${target.name}${deptName}`,
        reason,
        time: this.fhirTime(v.day, v.startMin + 20),
        requesterId: v.doctor.id,
        targetOrgId: target.id,
      }),
    );
  }
}
