/**
 * The staff app's i18n: the core (i18n-core.ts) with every English text registered at once.
 */
import { en } from './en.js';
import { setDictionary } from './i18n-core.js';

export * from './i18n-core.js';

setDictionary('en', en);
