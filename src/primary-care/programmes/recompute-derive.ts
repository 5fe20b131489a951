/**
 * The derived rows of residents, and the pure middle of the full recompute: one key range's
 * person and fact rows, as the database wrote them with COPY … TO STDOUT, in; the range's
 * enrolment (with its summary) and item rows, as COPY text, out. No I/O, so it runs on a worker
 * thread (recompute-worker.ts) while the database thread reads and writes other ranges, or
 * inline when no worker can be had.
 */
import { copyLine, copyRows, textArray } from '../chronic/copy-text.js';
import type { Matcher, Programme } from './definition.js';
import { controlledOn, evaluateResident, matchersOf, relevant, type Fact, type PersonFacts, type Registration } from './engine.js';
import { nextFollowUpItem } from './next-follow-up.js';
import { summarise } from './summary.js';

export interface ResidentFacts {
  person: PersonFacts;
  facts: Fact[];
  /** What was recorded by hand, by programme code (prog_registration). */
  registrations?: Map<string, Registration>;
}

/** Stored yearly items start two calendar years back: worklists look a year back at most. */
export const ITEMS_SINCE = (today: string) => `${Number(today.slice(0, 4)) - 2}-01-01`;

// eachRow fills every column of a row by name, in arrays reused from row to row: a new column needs its line there.
export const ENROLMENT_COLUMNS = [
  'programme',
  'patient_id',
  'episode_key',
  'start_on',
  'end_on',
  'end_event_on',
  'version',
  'flags',
  'controlled',
  'last_service',
  'services',
  'area_code',
  'organization_id',
  'birth_date',
  'item_ends',
  'missed_ends',
  'mark_keys',
  'mark_days',
  'chain_dates',
  'deceased_on',
] as const;
export const ITEM_COLUMNS = [
  'programme',
  'patient_id',
  'episode_key',
  'item',
  'name',
  'window_from',
  'window_to',
  'recommended',
  'delivered_on',
  'delivered_ref',
  'version',
] as const;

export interface Derived {
  enrolments: Record<string, unknown>[];
  items: Record<string, unknown>[];
}

const matchersCache = new WeakMap<Programme, Matcher[]>();

/**
 * Whether a resident's episodes of a programme are stored: always, but for a programme enrolled
 * implicitly (entry.implicit: everyone of an age) only when some record of the resident is one
 * the programme's matchers read, or a status was set by hand. Everyone else of the age has the
 * episode the engine gives a resident without records, which store.ts counts and lists from the
 * person table instead (virtualRowsSql).
 */
export function storedFor(p: Programme, r: ResidentFacts): boolean {
  if (!p.entry.implicit || r.registrations?.has(p.code)) return true;
  let matchers = matchersCache.get(p);
  if (!matchers) matchersCache.set(p, (matchers = matchersOf([p])));
  let known = relevantCache.get(p);
  if (!known) relevantCache.set(p, (known = new Map()));
  for (const f of r.facts) {
    // Whether a record is one the matchers read depends on its type and codes alone (`relevant`
    // reads nothing else): for the usual one code, asked once per type and code, not per resident.
    if (f.codes.length !== 1) {
      if (relevant(matchers, f)) return true;
      continue;
    }
    let byCode = known.get(f.resourceType);
    if (!byCode) known.set(f.resourceType, (byCode = new Map()));
    const code = f.codes[0]!;
    let hit = byCode.get(code);
    if (hit === undefined) {
      if (byCode.size >= 100_000) byCode.clear();
      byCode.set(code, (hit = relevant(matchers, f)));
    }
    if (hit) return true;
  }
  return false;
}
/** `relevant` of a programme's matchers, by resource type then code (see storedFor). */
const relevantCache = new WeakMap<Programme, Map<string, Map<string, boolean>>>();

/** Enrolment (with its summary) and item rows of residents, as of `today`. Pure. */
export function deriveRows(residents: ResidentFacts[], programmes: Programme[], today: string): Derived {
  const enrolments: Record<string, unknown>[] = [];
  const items: Record<string, unknown>[] = [];
  const row = (columns: readonly string[], values: readonly unknown[]) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) o[columns[i]!] = values[i];
    return o;
  };
  eachRow(
    residents,
    programmes,
    today,
    (values) => enrolments.push(row(ENROLMENT_COLUMNS, values)),
    (values) => items.push(row(ITEM_COLUMNS, values)),
  );
  return { enrolments, items };
}

/** Each column's place in a row's values, by name (eachRow fills them by name, whatever the order of the columns). */
const placesOf = <C extends string>(columns: readonly C[]) => Object.fromEntries(columns.map((c, i) => [c, i])) as Record<C, number>;
const E = placesOf(ENROLMENT_COLUMNS);
const I = placesOf(ITEM_COLUMNS);

/** The columns of an item row after its episode's (programme, patient_id, episode_key). */
const ITEM_FIELDS = ITEM_COLUMNS.slice(3);

/**
 * Every enrolment and item row of residents, as its values in the order of ENROLMENT_COLUMNS and
 * ITEM_COLUMNS. The arrays are reused from one row to the next: a sink reads them at once. Rows
 * leave as values, not objects, so the full recompute writes COPY text from them directly.
 */
function eachRow(
  residents: readonly ResidentFacts[],
  programmes: Programme[],
  today: string,
  enrolment: (values: readonly unknown[]) => void,
  item: (values: readonly unknown[]) => void,
): void {
  const since = ITEMS_SINCE(today);
  const e: unknown[] = new Array<unknown>(ENROLMENT_COLUMNS.length);
  const it: unknown[] = new Array<unknown>(ITEM_COLUMNS.length);
  for (const r of residents)
    for (const p of programmes) {
      if (!storedFor(p, r)) continue;
      const person = r.person;
      for (const ep of evaluateResident(p, person, r.facts, today, since, today, r.registrations?.get(p.code))) {
        // The last service given by today (found from the end: the last in the episode's order).
        let lastService: string | null = null;
        for (let i = ep.services.length - 1; i >= 0; i--)
          if (ep.services[i]!.date <= today) {
            lastService = ep.services[i]!.date;
            break;
          }
        const controlled = controlledOn(p, ep, today, person);
        const s = summarise(p, ep, since, person.birthDate);
        e[E.programme] = p.code;
        e[E.patient_id] = person.patientId;
        e[E.episode_key] = ep.key;
        e[E.start_on] = ep.start;
        e[E.end_on] = ep.end;
        e[E.end_event_on] = ep.endEvent;
        e[E.version] = ep.version;
        e[E.flags] = ep.flags;
        e[E.controlled] = controlled;
        e[E.last_service] = lastService;
        e[E.services] = ep.services.length;
        e[E.area_code] = person.areaCode;
        e[E.organization_id] = person.organizationId;
        e[E.birth_date] = person.birthDate;
        e[E.item_ends] = s.item_ends;
        e[E.missed_ends] = s.missed_ends;
        e[E.mark_keys] = s.mark_keys;
        e[E.mark_days] = s.mark_days;
        e[E.chain_dates] = s.chain_dates;
        e[E.deceased_on] = person.deceasedOn ?? null;
        enrolment(e);
        it[I.programme] = p.code;
        it[I.patient_id] = person.patientId;
        it[I.episode_key] = ep.key;
        for (const x of ep.items) {
          it[I.item] = x.code;
          it[I.name] = x.name;
          it[I.window_from] = x.from;
          it[I.window_to] = x.to;
          it[I.recommended] = x.recommended;
          it[I.delivered_on] = x.deliveredOn;
          it[I.delivered_ref] = x.deliveredRef;
          it[I.version] = x.version;
          item(it);
        }
        // A chain of follow-ups (hypertension, diabetes): its next due date, as one more item.
        const next = nextFollowUpItem(p, ep, person.birthDate);
        if (next) {
          for (const c of ITEM_FIELDS) it[I[c]] = next[c];
          item(it);
        }
      }
    }
}

/**
 * SELECTs of one range's persons, facts and registrations (`w` is its WHERE condition on
 * patient_id), in the order deriveRange reads their output. Facts come in ref order, as residentFacts (store.ts)
 * gives them to the processor.
 */
export function rangeQueries(w: string): string[] {
  return [
    `SELECT patient_id, name, to_char(birth_date, 'YYYY-MM-DD'), gender, area_code, organization_id, deceased, to_char(deceased_on, 'YYYY-MM-DD') FROM prog_person WHERE ${w}`,
    `SELECT patient_id, ref, resource_type, codes, to_char(start_on, 'YYYY-MM-DD'), to_char(end_on, 'YYYY-MM-DD'), active, value_codes, value_num,
            readings, encounter
     FROM prog_fact WHERE ${w} ORDER BY ref`,
    `SELECT patient_id, programme, to_char(enrolled_on, 'YYYY-MM-DD'), status, to_char(status_on, 'YYYY-MM-DD') FROM prog_registration WHERE ${w}`,
  ];
}

/** What one recompute derives for (sent once to a worker). */
export interface DeriveContext {
  programmes: Programme[];
  today: string;
}

export interface DerivedRange {
  /** COPY text of the enrolment and item rows ('' when none). */
  enrolments: string;
  items: string;
  /** Residents derived (with a person row or facts). */
  residents: number;
  /** Residents known by facts alone (they get a blank person row and a row in prog_derived). */
  blank: string[];
}

/**
 * A text[] as COPY writes it: the common shapes (`{}`, elements quoted or bare, no backslash)
 * split here, anything else (escapes, NULL elements) by node-postgres's parser (textArray).
 */
export function codesOf(v: string | null): string[] {
  if (v === null || v === '{}') return [];
  if (v.includes('\\')) return textArray(v);
  const out: string[] = [];
  let i = 1;
  while (i < v.length - 1) {
    let end: number;
    if (v[i] === '"') {
      end = v.indexOf('"', i + 1);
      out.push(v.slice(i + 1, end));
      end++;
    } else {
      end = v.indexOf(',', i);
      if (end < 0) end = v.length - 1;
      const el = v.slice(i, end);
      if (el === 'NULL') return textArray(v);
      out.push(el);
    }
    i = end + 1;
  }
  return out;
}

/** A resident the person table does not (yet) know: facts without demographics. */
export const blankPerson = (id: string): PersonFacts => ({
  patientId: id,
  name: null,
  birthDate: null,
  gender: null,
  areaCode: null,
  organizationId: null,
  deceased: false,
});

/**
 * Derives one range. `texts` are the outputs of rangeQueries in order. With `pause`, it is
 * called every `every` residents and awaited (inline on the database thread, to let requests in).
 */
export async function deriveRange(
  texts: string[],
  ctx: DeriveContext,
  pause?: { every: number; wait: () => Promise<unknown> },
): Promise<DerivedRange> {
  const [persons = '', facts = '', registrations = ''] = texts;
  const byId = new Map<string, ResidentFacts>();
  for (const [id, name, birthDate, gender, areaCode, organizationId, deceased, deceasedOn] of copyRows(persons))
    byId.set(id!, {
      person: { patientId: id!, name, birthDate, gender, areaCode, organizationId, deceased: deceased === 't', deceasedOn },
      facts: [],
    });
  const blank: string[] = [];
  for (const [id, ref, resourceType, codes, start, end, active, valueCodes, valueNum, readings, encounter] of copyRows(facts)) {
    let r = byId.get(id!);
    if (!r) {
      r = { person: blankPerson(id!), facts: [] };
      byId.set(id!, r);
      blank.push(id!);
    }
    const fact: Fact = {
      ref: ref!,
      resourceType: resourceType!,
      codes: codesOf(codes),
      start,
      end,
      active: active === 't',
      valueCodes: codesOf(valueCodes),
      valueNum: valueNum === null ? null : Number(valueNum),
    };
    // Set only when present (no spread of a one-key object per fact), as the processor's facts have them.
    if (readings) fact.readings = JSON.parse(readings) as Record<string, number>;
    if (encounter) fact.encounter = encounter;
    r.facts.push(fact);
  }
  for (const [id, programme, enrolledOn, status, statusOn] of copyRows(registrations)) {
    let r = byId.get(id!);
    if (!r) {
      r = { person: blankPerson(id!), facts: [] };
      byId.set(id!, r);
      blank.push(id!);
    }
    (r.registrations ??= new Map()).set(programme!, { enrolledOn, status: status as Registration['status'], statusOn });
  }
  const residents = [...byId.values()];
  let enrolments = '';
  let items = '';
  const step = pause?.every ?? residents.length;
  // Lines written straight from each row's values, as copyLines would write the row objects.
  const toEnrolments = (values: readonly unknown[]) => (enrolments += copyLine(values));
  const toItems = (values: readonly unknown[]) => (items += copyLine(values));
  for (let i = 0; i < residents.length; i += step) {
    eachRow(step >= residents.length ? residents : residents.slice(i, i + step), ctx.programmes, ctx.today, toEnrolments, toItems);
    if (pause && i + step < residents.length) await pause.wait();
  }
  return { enrolments, items, residents: residents.length, blank };
}
