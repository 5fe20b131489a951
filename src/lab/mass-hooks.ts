/**
 * What a scan does to mass testing, inside the scan's transaction: a pool's result is refused
 * while the pool has no members; a pool's verified result decides its members (negative → every
 * member negative; positive or indeterminate → every member flagged for an individual re-test,
 * with a new order each, the resident created from the registration when unknown); a re-test's
 * verified result is written on the member it was ordered for.
 */
import { randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../platform/db.js';
import { unprocessable } from '../platform/errors.js';
import { RESIDENT_ID_SYSTEM } from '../shared/uris.js';
import type { LabDeps } from './deps.js';
import { orderServiceRequest } from './fhir.js';
import {
  countMembers,
  getCampaign,
  poolMembers,
  poolOf,
  setMemberRetest,
  setMembersNegative,
  setPersonPatient,
  setPoolOutcome,
  setRetestResult,
} from './mass-store.js';
import { insertOrder, type OrderRow, type SpecimenRow } from './store.js';

/** A result for a pool with no members is refused (422): nobody's result could follow from it. */
export async function onPoolResult(c: Queryable, s: SpecimenRow): Promise<void> {
  const pool = await poolOf(c, s.id);
  if (pool && (await countMembers(c, s.id)) === 0)
    throw unprocessable(`pool ${s.barcode} has no members: a pool result needs the people sampled into it (add members first)`);
}

function registeredPatient(m: { name: string; idNumber: string | null; phone: string | null }, id: string): Patient {
  return {
    resourceType: 'Patient',
    id,
    ...(m.idNumber ? { identifier: [{ system: RESIDENT_ID_SYSTEM, value: m.idNumber }] } : {}),
    name: [{ text: m.name }],
    ...(m.phone ? { telecom: [{ system: 'phone', value: m.phone, use: 'mobile' }] } : {}),
  };
}

/** A pool's verified result decides its members; answers what happened, in words (the scan's warnings). */
export async function onPoolVerified(deps: LabDeps, c: Queryable, s: SpecimenRow, user: string, now: Date): Promise<string[]> {
  const pool = await poolOf(c, s.id, true);
  if (!pool) return [];
  const members = await poolMembers(c, s.id);
  if (!members.length) throw unprocessable(`pool ${s.barcode} has no members: its result cannot be verified`);
  const at = s.verifiedAt ?? now;
  const outcome = s.resultInterpretation === 'negative' ? 'negative' : s.resultInterpretation === 'positive' ? 'positive' : 'indeterminate';
  await setPoolOutcome(c, s.id, outcome, at);
  if (outcome === 'negative') {
    const n = await setMembersNegative(c, s.id);
    return [`pool ${s.barcode} negative: ${n} member(s) negative`];
  }
  const campaign = (await getCampaign(c, pool.campaignId))!;
  let ordered = 0;
  for (const m of members) {
    if (m.state !== 'pooled') continue;
    let patientId = m.patientId;
    if (!patientId) {
      patientId = randomUUID();
      await deps.repo.update('Patient', patientId, registeredPatient(m, patientId), {}, c);
      await setPersonPatient(c, m.personId, patientId);
    }
    const order: OrderRow = {
      id: randomUUID(),
      testCode: campaign.testCode,
      testSystem: null,
      testName: null,
      mode: campaign.mode,
      patientId,
      orderingUnit: campaign.orderingUnit,
      investigationId: null,
      source: 'api',
      createdAt: now,
      createdBy: user,
    };
    await deps.repo.update(
      'ServiceRequest',
      order.id,
      orderServiceRequest(order, `混采${outcome === 'positive' ? '阳性' : '结果不确定'}单采复核 (pool ${s.barcode}, person ${m.code})`),
      {},
      c,
    );
    await insertOrder(c, order);
    await setMemberRetest(c, m.id, order.id);
    ordered++;
  }
  return [`pool ${s.barcode} ${outcome}: ${ordered} member(s) flagged for an individual re-test (an order each)`];
}

/** A re-test's verified result on the member it was ordered for (no-op for any other specimen). */
export async function onRetestVerified(c: Queryable, s: SpecimenRow): Promise<void> {
  await setRetestResult(c, s.orderId, s.resultInterpretation ?? s.resultValue ?? 'resulted', s.verifiedAt ?? new Date());
}
