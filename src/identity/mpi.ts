/**
 * The master patient index on the database: links each incoming Patient to a Person (a FHIR
 * Person resource whose link.target lists its Patients), keeps the blocking index and the review
 * queue, and performs audited, reversible manual link / unlink / merge.
 *
 * Linking works in batches (the change-log processor hands over up to 2,000 changes): one query
 * fetches the candidates of every record in the batch through mpi_block, records of the same
 * batch see each other through an in-memory index, and the results are written in bulk.
 */
import type { PoolClient } from 'pg';
import type { Queryable } from '../platform/db.js';
import { newResourceId } from '../fhir/ids.js';
import type { Patient, Person, Resource } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import { candidateComparisons } from './evaluate.js';
import {
  decide,
  fitEm,
  loadLinkageConfig,
  MemoryIndex,
  rankCandidates,
  weightsOf,
  type Assurance,
  type Decision,
  type Parameters,
  type Weights,
} from './linkage.js';
import { householdGroup, householdGroupId, householdKey, type HouseholdMember } from './household.js';
import { blockingKeys, toIdentityRecord, type IdentityRecord } from './record.js';
import type { Move } from './schemas.js';
import { deleteCurrent, lockVersions, storeResources, VersionWrites, type StoredVersion } from './store-resources.js';

export interface LinkOutcome {
  patientId: string;
  personId: string;
  decision: Decision['kind'] | 'unchanged' | 'updated';
  score?: number;
}

/** One record of a person as mpi_record holds it. */
interface PersonRecord {
  person_id: string;
  patient_id: string;
  assurance: string;
  data: IdentityRecord;
}

export interface MpiOptions {
  /** Write Person resources (off in the throughput benchmark, which measures the index). */
  writePersons?: boolean;
}

export type { Move };

export { householdKey };

/** Field-by-field equality (records read back from jsonb have their keys in another order). */
function sameRecord(a: IdentityRecord, b: IdentityRecord): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) if (x[k] !== y[k]) return false;
  return true;
}

/** Whether a household has the same members, linked to the same persons, before and after. */
function sameMembers(a: HouseholdMember[], b: HouseholdMember[]): boolean {
  if (a.length !== b.length) return false;
  const seen = new Set(a.map((m) => `${m.patientId}\t${m.personId}`));
  return b.every((m) => seen.has(`${m.patientId}\t${m.personId}`));
}

/** The Person resource of a person from its records (sorted by Patient id). */
function personResource(id: string, list: PersonRecord[]): Person {
  // The record with a valid ID number and a hanzi name speaks for the person.
  const best = [...list].sort(
    (a, b) =>
      Number(!!b.data.idNumber) - Number(!!a.data.idNumber) ||
      Number(/[\u4e00-\u9fff]/.test(b.data.name)) - Number(/[\u4e00-\u9fff]/.test(a.data.name)),
  )[0]!.data;
  return {
    resourceType: 'Person',
    id,
    active: true,
    ...(best.name ? { name: [{ text: best.name }] } : {}),
    ...(best.sex ? { gender: best.sex as Person['gender'] } : {}),
    ...(best.birthDate ? { birthDate: best.birthDate } : {}),
    ...(best.phone ? { telecom: [{ system: 'phone', value: best.phone }] } : {}),
    link: list.map((r) => ({ target: { reference: `Patient/${r.patient_id}` }, assurance: r.assurance as Assurance })),
  };
}

/** What one step leaves to write after linking: index rows, then Persons and households. */
interface Step {
  /** Persons whose records the step changed. */
  touched: Set<string>;
  /** Patients whose records the step removed. */
  removed: string[];
  /** Persons the step created, with their records. */
  created: Map<string, PersonRecord[]>;
  /** Records whose blocking rows are to go. */
  staleBlocks: IdentityRecord[];
  /** Stored records with new data (and, after an A40 merge, a new person). */
  changed: { patient_id: string; data: IdentityRecord; person_id: string | null }[];
  /** New mpi_record rows (patient, person, assurance, score, data as JSON). */
  newRecords: (string | number | null)[][];
  /** New mpi_block rows (key, patient). */
  blocks: string[][];
  reviews: { patient: string; person: string; candidatePatient: string; score: number; comparison: unknown }[];
}

/**
 * Starts database work to be awaited later, after some preparing. A failure is held for the
 * await (not reported as unhandled if the preparing throws first).
 */
function inFlight<T>(work: () => Promise<T>): Promise<T> {
  const p = work();
  p.catch(() => undefined);
  return p;
}

const copyText = (s: string) => s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

export class Mpi {
  private weights: Weights | undefined;
  private weightsAt = 0;

  constructor(
    private readonly db: Database,
    private readonly repo: FhirRepository,
    private readonly options: MpiOptions = {},
  ) {}

  /** The weights in force: the newest EM fit, else the configured defaults. Re-read every minute. */
  async currentWeights(client: Queryable = this.db.pool): Promise<Weights> {
    if (!this.weights || Date.now() - this.weightsAt > 60_000) {
      const r = await client.query<{ parameters: Parameters }>('SELECT parameters FROM mpi_weights ORDER BY id DESC LIMIT 1');
      this.weights = weightsOf(r.rows[0]?.parameters ?? loadLinkageConfig().defaults);
      this.weightsAt = Date.now();
    }
    return this.weights;
  }

  /** Links a batch of Patients (inside the caller's transaction). */
  linkPatients(client: Queryable, patients: Patient[]): Promise<LinkOutcome[]> {
    return this.applyChanges(client, patients, []);
  }

  /** Takes a deleted Patient out of the index (inside the caller's transaction). */
  async removePatient(client: Queryable, patientId: string): Promise<void> {
    await this.applyChanges(client, [], [patientId]);
  }

  /**
   * One processor step, inside the caller's transaction: takes the deleted Patients out of the
   * index, links the others, then rewrites the Person and household Group resources of every
   * person the step touched, once. The number of statements depends on the step, not on the
   * number of Patients in it.
   */
  async applyChanges(client: Queryable, patients: Patient[], deleted: string[]): Promise<LinkOutcome[]> {
    // Every statement of a step finds rows by key. During a district's first burst the planner's
    // statistics say the tables are nearly empty, and at a few hundred thousand records it would
    // rather hash all of mpi_record than probe it for a batch's candidates: no sequential scans.
    // On PostgreSQL the candidate query's cost estimate also crosses the JIT threshold, and
    // compiling it costs more (20–60 ms) than running it. And the step's commit does not wait for
    // the WAL flush: everything it writes is derived from Patients already durable and commits
    // together with the processor's cursor, so a commit lost in a crash is a step done again.
    await client.query(
      this.db.kind === 'postgres'
        ? 'SET LOCAL jit = off; SET LOCAL enable_seqscan = off; SET LOCAL synchronous_commit = off'
        : 'SET LOCAL enable_seqscan = off',
    );
    const step: Step = {
      touched: new Set(),
      removed: [],
      created: new Map(),
      staleBlocks: [],
      changed: [],
      newRecords: [],
      blocks: [],
      reviews: [],
    };
    if (deleted.length) {
      // Removed records must be gone before the candidate query (their blocking rows may stay
      // until the index writes: without an mpi_record row they reach no candidate).
      const r = await client.query<{ patient_id: string; person_id: string; data: IdentityRecord }>(
        'DELETE FROM mpi_record WHERE patient_id = ANY($1::text[]) RETURNING patient_id, person_id, data',
        [deleted],
      );
      for (const row of r.rows) {
        step.touched.add(row.person_id);
        step.removed.push(row.patient_id);
        step.staleBlocks.push(row.data);
      }
      await client.query(
        `UPDATE mpi_review SET status = 'rejected', resolved_by = 'system', resolved_at = now() WHERE patient_id = ANY($1::text[]) AND status = 'open'`,
        [deleted],
      );
    }
    const outcomes = await this.linkRecords(client, patients, step);
    const indexWrites = () => this.writeIndex(client, step);
    if (this.options.writePersons !== false) await this.refreshPersons(client, [...step.touched], step.removed, step.created, indexWrites);
    else await indexWrites();
    return outcomes;
  }

  /** The index rows a step leaves: changed records, blocking rows out and in, new records, review items. */
  private async writeIndex(client: Queryable, step: Step): Promise<void> {
    if (step.changed.length)
      await client.query(
        `UPDATE mpi_record m SET data = x.data, updated_at = now(), person_id = coalesce(x.person_id, m.person_id),
                assurance = CASE WHEN x.person_id IS NULL THEN m.assurance ELSE 'level4' END
         FROM json_to_recordset($1::json) AS x(patient_id text, data json, person_id text) WHERE m.patient_id = x.patient_id`,
        [JSON.stringify(step.changed)],
      );
    // Old blocking rows go before the new ones come: a changed record keeps most of its keys.
    if (step.staleBlocks.length) await this.deleteBlocks(client, step.staleBlocks);
    await this.writeIndexRows(client, step.newRecords, step.blocks);
    if (step.reviews.length)
      await client.query(
        `INSERT INTO mpi_review (patient_id, candidate_person_id, candidate_patient_id, score, comparison)
         SELECT x.patient, x.person, x."candidatePatient", x.score, x.comparison FROM jsonb_to_recordset($1::jsonb) AS x(patient text, person text, "candidatePatient" text, score float8, comparison jsonb)
         ON CONFLICT (patient_id, candidate_person_id) DO NOTHING`,
        [JSON.stringify(step.reviews)],
      );
  }

  /** Links the records of a batch; what is to be written is left in `step`. */
  private async linkRecords(client: Queryable, patients: Patient[], step: Step): Promise<LinkOutcome[]> {
    // The newest version of each Patient in the batch counts.
    const byId = new Map<string, IdentityRecord & { replacedBy?: string }>();
    for (const p of patients) {
      if (!p.id) continue;
      const replacedBy = p.link?.find((l) => l.type === 'replaced-by')?.other.reference?.replace(/^Patient\//, '');
      byId.delete(p.id);
      byId.set(p.id, replacedBy ? { ...toIdentityRecord(p), replacedBy } : toIdentityRecord(p));
    }
    const records = [...byId.values()];
    if (!records.length) return [];
    const weights = await this.currentWeights(client);
    const { thresholds } = loadLinkageConfig();
    const keysOf = new Map(records.map((r) => [r.patientId, blockingKeys(r)]));
    const allKeys = [...new Set([...keysOf.values()].flat())];
    const mergeTargets = [...new Set(records.map((r) => r.replacedBy).filter((id): id is string => !!id && !byId.has(id)))];
    // One round trip for the whole batch: every record sharing a key with it (each once, with the
    // keys it shares), then by id the batch's own prior records and the survivors of A40 merges.
    const found = await client.query<{ patient_id: string; person_id: string; data: string; keys: string[] | null }>({
      name: 'mpi-candidates',
      text: `SELECT r.patient_id, r.person_id, r.data::text AS data, c.keys
             FROM (SELECT patient_id, array_agg(key) AS keys FROM mpi_block WHERE key = ANY($1::text[]) GROUP BY patient_id) c
             JOIN mpi_record r ON r.patient_id = c.patient_id
             UNION ALL
             SELECT patient_id, person_id, data::text, NULL FROM mpi_record WHERE patient_id = ANY($2::text[])`,
      values: [allKeys, [...byId.keys(), ...mergeTargets]],
    });
    const existing = new Map<string, { person_id: string; data: IdentityRecord }>();
    /** Person of each indexed Patient the batch may follow a merge to, kept current as the batch moves them. */
    const personOf = new Map<string, string>();
    const index = new MemoryIndex();
    for (const row of found.rows) {
      const record = JSON.parse(row.data) as IdentityRecord;
      if (byId.has(row.patient_id)) existing.set(row.patient_id, { person_id: row.person_id, data: record });
      personOf.set(row.patient_id, row.person_id);
      if (row.keys?.length) index.add({ record, personId: row.person_id }, row.keys);
    }
    const outcomes: LinkOutcome[] = [];
    const newRecords: { r: IdentityRecord; personId: string; assurance: Assurance; score: number | null }[] = [];
    const reviews: Step['reviews'] = [];
    const changed: { record: IdentityRecord; previous: IdentityRecord; movedTo?: string }[] = [];
    /** Persons this batch creates: all their records are among newRecords, none stored before. */
    const createdPersons = new Set<string>();
    for (const withLink of records) {
      const { replacedBy, ...r } = withLink;
      const keys = keysOf.get(r.patientId)!;
      const prior = existing.get(r.patientId);
      if (prior) {
        if (sameRecord(prior.data, r) && !replacedBy) {
          outcomes.push({ patientId: r.patientId, personId: prior.person_id, decision: 'unchanged' });
          continue;
        }
        step.touched.add(prior.person_id);
        outcomes.push({ patientId: r.patientId, personId: prior.person_id, decision: 'updated' });
        // A40 seen on a Patient already indexed: it moves to its survivor's person.
        const to = replacedBy ? personOf.get(replacedBy) : undefined;
        if (to) {
          personOf.set(r.patientId, to);
          step.touched.add(to);
        }
        changed.push({ record: r, previous: prior.data, ...(to ? { movedTo: to } : {}) });
        continue;
      }
      let personId: string;
      let assurance: Assurance;
      let score: number | null = null;
      const survivor = replacedBy ? personOf.get(replacedBy) : undefined;
      if (survivor) {
        personId = survivor;
        assurance = 'level4';
        outcomes.push({ patientId: r.patientId, personId, decision: 'id' });
      } else {
        const d = decide(r, index.lookup(keys), weights, thresholds);
        score = d.score ?? null;
        if (d.kind === 'id' || d.kind === 'auto') personId = d.personId!;
        else {
          personId = newResourceId();
          createdPersons.add(personId);
        }
        assurance = d.assurance;
        if (d.kind === 'review')
          reviews.push({
            patient: r.patientId,
            person: d.personId!,
            candidatePatient: d.ranked[0]!.patientId,
            score: d.score!,
            comparison: d.ranked[0]!.comparison,
          });
        outcomes.push({ patientId: r.patientId, personId, decision: d.kind, ...(d.score !== undefined ? { score: d.score } : {}) });
      }
      newRecords.push({ r, personId, assurance, score });
      index.add({ record: r, personId }, keys);
      step.touched.add(personId);
    }
    step.changed = changed.map((c) => ({ patient_id: c.record.patientId, data: c.record, person_id: c.movedTo ?? null }));
    step.staleBlocks.push(...changed.map((c) => c.previous));
    step.newRecords = newRecords.map((n) => [n.r.patientId, n.personId, n.assurance, n.score, JSON.stringify(n.r)]);
    step.blocks = [...newRecords.map((n) => n.r), ...changed.map((c) => c.record)].flatMap((r) =>
      keysOf.get(r.patientId)!.map((key) => [key, r.patientId]),
    );
    step.reviews = reviews;
    for (const id of createdPersons) step.created.set(id, []);
    for (const n of newRecords)
      step.created.get(n.personId)?.push({ person_id: n.personId, patient_id: n.r.patientId, assurance: n.assurance, data: n.r });
    return outcomes;
  }

  /**
   * Writes new index rows by COPY, the cheapest way in: the Patients are new to the index (checked
   * in the same transaction, and the processor cursor serialises linking). Should a row exist
   * after all (a leftover blocking row), the savepoint takes both COPYs back and the same rows go
   * in by INSERT … ON CONFLICT DO NOTHING, as they do without a checked-out connection.
   */
  private async writeIndexRows(client: Queryable, records: (string | number | null)[][], blocks: string[][]): Promise<void> {
    if (!records.length && !blocks.length) return;
    const insert = async () => {
      if (records.length)
        await client.query({
          name: 'mpi-insert-record',
          text: `INSERT INTO mpi_record (patient_id, person_id, assurance, score, data)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::json[]) ON CONFLICT (patient_id) DO NOTHING`,
          values: [0, 1, 2, 3, 4].map((i) => records.map((r) => r[i])),
        });
      if (blocks.length)
        await client.query({
          name: 'mpi-insert-block',
          text: 'INSERT INTO mpi_block (key, patient_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING',
          values: [blocks.map((b) => b[0]), blocks.map((b) => b[1])],
        });
    };
    if (!this.canCopy(client)) {
      await insert();
      return;
    }
    const text = (rows: (string | number | null)[][]) =>
      rows.map((r) => r.map((v) => (v === null ? '\\N' : copyText(String(v)))).join('\t')).join('\n') + '\n';
    await client.query('SAVEPOINT mpi_copy');
    try {
      if (records.length)
        await this.db.copyFrom(client, 'mpi_record', ['patient_id', 'person_id', 'assurance', 'score', 'data'], text(records));
      if (blocks.length) await this.db.copyFrom(client, 'mpi_block', ['key', 'patient_id'], text(blocks));
      await client.query('RELEASE SAVEPOINT mpi_copy');
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      await client.query('ROLLBACK TO SAVEPOINT mpi_copy');
      await insert();
    }
  }

  /** COPY needs a checked-out connection (a transaction's client), not the pool. */
  private canCopy(client: Queryable): client is PoolClient {
    return 'release' in client;
  }

  /**
   * Removes the blocking rows of these records by their keys (mpi_block has no index by patient).
   * The infant key depends on today's date, so it is always included: a key that was never
   * written deletes nothing.
   */
  private async deleteBlocks(client: Queryable, records: IdentityRecord[]): Promise<void> {
    const keys: string[] = [];
    const ids: string[] = [];
    for (const r of records) {
      for (const k of new Set([...blockingKeys(r), ...(r.birthDate ? [`bi:${r.birthDate}`] : [])])) {
        keys.push(k);
        ids.push(r.patientId);
      }
    }
    if (keys.length)
      await client.query(
        'DELETE FROM mpi_block b USING unnest($1::text[], $2::text[]) AS x(key, patient_id) WHERE b.key = x.key AND b.patient_id = x.patient_id',
        [keys, ids],
      );
  }

  /**
   * Rewrites the Person resources of these persons from their records, and the household Groups
   * their Patients belong to now or belonged to before (a move leaves one household for another).
   * `created`: persons new in the caller's batch with their records, which need no lookups (a
   * registration burst is mostly new persons). A household whose members and their persons are
   * what they were keeps its stored Group as it is. `before`: writes to run first (a step's index
   * rows), in the same pipeline.
   *
   * A fixed number of statements, in three stages; while each stage's statements run, the
   * resources that do not depend on them are prepared (on PostgreSQL the database works on the
   * other core meanwhile; PGlite runs the statements when the preparing is done). Only one
   * stage's statements are in flight at a time.
   */
  async refreshPersons(
    client: Queryable,
    personIds: string[],
    removedPatients: string[] = [],
    created = new Map<string, PersonRecord[]>(),
    before?: () => Promise<void>,
  ): Promise<void> {
    if (!personIds.length) {
      await before?.();
      return;
    }
    const stored = personIds.filter((id) => !created.has(id));
    // Stage 1: the writes that come first, the stored persons' records and their Persons' versions.
    const stage1 = inFlight(async () => {
      await before?.();
      if (!stored.length) return { rows: [] as PersonRecord[], versions: new Map<string, StoredVersion>() };
      const r = await client.query<PersonRecord>(
        'SELECT person_id, patient_id, assurance, data FROM mpi_record WHERE person_id = ANY($1::text[]) ORDER BY patient_id',
        [stored],
      );
      return { rows: r.rows, versions: await lockVersions(client, new Map([['Person', stored]])) };
    });
    // Meanwhile: the Persons this batch created (first versions: nothing to look up).
    const persons = new VersionWrites(this.db, client);
    const createdRecords: PersonRecord[] = [];
    for (const [id, list] of created) {
      list.sort((a, b) => (a.patient_id < b.patient_id ? -1 : a.patient_id > b.patient_id ? 1 : 0));
      createdRecords.push(...list);
      persons.add(personResource(id, list), undefined);
    }
    const { rows: storedRows, versions } = await stage1;
    const byPerson = new Map<string, PersonRecord[]>();
    for (const r of storedRows) {
      const list = byPerson.get(r.person_id);
      if (list) list.push(r);
      else byPerson.set(r.person_id, [r]);
    }
    const members = [...storedRows, ...createdRecords].map((r) => ({
      patientId: r.patient_id,
      personId: r.person_id,
      key: householdKey(r.data),
    }));
    const newPatients = new Set(createdRecords.map((r) => r.patient_id));
    // Stage 2: household rows, then the versions of the Groups concerned.
    const stage2 = inFlight(async () => {
      const households = await this.updateHouseholds(client, members, removedPatients, newPatients);
      const groupIds = new Map([...households.keys()].map((key) => [key, householdGroupId(key)]));
      return { households, groupIds, groupVersions: await lockVersions(client, new Map([['Group', [...groupIds.values()]]])) };
    });
    // Meanwhile: the stored persons' Persons.
    const emptied: string[] = [];
    for (const id of stored) {
      const list = byPerson.get(id);
      if (list?.length) persons.add(personResource(id, list), versions.get(`Person/${id}`));
      else emptied.push(id);
    }
    const { households, groupIds, groupVersions } = await stage2;
    const now = new Date().toISOString();
    // Stage 3: the Persons.
    const stage3 = inFlight(async () => {
      await persons.write();
      await deleteCurrent(client, 'Person', emptied, now);
    });
    // Meanwhile: the Groups of the households that changed.
    const groups = new VersionWrites(this.db, client);
    const emptiedGroups: string[] = [];
    for (const [key, h] of households) {
      const id = groupIds.get(key)!;
      const stored = groupVersions.get(`Group/${id}`);
      if (!h.after.length) emptiedGroups.push(id);
      else if (!stored?.current || !sameMembers(h.before, h.after)) groups.add(householdGroup(key, h.after), stored);
    }
    await stage3;
    await groups.write();
    await deleteCurrent(client, 'Group', emptiedGroups, now);
  }

  /**
   * Brings mpi_household up to date for these Patients (their rows are replaced; removed Patients'
   * rows go) in one statement, and returns every household concerned with its members before and
   * after. The statement's select sees the table as it was before its own delete and insert.
   */
  private async updateHouseholds(
    client: Queryable,
    members: { patientId: string; personId: string; key: string | undefined }[],
    removedPatients: string[],
    newPatients: ReadonlySet<string>,
  ): Promise<Map<string, { before: HouseholdMember[]; after: HouseholdMember[] }>> {
    const out = new Map<string, { before: HouseholdMember[]; after: HouseholdMember[] }>();
    if (!members.length && !removedPatients.length) return out;
    // Patients new to the index have no household rows to replace.
    const replaced = new Set([...members.map((m) => m.patientId).filter((id) => !newPatients.has(id)), ...removedPatients]);
    const now = members.filter((m): m is { patientId: string; personId: string; key: string } => !!m.key);
    const r = await client.query<{ address_key: string; patient_id: string; person_id: string }>(
      `WITH gone AS (DELETE FROM mpi_household WHERE patient_id = ANY($1::text[]) RETURNING address_key),
            added AS (INSERT INTO mpi_household (address_key, patient_id, person_id) SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
       SELECT address_key, patient_id, person_id FROM mpi_household WHERE address_key = ANY(array(SELECT address_key FROM gone) || $2::text[])`,
      [[...replaced], now.map((m) => m.key), now.map((m) => m.patientId), now.map((m) => m.personId)],
    );
    const household = (key: string) => {
      let h = out.get(key);
      if (!h) out.set(key, (h = { before: [], after: [] }));
      return h;
    };
    for (const row of r.rows) {
      const h = household(row.address_key);
      const member = { patientId: row.patient_id, personId: row.person_id };
      h.before.push(member);
      if (!replaced.has(row.patient_id)) h.after.push(member);
    }
    for (const m of now) household(m.key).after.push({ patientId: m.patientId, personId: m.personId });
    return out;
  }

  // ---------------------------------------------------------------- manual decisions

  private async move(client: Queryable, patient: string, to: string, assurance: Assurance): Promise<Move> {
    const r = await client.query<{ person_id: string; assurance: string }>(
      'SELECT person_id, assurance FROM mpi_record WHERE patient_id = $1 FOR UPDATE',
      [patient],
    );
    const row = r.rows[0];
    if (!row) throw new Error(`Patient/${patient} is not in the person index`);
    await client.query('UPDATE mpi_record SET person_id = $2, assurance = $3, updated_at = now() WHERE patient_id = $1', [
      patient,
      to,
      assurance,
    ]);
    return { patient, from: row.person_id, to, fromAssurance: row.assurance };
  }

  private async recordEvent(client: Queryable, action: string, username: string, moves: Move[], reason?: string): Promise<number> {
    const r = await client.query<{ id: number }>(
      'INSERT INTO mpi_event (action, username, moves, reason) VALUES ($1, $2, $3, $4) RETURNING id',
      [action, username, JSON.stringify(moves), reason ?? null],
    );
    await this.refreshPersons(client, [...new Set(moves.flatMap((m) => [m.from, m.to]))]);
    return r.rows[0]!.id;
  }

  /** Links a Patient to a Person (manual, level3). */
  async link(client: Queryable, patient: string, person: string, username: string, reason?: string): Promise<number> {
    const exists = await client.query('SELECT 1 FROM mpi_record WHERE person_id = $1 LIMIT 1', [person]);
    if (!exists.rows.length) throw new Error(`Person/${person} has no records`);
    const m = await this.move(client, patient, person, 'level3');
    await client.query(
      `UPDATE mpi_review SET status = 'linked', resolved_by = $3, resolved_at = now() WHERE patient_id = $1 AND candidate_person_id = $2 AND status = 'open'`,
      [patient, person, username],
    );
    return this.recordEvent(client, 'link', username, [m], reason);
  }

  /** Takes a Patient out of its Person into a new Person of its own. */
  async unlink(client: Queryable, patient: string, username: string, reason?: string): Promise<{ event: number; person: string }> {
    const person = newResourceId();
    const m = await this.move(client, patient, person, 'level3');
    return { event: await this.recordEvent(client, 'unlink', username, [m], reason), person };
  }

  /** Moves every Patient of `from` into `into`. */
  async merge(client: Queryable, from: string, into: string, username: string, reason?: string): Promise<number> {
    if (from === into) throw new Error('A person cannot be merged into itself');
    const pats = await client.query<{ patient_id: string }>('SELECT patient_id FROM mpi_record WHERE person_id = $1', [from]);
    if (!pats.rows.length) throw new Error(`Person/${from} has no records`);
    const moves: Move[] = [];
    for (const p of pats.rows) moves.push(await this.move(client, p.patient_id, into, 'level3'));
    return this.recordEvent(client, 'merge', username, moves, reason);
  }

  /** Reverses a manual event (each moved Patient goes back where it was). */
  async undo(client: Queryable, eventId: number, username: string): Promise<number> {
    const e = await client.query<{ moves: Move[]; undone_by: number | null; action: string }>(
      'SELECT moves, undone_by, action FROM mpi_event WHERE id = $1 FOR UPDATE',
      [eventId],
    );
    const row = e.rows[0];
    if (!row) throw new Error(`No identity event ${eventId}`);
    if (row.undone_by) throw new Error(`Event ${eventId} was already undone by event ${row.undone_by}`);
    const moves: Move[] = [];
    for (const m of [...row.moves].reverse()) moves.push(await this.move(client, m.patient, m.from, m.fromAssurance as Assurance));
    const id = await this.recordEvent(client, 'undo', username, moves, `undo of event ${eventId}`);
    await client.query('UPDATE mpi_event SET undone_by = $2 WHERE id = $1', [eventId, id]);
    return id;
  }

  async rejectReview(client: Queryable, reviewId: number, username: string): Promise<boolean> {
    const r = await client.query(
      `UPDATE mpi_review SET status = 'rejected', resolved_by = $2, resolved_at = now() WHERE id = $1 AND status = 'open'`,
      [reviewId, username],
    );
    return (r.rowCount ?? 0) > 0;
  }

  // ---------------------------------------------------------------- queries

  /** Scored candidates for a Patient (FHIR $match): best record per person. */
  async match(
    patient: Patient,
    count = 10,
  ): Promise<
    { personId: string; patientId: string; score: number; idMatch: boolean; grade: 'certain' | 'probable' | 'possible' | 'certainly-not' }[]
  > {
    const r = toIdentityRecord({ ...patient, id: patient.id ?? '$match-input' });
    const keys = blockingKeys(r);
    if (!keys.length) return [];
    const found = await this.db.query<{ patient_id: string; person_id: string; data: IdentityRecord }>(
      'SELECT r.patient_id, r.person_id, r.data FROM mpi_record r WHERE r.patient_id IN (SELECT patient_id FROM mpi_block WHERE key = ANY($1))',
      [keys],
    );
    const { thresholds } = loadLinkageConfig();
    const ranked = rankCandidates(
      r,
      found.rows.map((x) => ({ record: x.data, personId: x.person_id })),
      await this.currentWeights(),
    );
    return ranked.slice(0, count).map((c) => ({
      personId: c.personId,
      patientId: c.patientId,
      score: c.score,
      idMatch: c.idMatch,
      grade: c.idMatch ? 'certain' : c.score >= thresholds.upper ? 'probable' : c.score >= thresholds.lower ? 'possible' : 'certainly-not',
    }));
  }

  async personOfPatient(patientId: string): Promise<string | undefined> {
    const r = await this.db.query<{ person_id: string }>('SELECT person_id FROM mpi_record WHERE patient_id = $1', [patientId]);
    return r.rows[0]?.person_id;
  }

  async patientsOfPerson(personId: string): Promise<{ patientId: string; assurance: string; data: IdentityRecord }[]> {
    const r = await this.db.query<{ patient_id: string; assurance: string; data: IdentityRecord }>(
      'SELECT patient_id, assurance, data FROM mpi_record WHERE person_id = $1 ORDER BY patient_id',
      [personId],
    );
    return r.rows.map((x) => ({ patientId: x.patient_id, assurance: x.assurance, data: x.data }));
  }

  async householdOf(personId: string): Promise<string[]> {
    const r = await this.db.query<{ person_id: string }>(
      'SELECT DISTINCT h2.person_id FROM mpi_household h1 JOIN mpi_household h2 ON h2.address_key = h1.address_key WHERE h1.person_id = $1 ORDER BY 1',
      [personId],
    );
    return r.rows.map((x) => x.person_id);
  }

  /**
   * Writes the household Group of every address in mpi_household (after migration 121 on an
   * existing index, whose households had no Groups yet), in transactions of 500 households.
   */
  async rebuildHouseholdGroups(): Promise<{ households: number; members: number }> {
    const keys = (await this.db.query<{ address_key: string }>('SELECT DISTINCT address_key FROM mpi_household ORDER BY 1')).rows.map(
      (r) => r.address_key,
    );
    let members = 0;
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      members += await this.db.transaction(async (client) => {
        const rows = await client.query<{ address_key: string; patient_id: string; person_id: string }>(
          'SELECT address_key, patient_id, person_id FROM mpi_household WHERE address_key = ANY($1)',
          [chunk],
        );
        const byKey = new Map<string, HouseholdMember[]>();
        for (const r of rows.rows)
          byKey.set(r.address_key, [...(byKey.get(r.address_key) ?? []), { patientId: r.patient_id, personId: r.person_id }]);
        await storeResources(
          this.db,
          client,
          [...byKey].map(([key, list]) => householdGroup(key, list)),
        );
        return rows.rows.length;
      });
    }
    return { households: keys.length, members };
  }

  /** The household Groups (one per address) the Patients of this person belong to. */
  async householdGroupsOf(personId: string): Promise<{ group: string; addressKey: string }[]> {
    const r = await this.db.query<{ address_key: string }>(
      'SELECT DISTINCT address_key FROM mpi_household WHERE person_id = $1 ORDER BY 1',
      [personId],
    );
    return r.rows.map((x) => ({ group: `Group/${householdGroupId(x.address_key)}`, addressKey: x.address_key }));
  }

  /** Re-estimates m/u by EM on candidate pairs of (a sample of) the index and stores them. */
  async fitWeights(sample = 50_000): Promise<{ pairs: number; matchShare: number; parameters: Parameters }> {
    const r = await this.db.query<{ data: IdentityRecord }>('SELECT data FROM mpi_record ORDER BY patient_id LIMIT $1', [sample]);
    const records = r.rows.map((x) => x.data);
    const cfg = loadLinkageConfig();
    const comps = candidateComparisons(records);
    const fit = fitEm(comps, cfg.defaults, cfg.priorMatchShare, 100);
    await this.db.query('INSERT INTO mpi_weights (pairs, match_share, parameters) VALUES ($1, $2, $3)', [
      comps.length,
      fit.matchShare,
      JSON.stringify(fit.parameters),
    ]);
    this.weights = undefined;
    return { pairs: comps.length, matchShare: fit.matchShare, parameters: fit.parameters };
  }
}

export type { Resource };
