/**
 * Loads a versioned rule-set file: JSON validated with a strict zod schema (unknown fields
 * refuse to load) plus extra checks such as non-overlapping age bands. Every error names the
 * file and the line.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { JsonSyntaxError, parseJsonWithLines } from './json-lines.js';

export const repoConfigDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../config');

export class RuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = 'RuleFileError';
  }
}

export interface AgeBand {
  minAge: number;
  maxAge: number;
}

/** Throws a RuleFileError when two bands of the same group share an age. */
export function checkAgeBands(
  file: string,
  lineOf: (p: (string | number)[]) => number,
  listPath: (string | number)[],
  bands: (AgeBand & { group?: string })[],
): void {
  for (let a = 0; a < bands.length; a++) {
    const x = bands[a]!;
    if (x.minAge > x.maxAge)
      throw new RuleFileError(file, lineOf([...listPath, a]), `age band ${x.minAge}–${x.maxAge}: minAge is above maxAge`);
    for (let b = 0; b < a; b++) {
      const y = bands[b]!;
      if ((x.group ?? '') !== (y.group ?? '')) continue;
      if (x.minAge <= y.maxAge && y.minAge <= x.maxAge)
        throw new RuleFileError(
          file,
          lineOf([...listPath, a]),
          `age band ${x.minAge}–${x.maxAge} overlaps band ${y.minAge}–${y.maxAge} (line ${lineOf([...listPath, b])})`,
        );
    }
  }
}

/** Parses and validates text; `extra` runs further checks with line lookup. */
export function parseRuleText<S extends z.ZodTypeAny>(
  file: string,
  text: string,
  schema: S,
  extra?: (value: z.infer<S>, lineOf: (p: (string | number)[]) => number) => void,
): z.infer<S> {
  let located;
  try {
    located = parseJsonWithLines(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new RuleFileError(file, err.line, `not valid JSON: ${err.message}`);
    throw err;
  }
  const result = schema.safeParse(located.value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let p = issue.path;
    let detail = `${issue.path.join('.') || '(root)'}: ${issue.message}`;
    if (issue.code === 'unrecognized_keys') {
      p = [...issue.path, issue.keys[0]!];
      detail = `unknown field "${issue.keys.join('", "')}"${issue.path.length ? ` in ${issue.path.join('.')}` : ''}`;
    }
    throw new RuleFileError(file, located.lineOf(p), detail);
  }
  extra?.(result.data, located.lineOf);
  return result.data;
}

export function loadRuleFile<S extends z.ZodTypeAny>(
  filePath: string,
  schema: S,
  extra?: (value: z.infer<S>, lineOf: (p: (string | number)[]) => number) => void,
): z.infer<S> {
  return parseRuleText(path.relative(process.cwd(), filePath) || filePath, fs.readFileSync(filePath, 'utf8'), schema, extra);
}
