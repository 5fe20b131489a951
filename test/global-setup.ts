import { prepareTemplates } from '../src/platform/test-stores.js';

export default async function setup(): Promise<void> {
  await prepareTemplates();
}
