import { expect, it } from 'vitest';
import type { BulkRow } from './bulk-write.js';
import type { ResourceTypeDef } from './definitions.js';
import { packRows, RowPacker, type PrepareReply } from './prepare-pool.js';

const def = { type: 'Patient' } as ResourceTypeDef;

/** The lines of a reply's rows, decoded again. */
function unpack(reply: PrepareReply): (string | undefined)[][] {
  const text = (offset: number, length: number) => (length < 0 ? undefined : Buffer.from(reply.buffer, offset, length).toString('utf8'));
  return reply.rows.map(([, , to, tl, ho, hl, po, pl]) => [text(to, tl), text(ho, hl), text(po, pl)]);
}

it('packs COPY lines, strings or encoded, into one buffer that grows as needed', () => {
  const rows: BulkRow[] = [];
  for (let i = 0; i < 200; i++) {
    // CJK and astral characters take 3 and 4 bytes in UTF-8: more than the characters' count.
    const name = i % 3 ? `名字${i}张三` : `plain ${i} 😀`;
    const typeLine = `p${i}\t1\t2026-01-01T00:00:00Z\t{"${name}"}\n`;
    const historyLine = `Patient\tp${i}\t1\t2026-01-01T00:00:00Z\tf\t{"name":"${name}"}\n`;
    rows.push({
      def,
      id: `p${i}`,
      typeLine: i % 2 ? typeLine : Buffer.from(typeLine),
      historyLine,
      prefixLines: i % 4 ? `Patient\tname\t${name}\tp${i}\n` : undefined,
    });
  }
  const expected = rows.map((r) => [r.typeLine.toString(), r.historyLine.toString(), r.prefixLines?.toString()]);
  // Room for a tenth of it: the buffer has to grow several times.
  const packer = new RowPacker(1000);
  for (const r of rows) packer.add(r);
  const [reply, transfer] = packer.finish(7, [{ line: 3, message: 'bad' }], { deferred: [1] });
  expect(transfer).toEqual([reply.buffer]);
  expect(reply).toMatchObject({ id: 7, errors: [{ line: 3, message: 'bad' }], deferred: [1] });
  expect(reply.rows.map((r) => r.slice(0, 2))).toEqual(rows.map((r) => ['Patient', r.id]));
  expect(unpack(reply)).toEqual(expected);
  // Rows packed at once, the same.
  expect(unpack(packRows(8, rows, [])[0])).toEqual(expected);
  // An empty reply.
  const [empty] = packRows(9, [], []);
  expect(empty.rows).toEqual([]);
  expect(empty.buffer.byteLength).toBe(0);
});
