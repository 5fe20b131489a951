/**
 * Seed for the surveillance screens: a small district geography (three streets, two
 * communities each) and two report cards: a cholera case (fixed threshold: a red alert at once)
 * and an influenza case in another street, then the alert engine flushed.
 */
import { expect } from 'vitest';
import { makeIdNumber } from '../../src/shared/id-number.js';
import { loadDistrictGeographyJson } from '../../src/surveillance/geography.js';
import { surveillanceRuntime } from '../../src/surveillance/module.js';
import type { Seeder } from './fixture.js';

/** A small district: three streets side by side, two communities each. */
export function district() {
  const box = (x0: number, y0: number, x1: number, y1: number) => ({
    type: 'Polygon',
    coordinates: [
      [
        [x0, y0],
        [x1, y0],
        [x1, y1],
        [x0, y1],
        [x0, y0],
      ],
    ],
  });
  const streets = ['临江街道', '望湖街道', '青石街道'].map((name, i) => ({
    code: `339902${String(i + 1).padStart(3, '0')}000`,
    name,
    level: 'street',
    centroid: [120.5 + i * 0.06 + 0.03, 29.3] as [number, number],
    polygon: box(120.5 + i * 0.06, 29.26, 120.56 + i * 0.06, 29.34),
  }));
  const communities = streets.flatMap((s, i) =>
    [0, 1].map((j) => ({
      code: `${s.code.slice(0, 9)}00${j + 1}`,
      name: `${s.name.slice(0, 2)}${j ? '北' : '南'}社区`,
      streetCode: s.code,
      level: 'community',
      centroid: [120.53 + i * 0.06, 29.28 + j * 0.04] as [number, number],
      polygon: box(120.5 + i * 0.06, 29.26 + j * 0.04, 120.56 + i * 0.06, 29.3 + j * 0.04),
    })),
  );
  return { district: { code: '339902', name: '望川区', centre: [120.59, 29.3] as [number, number] }, streets, communities };
}

export function card(
  id: string,
  seq: number,
  disease: { name: string; icd10: string; class: string },
  areaCode: string,
  day: string,
): Record<string, unknown> {
  return {
    cardId: id,
    cardType: 'initial',
    correctsCardId: null,
    name: `病例${seq}`,
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber('339902', '1985-03-04', 100 + seq),
    sex: seq % 2 ? '1' : '2',
    birthDate: '1985-03-04',
    age: null,
    workUnit: null,
    phone: null,
    residenceCategory: '本县区',
    address: { province: '浙江省', city: '安澜市', county: '望川区', township: '', village: '', houseNumber: `${seq}号`, areaCode },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    chronicity: null,
    onsetDate: day,
    diagnosisDateTime: `${day}T10:00:00+08:00`,
    deathDate: null,
    disease: { ...disease, subtype: null },
    correctedDiseaseName: null,
    reportingOrganization: { id: 'org-339902GH001', code: '339902GH001', name: '望川区人民医院' },
    reportingDoctor: '王医生',
    reportDate: `${day}T11:00:00+08:00`,
    patientRef: null,
    facilityPatientId: `F${seq}`,
    remarks: null,
  };
}

export async function seedSurveillance(s: Seeder): Promise<void> {
  await loadDistrictGeographyJson(s.db, district());
  const r = await s.postJson('/api/report-cards', [
    card('E2E-1', 1, { name: '霍乱', icd10: 'A00.1', class: '甲' }, '339902002001', '2025-06-07'),
    card('E2E-2', 2, { name: '流行性感冒', icd10: 'J11.1', class: '丙' }, '339902001001', '2025-06-06'),
  ]);
  expect(r.status, await r.clone().text()).toBe(200);
  await surveillanceRuntime.get(s.db)!.engine.flush();
}
