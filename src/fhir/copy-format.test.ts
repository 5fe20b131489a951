import { expect, it } from 'vitest';
import { copyField, copyRows } from './copy-format.js';

it('encodes values in COPY text format', () => {
  expect(copyField(null)).toBe('\\N');
  expect(copyField('a\tb\nc\\d')).toBe('a\\tb\\nc\\\\d');
  expect(copyField(['x', 'say "hi"', 'back\\slash'])).toBe('{"x","say \\\\"hi\\\\"","back\\\\\\\\slash"}');
  expect(copyField([1.5, 2])).toBe('{1.5,2}');
  expect(copyField({ a: '张三\n' })).toBe('{"a":"张三\\\\n"}');
  expect(copyField(true)).toBe('t');
  expect(copyRows([['1', null], ['2', 'x']])).toBe('1\t\\N\n2\tx\n');
});
