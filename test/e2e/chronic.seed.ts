/**
 * The simulated district of the chronic-care screens: 500 residents and a year of records
 * ending today (so the worklist has residents due now), imported and run through the
 * registries. Built once per day and source state, then copied for each suite.
 */
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { importPath } from '../../src/fhir/import.js';
import { registeredResidents, residentsBornAfter } from '../../src/primary-care/index.js';
import { addDays, todayInChina } from '../../src/shared/dates.js';
import { simulate } from '../../src/simulator/index.js';
import { preparedStore, type Seeder } from './fixture.js';

export interface ChronicDistrict {
  /** A child under two, for the immunization prescription. */
  child: string;
  /** The hypertension patient due first, for check-in, contracts and key populations. */
  htnPatient: string;
  /** A hypertension patient with no family-doctor contract, for signing one on screen. */
  uncontracted: string;
}

export const chronicDistrict = preparedStore('chronic-district', async (s: Seeder): Promise<ChronicDistrict> => {
  const simDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-e2e-sim-'));
  try {
    await simulate({ seed: 5, population: 500, start: addDays(todayInChina(), -364), days: 360, outDir: simDir });
    await importPath(s.server.repo, path.join(simDir, 'fhir'));
  } finally {
    fs.rmSync(simDir, { recursive: true, force: true });
  }
  await s.drain();
  const today = todayInChina();
  const [child] = await residentsBornAfter(s.db, `${+today.slice(0, 4) - 2}${today.slice(4)}`, 1);
  const [htnPatient] = await registeredResidents(s.db, 'htn', 1);
  // A registered resident without a family-doctor contract yet (most chronic patients have one), to sign on screen.
  let uncontracted: string | undefined;
  for (const id of await registeredResidents(s.db, 'htn', 200)) {
    const due = (await (await s.api(`/api/residents/${id}/due-services`)).json()) as { resident?: { team: string | null } };
    if (due.resident && due.resident.team === null) {
      uncontracted = id;
      break;
    }
  }
  return { child: child!, htnPatient: htnPatient!, uncontracted: uncontracted ?? htnPatient! };
});
