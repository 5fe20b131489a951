/**
 * The master patient index on the database: links each incoming Patient to a Person (a FHIR
 * Person resource whose link.target lists its Patients), keeps the blocking index and the review
 * queue, and performs audited, reversible manual link / unlink / merge.
 *
 * Linking works in batches (the change-log processor hands over up to 500 Patients): one query
 * fetches the candidates of every record in the batch through mpi_block, records of the same
 * batch see each other through an in-memory index, and the results are written in bulk.
 */
import { randomUUID } from 'node:crypto';
import type { Patient, Person, Resource } from '@medplum/fhirtypes';
import type { FhirRepository, Queryable } from '../fhir/repository.js';
import type { Database } from '../platform/db.js';
import { candidateComparisons } from './evaluate.js';
import { decide, fitEm, loadLinkageConfig, MemoryIndex, rankCandidates, weightsOf, type Assurance, type Candidate, type Decision, type Parameters, type Weights } from './linkage.js';
import { blockingKeys, toIdentityRecord, type IdentityRecord } from './record.js';

export interface LinkOutcome {
  patientId: string;
  personId: string;
  decision: Decision['kind'] | 'unchanged' | 'updated';
  score?: number;
}

export interface MpiOptions {
  /** Write Person resources (off in the throughput benchmark, which measures the index). */
  writePersons?: boolean;
}

export interface Move {
  patient: string;
  from: string;
  to: string;
  fromAssurance: string;
}

/** Household key: area code + house address (people at one address form a household). */
export function householdKey(r: IdentityRecord): string | undefined {
  return r.address && /\d/.test(r.address) ? `${r.areaCode ?? ''}|${r.address}` : undefined;
}

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
  async linkPatients(client: Queryable, patients: Patient[]): Promise<LinkOutcome[]> {
    const weights = await this.currentWeights(client);
    const { thresholds } = loadLinkageConfig();
    const records = patients.filter((p) => p.id).map((p) => (p.link?.some((l) => l.type === 'replaced-by') ? { ...toIdentityRecord(p), replacedBy: p.link.find((l) => l.type === 'replaced-by')!.other.reference!.replace(/^Patient\//, '') } : toIdentityRecord(p)));
    if (!records.length) return [];
    const existing = new Map(
      (await client.query<{ patient_id: string; person_id: string; data: IdentityRecord }>('SELECT patient_id, person_id, data FROM mpi_record WHERE patient_id = ANY($1)', [records.map((r) => r.patientId)])).rows.map((r) => [r.patient_id, r]),
    );
    const keysOf = new Map(records.map((r) => [r.patientId, blockingKeys(r)]));
    const allKeys = [...new Set([...keysOf.values()].flat())];
    const index = new MemoryIndex();
    if (allKeys.length) {
      // Keys first, then each distinct candidate record once (a candidate usually shares several keys).
      const hits = await client.query<{ key: string; patient_id: string }>('SELECT key, patient_id FROM mpi_block WHERE key = ANY($1)', [allKeys]);
      const ids = [...new Set(hits.rows.map((h) => h.patient_id))];
      const cands = new Map<string, Candidate>();
      if (ids.length) {
        const found = await client.query<{ patient_id: string; person_id: string; data: string }>('SELECT patient_id, person_id, data::text AS data FROM mpi_record WHERE patient_id = ANY($1)', [ids]);
        for (const row of found.rows) cands.set(row.patient_id, { record: JSON.parse(row.data) as IdentityRecord, personId: row.person_id });
      }
      for (const h of hits.rows) {
        const c = cands.get(h.patient_id);
        if (c) index.add(c, [h.key]);
      }
    }
    const outcomes: LinkOutcome[] = [];
    const newRecords: { r: IdentityRecord; personId: string; assurance: Assurance; score: number | null }[] = [];
    const reviews: { patient: string; person: string; candidatePatient: string; score: number; comparison: unknown }[] = [];
    const changed: IdentityRecord[] = [];
    const touchedPersons = new Set<string>();
    for (const r of records) {
      const keys = keysOf.get(r.patientId)!;
      const prior = existing.get(r.patientId);
      const replacedBy = (r as IdentityRecord & { replacedBy?: string }).replacedBy;
      if (prior) {
        const { replacedBy: _drop, ...plain } = r as IdentityRecord & { replacedBy?: string };
        if (JSON.stringify(prior.data) === JSON.stringify(plain) && !replacedBy) {
          outcomes.push({ patientId: r.patientId, personId: prior.person_id, decision: 'unchanged' });
          continue;
        }
        changed.push(plain);
        touchedPersons.add(prior.person_id);
        outcomes.push({ patientId: r.patientId, personId: prior.person_id, decision: 'updated' });
        if (replacedBy) await this.followMerge(client, r.patientId, replacedBy, touchedPersons);
        continue;
      }
      let personId: string;
      let assurance: Assurance;
      let score: number | null = null;
      const survivor = replacedBy ? (await client.query<{ person_id: string }>('SELECT person_id FROM mpi_record WHERE patient_id = $1', [replacedBy])).rows[0]?.person_id : undefined;
      if (survivor) {
        personId = survivor;
        assurance = 'level4';
        outcomes.push({ patientId: r.patientId, personId, decision: 'id' });
      } else {
        const d = decide(r, index.lookup(keys), weights, thresholds);
        score = d.score ?? null;
        if (d.kind === 'id' || d.kind === 'auto') personId = d.personId!;
        else personId = randomUUID();
        assurance = d.assurance;
        if (d.kind === 'review') reviews.push({ patient: r.patientId, person: d.personId!, candidatePatient: d.ranked[0]!.patientId, score: d.score!, comparison: d.ranked[0]!.comparison });
        outcomes.push({ patientId: r.patientId, personId, decision: d.kind, ...(d.score !== undefined ? { score: d.score } : {}) });
      }
      const { replacedBy: _x, ...plain } = r as IdentityRecord & { replacedBy?: string };
      newRecords.push({ r: plain, personId, assurance, score });
      index.add({ record: plain, personId }, keys);
      touchedPersons.add(personId);
    }
    if (newRecords.length) {
      await client.query(
        `INSERT INTO mpi_record (patient_id, person_id, assurance, score, data)
         SELECT x.patient_id, x.person_id, x.assurance, x.score, x.data FROM jsonb_to_recordset($1::jsonb) AS x(patient_id text, person_id text, assurance text, score float8, data jsonb)
         ON CONFLICT (patient_id) DO NOTHING`,
        [JSON.stringify(newRecords.map((n) => ({ patient_id: n.r.patientId, person_id: n.personId, assurance: n.assurance, score: n.score, data: n.r })))],
      );
    }
    for (const r of changed) {
      await client.query('UPDATE mpi_record SET data = $2, updated_at = now() WHERE patient_id = $1', [r.patientId, JSON.stringify(r)]);
      await client.query('DELETE FROM mpi_block WHERE patient_id = $1', [r.patientId]);
    }
    const blockRows = [...newRecords.map((n) => n.r), ...changed].flatMap((r) => keysOf.get(r.patientId)!.map((key) => ({ key, patient_id: r.patientId })));
    if (blockRows.length) {
      await client.query(
        `INSERT INTO mpi_block (key, patient_id) SELECT x.key, x.patient_id FROM jsonb_to_recordset($1::jsonb) AS x(key text, patient_id text) ON CONFLICT DO NOTHING`,
        [JSON.stringify(blockRows)],
      );
    }
    if (reviews.length) {
      await client.query(
        `INSERT INTO mpi_review (patient_id, candidate_person_id, candidate_patient_id, score, comparison)
         SELECT x.patient, x.person, x."candidatePatient", x.score, x.comparison FROM jsonb_to_recordset($1::jsonb) AS x(patient text, person text, "candidatePatient" text, score float8, comparison jsonb)
         ON CONFLICT (patient_id, candidate_person_id) DO NOTHING`,
        [JSON.stringify(reviews)],
      );
    }
    if (this.options.writePersons !== false) await this.refreshPersons(client, [...touchedPersons]);
    return outcomes;
  }

  /** A40 seen on a Patient already indexed: move it to its survivor's person. */
  private async followMerge(client: Queryable, patientId: string, survivorPatient: string, touched: Set<string>): Promise<void> {
    const s = await client.query<{ person_id: string }>('SELECT person_id FROM mpi_record WHERE patient_id = $1', [survivorPatient]);
    const to = s.rows[0]?.person_id;
    if (!to) return;
    const from = await client.query<{ person_id: string }>(`UPDATE mpi_record SET person_id = $2, assurance = 'level4' WHERE patient_id = $1 RETURNING person_id`, [patientId, to]);
    touched.add(to);
    if (from.rows[0]) touched.add(from.rows[0].person_id);
  }

  async removePatient(client: Queryable, patientId: string): Promise<void> {
    const r = await client.query<{ person_id: string }>('DELETE FROM mpi_record WHERE patient_id = $1 RETURNING person_id', [patientId]);
    await client.query('DELETE FROM mpi_block WHERE patient_id = $1', [patientId]);
    await client.query(`UPDATE mpi_review SET status = 'rejected', resolved_by = 'system', resolved_at = now() WHERE patient_id = $1 AND status = 'open'`, [patientId]);
    if (r.rows[0]) await this.refreshPersons(client, [r.rows[0].person_id]);
  }

  /** Rewrites the Person resources (and households) of these persons from their records. */
  async refreshPersons(client: Queryable, personIds: string[]): Promise<void> {
    if (!personIds.length) return;
    const rows = await client.query<{ person_id: string; patient_id: string; assurance: string; data: IdentityRecord }>(
      'SELECT person_id, patient_id, assurance, data FROM mpi_record WHERE person_id = ANY($1) ORDER BY patient_id',
      [personIds],
    );
    const byPerson = new Map<string, typeof rows.rows>();
    for (const r of rows.rows) {
      const list = byPerson.get(r.person_id) ?? [];
      list.push(r);
      byPerson.set(r.person_id, list);
    }
    await client.query('DELETE FROM mpi_household WHERE person_id = ANY($1)', [personIds]);
    for (const id of personIds) {
      const list = byPerson.get(id);
      if (!list?.length) {
        await this.repo.delete('Person', id, client).catch(() => false);
        continue;
      }
      // The record with a valid ID number and a hanzi name speaks for the person.
      const best = [...list].sort((a, b) => Number(!!b.data.idNumber) - Number(!!a.data.idNumber) || Number(/[\u4e00-\u9fff]/.test(b.data.name)) - Number(/[\u4e00-\u9fff]/.test(a.data.name)))[0]!.data;
      const person: Person = {
        resourceType: 'Person',
        id,
        active: true,
        ...(best.name ? { name: [{ text: best.name }] } : {}),
        ...(best.sex ? { gender: best.sex as Person['gender'] } : {}),
        ...(best.birthDate ? { birthDate: best.birthDate } : {}),
        ...(best.phone ? { telecom: [{ system: 'phone', value: best.phone }] } : {}),
        link: list.map((r) => ({ target: { reference: `Patient/${r.patient_id}` }, assurance: r.assurance as Assurance })),
      };
      await this.repo.update('Person', id, person, {}, client);
      const households = [...new Set(list.map((r) => householdKey(r.data)).filter((k): k is string => !!k))];
      for (const key of households) await client.query('INSERT INTO mpi_household (address_key, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [key, id]);
    }
  }

  // ---------------------------------------------------------------- manual decisions

  private async move(client: Queryable, patient: string, to: string, assurance: Assurance): Promise<Move> {
    const r = await client.query<{ person_id: string; assurance: string }>('SELECT person_id, assurance FROM mpi_record WHERE patient_id = $1 FOR UPDATE', [patient]);
    const row = r.rows[0];
    if (!row) throw new Error(`Patient/${patient} is not in the person index`);
    await client.query('UPDATE mpi_record SET person_id = $2, assurance = $3, updated_at = now() WHERE patient_id = $1', [patient, to, assurance]);
    return { patient, from: row.person_id, to, fromAssurance: row.assurance };
  }

  private async recordEvent(client: Queryable, action: string, username: string, moves: Move[], reason?: string): Promise<number> {
    const r = await client.query<{ id: number }>('INSERT INTO mpi_event (action, username, moves, reason) VALUES ($1, $2, $3, $4) RETURNING id', [action, username, JSON.stringify(moves), reason ?? null]);
    await this.refreshPersons(client, [...new Set(moves.flatMap((m) => [m.from, m.to]))]);
    return r.rows[0]!.id;
  }

  /** Links a Patient to a Person (manual, level3). */
  async link(client: Queryable, patient: string, person: string, username: string, reason?: string): Promise<number> {
    const exists = await client.query('SELECT 1 FROM mpi_record WHERE person_id = $1 LIMIT 1', [person]);
    if (!exists.rows.length) throw new Error(`Person/${person} has no records`);
    const m = await this.move(client, patient, person, 'level3');
    await client.query(`UPDATE mpi_review SET status = 'linked', resolved_by = $3, resolved_at = now() WHERE patient_id = $1 AND candidate_person_id = $2 AND status = 'open'`, [patient, person, username]);
    return this.recordEvent(client, 'link', username, [m], reason);
  }

  /** Takes a Patient out of its Person into a new Person of its own. */
  async unlink(client: Queryable, patient: string, username: string, reason?: string): Promise<{ event: number; person: string }> {
    const person = randomUUID();
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
    const e = await client.query<{ moves: Move[]; undone_by: number | null; action: string }>('SELECT moves, undone_by, action FROM mpi_event WHERE id = $1 FOR UPDATE', [eventId]);
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
    const r = await client.query(`UPDATE mpi_review SET status = 'rejected', resolved_by = $2, resolved_at = now() WHERE id = $1 AND status = 'open'`, [reviewId, username]);
    return (r.rowCount ?? 0) > 0;
  }

  // ---------------------------------------------------------------- queries

  /** Scored candidates for a Patient (FHIR $match): best record per person. */
  async match(patient: Patient, count = 10): Promise<{ personId: string; patientId: string; score: number; idMatch: boolean; grade: 'certain' | 'probable' | 'possible' | 'certainly-not' }[]> {
    const r = toIdentityRecord({ ...patient, id: patient.id ?? '$match-input' });
    const keys = blockingKeys(r);
    if (!keys.length) return [];
    const found = await this.db.query<{ patient_id: string; person_id: string; data: IdentityRecord }>(
      'SELECT DISTINCT r.patient_id, r.person_id, r.data FROM mpi_block b JOIN mpi_record r ON r.patient_id = b.patient_id WHERE b.key = ANY($1)',
      [keys],
    );
    const { thresholds } = loadLinkageConfig();
    const ranked = rankCandidates(r, found.rows.map((x) => ({ record: x.data, personId: x.person_id })), await this.currentWeights());
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
    const r = await this.db.query<{ patient_id: string; assurance: string; data: IdentityRecord }>('SELECT patient_id, assurance, data FROM mpi_record WHERE person_id = $1 ORDER BY patient_id', [personId]);
    return r.rows.map((x) => ({ patientId: x.patient_id, assurance: x.assurance, data: x.data }));
  }

  async householdOf(personId: string): Promise<string[]> {
    const r = await this.db.query<{ person_id: string }>(
      'SELECT DISTINCT h2.person_id FROM mpi_household h1 JOIN mpi_household h2 ON h2.address_key = h1.address_key WHERE h1.person_id = $1 ORDER BY 1',
      [personId],
    );
    return r.rows.map((x) => x.person_id);
  }

  /** Re-estimates m/u by EM on candidate pairs of (a sample of) the index and stores them. */
  async fitWeights(sample = 50_000): Promise<{ pairs: number; matchShare: number; parameters: Parameters }> {
    const r = await this.db.query<{ data: IdentityRecord }>('SELECT data FROM mpi_record ORDER BY patient_id LIMIT $1', [sample]);
    const records = r.rows.map((x) => x.data);
    const cfg = loadLinkageConfig();
    const comps = candidateComparisons(records);
    const fit = fitEm(comps, cfg.defaults, cfg.priorMatchShare, 100);
    await this.db.query('INSERT INTO mpi_weights (pairs, match_share, parameters) VALUES ($1, $2, $3)', [comps.length, fit.matchShare, JSON.stringify(fit.parameters)]);
    this.weights = undefined;
    return { pairs: comps.length, matchShare: fit.matchShare, parameters: fit.parameters };
  }
}

export type { Resource };
