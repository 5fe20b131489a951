/** UTF-8 validity with the place of the first fault: feeds and HL7 intake name it in their refusals. */

/** The first invalid UTF-8 sequence as [start, end), or undefined when all is valid (WHATWG rules). */
export function invalidUtf8(bytes: Uint8Array): [number, number] | undefined {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return [i, i + 1];
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      const [l, h] = k === 1 ? [lo, hi] : [0x80, 0xbf];
      if (c === undefined || c < l || c > h) return [i, Math.min(i + k + (c === undefined ? 0 : 1), n)];
    }
    i += need + 1;
  }
  return undefined;
}
