/**
 * A function one module installs per store at start for another module to call, so the caller
 * never imports the installer (the emergency module's mode lookups in the lab, surveillance and
 * investigation modules, which it imports itself). Keyed by store: several stores in one process
 * (tests, the bench) each keep their own.
 */
import type { Database } from './db.js';

export interface StoreHook<F> {
  /** Installs (or, with undefined, removes) the function of one store. */
  use(db: Database, fn: F | undefined): void;
  /** The store's function, if one is installed. */
  of(db: Database): F | undefined;
}

export function storeHook<F>(): StoreHook<F> {
  const installed = new Map<Database, F>();
  return {
    use(db, fn) {
      if (fn) installed.set(db, fn);
      else installed.delete(db);
    },
    of: (db) => installed.get(db),
  };
}
