/**
 * A JSON reader that remembers the line each value starts on, so a rule-set file that fails
 * validation can be reported as "file:line: what is wrong" instead of a bare zod path.
 */
export interface LocatedJson {
  value: unknown;
  /** Line (1-based) where the value at a path starts; key paths like 'bands.2.minAge'. */
  lineOf(path: (string | number)[]): number;
}

export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseJsonWithLines(text: string): LocatedJson {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const ws = () => {
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
      i++;
    }
  };
  const fail = (msg: string): never => {
    throw new JsonSyntaxError(line, msg);
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      if (text[i] === '\n') fail('line break inside a string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): unknown => {
    ws();
    lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') return (i++, obj);
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a "key"');
        const keyLine = line;
        const key = str();
        const childPath = path ? `${path}.${key}` : key;
        ws();
        if (text[i] !== ':') fail(`expected ':' after "${key}"`);
        i++;
        obj[key] = value(childPath);
        // A key's own line is where a reader looks for it (unknown-key errors point there).
        lines.set(childPath, keyLine);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return (i++, obj);
        else fail(`expected ',' or '}' after "${key}"`);
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') return (i++, arr);
      for (;;) {
        arr.push(value(path ? `${path}.${arr.length}` : String(arr.length)));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return (i++, arr);
        else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 64));
    if (!m) fail(`unexpected ${c === undefined ? 'end of file' : `'${c}'`}`);
    i += m![0].length;
    return JSON.parse(m![0]);
  };
  const root = value('');
  ws();
  if (i < text.length) fail('unexpected text after the end of the JSON value');
  return {
    value: root,
    lineOf(path) {
      // Walk up to the nearest known ancestor (a missing key is reported at its parent).
      for (let k = path.length; k >= 0; k--) {
        const l = lines.get(path.slice(0, k).join('.'));
        if (l !== undefined) return l;
      }
      return 1;
    },
  };
}
