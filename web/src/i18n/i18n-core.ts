/**
 * A deliberately tiny i18n layer: every visible string is written as t('key', '默认中文').
 * Chinese is the source language and lives at the call site; other languages come from
 * dictionaries keyed by the same key. Missing translations fall back to the Chinese text.
 *
 * This core holds no dictionary: the staff app registers the whole English one (i18n.ts); the
 * resident portal, whose first paint on a slow phone counts every kilobyte, registers only its
 * own few English texts (portal/main.tsx).
 */
import { useSyncExternalStore } from 'react';

export type Lang = 'zh-CN' | 'en';

const STORAGE_KEY = 'yifang.lang';
const dictionaries: Record<Lang, Record<string, string>> = { 'zh-CN': {}, en: {} };

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    // storage may be unavailable (privacy mode); Chinese is the default
  }
  return 'zh-CN';
}

let current: Lang = initialLang();
const listeners = new Set<() => void>();

/** Registers a language's texts; called at start, before the app first renders. */
export function setDictionary(lang: Lang, texts: Record<string, string>): void {
  dictionaries[lang] = texts;
}

export function getLang(): Lang {
  return current;
}

export function setLang(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // not remembered, but still switched for this page
  }
  if (typeof document !== 'undefined') document.documentElement.lang = lang;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Re-renders the caller when the language changes; the root uses it so the whole tree follows. */
export function useLang(): Lang {
  return useSyncExternalStore(subscribe, getLang, getLang);
}

/**
 * Translates `key`; `zh` is the Chinese text (and the fallback). `{name}` placeholders are
 * replaced from `params`.
 */
export function t(key: string, zh: string, params?: Record<string, string | number>): string {
  const text = current === 'zh-CN' ? zh : (dictionaries[current][key] ?? zh);
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

if (typeof document !== 'undefined') document.documentElement.lang = current;
