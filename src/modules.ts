/**
 * The capabilities the server runs, in start order. A module registers its routes, its
 * change-log processors and its shutdown hooks through the ModuleContext.
 * To add one: export a YifangModule from src/<capability>/module.ts and list it here.
 */
import type { YifangModule } from './platform/module.js';

export async function loadModules(): Promise<YifangModule[]> {
  const modules: YifangModule[] = [];
  // (one line per module: modules.push((await import('./<capability>/module.js')).default);)
  modules.push((await import('./hl7v2/module.js')).default);
  modules.push((await import('./feeds/module.js')).default);
  modules.push((await import('./identity/module.js')).default);
  modules.push((await import('./chronic/module.js')).default);
  modules.push((await import('./surveillance/module.js')).default);
  return modules;
}
