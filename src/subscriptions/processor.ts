/**
 * The change-log processor that decides what each Subscription is owed. A Subscription written
 * as 'requested' is made 'active' (or 'error', with the reason, when the server cannot serve it);
 * every created or updated resource of a type some active subscription follows is tested against
 * its criteria by the FHIR search itself (the criteria plus `_id=` the changed ids), so a match
 * means exactly what the same search over REST would return. Matches are queued in sub_delivery
 * in the step's own transaction; the deliverer (deliver.ts) sends them.
 */
import type { Subscription } from '@medplum/fhirtypes';
import type pg from 'pg';
import { FHIR_LIMITS } from '../fhir/limits.js';
import { search } from '../fhir/search.js';
import type { FhirRepository } from '../fhir/repository.js';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { inForce, parseChannel, parseCriteria, type Criteria } from './criteria.js';
import { queueDeliveries } from './store.js';

/** Emitted after a step queued deliveries (the deliverer listens on the main thread). */
export const DELIVERIES_QUEUED = 'subscriptions:queued';

/**
 * The resource types a Subscription may follow. The list is fixed (the processor's types are
 * decided when it is built); the content of none but Subscription is read at each step.
 */
export const SUBSCRIBABLE_TYPES = [
  'DiagnosticReport',
  'Observation',
  'ServiceRequest',
  'Specimen',
  'Task',
  'Immunization',
  'Condition',
  'Encounter',
  'Patient',
  'MedicationRequest',
  'CarePlan',
  'Communication',
  'Flag',
  'Consent',
  'Contract',
] as const;

const BASE_URL = 'urn:yifang:subscription';

/** Active subscriptions and what they follow (one small search per step). */
async function subscriptionsInForce(client: pg.PoolClient, now: Date): Promise<{ id: string; criteria: Criteria }[]> {
  const out: { id: string; criteria: Criteria }[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await search(
      client,
      'Subscription',
      {
        params: [
          ['status', 'active'],
          ['_count', '1000'],
          ['_offset', String(offset)],
        ],
      },
      BASE_URL,
    );
    const subs = (page.bundle.entry ?? []).map((e) => e.resource as Subscription);
    for (const s of subs) {
      if (!inForce(s, now) || !s.criteria) continue;
      try {
        out.push({ id: s.id!, criteria: parseCriteria(s.criteria) });
      } catch {
        // refused at write; one stored before the check existed is made 'error' when next written
      }
    }
    if (subs.length < 1000) return out;
  }
}

/** Requested subscriptions become active, or error with the reason (R4: the server decides). */
async function activate(repo: FhirRepository, client: pg.PoolClient, changes: ChangeRecord[]): Promise<void> {
  for (const c of changes) {
    const sub = c.resource as Subscription | null;
    if (c.deleted || !sub || sub.status !== 'requested') continue;
    let next: Subscription;
    try {
      parseCriteria(sub.criteria ?? '');
      parseChannel(sub);
      next = { ...sub, status: 'active' };
      delete next.error;
    } catch (err) {
      next = { ...sub, status: 'error', error: (err as Error).message };
    }
    delete next.meta;
    await repo.update('Subscription', sub.id!, next, {}, client);
  }
}

export function subscriptionProcessor(deps: { repo: FhirRepository; emit(event: string, payload: unknown): void }): Processor {
  return {
    name: 'subscriptions',
    types: ['Subscription', ...SUBSCRIBABLE_TYPES],
    contentTypes: ['Subscription'],
    async handle(changes, client) {
      await activate(
        deps.repo,
        client,
        changes.filter((c) => c.type === 'Subscription'),
      );
      // The newest version of each changed resource in the step, by type.
      const changed = new Map<string, Map<string, number>>();
      for (const c of changes) {
        if (c.type === 'Subscription') continue;
        let m = changed.get(c.type);
        if (!m) changed.set(c.type, (m = new Map()));
        if (c.deleted) m.delete(c.id);
        else m.set(c.id, Math.max(c.versionId, m.get(c.id) ?? 0));
      }
      if (!changed.size) return;
      const subs = await subscriptionsInForce(client, new Date());
      let queued = 0;
      for (const s of subs) {
        const versions = changed.get(s.criteria.type);
        if (!versions?.size) continue;
        const ids = [...versions.keys()];
        const matches: { type: string; id: string; versionId: number }[] = [];
        for (let i = 0; i < ids.length; i += FHIR_LIMITS.searchOrValues) {
          const chunk = ids.slice(i, i + FHIR_LIMITS.searchOrValues);
          const r = await search(
            client,
            s.criteria.type,
            { params: [...s.criteria.params, ['_id', chunk.join(',')], ['_count', String(chunk.length)]] },
            BASE_URL,
          );
          for (const e of r.bundle.entry ?? [])
            if (e.resource?.id) matches.push({ type: s.criteria.type, id: e.resource.id, versionId: versions.get(e.resource.id)! });
        }
        queued += await queueDeliveries(client, s.id, matches);
      }
      if (queued) deps.emit(DELIVERIES_QUEUED, queued);
    },
  };
}
