/**
 * JSON text written a piece at a time, byte for byte what JSON.stringify(value, null, 1) gives,
 * so that a large document (truth.json of a million residents) never exists as one string. Any
 * array that may be long is given as a StreamedArray: its elements come from an iterable, one
 * at a time, and only one element's text is held at once.
 */

/** An array whose elements are produced while the text is written (each element once). */
export class StreamedArray<T = unknown> {
  constructor(readonly items: Iterable<T>) {}
}

const spaces = (depth: number): string => ' '.repeat(depth);

/** JSON.stringify(v, null, 1) as it appears nested `depth` levels deep (raw newlines only separate lines). */
function nested(v: unknown, depth: number): string {
  const text = JSON.stringify(v, null, 1);
  return depth === 0 ? text : text.replaceAll('\n', '\n' + spaces(depth));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Whether a plain object holds a StreamedArray (at any depth through plain objects). */
function holdsStream(v: Record<string, unknown>): boolean {
  for (const x of Object.values(v)) if (x instanceof StreamedArray || (isPlainObject(x) && holdsStream(x))) return true;
  return false;
}

/** Pieces of the text of `value` at nesting `depth`; concatenated they equal JSON.stringify(value, null, 1). */
export function* jsonPieces(value: unknown, depth = 0): Generator<string> {
  if (value instanceof StreamedArray) {
    let first = true;
    for (const item of value.items as Iterable<unknown>) {
      // Like JSON.stringify, an element with no JSON form is written as null.
      const text = item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : nested(item, depth + 1);
      yield (first ? '[\n' : ',\n') + spaces(depth + 1) + text;
      first = false;
    }
    yield first ? '[]' : '\n' + spaces(depth) + ']';
    return;
  }
  if (isPlainObject(value) && holdsStream(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
    if (entries.length === 0) {
      yield '{}';
      return;
    }
    yield '{\n';
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i]!;
      yield spaces(depth + 1) + JSON.stringify(k) + ': ';
      yield* jsonPieces(v, depth + 1);
      yield i < entries.length - 1 ? ',\n' : '\n';
    }
    yield spaces(depth) + '}';
    return;
  }
  yield nested(value, depth);
}
