/**
 * Chinese personal names: surnames by national frequency (including 复姓), given names by birth
 * cohort and sex, pinyin, and the character-level variants that make identities messy in real
 * data (traditional forms, homophones, look-alike characters). Data: config/simulator/names.json.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configPath } from './config.js';
import { WeightedTable } from './rng.js';

const NamesFile = z.object({
  source: z.string(),
  surnames: z.array(z.tuple([z.string(), z.string(), z.number().positive()])),
  givenNames: z.object({ male: z.record(z.array(z.string())), female: z.record(z.array(z.string())) }),
  composed: z.object({
    male: z.object({ first: z.array(z.string()), second: z.array(z.string()) }),
    female: z.object({ first: z.array(z.string()), second: z.array(z.string()) }),
  }),
  pinyin: z.record(z.string()),
  traditional: z.record(z.string()),
  homophones: z.record(z.array(z.string())),
  lookalikes: z.record(z.string()),
});

export interface NamePart {
  hanzi: string;
  /** Pinyin syllables without tones, e.g. ['zi', 'xuan']. */
  pinyin: string[];
}

export type Sex = 1 | 2; // GB/T 2261.1: 1 male, 2 female

export class NameBook {
  readonly surnames: NamePart[];
  readonly given: NamePart[];
  private readonly surnameTable: WeightedTable<number>;
  /** [sex-1][era] → indices into `given` (era-typical names). */
  private readonly eraPools: number[][][];
  private readonly eraStarts: number[];
  /** [sex-1] → indices of composed names. */
  private readonly composedPools: number[][];
  readonly traditional: Map<string, string>;
  readonly homophones: Map<string, string[]>;
  readonly lookalikes: Map<string, string>;

  constructor() {
    const raw = NamesFile.parse(JSON.parse(readFileSync(configPath('names.json'), 'utf8')));
    this.surnames = raw.surnames.map(([h, p]) => ({ hanzi: h, pinyin: [p] }));
    this.surnameTable = new WeightedTable(raw.surnames.map((s, i) => [i, s[2]] as const));
    const given: NamePart[] = [];
    const byHanzi = new Map<string, number>();
    const intern = (h: string): number => {
      let i = byHanzi.get(h);
      if (i === undefined) {
        const py = [...h].map((c) => {
          const p = raw.pinyin[c];
          if (!p) throw new Error(`names.json: no pinyin for ${c}`);
          return p;
        });
        i = given.length;
        given.push({ hanzi: h, pinyin: py });
        byHanzi.set(h, i);
      }
      return i;
    };
    this.eraStarts = Object.keys(raw.givenNames.male)
      .map(Number)
      .sort((a, b) => a - b);
    this.eraPools = (['male', 'female'] as const).map((sex) => this.eraStarts.map((era) => raw.givenNames[sex][String(era)]!.map(intern)));
    this.composedPools = (['male', 'female'] as const).map((sex) => {
      const c = raw.composed[sex];
      const out: number[] = [];
      for (const f of c.first) for (const s of c.second) if (f !== s) out.push(intern(f + s));
      return out;
    });
    this.given = given;
    this.traditional = new Map(Object.entries(raw.traditional));
    this.homophones = new Map(Object.entries(raw.homophones));
    this.lookalikes = new Map(Object.entries(raw.lookalikes));
  }

  /** A surname index from national frequencies, given a uniform in [0,1). */
  surnameAt(u: number): number {
    return this.surnameTable.at(u);
  }

  /** A given-name index for sex and birth year: era-typical 55 %, composed 45 %. */
  givenAt(sex: Sex, birthYear: number, u1: number, u2: number): number {
    if (u1 < 0.55) {
      let era = 0;
      while (era + 1 < this.eraStarts.length && birthYear >= this.eraStarts[era + 1]!) era++;
      const pool = this.eraPools[sex - 1]![era]!;
      return pool[Math.floor(u2 * pool.length)]!;
    }
    const pool = this.composedPools[sex - 1]!;
    return pool[Math.floor(u2 * pool.length)]!;
  }

  fullName(surname: number, given: number): string {
    return this.surnames[surname]!.hanzi + this.given[given]!.hanzi;
  }

  /** Pinyin as written on passports and in hospital systems: 'ZHANG ZIXUAN'. */
  pinyinName(surname: number, given: number): { family: string; given: string } {
    return {
      family: this.surnames[surname]!.pinyin.join('').toUpperCase(),
      given: this.given[given]!.pinyin.join('').toUpperCase(),
    };
  }

  /** Replaces characters by traditional forms; null when nothing changes. */
  toTraditional(s: string): string | null {
    let changed = false;
    const out = [...s].map((c) => {
      const t = this.traditional.get(c);
      if (t && t !== c) {
        changed = true;
        return t;
      }
      return c;
    });
    return changed ? out.join('') : null;
  }

  /** Replaces one character by a homophone; null when no character has one. */
  homophone(s: string, u: number): string | null {
    const chars = [...s];
    const candidates = chars.map((c, i) => [i, this.homophones.get(c)] as const).filter((x) => x[1]);
    if (candidates.length === 0) return null;
    const [i, alts] = candidates[Math.floor(u * candidates.length)]!;
    chars[i] = alts![Math.floor(((u * 7919) % 1) * alts!.length)]!;
    return chars.join('');
  }

  /** Replaces one character by a look-alike (a typing or handwriting slip); null if none. */
  lookalike(s: string, u: number): string | null {
    const chars = [...s];
    const candidates = chars.map((c, i) => [i, this.lookalikes.get(c)] as const).filter((x) => x[1]);
    if (candidates.length === 0) return null;
    const [i, alt] = candidates[Math.floor(u * candidates.length)]!;
    chars[i] = alt!;
    return chars.join('');
  }
}
