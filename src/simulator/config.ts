/** Where the simulator's data files live: config/simulator/ at the repository root. */
import { fileURLToPath } from 'node:url';

const CONFIG_DIR = fileURLToPath(new URL('../../config/simulator/', import.meta.url));

export function configPath(file: string): string {
  return CONFIG_DIR + file;
}
