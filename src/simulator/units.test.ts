/** Small building blocks: randomness, calendar, names, HL7 escaping, ILI rule. */
import { describe, expect, it } from 'vitest';
import { addMonths, ageYears, Clock, isoDate, parseIsoDate, weekday, WorkCalendar } from './calendar.js';
import { esc } from './hl7.js';
import { NameBook } from './names.js';
import { jsonPieces, StreamedArray } from './json-stream.js';
import { isIli } from './output-stats.js';
import { hash32, Rng } from './rng.js';
import { schoolYear, primaryEntryYear } from './schools.js';

describe('rng', () => {
  it('repeats for the same seed and stream, and differs between streams', () => {
    const a = new Rng(7, 'x');
    const b = new Rng(7, 'x');
    const c = new Rng(7, 'y');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    expect(hash32(1, 2, 3)).toBe(hash32(1, 2, 3));
  });

  it('draws Poisson and binomial counts with the right means', () => {
    const r = new Rng(1, 'p');
    let s = 0;
    for (let i = 0; i < 20000; i++) s += r.poisson(3.5);
    expect(s / 20000).toBeGreaterThan(3.4);
    expect(s / 20000).toBeLessThan(3.6);
    let t = 0;
    for (let i = 0; i < 2000; i++) t += r.binomial(1000, 0.3);
    expect(t / 2000).toBeGreaterThan(295);
    expect(t / 2000).toBeLessThan(305);
  });
});

describe('calendar', () => {
  it('parses only real dates and formats China Standard Time', () => {
    expect(parseIsoDate('2024-02-29')).not.toBeNull();
    expect(parseIsoDate('2023-02-29')).toBeNull();
    expect(parseIsoDate('2024-2-1')).toBeNull();
    const d = parseIsoDate('2024-01-15')!;
    expect(isoDate(d)).toBe('2024-01-15');
    expect(weekday(d)).toBe(0); // a Monday
    const c = new Clock();
    expect(c.fhir(d, 9 * 60 + 5)).toBe('2024-01-15T09:05:00+08:00');
    expect(c.hl7(d, 24 * 60 + 30)).toBe('20240116003000+0800');
    expect(isoDate(addMonths(parseIsoDate('2024-01-31')!, 1))).toBe('2024-02-29');
    expect(ageYears(parseIsoDate('2000-03-01')!, parseIsoDate('2024-02-29')!)).toBe(23);
  });

  it('knows the 2024 Spring Festival holiday, its make-up workdays and the school terms', () => {
    const cal = new WorkCalendar(parseIsoDate('2023-06-01')!, parseIsoDate('2025-06-01')!);
    expect(cal.isHoliday(parseIsoDate('2024-02-12')!)).toBe(true);
    expect(cal.isWorkday(parseIsoDate('2024-02-12')!)).toBe(false);
    expect(cal.isWorkday(parseIsoDate('2024-02-04')!)).toBe(true); // a Sunday worked (调休)
    expect(cal.isSchoolDay(parseIsoDate('2024-08-01')!)).toBe(false);
    expect(cal.isSchoolDay(parseIsoDate('2024-09-02')!)).toBe(true);
    expect(cal.isSchoolDay(parseIsoDate('2024-10-03')!)).toBe(false); // National Day
    expect(schoolYear(parseIsoDate('2024-09-02')!)).toBe(2024);
    expect(primaryEntryYear(parseIsoDate('2018-08-31')!)).toBe(2024);
    expect(primaryEntryYear(parseIsoDate('2018-09-01')!)).toBe(2025);
  });
});

describe('names', () => {
  const book = new NameBook();
  it('includes compound surnames and gives pinyin', () => {
    expect(book.surnames.some((s) => s.hanzi === '欧阳')).toBe(true);
    const i = book.surnames.findIndex((s) => s.hanzi === '欧阳');
    const g = book.given.findIndex((x) => x.hanzi === '子轩');
    expect(book.pinyinName(i, g)).toEqual({ family: 'OUYANG', given: 'ZIXUAN' });
  });
  it('makes traditional, homophone and look-alike variants', () => {
    expect(book.toTraditional('刘伟')).toBe('劉偉');
    expect(book.homophone('张伟', 0)).not.toBe('张伟');
    expect(book.lookalike('王丽', 0)).toBe('玉丽');
  });
  it('draws surnames by frequency (王, 李, 张 are the most common)', () => {
    const r = new Rng(3, 'n');
    const counts = new Map<string, number>();
    for (let k = 0; k < 20000; k++) {
      const s = book.surnames[book.surnameAt(r.float())]!.hanzi;
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const top = [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map((x) => x[0]);
    expect(new Set(top)).toEqual(new Set(['王', '李', '张']));
  });
});

describe('HL7 and ILI', () => {
  it('escapes ER7 delimiters', () => {
    expect(esc('a|b^c~d\\e&f')).toBe('a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f');
  });
  it('classifies ILI as fever ≥ 38 °C with cough or sore throat, ignoring negations', () => {
    expect(isIli(38.2, '发热2天，伴咳嗽')).toBe(true);
    expect(isIli(37.9, '发热2天，伴咳嗽')).toBe(false);
    expect(isIli(38.5, '发热1天，无咳嗽')).toBe(false);
    expect(isIli(38.5, '咽痛伴发热')).toBe(true);
    expect(isIli(null, '咳嗽')).toBe(false);
  });
});

describe('json-stream', () => {
  const streamed = (v: unknown): string => [...jsonPieces(v)].join('');
  const wrap = (v: unknown): unknown => {
    if (Array.isArray(v)) return new StreamedArray(v);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wrap(x)]));
    return v;
  };

  it('writes exactly what JSON.stringify(v, null, 1) writes, with long lists given one element at a time', () => {
    const docs: unknown[] = [
      { a: [], b: {}, c: [1, 'x'], d: { e: [{ f: [1, [2, 3]], g: null }], h: '换行\n"引号"' }, u: undefined },
      { only: [[], [[]], {}, { deep: { deeper: [true, false] } }] },
      { nested: { empty: [], one: ['pat-0000001'], none: undefined } },
      [{ a: 1 }, 'b', [null]],
      [],
      {},
      'text',
    ];
    for (const doc of docs) expect(streamed(wrap(doc))).toBe(JSON.stringify(doc, null, 1));
  });

  it('takes the elements of a list from a generator, once', () => {
    let made = 0;
    const ids = function* (): Generator<string> {
      for (let i = 1; i <= 3; i++) {
        made++;
        yield `pat-${i}`;
      }
    };
    const doc = { head: 1, chronic: { hypertension: new StreamedArray(ids()), diabetes: new StreamedArray([]) } };
    const plain = { head: 1, chronic: { hypertension: ['pat-1', 'pat-2', 'pat-3'], diabetes: [] } };
    expect(streamed(doc)).toBe(JSON.stringify(plain, null, 1));
    expect(made).toBe(3);
  });
});
