/** Where the surveillance rule files live (config/surveillance/ at the repository root). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const configDir = path.join(repoRoot, 'config', 'surveillance');
