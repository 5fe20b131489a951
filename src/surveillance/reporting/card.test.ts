/** A report card's onset is compared with the diagnosis's date in China, whatever offset the time was written with. */
import { describe, expect, it } from 'vitest';
import { validateCard } from './card.js';

const onsetIssues = (onsetDate: string, diagnosisDateTime: string) =>
  validateCard({ onsetDate, diagnosisDateTime }, 'draft').issues.filter((i) => i.field === 'onsetDate');

describe('report card onset and diagnosis dates', () => {
  it('reads a UTC diagnosis time just after midnight in China as that China day', () => {
    expect(onsetIssues('2026-12-07', '2026-12-06T16:29:00Z')).toEqual([]);
    expect(onsetIssues('2026-12-07', '2026-12-06T15:59:00Z')).toEqual([{ field: 'onsetDate', message: '发病日期 is after 诊断日期' }]);
  });
  it('reads a time without an offset, or with +08:00, by the date written', () => {
    expect(onsetIssues('2026-12-07', '2026-12-07T00:29')).toEqual([]);
    expect(onsetIssues('2026-12-07', '2026-12-06T23:00+08:00')).toEqual([{ field: 'onsetDate', message: '发病日期 is after 诊断日期' }]);
  });
});
