import { expect, it } from 'vitest';
import { copyField, copyRows, escapeCopy, escapeCopyJson, unescapeCopy } from './copy-format.js';

it('encodes values in COPY text format', () => {
  expect(copyField(null)).toBe('\\N');
  expect(copyField('a\tb\nc\\d')).toBe('a\\tb\\nc\\\\d');
  expect(copyField(['x', 'say "hi"', 'back\\slash'])).toBe('{"x","say \\\\"hi\\\\"","back\\\\\\\\slash"}');
  expect(copyField([1.5, 2])).toBe('{1.5,2}');
  expect(copyField({ a: '张三\n' })).toBe('{"a":"张三\\\\n"}');
  expect(copyField(true)).toBe('t');
  expect(
    copyRows([
      ['1', null],
      ['2', 'x'],
    ]),
  ).toBe('1\t\\N\n2\tx\n');
});

it('escapes JSON text for COPY as the general escape does', () => {
  const samples = [
    { note: 'line one\nline two\ttabbed\r' },
    { path: 'C:\\records\\张三', quote: 'say "hi"' },
    { sep: '\u2028\u2029', ctl: '\u0001' },
    { plain: 'nothing to escape' },
  ];
  for (const value of samples) {
    const json = JSON.stringify(value);
    expect(escapeCopyJson(json)).toBe(escapeCopy(json));
    expect(unescapeCopy(escapeCopyJson(json))).toBe(json);
  }
});

it('writes array fields as the general array literal escaped for COPY, with or without anything to escape', () => {
  // The literal and its escaping as copyField wrote them before its plain-array shortcut.
  const reference = (values: unknown[]) =>
    escapeCopy(
      '{' +
        values
          .map((v) =>
            v === null || v === undefined
              ? 'NULL'
              : typeof v === 'number'
                ? String(v)
                : `"${String(v).replace(/["\\]/g, (c) => '\\' + c)}"`,
          )
          .join(',') +
        '}',
    );
  const samples: unknown[][] = [
    [],
    ['plain', 'http://loinc.org|8302-2', '张三'],
    [1, 2.5, null, 'x'],
    ['a,b', '{braces}', ' spaced '],
    ['tab\there', 'ok'],
    ['ok', 'line\nbreak', 'cr\r'],
    ['quote "q"', 'x'],
    ['x', 'back\\slash'],
    [true, undefined, 'NULL'],
  ];
  for (const values of samples) expect(copyField(values)).toBe(reference(values));
});
