import fs from 'node:fs';
import { prepareTemplates } from '../src/app/test-stores.js';
import { CHROMIUM, ensureWebBuild } from './e2e/harness.js';

export default async function setup(): Promise<void> {
  await prepareTemplates();
  // Build the web app once, before browser tests in parallel workers could race to build it.
  if (fs.existsSync(CHROMIUM)) ensureWebBuild();
}
