import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeEachStore } from '../../app/testing.js';
import { makeIdNumber } from '../../shared/id-number.js';
import { cardQuality, parseQualityPeriod, previousPeriods, reviewLimitHours, syncReportQuality, type QualitySourceRow } from './quality.js';
import type { ReportingQualityCards, ReportingQualityList } from './quality-schemas.js';

const F1 = 'RQ-F1';
const F2 = 'RQ-F2';
const FLU = { name: '流行性感冒', icd10: 'J11.1', subtype: null, class: '丙' };
const CHOLERA = { name: '霍乱', icd10: 'A00.9', subtype: null, class: '甲' };

function card(over: Record<string, unknown>): Record<string, unknown> {
  return {
    cardType: 'initial',
    correctsCardId: null,
    name: '质控甲',
    parentName: null,
    idType: '01',
    idNumber: makeIdNumber('339902', '1980-05-06', 301),
    sex: '1',
    birthDate: '1980-05-06',
    age: null,
    workUnit: null,
    phone: '13800000000',
    residenceCategory: '本县区',
    address: {
      province: '浙江省',
      city: '安澜市',
      county: '望川区',
      township: '临江街道',
      village: '湖滨社区',
      houseNumber: '龙潭路1号',
      areaCode: '339902001001',
    },
    occupationClass: { code: '09', name: '工人' },
    caseClassification: '确诊病例',
    chronicity: null,
    onsetDate: '2025-03-01',
    diagnosisDateTime: '2025-03-02T10:00:00+08:00',
    deathDate: null,
    disease: FLU,
    correctedDiseaseName: null,
    reportingOrganization: { id: `org-${F1}`, code: F1, name: '质控第一医院' },
    reportingDoctor: '王医生',
    reportDate: '2025-03-02T12:00:00+08:00',
    patientRef: null,
    facilityPatientId: null,
    remarks: null,
    ...over,
  };
}

describe('reporting-quality rules', () => {
  it('reads periods in China time and steps back over them', () => {
    expect(parseQualityPeriod('2025-Q1')).toEqual({ label: '2025-Q1', kind: 'quarter', from: '2025-01-01', to: '2025-03-31' });
    expect(parseQualityPeriod('2024-02')).toMatchObject({ from: '2024-02-01', to: '2024-02-29' });
    expect(parseQualityPeriod('2025')).toMatchObject({ kind: 'year', from: '2025-01-01', to: '2025-12-31' });
    expect(() => parseQualityPeriod('2025-13')).toThrow(/period/);
    expect(previousPeriods(parseQualityPeriod('2025-02'), 3).map((p) => p.label)).toEqual(['2024-12', '2025-01', '2025-02']);
    expect(previousPeriods(parseQualityPeriod('2025-Q1'), 2).map((p) => p.label)).toEqual(['2024-Q4', '2025-Q1']);
  });

  it('gives 2 h to review cards with a 2-hour reporting limit and 24 h to the rest; a card counts in the month of its first report', () => {
    expect(reviewLimitHours('2025-03-02T04:00:00Z', '2025-03-02T02:00:00Z')).toBe(2);
    expect(reviewLimitHours('2025-03-03T02:00:00Z', '2025-03-02T02:00:00Z')).toBe(24);
    const row: QualitySourceRow = {
      id: 'X',
      status: 'reviewed',
      card_type: 'initial',
      facility_code: 'F',
      facility_name: null,
      patient_id: null,
      // 2025-03-31 17:00 UTC is 2025-04-01 01:00 in China.
      submitted_at: '2025-03-31T17:00:00.000Z',
      deadline_at: '2025-04-01T02:00:00.000Z',
      diagnosed_at: '2025-03-31T02:00:00.000Z',
      reviewed_at: '2025-04-01T16:00:00.000Z',
      duplicate_of: null,
      card: card({ cardId: 'X' }),
      corrected_event: false,
    };
    const q = cardQuality(row, null)!;
    expect(q).toMatchObject({ month: '2025-04-01', timely: true, review_timely: true, missing: [], corrected: false });
    // Resubmitted after a return: the first report and the first review stay.
    const again = cardQuality({ ...row, submitted_at: '2025-04-05T00:00:00.000Z', reviewed_at: '2025-04-09T00:00:00.000Z' }, q)!;
    expect(again).toMatchObject({ reported_at: row.submitted_at, first_reviewed_at: row.reviewed_at, timely: true });
    expect(cardQuality({ ...row, status: 'draft' }, null)).toBeNull();
    expect(cardQuality({ ...row, card_type: 'correction' }, null)).toBeNull();
  });
});

describeEachStore('reporting quality', (server) => {
  const json = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const send = async (c: Record<string, unknown>) => {
    const r = await server().api('/api/report-cards', json(c));
    expect(r.status, JSON.stringify(await r.clone().json())).toBe(201);
    return (await r.json()) as { duplicateOf: string | null; late: boolean };
  };
  const version = async (id: string) => ((await (await server().api(`/api/report-cards/${id}`)).json()) as { version: number }).version;
  const approve = async (id: string) => {
    const r = await server().api(`/api/report-cards/${id}/review`, json({ action: 'approve', version: await version(id) }));
    expect(r.status).toBe(200);
  };
  const quality = async (q: string) => (await (await server().api(`/api/reporting-quality?${q}`)).json()) as ReportingQualityList;
  const rate = (l: ReportingQualityList, facility: string, code: string) => {
    const f = facility === '' ? l.district : l.facilities.find((x) => x.facility === facility)!;
    const r = f.rates.find((x) => x.code === code)!;
    return [r.numerator, r.denominator, r.value];
  };

  it('equals a hand count: a late card, an incomplete card, a duplicate, a late review and corrections', async () => {
    // F1, March 2025 (China time): six initial cards.
    await send(card({ cardId: 'RQ-A' })); // on time, complete; reviewed within 24 h (below)
    expect(
      (
        await send(
          card({
            cardId: 'RQ-B',
            name: '质控乙',
            idNumber: makeIdNumber('339902', '1981-01-01', 302),
            birthDate: '1981-01-01',
            diagnosisDateTime: '2025-03-03T08:00:00+08:00',
            reportDate: '2025-03-05T09:00:00+08:00',
          }),
        )
      ).late,
    ).toBe(true); // reported 49 h after the diagnosis: late
    await send(
      card({
        cardId: 'RQ-C',
        name: '质控丙',
        idType: '99',
        idNumber: null,
        birthDate: '1990-02-02',
        diagnosisDateTime: '2025-03-04T10:00:00+08:00',
        reportDate: '2025-03-04T11:00:00+08:00',
      }),
    ); // no ID number: incomplete
    expect(
      (await send(card({ cardId: 'RQ-D', diagnosisDateTime: '2025-03-10T10:00:00+08:00', reportDate: '2025-03-10T12:00:00+08:00' })))
        .duplicateOf,
    ).toBe('RQ-A');
    await send(
      card({
        cardId: 'RQ-E',
        name: '质控丁',
        idNumber: makeIdNumber('339902', '1982-01-01', 303),
        birthDate: '1982-01-01',
        diagnosisDateTime: '2025-03-12T10:00:00+08:00',
        reportDate: '2025-03-12T11:00:00+08:00',
      }),
    ); // corrected later
    // Cholera (甲类): 2 h to report and 2 h to review. Reported 3 h after the diagnosis: late (on time under a 24 h rule).
    await send(
      card({
        cardId: 'RQ-F',
        name: '质控戊',
        idNumber: makeIdNumber('339902', '1983-01-01', 304),
        birthDate: '1983-01-01',
        disease: CHOLERA,
        diagnosisDateTime: '2025-03-15T10:00:00+08:00',
        reportDate: '2025-03-15T13:00:00+08:00',
      }),
    );
    // Elsewhere: another facility in March, and F1 in April.
    await send(
      card({
        cardId: 'RQ-H',
        name: '质控己',
        idNumber: makeIdNumber('339902', '1984-01-01', 305),
        birthDate: '1984-01-01',
        reportingOrganization: { id: `org-${F2}`, code: F2, name: '质控第二医院' },
      }),
    );
    await send(
      card({
        cardId: 'RQ-I',
        name: '质控庚',
        idNumber: makeIdNumber('339902', '1985-01-01', 306),
        birthDate: '1985-01-01',
        diagnosisDateTime: '2025-04-02T10:00:00+08:00',
        reportDate: '2025-04-02T11:00:00+08:00',
      }),
    );

    // The CDC reviews five of the six (RQ-D waits) — today, long after March: late reviews.
    for (const id of ['RQ-A', 'RQ-B', 'RQ-C', 'RQ-E', 'RQ-F']) await approve(id);
    // 订正: the doctor corrects RQ-E; a 订正卡 from another system replaces RQ-B.
    const corrected = await server().api(
      '/api/report-cards/RQ-E/correct',
      json({ corrections: { onsetDate: '2025-03-11' }, reason: '发病日期核实', version: await version('RQ-E') }),
    );
    expect(corrected.status).toBe(200);
    const g = await server().api(
      '/api/report-cards',
      json(
        card({
          cardId: 'RQ-G',
          cardType: 'correction',
          correctsCardId: 'RQ-B',
          name: '质控乙',
          idNumber: makeIdNumber('339902', '1981-01-01', 302),
          birthDate: '1981-01-01',
          diagnosisDateTime: '2025-03-03T08:00:00+08:00',
          reportDate: '2025-03-06T09:00:00+08:00',
          caseClassification: '临床诊断病例',
        }),
      ),
    );
    expect(g.status).toBe(201);
    // The clock of the review: RQ-A was in fact reviewed 1 h after its report, RQ-F 5 h after (over cholera's 2 h).
    await server().db.transaction(async (c) => {
      await c.query(`UPDATE surv_report_card SET reviewed_at = submitted_at + interval '1 hour' WHERE id = 'RQ-A'`);
      await c.query(`UPDATE surv_report_card SET reviewed_at = submitted_at + interval '5 hours' WHERE id = 'RQ-F'`);
      await syncReportQuality(c, ['RQ-A', 'RQ-F']);
    });

    // Hand count, F1 March: reported A B C D E F = 6; on time A C D E = 4; complete all but C = 5; duplicate D = 1;
    // reviewed in time A = 1 (B C E late, F over 2 h, D not yet); corrected B (订正卡) and E = 2.
    const march = await quality('period=2025-03');
    expect(rate(march, F1, 'timely-reporting')).toEqual([4, 6, 66.7]);
    expect(rate(march, F1, 'card-completeness')).toEqual([5, 6, 83.3]);
    expect(rate(march, F1, 'duplicate-cards')).toEqual([1, 6, 16.7]);
    expect(rate(march, F1, 'timely-review')).toEqual([1, 6, 16.7]);
    expect(rate(march, F1, 'corrected-cards')).toEqual([2, 6, 33.3]);
    expect(march.facilities.find((f) => f.facility === F1)).toMatchObject({ reported: 6, awaitingReview: 1, name: '质控第一医院' });
    expect(rate(march, F2, 'timely-reporting')).toEqual([1, 1, 100]);
    expect(rate(march, '', 'timely-reporting')).toEqual([5, 7, 71.4]);
    expect(rate(march, F2, 'timely-review')).toEqual([0, 1, 0]);
    // Quarter and year: April's card joins F1 in the year, not in Q1.
    expect(rate(await quality('period=2025-Q1'), F1, 'timely-reporting')).toEqual([4, 6, 66.7]);
    expect(rate(await quality('period=2025'), F1, 'timely-reporting')).toEqual([5, 7, 71.4]);
    expect((await quality('period=2025-02')).facilities).toEqual([]);

    // Drill-down: the two late cards, a page of one at a time with the total; the resident named by the card.
    const page = async (q: string) =>
      (await (await server().api(`/api/reporting-quality/cards?period=2025-03&facility=${F1}&${q}`)).json()) as ReportingQualityCards;
    const late1 = await page('indicator=timely-reporting&numerator=false&limit=1');
    expect(late1.total).toBe(2);
    expect(late1.cards.map((c) => [c.cardId, c.name, c.diseaseName, c.inNumerator])).toEqual([['RQ-B', '质控乙', '流行性感冒', false]]);
    expect((await page('indicator=timely-reporting&numerator=false&limit=1&offset=1')).cards.map((c) => c.cardId)).toEqual(['RQ-F']);
    expect((await page('indicator=card-completeness&numerator=false')).cards).toMatchObject([{ cardId: 'RQ-C', missing: ['idNumber'] }]);
    expect((await page('indicator=duplicate-cards&numerator=true')).cards).toMatchObject([{ cardId: 'RQ-D', duplicateOf: 'RQ-A' }]);
    expect((await page('indicator=timely-review&numerator=true')).cards.map((c) => c.cardId)).toEqual(['RQ-A']);
    expect((await page('indicator=corrected-cards&numerator=true')).cards.map((c) => c.cardId)).toEqual(['RQ-B', 'RQ-E']);
    const all = await page('indicator=timely-review');
    expect([all.total, all.cards.length]).toEqual([6, 6]);
    expect(all.cards.find((c) => c.cardId === 'RQ-F')).toMatchObject({ reviewLimitHours: 2, reviewTimely: false });

    // Recounting from scratch with the migration's backfill gives the same figures.
    const read = async () =>
      (
        await server().db.query(
          `SELECT facility, month::text, reported, timely, complete, duplicate, reviewed, review_timely, corrected FROM surv_report_quality_count
           WHERE reported <> 0 ORDER BY 1, 2`,
        )
      ).rows;
    const kept = await read();
    const sql = fs.readFileSync(new URL('../migrations/254_reporting_quality.sql', import.meta.url), 'utf8');
    await server().db.transaction(async (c) => {
      await c.query('DELETE FROM surv_report_quality_count');
      await c.query('DELETE FROM surv_report_quality_card');
      await c.query(sql.slice(sql.indexOf('INSERT INTO surv_report_quality_card')));
    });
    expect(await read()).toEqual(kept);
  });

  it('refuses a bad period, and names no resident in the per-facility figures', async () => {
    expect((await server().api('/api/reporting-quality?period=2025-13')).status).toBe(400);
    const l = await quality('period=2025-03');
    expect(JSON.stringify(l)).not.toContain('质控甲');
  });
});
