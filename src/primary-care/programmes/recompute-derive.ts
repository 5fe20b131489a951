/**
 * The derived rows of residents, and the pure middle of the full recompute: one key range's
 * person and fact rows, as the database wrote them with COPY … TO STDOUT, in; the range's
 * enrolment (with its summary) and item rows, as COPY text, out. No I/O, so it runs on a worker
 * thread (recompute-worker.ts) while the database thread reads and writes other ranges, or
 * inline when no worker can be had.
 */
import { copyLines, copyRows, textArray } from '../chronic/copy-text.js';
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
  return r.facts.some((f) => relevant(matchers, f));
}

/** Enrolment (with its summary) and item rows of residents, as of `today`. Pure. */
export function deriveRows(residents: ResidentFacts[], programmes: Programme[], today: string): Derived {
  const enrolments: Record<string, unknown>[] = [];
  const items: Record<string, unknown>[] = [];
  const since = ITEMS_SINCE(today);
  for (const r of residents)
    for (const p of programmes) {
      if (!storedFor(p, r)) continue;
      for (const ep of evaluateResident(p, r.person, r.facts, today, since, today, r.registrations?.get(p.code))) {
        enrolments.push({
          programme: p.code,
          patient_id: r.person.patientId,
          episode_key: ep.key,
          start_on: ep.start,
          end_on: ep.end,
          end_event_on: ep.endEvent,
          version: ep.version,
          flags: ep.flags,
          controlled: controlledOn(p, ep, today, r.person),
          last_service: ep.services.filter((s) => s.date <= today).at(-1)?.date ?? null,
          services: ep.services.length,
          area_code: r.person.areaCode,
          organization_id: r.person.organizationId,
          birth_date: r.person.birthDate,
          deceased_on: r.person.deceasedOn ?? null,
          ...summarise(p, ep, since, r.person.birthDate),
        });
        for (const it of ep.items)
          items.push({
            programme: p.code,
            patient_id: r.person.patientId,
            episode_key: ep.key,
            item: it.code,
            name: it.name,
            window_from: it.from,
            window_to: it.to,
            recommended: it.recommended,
            delivered_on: it.deliveredOn,
            delivered_ref: it.deliveredRef,
            version: it.version,
          });
        // A chain of follow-ups (hypertension, diabetes): its next due date, as one more item.
        const next = nextFollowUpItem(p, ep, r.person.birthDate);
        if (next) items.push({ programme: p.code, patient_id: r.person.patientId, episode_key: ep.key, ...next });
      }
    }
  return { enrolments, items };
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
  /** Residents known by facts alone (they get a blank person row, so derived_on covers them). */
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
    r.facts.push({
      ref: ref!,
      resourceType: resourceType!,
      codes: codesOf(codes),
      start,
      end,
      active: active === 't',
      valueCodes: codesOf(valueCodes),
      valueNum: valueNum === null ? null : Number(valueNum),
      ...(readings ? { readings: JSON.parse(readings) as Record<string, number> } : {}),
      ...(encounter ? { encounter } : {}),
    });
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
  for (let i = 0; i < residents.length; i += step) {
    const d = deriveRows(residents.slice(i, i + step), ctx.programmes, ctx.today);
    enrolments += copyLines(d.enrolments, ENROLMENT_COLUMNS);
    items += copyLines(d.items, ITEM_COLUMNS);
    if (pause && i + step < residents.length) await pause.wait();
  }
  return { enrolments, items, residents: residents.length, blank };
}
