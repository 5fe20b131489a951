/** zod schemas of /api/vaccine-supply/* and /api/cold-chain/* (requests and answers). */
import { z } from 'zod';

const Code = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'a code is letters, digits, ".", "_", ":" or "-"');
const Text = (max: number) => z.string().trim().min(1).max(max);
const When = z.string().datetime({ offset: true }).describe('ISO 8601 with offset; now when absent');
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'not a real date');
const Bool = z.enum(['true', 'false']).transform((v) => v === 'true');
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});
const list = <T extends z.ZodTypeAny>(item: T) =>
  z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
export const IdParam = z.object({ id: z.coerce.number().int().min(1) });
export const CodeParam = z.object({ id: Code });

// ---------------------------------------------------------------------------------------------
// Clinics, fridges, sensors

export const ClinicBody = z
  .object({
    code: Code.describe('Organisation code of the vaccination clinic (接种门诊) or the CDC store'),
    name: Text(200),
    kind: z.enum(['clinic', 'cdc-store']).default('clinic'),
    aliases: z
      .array(Text(200))
      .max(50)
      .default([])
      .describe('What Immunization resources name this place by: Location/<id>, Organization/<id>, a location name or identifier'),
  })
  .strict();
export type ClinicBody = z.infer<typeof ClinicBody>;
export const ClinicView = z.object({
  code: z.string(),
  name: z.string(),
  kind: z.enum(['clinic', 'cdc-store']),
  aliases: z.array(z.string()),
  createdAt: z.string(),
});
export type ClinicView = z.infer<typeof ClinicView>;
export const ClinicList = list(ClinicView);
export type ClinicList = z.infer<typeof ClinicList>;

export const FridgeBody = z
  .object({
    id: Code,
    clinicCode: Code,
    kind: z.enum(['fridge', 'cold-box']).default('fridge'),
    name: Text(200),
    sensorIds: z.array(Code).max(20).default([]).describe('Sensors reporting for it (over MQTT or POST /api/cold-chain/readings)'),
  })
  .strict();
export type FridgeBody = z.infer<typeof FridgeBody>;
export const SensorView = z.object({
  id: z.string(),
  fridgeId: z.string(),
  lastAt: z.string().nullable(),
  lastCelsius: z.number().nullable(),
  inEpisode: z.boolean().describe('Readings outside the range now (an episode that may become an excursion)'),
});
export const FridgeView = z.object({
  id: z.string(),
  clinicCode: z.string(),
  kind: z.enum(['fridge', 'cold-box']),
  name: z.string(),
  sensors: z.array(SensorView),
  createdAt: z.string(),
});
export type FridgeView = z.infer<typeof FridgeView>;
export const FridgeQuery = PageQuery.extend({ clinic: Code.optional() });
export const FridgeList = list(FridgeView);
export type FridgeList = z.infer<typeof FridgeList>;

// ---------------------------------------------------------------------------------------------
// GS1, lots, movements, stock

export const Gs1Body = z
  .object({ code: z.string().min(1).max(500).describe('The scanned DataMatrix text or its (AI)value form') })
  .strict();
export const Gs1View = z.object({
  gtin: z.string(),
  expiry: z.string().nullable(),
  lot: z.string().nullable(),
  serial: z.string().nullable(),
  elements: z.record(z.string()),
});
export type Gs1View = z.infer<typeof Gs1View>;

const LotRef = {
  lotId: z.number().int().min(1).optional().describe('A lot already known'),
  vaccineCode: Code.optional(),
  lotNumber: Text(40).optional(),
  gs1: z.string().min(1).max(500).optional().describe('The scanned GS1 DataMatrix: GTIN, lot and expiry read from it'),
};
export const ReceiptBody = z
  .object({
    clinicCode: Code,
    fridgeId: Code.describe('The fridge the vials go into: the cold chain traces lots by it'),
    ...LotRef,
    vaccineName: Text(200).optional(),
    manufacturer: Text(200).optional(),
    expiry: Day.optional().describe('Required unless the lot is known or the GS1 code carries it'),
    quantity: z.number().int().min(1).max(1_000_000).describe('Doses'),
    supplier: Text(200).optional().describe('Who delivered (the CDC store, a manufacturer)'),
    at: When.optional(),
  })
  .strict();
export type ReceiptBody = z.infer<typeof ReceiptBody>;
export const TransferBody = z
  .object({
    fromClinic: Code,
    toClinic: Code,
    ...LotRef,
    quantity: z.number().int().min(1).max(1_000_000),
    fromFridgeId: Code.optional().describe('Taken from this fridge (else from the fridges holding the lot, fullest first)'),
    toFridgeId: Code.describe('The fridge (or cold box) it goes into at the receiving clinic'),
    at: When.optional(),
  })
  .strict();
export type TransferBody = z.infer<typeof TransferBody>;
export const DiscardBody = z
  .object({
    clinicCode: Code,
    ...LotRef,
    quantity: z.number().int().min(1).max(1_000_000),
    reason: Text(500).describe('过期, 破损, 冷链中断, …'),
    fridgeId: Code.optional(),
    at: When.optional(),
  })
  .strict();
export type DiscardBody = z.infer<typeof DiscardBody>;
export type LotRefBody = Pick<ReceiptBody, 'lotId' | 'vaccineCode' | 'lotNumber' | 'gs1'>;

export const LotView = z.object({
  id: z.number().int(),
  vaccineCode: z.string(),
  vaccineName: z.string().nullable(),
  lotNumber: z.string(),
  manufacturer: z.string().nullable(),
  expiry: z.string(),
  gtin: z.string().nullable(),
  status: z.enum(['active', 'quarantined']),
});
export type LotView = z.infer<typeof LotView>;
export const MovementView = z.object({
  id: z.number().int(),
  kind: z.enum(['receipt', 'transfer-out', 'transfer-in', 'dose', 'discard']),
  clinicCode: z.string(),
  lotId: z.number().int(),
  fridgeId: z.string().nullable(),
  quantity: z.number().int(),
  at: z.string(),
  transferId: z.number().int().nullable(),
  counterpart: z.string().nullable(),
  reason: z.string().nullable(),
  recordedBy: z.string(),
});
export type MovementView = z.infer<typeof MovementView>;
export const MovementAnswer = z.object({ lot: LotView, movements: z.array(MovementView), warnings: z.array(z.string()) });
export type MovementAnswer = z.infer<typeof MovementAnswer>;
export const LotQuery = PageQuery.extend({ vaccine: Code.optional(), lotNumber: z.string().max(40).optional() });
export const LotList = list(LotView);
export type LotList = z.infer<typeof LotList>;
export const LotStatusBody = z.object({ status: z.enum(['active', 'quarantined']) }).strict();

export const WARNING_KINDS = ['near-expiry', 'expired-in-stock', 'below-minimum', 'negative-stock', 'dose-flagged'] as const;
export const StockRow = z.object({
  clinicCode: z.string(),
  lot: LotView,
  quantity: z.number().int(),
  fridges: z.array(z.object({ fridgeId: z.string().nullable(), quantity: z.number().int() })),
  daysToExpiry: z.number().int(),
  warnings: z.array(z.string()),
});
export type StockRow = z.infer<typeof StockRow>;
export const StockQuery = PageQuery.extend({
  clinic: Code.optional(),
  vaccine: Code.optional(),
  lotId: z.coerce.number().int().min(1).optional(),
  empty: Bool.optional().describe('true: also lots now at 0'),
});
export const StockList = list(StockRow);
export type StockList = z.infer<typeof StockList>;

export const WarningView = z.object({
  kind: z.enum(WARNING_KINDS),
  clinicCode: z.string(),
  vaccineCode: z.string().nullable(),
  lotId: z.number().int().nullable(),
  lotNumber: z.string().nullable(),
  days: z.number().int().nullable().describe('near-expiry: the threshold crossed (90, 30); expired: days since'),
  quantity: z.number().int().nullable(),
  immunizationId: z.string().nullable(),
  message: z.string(),
});
export type WarningView = z.infer<typeof WarningView>;
export const WarningQuery = PageQuery.extend({ clinic: Code.optional(), kind: z.enum(WARNING_KINDS).optional() });
export const WarningList = list(WarningView);
export type WarningList = z.infer<typeof WarningList>;

export const DoseView = z.object({
  immunizationId: z.string(),
  patientId: z.string().nullable(),
  status: z.string(),
  vaccineCode: z.string().nullable(),
  vaccineName: z.string().nullable(),
  lotNumber: z.string().nullable(),
  lotId: z.number().int().nullable(),
  clinicCode: z.string().nullable(),
  place: z.string().nullable(),
  givenAt: z.string().nullable(),
  flags: z.array(z.string()),
});
export type DoseView = z.infer<typeof DoseView>;
export const DoseQuery = PageQuery.extend({
  clinic: Code.optional(),
  lotId: z.coerce.number().int().min(1).optional(),
  flagged: Bool.optional().describe('true: doses with a flag (unstocked lot, unknown clinic, expired or quarantined lot, no lot)'),
});
export const DoseList = list(DoseView);
export type DoseList = z.infer<typeof DoseList>;

// ---------------------------------------------------------------------------------------------
// Cold chain

export const ReadingIn = z
  .object({
    sensorId: Code,
    at: When,
    celsius: z.number().min(-90).max(90).describe('Outside −90…90 °C is a broken sensor: refused'),
  })
  .strict();
export const ReadingsBody = z.object({ readings: z.array(ReadingIn).min(1).max(10_000) }).strict();
export type ReadingsBody = z.infer<typeof ReadingsBody>;
export const IngestAnswer = z.object({
  received: z.number().int(),
  stored: z.number().int(),
  duplicates: z.number().int().describe('Same sensor and time as a stored reading: dropped'),
  late: z.number().int().describe('Older than the sensor’s newest reading: stored, not fed to excursion detection'),
  unknownSensors: z.array(z.string()).describe('Sensors nobody registered: their readings are kept aside, not lost'),
  future: z.number().int().describe('More than 5 min in the future: kept aside with the unknown ones'),
  malformed: z.number().int().describe('MQTT payloads not read (kept aside with the problem named)'),
  alarms: z.array(z.number().int()).describe('Alarms these readings raised'),
});
export type IngestAnswer = z.infer<typeof IngestAnswer>;
export const ReadingView = z.object({ at: z.string(), celsius: z.number(), outside: z.boolean() });
export const ReadingQuery = PageQuery.extend({ from: When.optional(), to: When.optional() });
export const ReadingList = list(ReadingView);
export type ReadingList = z.infer<typeof ReadingList>;

export const ExcursionView = z.object({
  id: z.number().int(),
  sensorId: z.string(),
  fridgeId: z.string(),
  clinicCode: z.string(),
  kind: z.enum(['warm', 'cold', 'freezing']),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  minCelsius: z.number(),
  maxCelsius: z.number(),
  outsideMinutes: z.number(),
  detectedAt: z.string(),
});
export type ExcursionView = z.infer<typeof ExcursionView>;
export const ExcursionQuery = PageQuery.extend({ fridge: Code.optional(), clinic: Code.optional(), open: Bool.optional() });
export const ExcursionList = list(ExcursionView);
export type ExcursionList = z.infer<typeof ExcursionList>;
export const AffectedLot = z.object({ lot: LotView, dosesAfter: z.number().int() });
export const ExcursionDetail = ExcursionView.extend({ lots: z.array(AffectedLot), recipients: z.number().int() });
export type ExcursionDetail = z.infer<typeof ExcursionDetail>;

export const RecipientView = z.object({
  patientId: z.string(),
  name: z.string().nullable(),
  immunizationId: z.string(),
  lotId: z.number().int(),
  lotNumber: z.string().nullable(),
  vaccineCode: z.string().nullable(),
  vaccineName: z.string().nullable(),
  clinicCode: z.string().nullable(),
  givenAt: z.string().nullable(),
});
export type RecipientView = z.infer<typeof RecipientView>;
export const RecipientList = list(RecipientView);
export type RecipientList = z.infer<typeof RecipientList>;

export const AlarmView = z.object({
  id: z.number().int(),
  kind: z.enum(['excursion', 'freezing', 'sensor-silent']),
  sensorId: z.string(),
  fridgeId: z.string(),
  clinicCode: z.string(),
  excursionId: z.number().int().nullable(),
  message: z.string(),
  raisedAt: z.string(),
  level: z.enum(['clinic', 'cdc']),
  escalatedAt: z.string().nullable(),
  acknowledgedAt: z.string().nullable(),
  acknowledgedBy: z.string().nullable(),
  note: z.string().nullable(),
  resolvedAt: z.string().nullable(),
});
export type AlarmView = z.infer<typeof AlarmView>;
export const AlarmQuery = PageQuery.extend({
  clinic: Code.optional(),
  kind: z.enum(['excursion', 'freezing', 'sensor-silent']).optional(),
  level: z.enum(['clinic', 'cdc']).optional(),
  open: Bool.optional().describe('true: not acknowledged'),
});
export const AlarmList = list(AlarmView);
export type AlarmList = z.infer<typeof AlarmList>;
export const AckBody = z.object({ note: Text(1000).optional() }).strict();

// ---------------------------------------------------------------------------------------------
// Lot trace

export const AefiView = z.object({
  adverseEventId: z.string(),
  patientId: z.string().nullable(),
  immunizationId: z.string().nullable(),
  occurredAt: z.string().nullable(),
  seriousness: z.string().nullable(),
  description: z.string().nullable(),
});
export const LotTrace = z.object({
  lot: LotView,
  movements: z.array(MovementView).describe('Receipts, transfers and discards, in time order (doses are counted per clinic)'),
  clinics: z.array(
    z.object({ clinicCode: z.string(), received: z.number().int(), dosesGiven: z.number().int(), inStock: z.number().int() }),
  ),
  dosesGiven: z.number().int(),
  adverseEvents: z.array(AefiView),
  fridges: z.array(
    z.object({
      fridgeId: z.string(),
      clinicCode: z.string(),
      from: z.string(),
      to: z.string().nullable(),
      excursions: z.array(ExcursionView),
    }),
  ),
});
export type LotTrace = z.infer<typeof LotTrace>;
