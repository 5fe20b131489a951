/**
 * Change-log processor that keeps visit syndromes and their daily counts current.
 * Facts about one visit arrive in several resources (Encounter: chief complaint, day, facility;
 * Observation 8310-5: body temperature; Condition: diagnoses), in any order. Each batch loads
 * the affected surv_visit rows, applies the new facts, re-classifies, and moves signal_count by
 * the difference between the old and new contributions — so a late temperature or diagnosis
 * corrects the counts without any rescan. Lab positives are counted once per result: a result
 * whose code resolves to a lab-test code (Yifang's own, a LOINC code on the pathogen table, or a
 * facility's local code through its ConceptMap — src/terminology) and whose value or
 * interpretation says positive (阳性, 检出, POS, …; never 阴性/未检出). A laboratory result with
 * a local code no map knows goes to the unmapped queue; when a ConceptMap version arrives in the
 * change log, the lookup is reloaded and stored results carrying its newly mapped codes are
 * counted (idempotent: surv_lab_positive is keyed by the result). A diagnosis map version
 * re-derives the visits whose Conditions carry a code it changed: each such visit's ICD-10 set is
 * recomputed from all its current Conditions and its syndromes re-classified, so counts move by
 * the difference and a visit is never counted twice. Specimen types (Specimen.type) and units of
 * lab results (valueQuantity without UCUM) that no map or table knows go to the same queue.
 */
import type { Condition, Encounter, Observation, Patient, Specimen } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { ChangeRecord, Processor } from '../../platform/processors.js';
import { classifyVisit, type SyndromeRules } from '../syndromes/classify.js';
import {
  conditionsOfEncounters,
  conditionsWithCode,
  createLabResolver,
  isPositiveResult,
  LAB_TEST_SYSTEM,
  noteUnmapped,
  observationsWithCode,
  resultFacility,
  settleQueue,
  unmappedDiagnoses,
  type Mapping,
  type TerminologyIndex,
  type UnmappedSighting,
} from '../../terminology/index.js';
import { ageGroup, applyCountDeltas, type CountDelta, type TouchListener } from './counts.js';

const AREA_CODE_EXTENSION = 'https://yifang.health/fhir/StructureDefinition/area-code';
const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
/** Stored results re-read per query when a mapping is applied. */
const REDERIVE_PAGE = 500;

interface VisitRow {
  encounter_id: string;
  patient_id: string | null;
  day: string | null;
  area_code: string | null;
  facility: string | null;
  age_group: string | null;
  outpatient: boolean;
  complaint: string | null;
  temperature_c: number | null;
  icd10: string[];
  syndromes: string[];
  counted: boolean;
}

const ref = (r: { reference?: string } | undefined, type: string): string | null =>
  r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : null;

export function patientArea(p: Patient): string | null {
  const home = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  const ext = home?.extension?.find((e) => e.url === AREA_CODE_EXTENSION);
  return (ext?.valueCode ?? ext?.valueString ?? null) as string | null;
}

/** Local calendar day of a FHIR dateTime (the time zone written in it, as the facility wrote it). */
export const localDay = (dt: string | undefined | null): string | null => (dt && /^\d{4}-\d{2}-\d{2}/.test(dt) ? dt.slice(0, 10) : null);

function contributions(v: VisitRow, sign: 1 | -1): CountDelta[] {
  if (!v.counted || !v.day || !v.outpatient) return [];
  const base = { day: v.day, areaCode: v.area_code ?? '', facility: v.facility ?? '', ageGroup: v.age_group ?? 'unknown' };
  const out: CountDelta[] = [{ ...base, signal: 'ili', n: v.syndromes.includes('ili') ? sign : 0, denom: sign }];
  for (const s of v.syndromes) if (s !== 'ili') out.push({ ...base, signal: `syndrome:${s}`, n: sign });
  return out;
}

const isLaboratory = (o: Observation): boolean =>
  !!o.category?.some((c) => c.coding?.some((x) => x.system === OBS_CATEGORY && x.code === 'laboratory'));

interface LabPositive {
  o: Observation;
  code: string;
  facility: string;
}

/** Counts lab positives once per result (ON CONFLICT DO NOTHING by observation id). */
async function countLabPositives(client: pg.PoolClient, labs: readonly LabPositive[], deltas: CountDelta[]): Promise<void> {
  if (!labs.length) return;
  const pids = [...new Set(labs.map((l) => ref(l.o.subject, 'Patient')).filter((x): x is string => !!x))];
  const persons = new Map(
    (
      await client.query<{ patient_id: string; area_code: string | null; birth_date: string | null }>(
        'SELECT patient_id, area_code, birth_date::text AS birth_date FROM surv_person WHERE patient_id = ANY($1::text[])',
        [pids],
      )
    ).rows.map((r) => [r.patient_id, r]),
  );
  for (const { o, code, facility } of labs) {
    const day = localDay(o.effectiveDateTime ?? o.issued);
    if (!day || !o.id) continue;
    const pid = ref(o.subject, 'Patient');
    const person = pid ? persons.get(pid) : undefined;
    const signal = `lab:${code}`;
    const ins = await client.query(
      `INSERT INTO surv_lab_positive (observation_id, signal, day, area_code, facility, age_group) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [o.id, signal, day, person?.area_code ?? '', facility, ageGroup(person?.birth_date, day)],
    );
    if (ins.rowCount) deltas.push({ signal, day, areaCode: person?.area_code ?? '', ageGroup: ageGroup(person?.birth_date, day), n: 1 });
  }
}

/**
 * Takes back the count of results that are no longer positive (corrected to negative, cancelled,
 * entered in error, deleted) or whose test or day changed (counted again as they are now).
 */
async function retractLabPositives(
  client: pg.PoolClient,
  state: ReadonlyMap<string, LabPositive | null>,
  deltas: CountDelta[],
): Promise<void> {
  if (!state.size) return;
  const r = await client.query<{ observation_id: string; signal: string; day: string; area_code: string; age_group: string }>(
    'SELECT observation_id, signal, day::text AS day, area_code, age_group FROM surv_lab_positive WHERE observation_id = ANY($1::text[])',
    [[...state.keys()]],
  );
  const gone: string[] = [];
  for (const row of r.rows) {
    const now = state.get(row.observation_id);
    if (now && `lab:${now.code}` === row.signal && localDay(now.o.effectiveDateTime ?? now.o.issued) === row.day) continue;
    gone.push(row.observation_id);
    deltas.push({ signal: row.signal, day: row.day, areaCode: row.area_code, ageGroup: row.age_group, n: -1 });
  }
  if (gone.length) await client.query('DELETE FROM surv_lab_positive WHERE observation_id = ANY($1::text[])', [gone]);
}

/**
 * After ConceptMap versions: the stored results carrying a code they now map to a lab-test code
 * are counted (found by the code token index, page by page, so memory stays bounded).
 */
async function rederive(client: pg.PoolClient, index: TerminologyIndex, mappings: readonly Mapping[], deltas: CountDelta[]): Promise<void> {
  const seen = new Set<string>();
  for (const m of mappings) {
    if (m.target === null || m.targetSystem !== LAB_TEST_SYSTEM) continue;
    const k = `${m.system}|${m.code}`;
    if (seen.has(k)) continue;
    seen.add(k);
    for (let after = ''; ;) {
      const page = await observationsWithCode(client, m.system, m.code, after, REDERIVE_PAGE);
      const labs: LabPositive[] = [];
      for (const o of page) {
        const facility = resultFacility(o);
        const r = index.resolveLab(o, facility);
        if (r.status === 'mapped' && isPositiveResult(o)) labs.push({ o, code: r.code, facility });
      }
      await countLabPositives(client, labs, deltas);
      if (page.length < REDERIVE_PAGE) break;
      after = page[page.length - 1]!.id!;
    }
  }
}

/** A Condition's ICD-10 code: as sent, else a facility's local diagnosis code through its ConceptMap. */
function conditionIcd10(index: TerminologyIndex, cond: Condition): string | undefined {
  return (
    cond.code?.coding?.find((x) => /icd-?10/i.test(x.system ?? ''))?.code ??
    index.resolveIcd10(cond.code?.coding ?? [], resultFacility({ meta: cond.meta, identifier: cond.identifier }), ICD10_SYSTEM)
  );
}

/**
 * After diagnosis map versions: the stored Conditions carrying a source code whose mapping changed
 * are found by the code token index (500 at a time); for their visits, the ICD-10 set is recomputed
 * from every current Condition of the visit with the new lookup, and the visits re-classified.
 */
async function rederiveDiagnoses(
  client: pg.PoolClient,
  rules: SyndromeRules,
  index: TerminologyIndex,
  mappings: readonly Mapping[],
  deltas: CountDelta[],
): Promise<void> {
  const seen = new Set<string>();
  for (const m of mappings) {
    if (m.targetSystem !== ICD10_SYSTEM) continue;
    const k = `${m.system}|${m.code}`;
    if (seen.has(k)) continue;
    seen.add(k);
    for (let after = ''; ;) {
      const page = await conditionsWithCode(client, m.system, m.code, after, REDERIVE_PAGE);
      const visits = [...new Set(page.map((c) => ref(c.encounter, 'Encounter')).filter((x): x is string => !!x))];
      if (visits.length) {
        const codes = new Map<string, Set<string>>(visits.map((v) => [v, new Set<string>()]));
        for (const cond of await conditionsOfEncounters(client, visits)) {
          const enc = ref(cond.encounter, 'Encounter');
          const code = enc && codes.has(enc) ? conditionIcd10(index, cond) : undefined;
          if (code) codes.get(enc!)!.add(code);
        }
        await updateVisits(client, rules, { encounters: new Map(), temps: new Map(), codes }, deltas, 'replace');
      }
      if (page.length < REDERIVE_PAGE) break;
      after = page[page.length - 1]!.id!;
    }
  }
}

interface VisitFacts {
  encounters: Map<string, Encounter>;
  temps: Map<string, number>;
  codes: Map<string, Set<string>>;
}

const sameSet = (a: readonly string[], b: ReadonlySet<string>): boolean => a.length === b.size && a.every((x) => b.has(x));

/**
 * Applies facts to the visits they name: loads (and locks) their rows, applies the facts,
 * re-classifies, records the count differences and writes the rows back. `codes` add to a visit's
 * ICD-10 set ('add', facts as they arrive) or replace it ('replace', a re-derivation from all its
 * Conditions; visits it would not change are left alone).
 */
async function updateVisits(
  client: pg.PoolClient,
  rules: SyndromeRules,
  { encounters, temps, codes }: VisitFacts,
  deltas: CountDelta[],
  mode: 'add' | 'replace' = 'add',
): Promise<void> {
  const ids = [...new Set([...encounters.keys(), ...temps.keys(), ...codes.keys()])];
  if (!ids.length) return;
  const existing = await client.query<VisitRow>(
    `SELECT encounter_id, patient_id, day::text AS day, area_code, facility, age_group, outpatient, complaint, temperature_c, icd10, syndromes, counted
     FROM surv_visit WHERE encounter_id = ANY($1::text[]) FOR UPDATE`,
    [ids],
  );
  const rows = new Map(existing.rows.map((r) => [r.encounter_id, r]));
  const patientIds = [...new Set([...encounters.values()].map((e) => ref(e.subject, 'Patient')).filter((x): x is string => !!x))];
  const persons = patientIds.length
    ? new Map(
        (
          await client.query<{ patient_id: string; area_code: string | null; birth_date: string | null }>(
            'SELECT patient_id, area_code, birth_date::text AS birth_date FROM surv_person WHERE patient_id = ANY($1::text[])',
            [patientIds],
          )
        ).rows.map((r) => [r.patient_id, r]),
      )
    : new Map();
  const updated: VisitRow[] = [];
  for (const id of ids) {
    const old = rows.get(id);
    const visitCodes = codes.get(id);
    if (mode === 'replace' && visitCodes && (old ? sameSet(old.icd10, visitCodes) : visitCodes.size === 0)) continue;
    const v: VisitRow = old
      ? { ...old, icd10: [...old.icd10], syndromes: [...old.syndromes] }
      : {
          encounter_id: id,
          patient_id: null,
          day: null,
          area_code: null,
          facility: null,
          age_group: null,
          outpatient: false,
          complaint: null,
          temperature_c: null,
          icd10: [],
          syndromes: [],
          counted: false,
        };
    if (old) deltas.push(...contributions(old, -1));
    const e = encounters.get(id);
    if (e) {
      v.patient_id = ref(e.subject, 'Patient');
      v.day = localDay(e.period?.start);
      v.facility = ref(e.serviceProvider, 'Organization') ?? '';
      const cls = e.class?.code;
      v.outpatient = (cls === 'AMB' || cls === 'EMER') && e.status !== 'cancelled' && e.status !== 'entered-in-error';
      v.complaint =
        (e.reasonCode ?? [])
          .map((r) => r.text ?? r.coding?.[0]?.display ?? '')
          .filter(Boolean)
          .join('，') || null;
      const person = v.patient_id ? persons.get(v.patient_id) : undefined;
      v.area_code = person?.area_code ?? '';
      v.age_group = v.day ? ageGroup(person?.birth_date, v.day) : 'unknown';
    }
    const t = temps.get(id);
    if (t !== undefined) v.temperature_c = v.temperature_c === null ? t : Math.max(Number(v.temperature_c), t);
    if (mode === 'replace' && visitCodes) v.icd10 = [...visitCodes].sort();
    else for (const code of visitCodes ?? []) if (!v.icd10.includes(code)) v.icd10.push(code);
    v.syndromes = classifyVisit(rules, {
      complaint: v.complaint,
      temperatureC: v.temperature_c === null ? null : Number(v.temperature_c),
      icd10: v.icd10,
    }).syndromes;
    v.counted = !!v.day;
    deltas.push(...contributions(v, 1));
    updated.push(v);
  }
  if (!updated.length) return;
  await client.query(
    `INSERT INTO surv_visit (encounter_id, patient_id, day, area_code, facility, age_group, outpatient, complaint, temperature_c, icd10, syndromes, counted)
     SELECT u.encounter_id, u.patient_id, u.day, u.area_code, u.facility, u.age_group, u.outpatient, u.complaint, u.temperature_c,
            coalesce(string_to_array(nullif(u.icd10, ''), ','), '{}'), coalesce(string_to_array(nullif(u.syndromes, ''), ','), '{}'), u.counted
     FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::numeric[], $10::text[], $11::text[], $12::bool[])
       AS u(encounter_id, patient_id, day, area_code, facility, age_group, outpatient, complaint, temperature_c, icd10, syndromes, counted)
     ON CONFLICT (encounter_id) DO UPDATE SET patient_id = EXCLUDED.patient_id, day = EXCLUDED.day, area_code = EXCLUDED.area_code,
       facility = EXCLUDED.facility, age_group = EXCLUDED.age_group, outpatient = EXCLUDED.outpatient, complaint = EXCLUDED.complaint,
       temperature_c = EXCLUDED.temperature_c, icd10 = coalesce(EXCLUDED.icd10, '{}'), syndromes = coalesce(EXCLUDED.syndromes, '{}'), counted = EXCLUDED.counted`,
    [
      updated.map((v) => v.encounter_id),
      updated.map((v) => v.patient_id),
      updated.map((v) => v.day),
      updated.map((v) => v.area_code),
      updated.map((v) => v.facility),
      updated.map((v) => v.age_group),
      updated.map((v) => v.outpatient),
      updated.map((v) => v.complaint),
      updated.map((v) => v.temperature_c),
      updated.map((v) => v.icd10.join(',')),
      updated.map((v) => v.syndromes.join(',')),
      updated.map((v) => v.counted),
    ],
  );
}

export function createVisitProcessor(rules: SyndromeRules, touch?: TouchListener): Processor {
  const resolver = createLabResolver();
  return {
    name: 'surveillance-visits',
    types: ['Patient', 'Encounter', 'Observation', 'Condition', 'ConceptMap', 'Specimen'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient) {
      const index = await resolver.current(client, changes);
      // 1. People first (a visit in the same batch can then be placed).
      const people = changes.filter((c) => c.type === 'Patient' && c.resource && !c.deleted).map((c) => c.resource as Patient);
      if (people.length) {
        const latest = new Map(people.map((p) => [p.id!, p]));
        const ids = [...latest.keys()];
        await client.query(
          `INSERT INTO surv_person (patient_id, area_code, birth_date)
           SELECT * FROM unnest($1::text[], $2::text[], $3::date[])
           ON CONFLICT (patient_id) DO UPDATE SET area_code = EXCLUDED.area_code, birth_date = EXCLUDED.birth_date`,
          [ids, ids.map((id) => patientArea(latest.get(id)!)), ids.map((id) => latest.get(id)!.birthDate ?? null)],
        );
      }
      // 2. Collect visit facts.
      const encounters = new Map<string, Encounter>();
      const temps = new Map<string, number>();
      const codes = new Map<string, Set<string>>();
      const labs: LabPositive[] = [];
      const unmapped: UnmappedSighting[] = [];
      // The latest state of each lab result in the batch: counted positive, or not (any more).
      const labState = new Map<string, LabPositive | null>();
      for (const c of changes) {
        if (c.type === 'Observation' && (c.deleted || !c.resource)) labState.set(c.id, null);
        if (!c.resource || c.deleted) continue;
        if (c.type === 'Encounter') encounters.set(c.id, c.resource as Encounter);
        else if (c.type === 'Observation') {
          const o = c.resource as Observation;
          const enc = ref(o.encounter, 'Encounter');
          if (o.code?.coding?.some((x) => x.code === '8310-5') && enc && typeof o.valueQuantity?.value === 'number') {
            let t = o.valueQuantity.value;
            if (o.valueQuantity.code === '[degF]' || o.valueQuantity.unit === '°F') t = ((t - 32) * 5) / 9;
            temps.set(enc, Math.max(temps.get(enc) ?? -Infinity, t));
          } else {
            const facility = resultFacility(o);
            const r = index.resolveLab(o, facility);
            // Counted below from labState: the batch's last version of each result decides.
            labState.set(c.id, r.status === 'mapped' && isPositiveResult(o) ? { o, code: r.code, facility } : null);
            if (r.status === 'unmapped' && isLaboratory(o))
              for (const l of r.local)
                unmapped.push({
                  facility,
                  system: l.system,
                  code: l.code,
                  display: l.display,
                  observationId: c.id,
                  first: c.versionId === 1,
                });
            // A lab result's unit sent without UCUM that neither the unit table nor a map knows.
            const unit = isLaboratory(o) ? index.resolveUnit(o.valueQuantity, facility) : undefined;
            if (unit?.status === 'unmapped')
              for (const l of unit.local) unmapped.push({ kind: 'unit', facility, ...l, observationId: c.id, first: c.versionId === 1 });
          }
        } else if (c.type === 'Specimen') {
          // A specimen type (SPM-4, OBR-15, CSV text) that neither the specimen table nor a map knows.
          const sp = c.resource as Specimen;
          const facility = resultFacility(sp);
          const r = index.resolveSpecimen(sp.type, facility);
          if (r.status === 'unmapped')
            for (const l of r.local) unmapped.push({ kind: 'specimen', facility, ...l, observationId: c.id, first: c.versionId === 1 });
        } else if (c.type === 'Condition') {
          const cond = c.resource as Condition;
          const enc = ref(cond.encounter, 'Encounter');
          // ICD-10 as sent, else a facility's local diagnosis code through its ConceptMap (stored records are re-derived when a map changes).
          const code = conditionIcd10(index, cond);
          if (enc && code) {
            const set = codes.get(enc) ?? new Set<string>();
            set.add(code);
            codes.set(enc, set);
          }
          // A visit diagnosis whose local code no map knows and whose text names no notifiable disease: to the queue (kind diagnosis).
          unmapped.push(...unmappedDiagnoses(index, cond, c.versionId === 1));
        }
      }
      const deltas: CountDelta[] = [];
      await updateVisits(client, rules, { encounters, temps, codes }, deltas);
      // 3. Lab positives, once per result (a result corrected to negative, cancelled or deleted is taken back); codes no map knows to the queue.
      for (const l of labState.values()) if (l) labs.push(l);
      await retractLabPositives(client, labState, deltas);
      await countLabPositives(client, labs, deltas);
      await noteUnmapped(client, unmapped);
      // 4. Mappings written since the last batch: settle their queue rows; re-derive what the maps changed
      //    (stored lab results counted, visits whose diagnoses map differently re-classified).
      const mapped = resolver.changedMappings(changes);
      if (mapped.length) await settleQueue(client, mapped);
      if (changes.some((c) => c.type === 'ConceptMap')) {
        const changed = await resolver.changedSincePrevious(client, changes);
        await rederive(client, index, changed, deltas);
        await rederiveDiagnoses(client, rules, index, changed, deltas);
      }
      await applyCountDeltas(client, deltas, touch);
    },
  };
}
