/**
 * Follows the FHIR change log for doses and AEFI. An Immunization written (FHIR API, HL7 VXU,
 * hospital feeds, bulk import) becomes a vs_dose row matched to a clinic (by the aliases of its
 * location or performing organisation) and a lot (by lot number, the vaccine code breaking ties);
 * a completed dose at a known clinic of a known lot takes one dose from that clinic's stock (the
 * fridge holding most of it). A dose is never refused: an unstocked lot, an unknown clinic, an
 * expired or quarantined lot or a missing lot number is stored as a flag. A changed or withdrawn
 * Immunization gives its dose back first, so the handler is idempotent. An AdverseEvent whose
 * suspectEntity names an Immunization, a Medication with a batch, or a lot identifier becomes an
 * AEFI of that lot.
 */
import type { AdverseEvent, Immunization, Medication } from '@medplum/fhirtypes';
import type pg from 'pg';
import type { FhirRepository } from '../fhir/repository.js';
import type { ChangeRecord, Processor } from '../platform/processors.js';
import { aefiFacts, doseFacts } from './fhir.js';
import {
  addMovement,
  clinicByAliases,
  deleteAefi,
  deleteDose,
  getDose,
  lotKeyOf,
  lotsByKey,
  removeDoseMovement,
  stockOf,
  upsertAefi,
  upsertDose,
  type DoseRow,
} from './store.js';

export const PROCESSOR_NAME = 'vaccine-supply-doses';

export async function applyImmunization(client: pg.PoolClient, id: string, imm: Immunization | null, now: Date): Promise<DoseRow | null> {
  await removeDoseMovement(client, id);
  if (!imm) {
    await deleteDose(client, id);
    return null;
  }
  const f = doseFacts(imm);
  const lotKey = f.lotNumber ? lotKeyOf(f.lotNumber) : null;
  const clinic = (await clinicByAliases(client, f.places)) ?? null;
  const lots = lotKey ? await lotsByKey(client, lotKey) : [];
  const lot = lots.find((l) => l.vaccineCode === f.vaccineCode) ?? lots[0];
  const flags: string[] = [];
  if (!lotKey) flags.push('no-lot');
  if (!clinic) flags.push('unknown-clinic');
  const completed = f.status === 'completed';
  if (completed && clinic && lotKey) {
    const stock = lot ? await stockOf(client, clinic, lot.id) : [];
    const total = stock.reduce((a, s) => a + s.quantity, 0);
    if (total <= 0) flags.push('unstocked-lot');
    if (lot) {
      const fridge = stock.find((s) => s.quantity > 0)?.fridgeId || null;
      await addMovement(
        client,
        {
          kind: 'dose',
          clinicCode: clinic,
          lotId: lot.id,
          fridgeId: fridge,
          quantity: -1,
          at: f.givenAt ?? now,
          immunizationId: id,
          recordedBy: 'fhir',
        },
        now,
      );
    }
  }
  const expiry = lot?.expiry ?? f.expirationDate;
  if (completed && expiry && f.givenAt && f.givenAt.toISOString().slice(0, 10) > expiry) flags.push('expired-lot');
  if (completed && lot?.status === 'quarantined') flags.push('quarantined-lot');
  const row: DoseRow = {
    immunizationId: id,
    patientId: f.patientId,
    status: f.status,
    vaccineCode: f.vaccineCode,
    vaccineName: f.vaccineName,
    lotNumber: f.lotNumber,
    lotKey,
    lotId: lot?.id ?? null,
    clinicCode: clinic,
    place: f.places[0] ?? null,
    manufacturer: f.manufacturer ?? lot?.manufacturer ?? null,
    expirationDate: f.expirationDate,
    givenAt: f.givenAt,
    flags,
  };
  await upsertDose(client, row, now);
  return row;
}

async function applyAdverseEvent(client: pg.PoolClient, repo: FhirRepository, id: string, ae: AdverseEvent | null, now: Date) {
  if (!ae) return deleteAefi(client, id);
  const f = aefiFacts(ae);
  let lotKey: string | null = f.lotNumbers[0] ? lotKeyOf(f.lotNumbers[0]) : null;
  let lotId: number | null = null;
  const immunizationId = f.immunizationIds[0] ?? null;
  if (immunizationId) {
    const dose = await getDose(client, immunizationId);
    if (dose) {
      lotKey ??= dose.lotKey;
      if (dose.lotKey === lotKey) lotId = dose.lotId;
    } else if (!lotKey) {
      const imm = (await repo.read('Immunization', immunizationId, client).catch(() => undefined)) as Immunization | undefined;
      if (imm?.lotNumber) lotKey = lotKeyOf(imm.lotNumber);
    }
  }
  if (!lotKey && f.medicationIds[0]) {
    const med = (await repo.read('Medication', f.medicationIds[0], client).catch(() => undefined)) as Medication | undefined;
    if (med?.batch?.lotNumber) lotKey = lotKeyOf(med.batch.lotNumber);
  }
  if (lotKey && lotId === null) lotId = (await lotsByKey(client, lotKey))[0]?.id ?? null;
  await upsertAefi(
    client,
    {
      adverseEventId: id,
      patientId: f.patientId,
      immunizationId,
      occurredAt: f.occurredAt,
      seriousness: f.seriousness,
      description: f.description,
      lotKey,
      lotId,
    },
    now,
  );
}

export function dosesProcessor(repo: FhirRepository): Processor {
  return {
    name: PROCESSOR_NAME,
    types: ['Immunization', 'AdverseEvent'],
    async handle(changes: ChangeRecord[], client: pg.PoolClient): Promise<void> {
      const latest = new Map<string, ChangeRecord>();
      for (const c of changes) {
        const key = `${c.type}/${c.id}`;
        latest.delete(key);
        latest.set(key, c);
      }
      const now = new Date();
      // Immunizations first: an AEFI in the same batch finds its dose.
      const ordered = [...latest.values()].sort((a, b) => Number(a.type === 'AdverseEvent') - Number(b.type === 'AdverseEvent'));
      for (const c of ordered) {
        const resource = c.deleted ? null : c.resource;
        if (c.type === 'Immunization') await applyImmunization(client, c.id, resource as Immunization | null, now);
        else await applyAdverseEvent(client, repo, c.id, resource as AdverseEvent | null, now);
      }
    },
  };
}
