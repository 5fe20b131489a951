/**
 * The module's settings (config/vaccine-supply/settings.json): expiry warnings, minimum stock, the
 * cold-chain rules and the MQTT subscription. Checked at start: a bad file stops the server,
 * naming the field.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { ColdChainRules } from './excursion.js';

export const SETTINGS_FILE = fileURLToPath(new URL('../../config/vaccine-supply/settings.json', import.meta.url));

const Minutes = z
  .number()
  .positive()
  .max(7 * 24 * 60);
const Celsius = z.number().min(-90).max(60);
const Schema = z
  .object({
    $comment: z.string().optional(),
    expiryWarningDays: z.array(z.number().int().min(1).max(3650)).min(1).max(5),
    minimumStock: z.object({ default: z.number().int().min(0), byVaccine: z.record(z.number().int().min(0)) }).strict(),
    coldChain: z
      .object({
        minCelsius: Celsius,
        maxCelsius: Celsius,
        excursionMinutes: Minutes,
        freezingCelsius: Celsius,
        episodeEndMinutes: Minutes,
        maxGapMinutes: Minutes,
        silentMinutes: Minutes,
        escalateAfterMinutes: Minutes,
        scanSeconds: z.number().min(1).max(3600),
      })
      .strict()
      .refine((c) => c.minCelsius < c.maxCelsius, { message: 'minCelsius must be below maxCelsius' })
      .refine((c) => c.freezingCelsius < c.minCelsius, { message: 'freezingCelsius must be below minCelsius' }),
    mqtt: z
      .object({
        topic: z
          .string()
          .min(1)
          .refine((t) => t.split('/').filter((l) => l === '{sensorId}').length === 1 && !/[#+]/.test(t), {
            message: 'the topic must name the sensor at exactly one level, {sensorId}, and hold no wildcard',
          }),
        clientId: z.string().min(1).max(64),
        qos: z.union([z.literal(0), z.literal(1)]),
        flushMs: z.number().int().min(10).max(60_000),
        batchReadings: z.number().int().min(1).max(10_000),
        maxBuffered: z.number().int().min(100).max(1_000_000),
      })
      .strict(),
  })
  .strict();

export interface MqttSettings {
  topic: string;
  clientId: string;
  qos: 0 | 1;
  flushMs: number;
  batchReadings: number;
  maxBuffered: number;
}

export interface SupplySettings {
  expiryWarningDays: number[];
  minimumStock: { default: number; byVaccine: Record<string, number> };
  rules: ColdChainRules;
  scanMs: number;
  mqtt: MqttSettings;
}

export function parseSettings(text: string, name = SETTINGS_FILE): SupplySettings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = Schema.safeParse(raw);
  if (!r.success) throw new Error(`${name}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`);
  const { scanSeconds, ...rules } = r.data.coldChain;
  return {
    expiryWarningDays: [...r.data.expiryWarningDays].sort((a, b) => b - a),
    minimumStock: r.data.minimumStock,
    rules,
    scanMs: scanSeconds * 1000,
    mqtt: r.data.mqtt,
  };
}

export function loadSettings(file = SETTINGS_FILE): SupplySettings {
  return parseSettings(fs.readFileSync(file, 'utf8'), file);
}
