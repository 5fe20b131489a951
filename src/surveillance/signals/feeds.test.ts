import { describe, expect, it } from 'vitest';
import { ageGroup } from './counts.js';
import { parseAbsenceCsv, parsePharmacyCsv } from './feeds.js';

describe('feed rows for the counts', () => {
  it('folds absence rows into class-days and names bad lines', () => {
    const csv = [
      'school_code,school_name,class_code,date,enrolled,absent,reason,symptom',
      'S1,小学,S1-01,2025-03-01,30,2,病假,发热',
      'S1,小学,S1-01,2025-03-01,30,1,事假,',
      'S1,小学,S1-02,2025-03-01,28,0,,',
      'S1,小学,S1-03,2025-3-1,28,0,,',
      'S1,小学,S1-04,2025-03-01,28,-1,,',
    ].join('\n');
    const r = parseAbsenceCsv(csv);
    expect(r.rows).toEqual([
      { school: 'S1', classCode: 'S1-01', day: '2025-03-01', enrolled: 30, absent: 3, illnessAbsent: 2 },
      { school: 'S1', classCode: 'S1-02', day: '2025-03-01', enrolled: 28, absent: 0, illnessAbsent: 0 },
    ]);
    expect(r.errors.map((e) => e.line)).toEqual([5, 6]);
  });
  it('reads pharmacy sales', () => {
    const r = parsePharmacyCsv(
      'pharmacy_code,pharmacy_name,date,category,units\nP1,"药店,一",2025-03-01,antipyretic,4\nP1,x,2025-03-01,cold,1.5\n',
    );
    expect(r.rows).toEqual([{ pharmacy: 'P1', category: 'antipyretic', day: '2025-03-01', units: 4 }]);
    expect(r.errors[0]!.message).toMatch(/units/);
  });
  it('puts people in the ILI surveillance age groups', () => {
    expect(ageGroup('2020-06-01', '2025-05-31')).toBe('0-4');
    expect(ageGroup('2020-06-01', '2025-06-01')).toBe('5-14');
    expect(ageGroup('1960-01-01', '2025-01-01')).toBe('60+');
    expect(ageGroup(null, '2025-01-01')).toBe('unknown');
  });
});
