/**
 * The vaccination schedule the simulator follows, and the vaccine products it records.
 *
 * The schedule has one copy, the product's, in config/immunization/ (read by the primary-care
 * immunization module as well): nip-2021.json gives the childhood doses, their due ages and the
 * vaccine names; adult-2025.json names the influenza and pneumococcal vaccines. The simulator
 * pins NIP-2021 whatever the run's dates, so that output does not change when a newer schedule
 * is added. config/simulator/vaccine-products.json adds what only the simulator needs: the CVX
 * code, route, site, dose and manufacturer written on each Immunization.
 *
 * A small loader of its own: capabilities meet only through their public entry, and
 * src/primary-care has none yet. It reads the same JSON files, validating only the fields used.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configPath, immunizationConfigPath } from './config.js';

const CHILD_SCHEDULE_FILE = 'nip-2021.json';
const ADULT_SCHEDULE_FILE = 'adult-2025.json';
const PRODUCTS_FILE = 'vaccine-products.json';

const ChildScheduleFile = z.object({
  version: z.string(),
  vaccines: z.record(z.object({ name: z.string() })),
  doses: z.array(z.object({ vaccine: z.string(), dose: z.number().int().positive(), ageMonths: z.number().int().min(0) })),
});

const AdultScheduleFile = z.object({
  influenza: z.object({ vaccine: z.string(), name: z.string() }),
  pneumococcal: z.object({ vaccine: z.string(), name: z.string() }),
});

const ProductsFile = z.object({
  source: z.string(),
  products: z.record(
    z
      .object({
        cvx: z.string().optional(),
        route: z.enum(['IM', 'SC', 'ID', 'PO']),
        site: z.string(),
        doseMl: z.number().positive(),
        manufacturer: z.string(),
      })
      .strict(),
  ),
});

export interface Vaccine {
  name: string;
  cvx?: string;
  route: 'IM' | 'SC' | 'ID' | 'PO';
  site: string;
  doseMl: number;
  manufacturer: string;
}

export interface ChildDose {
  vaccine: string;
  dose: number;
  ageMonths: number;
}

export interface Schedule {
  /** The childhood schedule's version (NIP-2021), written as each dose's series. */
  version: string;
  /** Every vaccine the simulator gives, by code. */
  vaccines: Record<string, Vaccine>;
  /** Childhood doses in schedule order. */
  childDoses: ChildDose[];
}

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

export function loadSchedule(): Schedule {
  const child = ChildScheduleFile.parse(readJson(immunizationConfigPath(CHILD_SCHEDULE_FILE)));
  const adult = AdultScheduleFile.parse(readJson(immunizationConfigPath(ADULT_SCHEDULE_FILE)));
  const { products } = ProductsFile.parse(readJson(configPath(PRODUCTS_FILE)));
  const names = new Map<string, string>(Object.entries(child.vaccines).map(([code, v]) => [code, v.name]));
  names.set(adult.influenza.vaccine, adult.influenza.name);
  names.set(adult.pneumococcal.vaccine, adult.pneumococcal.name);
  const vaccines: Record<string, Vaccine> = {};
  for (const [code, name] of names) {
    const p = products[code];
    if (!p) throw new Error(`${PRODUCTS_FILE}: no product for vaccine ${code}`);
    vaccines[code] = { name, ...p };
  }
  for (const code of Object.keys(products)) if (!names.has(code)) throw new Error(`${PRODUCTS_FILE}: ${code} is in no schedule`);
  const childDoses = child.doses.map(({ vaccine, dose, ageMonths }) => {
    if (!vaccines[vaccine]) throw new Error(`${CHILD_SCHEDULE_FILE}: unknown vaccine ${vaccine}`);
    return { vaccine, dose, ageMonths };
  });
  return { version: child.version, vaccines, childDoses };
}
