/**
 * Which limits column (routine or emergency) an order takes when it names none: the emergency
 * mode (平急转换) in force for the district or the resident's area. The emergency module owns
 * that mode; it installs a lookup here per store when it starts (`useModeLookup`), so the lab
 * never imports the emergency module (which imports the lab to run drills). Without a lookup,
 * an order with no mode is routine.
 */
import type { Database } from '../platform/db.js';
import { storeHook } from '../platform/store-hook.js';
import type { Mode } from './codes.js';

/** The lab mode in force for an area (null: no area known, the district-wide mode only) at an instant. */
export type ModeLookup = (areaCode: string | null, at: Date) => Promise<Mode>;

const hook = storeHook<ModeLookup>();

/** Installs (or, with undefined, removes) the mode lookup of one store. */
export const useModeLookup: (db: Database, fn: ModeLookup | undefined) => void = hook.use;

/** The store's lookup, if one is installed. */
export const modeLookupOf: (db: Database) => ModeLookup | undefined = hook.of;
