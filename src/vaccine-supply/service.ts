/**
 * The module's operations: clinics, fridges and sensors; lots (typed or scanned from GS1),
 * receipts, transfers and discards with their stock; warnings; temperature readings with the
 * excursion detector and its alarms; the clock scan (silent sensors, escalation); the recall
 * list of an excursion and the trace of a lot. The clock is injected (`deps.now`, `now`).
 */
import type { Patient } from '@medplum/fhirtypes';
import type { FhirRepository } from '../fhir/repository.js';
import type { AuthUser } from '../platform/auth.js';
import type { Database, Queryable } from '../platform/db.js';
import { conflict, notFound, unprocessable } from '../platform/errors.js';
import { escalateBefore, excursionMessage, isOutside, silentBefore, step, type ColdChainRules, type SensorState } from './excursion.js';
import { nameOf } from './fhir.js';
import { parseGs1 } from './gs1.js';
import type {
  AlarmList,
  AlarmView,
  ClinicBody,
  ClinicList,
  ClinicView,
  DiscardBody,
  DoseList,
  DoseView,
  ExcursionDetail,
  ExcursionList,
  ExcursionView,
  FridgeBody,
  FridgeList,
  FridgeView,
  Gs1View,
  IngestAnswer,
  LotList,
  LotRefBody,
  LotTrace,
  LotView,
  MovementAnswer,
  MovementView,
  ReadingList,
  ReadingsBody,
  ReceiptBody,
  RecipientList,
  StockList,
  TransferBody,
  WarningList,
  WarningView,
} from './schemas.js';
import type { SupplySettings } from './settings.js';
import { daysToExpiry, lotWarnings, minimumWarning, nearExpiryThreshold } from './stock.js';
import * as store from './store.js';
import type { AlarmRow, DoseRow, ExcursionRow, LotRow, MovementRow } from './store.js';

export interface SupplyDeps {
  db: Database;
  repo: FhirRepository;
  settings: SupplySettings;
  /** The server's clock (tests move it). */
  now?: () => Date;
  /** Told of the alarms a batch of readings raised (the module logs them). */
  onAlarms?: (ids: number[]) => void;
}

export interface Page {
  limit: number;
  offset: number;
}

const nowOf = (deps: { now?: () => Date }) => (deps.now ? deps.now() : new Date());
const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
const FUTURE_SKEW_MS = 5 * 60_000;

// ---------------------------------------------------------------------------------------------
// Views

const clinicView = (c: store.ClinicRow): ClinicView => ({ ...c, createdAt: iso(c.createdAt)! });
export const lotView = (l: LotRow): LotView => ({
  id: l.id,
  vaccineCode: l.vaccineCode,
  vaccineName: l.vaccineName,
  lotNumber: l.lotNumber,
  manufacturer: l.manufacturer,
  expiry: l.expiry,
  gtin: l.gtin,
  status: l.status,
});
const movementView = (m: MovementRow): MovementView => ({
  id: m.id,
  kind: m.kind,
  clinicCode: m.clinicCode,
  lotId: m.lotId,
  fridgeId: m.fridgeId,
  quantity: m.quantity,
  at: iso(m.at)!,
  transferId: m.transferId,
  counterpart: m.counterpart,
  reason: m.reason,
  recordedBy: m.recordedBy,
});
const doseView = (d: DoseRow): DoseView => ({
  immunizationId: d.immunizationId,
  patientId: d.patientId,
  status: d.status,
  vaccineCode: d.vaccineCode,
  vaccineName: d.vaccineName,
  lotNumber: d.lotNumber,
  lotId: d.lotId,
  clinicCode: d.clinicCode,
  place: d.place,
  givenAt: iso(d.givenAt),
  flags: d.flags,
});
export const excursionView = (e: ExcursionRow): ExcursionView => ({
  id: e.id,
  sensorId: e.sensorId,
  fridgeId: e.fridgeId,
  clinicCode: e.clinicCode,
  kind: e.kind,
  startedAt: iso(e.startedAt)!,
  endedAt: iso(e.endedAt),
  minCelsius: e.minCelsius,
  maxCelsius: e.maxCelsius,
  outsideMinutes: Math.round(e.outsideSeconds / 6) / 10,
  detectedAt: iso(e.detectedAt)!,
});
export const alarmView = (a: AlarmRow): AlarmView => ({
  ...a,
  raisedAt: iso(a.raisedAt)!,
  escalatedAt: iso(a.escalatedAt),
  acknowledgedAt: iso(a.acknowledgedAt),
  resolvedAt: iso(a.resolvedAt),
});
const paged = <T>(items: T[], total: number, p: Page) => ({ items, total, limit: p.limit, offset: p.offset });

// ---------------------------------------------------------------------------------------------
// Clinics, fridges

export async function createClinic(deps: SupplyDeps, body: ClinicBody): Promise<ClinicView> {
  return deps.db.transaction(async (c) => {
    const taken = (await store.clinicAliasesTaken(c, [body.code, ...body.aliases])).filter((t) => t.clinicCode !== body.code);
    if (taken.length) throw conflict(`'${taken[0]!.alias}' already names clinic ${taken[0]!.clinicCode}`);
    const row = await store.insertClinic(c, { code: body.code, name: body.name, kind: body.kind, aliases: body.aliases }, nowOf(deps));
    if (!row) throw conflict(`clinic ${body.code} is already registered`);
    return clinicView(row);
  });
}

export async function clinics(deps: SupplyDeps, p: Page): Promise<ClinicList> {
  const { rows, total } = await store.listClinics(deps.db.pool, p.limit, p.offset);
  return paged(rows.map(clinicView), total, p);
}

async function fridgeViews(c: Queryable, rows: store.FridgeRow[]): Promise<FridgeView[]> {
  const sensors = await store.sensorsOfFridges(
    c,
    rows.map((r) => r.id),
  );
  return rows.map((f) => ({
    id: f.id,
    clinicCode: f.clinicCode,
    kind: f.kind,
    name: f.name,
    createdAt: iso(f.createdAt)!,
    sensors: sensors
      .filter((s) => s.fridgeId === f.id)
      .map((s) => ({ id: s.id, fridgeId: s.fridgeId, lastAt: iso(s.lastAt), lastCelsius: s.lastCelsius, inEpisode: !!s.state.episode })),
  }));
}

export async function createFridge(deps: SupplyDeps, body: FridgeBody): Promise<FridgeView> {
  return deps.db.transaction(async (c) => {
    if (!(await store.getClinic(c, body.clinicCode))) throw notFound(`clinic ${body.clinicCode} is not registered`);
    const ids = [...new Set(body.sensorIds)];
    const taken = await store.sensorsTaken(c, ids);
    if (taken.length) throw conflict(`sensor ${taken[0]} already reports for another fridge`);
    const ok = await store.insertFridge(
      c,
      { id: body.id, clinicCode: body.clinicCode, kind: body.kind, name: body.name },
      ids,
      nowOf(deps),
    );
    if (!ok) throw conflict(`fridge ${body.id} is already registered`);
    return (await fridgeViews(c, [(await store.getFridge(c, body.id))!]))[0]!;
  });
}

export async function fridges(deps: SupplyDeps, q: Page & { clinic?: string }): Promise<FridgeList> {
  const { rows, total } = await store.listFridges(deps.db.pool, q.clinic, q.limit, q.offset);
  return paged(await fridgeViews(deps.db.pool, rows), total, q);
}

// ---------------------------------------------------------------------------------------------
// GS1, lots

export function gs1(code: string): Gs1View {
  const r = parseGs1(code);
  if (!r.ok) throw unprocessable(`GS1 code not read: ${r.problem}`);
  return r.code;
}

interface LotDetails {
  vaccineName?: string;
  manufacturer?: string;
  expiry?: string;
}

/** The lot a request names (by id, by vaccine and lot number, or by its scanned GS1 code); a receipt may register it. */
async function lotFor(c: Queryable, b: LotRefBody & LotDetails, register: boolean, now: Date): Promise<LotRow> {
  if (b.lotId) {
    const lot = await store.getLot(c, b.lotId);
    if (!lot) throw notFound(`lot ${b.lotId} is not registered`);
    return lot;
  }
  let { vaccineCode, lotNumber, expiry } = b;
  let gtin: string | undefined;
  if (b.gs1) {
    const code = gs1(b.gs1);
    gtin = code.gtin;
    if (code.lot) {
      if (lotNumber && store.lotKeyOf(lotNumber) !== store.lotKeyOf(code.lot))
        throw unprocessable(`the lot typed (${lotNumber}) is not the lot in the GS1 code (${code.lot})`);
      lotNumber = code.lot;
    }
    if (code.expiry) {
      if (expiry && expiry !== code.expiry)
        throw unprocessable(`the expiry typed (${expiry}) is not the one in the GS1 code (${code.expiry})`);
      expiry = code.expiry;
    }
    vaccineCode ??= await store.vaccineOfGtin(c, code.gtin);
  }
  if (!vaccineCode) throw unprocessable('vaccineCode is required (a GS1 code names its product by a GTIN not yet seen)');
  if (!lotNumber) throw unprocessable('lotNumber is required (or a GS1 code with a lot, AI 10)');
  const key = store.lotKeyOf(lotNumber);
  const existing = await store.findLot(c, vaccineCode, key);
  if (existing) {
    if (expiry && expiry !== existing.expiry)
      throw conflict(`lot ${existing.lotNumber} of ${vaccineCode} is registered with expiry ${existing.expiry}, not ${expiry}`);
    if (register) await store.fillLot(c, existing.id, { vaccineName: b.vaccineName, manufacturer: b.manufacturer, gtin });
    return existing;
  }
  if (!register) throw notFound(`lot ${lotNumber} of ${vaccineCode} is not registered (receive it first)`);
  if (!expiry) throw unprocessable(`expiry is required for a new lot (${lotNumber})`);
  const lot = await store.insertLot(
    c,
    {
      vaccineCode,
      vaccineName: b.vaccineName ?? null,
      lotNumber: lotNumber.trim(),
      lotKey: key,
      manufacturer: b.manufacturer ?? null,
      expiry,
      gtin: gtin ?? null,
    },
    now,
  );
  await store.linkLotKey(c, lot, now);
  return lot;
}

function expiryWarnings(lot: LotRow, now: Date, thresholds: readonly number[]): string[] {
  const days = daysToExpiry(lot.expiry, now);
  const out: string[] = [];
  if (days < 0) out.push(`lot ${lot.lotNumber} expired on ${lot.expiry}`);
  else if (nearExpiryThreshold(days, thresholds) !== null) out.push(`lot ${lot.lotNumber} expires on ${lot.expiry}, in ${days} days`);
  if (lot.status === 'quarantined') out.push(`lot ${lot.lotNumber} is quarantined`);
  return out;
}

async function checkFridge(c: Queryable, fridgeId: string, clinic: string) {
  const f = await store.getFridge(c, fridgeId);
  if (!f) throw notFound(`fridge ${fridgeId} is not registered`);
  if (f.clinicCode !== clinic) throw unprocessable(`fridge ${fridgeId} is at ${f.clinicCode}, not at ${clinic}`);
}
async function checkClinic(c: Queryable, code: string) {
  if (!(await store.getClinic(c, code))) throw notFound(`clinic ${code} is not registered`);
}
function when(at: string | undefined, now: Date): Date {
  const d = at ? new Date(at) : now;
  if (d.getTime() > now.getTime() + FUTURE_SKEW_MS) throw unprocessable(`${at} is in the future`);
  return d;
}

export async function receive(deps: SupplyDeps, b: ReceiptBody, user: AuthUser): Promise<MovementAnswer> {
  const now = nowOf(deps);
  return deps.db.transaction(async (c) => {
    await checkClinic(c, b.clinicCode);
    await checkFridge(c, b.fridgeId, b.clinicCode);
    const lot = await lotFor(c, b, true, now);
    const m = await store.addMovement(
      c,
      {
        kind: 'receipt',
        clinicCode: b.clinicCode,
        lotId: lot.id,
        fridgeId: b.fridgeId,
        quantity: b.quantity,
        at: when(b.at, now),
        counterpart: b.supplier ?? null,
        recordedBy: user.username,
      },
      now,
    );
    return {
      lot: lotView((await store.getLot(c, lot.id))!),
      movements: [movementView(m)],
      warnings: expiryWarnings(lot, now, deps.settings.expiryWarningDays),
    };
  });
}

/** Takes `quantity` doses of a lot from a clinic's fridges (one fridge, or the fullest first); 409 when short. */
async function takeFrom(c: Queryable, clinic: string, lot: LotRow, quantity: number, fridgeId: string | undefined) {
  const stock = (await store.stockOf(c, clinic, lot.id)).filter((s) => s.quantity > 0 && (!fridgeId || s.fridgeId === fridgeId));
  const have = stock.reduce((a, s) => a + s.quantity, 0);
  if (have < quantity)
    throw conflict(
      `${clinic} has ${have} doses of lot ${lot.lotNumber}${fridgeId ? ` in fridge ${fridgeId}` : ''}, fewer than ${quantity}`,
    );
  const out: { fridgeId: string | null; quantity: number }[] = [];
  let left = quantity;
  for (const s of stock) {
    if (!left) break;
    const q = Math.min(left, s.quantity);
    out.push({ fridgeId: s.fridgeId || null, quantity: q });
    left -= q;
  }
  return out;
}

export async function transfer(deps: SupplyDeps, b: TransferBody, user: AuthUser): Promise<MovementAnswer> {
  const now = nowOf(deps);
  if (b.fromClinic === b.toClinic)
    throw unprocessable('a transfer goes to another clinic (to move between fridges, use two clinics’ stock or discard)');
  return deps.db.transaction(async (c) => {
    await checkClinic(c, b.fromClinic);
    await checkClinic(c, b.toClinic);
    await checkFridge(c, b.toFridgeId, b.toClinic);
    const lot = await lotFor(c, b, false, now);
    const at = when(b.at, now);
    const takes = await takeFrom(c, b.fromClinic, lot, b.quantity, b.fromFridgeId);
    const transferId = await store.nextTransferId(c);
    const movements: MovementRow[] = [];
    for (const t of takes)
      movements.push(
        await store.addMovement(
          c,
          {
            kind: 'transfer-out',
            clinicCode: b.fromClinic,
            lotId: lot.id,
            fridgeId: t.fridgeId,
            quantity: -t.quantity,
            at,
            transferId,
            counterpart: b.toClinic,
            recordedBy: user.username,
          },
          now,
        ),
      );
    movements.push(
      await store.addMovement(
        c,
        {
          kind: 'transfer-in',
          clinicCode: b.toClinic,
          lotId: lot.id,
          fridgeId: b.toFridgeId,
          quantity: b.quantity,
          at,
          transferId,
          counterpart: b.fromClinic,
          recordedBy: user.username,
        },
        now,
      ),
    );
    return {
      lot: lotView(lot),
      movements: movements.map(movementView),
      warnings: expiryWarnings(lot, now, deps.settings.expiryWarningDays),
    };
  });
}

export async function discard(deps: SupplyDeps, b: DiscardBody, user: AuthUser): Promise<MovementAnswer> {
  const now = nowOf(deps);
  return deps.db.transaction(async (c) => {
    await checkClinic(c, b.clinicCode);
    const lot = await lotFor(c, b, false, now);
    const at = when(b.at, now);
    const takes = await takeFrom(c, b.clinicCode, lot, b.quantity, b.fridgeId);
    const movements: MovementRow[] = [];
    for (const t of takes)
      movements.push(
        await store.addMovement(
          c,
          {
            kind: 'discard',
            clinicCode: b.clinicCode,
            lotId: lot.id,
            fridgeId: t.fridgeId,
            quantity: -t.quantity,
            at,
            reason: b.reason,
            recordedBy: user.username,
          },
          now,
        ),
      );
    return { lot: lotView(lot), movements: movements.map(movementView), warnings: [] };
  });
}

export async function setLotStatus(deps: SupplyDeps, id: number, status: 'active' | 'quarantined'): Promise<LotView> {
  if (!(await store.setLotStatus(deps.db.pool, id, status))) throw notFound(`lot ${id} is not registered`);
  return lotView((await store.getLot(deps.db.pool, id))!);
}

export async function lots(deps: SupplyDeps, q: Page & { vaccine?: string; lotNumber?: string }): Promise<LotList> {
  const { rows, total } = await store.listLots(deps.db.pool, q, q.limit, q.offset);
  return paged(rows.map(lotView), total, q);
}

// ---------------------------------------------------------------------------------------------
// Stock and warnings

export async function stock(
  deps: SupplyDeps,
  q: Page & { clinic?: string; vaccine?: string; lotId?: number; empty?: boolean },
): Promise<StockList> {
  const now = nowOf(deps);
  const { rows, total } = await store.listStock(deps.db.pool, q, q.limit, q.offset);
  const items = rows.map((r) => ({
    clinicCode: r.clinicCode,
    lot: lotView(r.lot),
    quantity: r.quantity,
    fridges: r.fridges,
    daysToExpiry: daysToExpiry(r.lot.expiry, now),
    warnings: lotWarnings(r, now, deps.settings.expiryWarningDays).map((w) => w.message),
  }));
  return paged(items, total, q);
}

const FLAG_WORDS: Record<string, string> = {
  'unstocked-lot': 'given from a lot the clinic has no stock of',
  'unknown-clinic': 'given at a place no clinic is registered for',
  'expired-lot': 'given after the lot expired',
  'quarantined-lot': 'given from a quarantined lot',
  'no-lot': 'recorded without a lot number',
};

export async function warnings(deps: SupplyDeps, q: Page & { clinic?: string; kind?: WarningView['kind'] }): Promise<WarningList> {
  const now = nowOf(deps);
  const { settings } = deps;
  const out: WarningView[] = [];
  const totals = await store.stockTotals(deps.db.pool, q.clinic);
  for (const t of totals) out.push(...lotWarnings(t, now, settings.expiryWarningDays));
  const usable = new Map<string, number>();
  for (const t of totals)
    if (t.quantity > 0 && daysToExpiry(t.lot.expiry, now) >= 0)
      usable.set(`${t.clinicCode}\t${t.lot.vaccineCode}`, (usable.get(`${t.clinicCode}\t${t.lot.vaccineCode}`) ?? 0) + t.quantity);
  for (const v of await store.vaccinesStocked(deps.db.pool, q.clinic)) {
    const min = settings.minimumStock.byVaccine[v.vaccineCode] ?? settings.minimumStock.default;
    const w = minimumWarning(v.clinicCode, v.vaccineCode, usable.get(`${v.clinicCode}\t${v.vaccineCode}`) ?? 0, min);
    if (w) out.push(w);
  }
  for (const d of await store.flaggedDoses(deps.db.pool, q.clinic, 1000))
    out.push({
      kind: 'dose-flagged',
      clinicCode: d.clinicCode ?? d.place ?? '?',
      vaccineCode: d.vaccineCode,
      lotId: d.lotId,
      lotNumber: d.lotNumber,
      days: null,
      quantity: null,
      immunizationId: d.immunizationId,
      message: `dose Immunization/${d.immunizationId} (lot ${d.lotNumber ?? '—'}, ${d.clinicCode ?? d.place ?? 'no place'}): ${d.flags
        .map((f) => FLAG_WORDS[f] ?? f)
        .join('; ')}`,
    });
  const all = q.kind ? out.filter((w) => w.kind === q.kind) : out;
  return paged(all.slice(q.offset, q.offset + q.limit), all.length, q);
}

export async function doses(deps: SupplyDeps, q: Page & { clinic?: string; lotId?: number; flagged?: boolean }): Promise<DoseList> {
  const { rows, total } = await store.listDoses(deps.db.pool, q, q.limit, q.offset);
  return paged(rows.map(doseView), total, q);
}

// ---------------------------------------------------------------------------------------------
// Readings and the excursion detector

export interface IncomingReading {
  sensorId: string;
  at: Date;
  celsius: number;
  raw?: string;
}

/**
 * Stores a batch of readings and feeds the new ones, per sensor in time order, to the excursion
 * detector, in one transaction: excursions opened, updated and closed, alarms raised, silent
 * alarms of sensors heard again resolved. Unknown sensors and readings in the future are kept
 * aside (vs_reading_unknown); duplicates are dropped; readings older than a sensor's newest are
 * stored but not fed to the detector.
 */
export async function ingestReadings(
  db: Database,
  rules: ColdChainRules,
  input: readonly IncomingReading[],
  now: Date = new Date(),
  malformed: readonly { sensorId: string; problem: string; raw: string }[] = [],
): Promise<IngestAnswer> {
  return db.transaction(async (c) => {
    const future = input.filter((r) => r.at.getTime() > now.getTime() + FUTURE_SKEW_MS);
    const timely = input.filter((r) => r.at.getTime() <= now.getTime() + FUTURE_SKEW_MS);
    const sensors = new Map((await store.lockSensors(c, [...new Set(timely.map((r) => r.sensorId))])).map((s) => [s.id, s]));
    const unknown = timely.filter((r) => !sensors.has(r.sensorId));
    await store.insertUnknownReadings(
      c,
      [
        ...[...unknown, ...future].map((r) => ({
          sensorId: r.sensorId,
          at: r.at,
          celsius: r.celsius,
          raw: future.includes(r) ? 'in the future' : (r.raw ?? null),
        })),
        ...malformed.map((m) => ({ sensorId: m.sensorId, at: null, celsius: null, raw: `${m.problem}: ${m.raw}` })),
      ],
      now,
    );
    // One reading per sensor and time within the batch (the first wins, as against the table).
    const seen = new Set<string>();
    const known = timely.filter((r) => {
      const k = `${r.sensorId}\t${r.at.getTime()}`;
      if (!sensors.has(r.sensorId) || seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const stored = await store.insertReadings(c, known, now);
    const bySensor = new Map<string, { at: number; celsius: number }[]>();
    for (const r of stored) {
      const list = bySensor.get(r.sensorId) ?? [];
      list.push({ at: new Date(r.at).getTime(), celsius: r.celsius });
      bySensor.set(r.sensorId, list);
    }
    let late = 0;
    const alarms: number[] = [];
    const saves: { id: string; lastAt: Date; lastCelsius: number; state: SensorState }[] = [];
    const heard: string[] = [];
    for (const [id, readings] of bySensor) {
      const sensor = sensors.get(id)!;
      let state = sensor.state ?? {};
      const updates = new Map<
        number,
        { kind: string; minCelsius: number; maxCelsius: number; outsideSeconds: number; endedAt: Date | null }
      >();
      for (const r of readings.sort((a, b) => a.at - b.at)) {
        if (state.last && r.at <= state.last.at) {
          late++;
          continue;
        }
        const out = step(state, r, rules);
        state = out.state;
        for (const e of out.events) {
          const ep = e.episode;
          const values = {
            kind: ep.kind ?? 'warm',
            minCelsius: ep.min,
            maxCelsius: ep.max,
            outsideSeconds: Math.round(ep.outsideMs / 1000),
            endedAt: e.type === 'close' ? new Date(e.endedAt) : null,
          };
          if (e.type === 'open') {
            const excursionId = await store.insertExcursion(c, {
              sensorId: id,
              fridgeId: sensor.fridgeId,
              clinicCode: sensor.clinicCode,
              kind: e.kind,
              startedAt: new Date(ep.startedAt),
              minCelsius: ep.min,
              maxCelsius: ep.max,
              outsideSeconds: values.outsideSeconds,
              detectedAt: now,
            });
            state.episode!.excursionId = excursionId;
            const alarm = await store.insertAlarm(c, {
              kind: e.kind === 'freezing' ? 'freezing' : 'excursion',
              sensorId: id,
              fridgeId: sensor.fridgeId,
              clinicCode: sensor.clinicCode,
              excursionId,
              message: excursionMessage(e.kind, sensor.fridgeName, ep, rules),
              raisedAt: now,
            });
            if (alarm) alarms.push(alarm);
          } else if (ep.excursionId !== null) {
            updates.set(ep.excursionId, values);
            if (e.type === 'freezing') {
              const alarm = await store.insertAlarm(c, {
                kind: 'freezing',
                sensorId: id,
                fridgeId: sensor.fridgeId,
                clinicCode: sensor.clinicCode,
                excursionId: ep.excursionId,
                message: excursionMessage('freezing', sensor.fridgeName, ep, rules),
                raisedAt: now,
              });
              if (alarm) alarms.push(alarm);
            }
          }
        }
      }
      for (const [excursionId, u] of updates) await store.updateExcursion(c, excursionId, u);
      if (state.last && state.last.at !== (sensor.lastAt ? new Date(sensor.lastAt).getTime() : undefined)) {
        saves.push({ id, lastAt: new Date(state.last.at), lastCelsius: state.last.celsius, state });
        heard.push(id);
      }
    }
    await store.saveSensors(c, saves);
    await store.resolveAlarms(c, { silentSensors: heard }, now);
    return {
      received: input.length,
      stored: stored.length,
      duplicates: known.length - stored.length + (timely.length - unknown.length - known.length),
      late,
      unknownSensors: [...new Set(unknown.map((r) => r.sensorId))],
      future: future.length,
      malformed: malformed.length,
      alarms,
    };
  });
}

/** The HTTP intake of readings (gateways without MQTT). */
export async function intake(deps: SupplyDeps, body: ReadingsBody): Promise<IngestAnswer> {
  const answer = await ingestReadings(
    deps.db,
    deps.settings.rules,
    body.readings.map((r) => ({ sensorId: r.sensorId, at: new Date(r.at), celsius: r.celsius })),
    nowOf(deps),
  );
  if (answer.alarms.length) deps.onAlarms?.(answer.alarms);
  return answer;
}

/** The clock's part: silent sensors get an alarm; alarms not acknowledged in time go to the CDC. */
export async function scanColdChain(
  db: Database,
  rules: ColdChainRules,
  now: Date = new Date(),
): Promise<{ silent: number[]; escalated: AlarmView[] }> {
  return db.transaction(async (c) => {
    const silent: number[] = [];
    for (const s of await store.silentCandidates(c, silentBefore(now, rules))) {
      const since = s.lastAt ? `since ${iso(s.lastAt)}` : 'since it was registered';
      const id = await store.insertAlarm(c, {
        kind: 'sensor-silent',
        sensorId: s.id,
        fridgeId: s.fridgeId,
        clinicCode: s.clinicCode,
        excursionId: null,
        message: `${s.fridgeName}: sensor ${s.id} silent ${since} (more than ${rules.silentMinutes} min)`,
        raisedAt: now,
      });
      if (id) silent.push(id);
    }
    const escalated = await store.escalateAlarms(c, escalateBefore(now, rules), now);
    return { silent, escalated: escalated.map(alarmView) };
  });
}

export async function readings(deps: SupplyDeps, sensorId: string, q: Page & { from?: string; to?: string }): Promise<ReadingList> {
  if (!(await store.sensorExists(deps.db.pool, sensorId))) throw notFound(`sensor ${sensorId} is not registered`);
  const { rows, total } = await store.listReadings(
    deps.db.pool,
    sensorId,
    q.from ? new Date(q.from) : null,
    q.to ? new Date(q.to) : null,
    q.limit,
    q.offset,
  );
  return paged(
    rows.map((r) => ({ at: iso(r.at)!, celsius: r.celsius, outside: isOutside(r.celsius, deps.settings.rules) })),
    total,
    q,
  );
}

export async function alarms(
  deps: SupplyDeps,
  q: Page & { clinic?: string; kind?: string; level?: string; open?: boolean },
): Promise<AlarmList> {
  const { rows, total } = await store.listAlarms(deps.db.pool, q, q.limit, q.offset);
  return paged(rows.map(alarmView), total, q);
}

export async function acknowledge(deps: SupplyDeps, id: number, note: string | undefined, user: AuthUser): Promise<AlarmView> {
  const a = await store.acknowledgeAlarm(deps.db.pool, id, user.username, note ?? null, nowOf(deps));
  if (!a) throw notFound(`alarm ${id} does not exist`);
  return alarmView(a);
}

export async function excursions(deps: SupplyDeps, q: Page & { fridge?: string; clinic?: string; open?: boolean }): Promise<ExcursionList> {
  const { rows, total } = await store.listExcursions(deps.db.pool, q, q.limit, q.offset);
  return paged(rows.map(excursionView), total, q);
}

// ---------------------------------------------------------------------------------------------
// Traceability

/** What an excursion reached: the lots in its fridge during it and where their doses were given after it began. */
async function reach(deps: SupplyDeps, id: number) {
  const ex = await store.getExcursion(deps.db.pool, id);
  if (!ex) throw notFound(`excursion ${id} does not exist`);
  const to = ex.endedAt ?? nowOf(deps);
  const lotIds = await store.lotsInFridge(deps.db.pool, ex.fridgeId, ex.startedAt, to);
  const clinicsReached = lotIds.length
    ? [ex.clinicCode, ...(await store.clinicsSentTo(deps.db.pool, ex.clinicCode, lotIds, ex.startedAt))]
    : [];
  return { ex, q: { lotIds, clinics: [...new Set(clinicsReached)], since: ex.startedAt } };
}

export async function excursionDetail(deps: SupplyDeps, id: number): Promise<ExcursionDetail> {
  const { ex, q } = await reach(deps, id);
  const counts = await store.doseCountsOfLots(deps.db.pool, q);
  const lotRows = await store.lotsByIds(deps.db.pool, q.lotIds);
  return {
    ...excursionView(ex),
    lots: lotRows.map((l) => ({ lot: lotView(l), dosesAfter: counts.get(l.id) ?? 0 })),
    recipients: [...counts.values()].reduce((a, n) => a + n, 0),
  };
}

async function withNames(deps: SupplyDeps, rows: DoseRow[]) {
  const names = new Map<string, string | null>();
  for (const pid of new Set(rows.map((r) => r.patientId!))) {
    const p = (await deps.repo.read('Patient', pid).catch(() => undefined)) as Patient | undefined;
    names.set(pid, nameOf(p));
  }
  return rows.map((d) => ({
    patientId: d.patientId!,
    name: names.get(d.patientId!) ?? null,
    immunizationId: d.immunizationId,
    lotId: d.lotId!,
    lotNumber: d.lotNumber,
    vaccineCode: d.vaccineCode,
    vaccineName: d.vaccineName,
    clinicCode: d.clinicCode,
    givenAt: iso(d.givenAt),
  }));
}

/** The recall (revaccination) list of an excursion: residents given doses of the affected lots after it began. */
export async function recall(deps: SupplyDeps, id: number, p: Page): Promise<RecipientList> {
  const { q } = await reach(deps, id);
  if (!q.lotIds.length) return paged([], 0, p);
  const { rows, total } = await store.dosesOfLotsSince(deps.db.pool, q, p.limit, p.offset);
  return paged(await withNames(deps, rows), total, p);
}

export async function recipients(deps: SupplyDeps, lotId: number, p: Page): Promise<RecipientList> {
  if (!(await store.getLot(deps.db.pool, lotId))) throw notFound(`lot ${lotId} is not registered`);
  const { rows, total } = await store.dosesOfLotsSince(deps.db.pool, { lotIds: [lotId], clinics: null, since: null }, p.limit, p.offset);
  return paged(await withNames(deps, rows), total, p);
}

export async function trace(deps: SupplyDeps, lotId: number): Promise<LotTrace> {
  const lot = await store.getLot(deps.db.pool, lotId);
  if (!lot) throw notFound(`lot ${lotId} is not registered`);
  const [movements, clinicRows, dosesGiven, aefi, stays] = await Promise.all([
    store.movementsOfLot(deps.db.pool, lotId, ['receipt', 'transfer-out', 'transfer-in', 'discard']),
    store.clinicSummaryOfLot(deps.db.pool, lotId),
    store.countDosesOfLot(deps.db.pool, lotId),
    store.aefiOfLot(deps.db.pool, lot),
    store.fridgeStaysOfLot(deps.db.pool, lotId),
  ]);
  const fridgesOut = [];
  for (const s of stays)
    fridgesOut.push({
      fridgeId: s.fridgeId,
      clinicCode: s.clinicCode,
      from: iso(s.from)!,
      to: iso(s.to),
      excursions: (await store.excursionsOfFridge(deps.db.pool, s.fridgeId, s.from, s.to)).map(excursionView),
    });
  return {
    lot: lotView(lot),
    movements: movements.map(movementView),
    clinics: clinicRows,
    dosesGiven,
    adverseEvents: aefi.map((a) => ({ ...a, occurredAt: iso(a.occurredAt) })),
    fridges: fridgesOut,
  };
}
