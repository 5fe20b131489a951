/**
 * Where the simulator's data files live: config/simulator/ at the repository root, and the
 * product's immunization schedules in config/immunization/ (the one copy of the schedule).
 */
import { fileURLToPath } from 'node:url';

const CONFIG_DIR = fileURLToPath(new URL('../../config/simulator/', import.meta.url));
const IMMUNIZATION_CONFIG_DIR = fileURLToPath(new URL('../../config/immunization/', import.meta.url));

export function configPath(file: string): string {
  return CONFIG_DIR + file;
}

export function immunizationConfigPath(file: string): string {
  return IMMUNIZATION_CONFIG_DIR + file;
}
