/**
 * Set-up for the web component tests (vitest project 'web', happy-dom): what a browser has and
 * happy-dom lacks for antd and ECharts, a clean DOM and fetch after each test, and Chinese
 * as the language (the app's default).
 */
import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';

// antd's responsive helpers (Grid, Table's column breakpoints) ask matchMedia.
Object.defineProperty(window, 'matchMedia', {
  writable: true,
  configurable: true,
  value: (query: string) => ({
    matches: false,
    media: query,
    onchange: null,
    addListener: () => undefined,
    removeListener: () => undefined,
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
    dispatchEvent: () => false,
  }),
});

// ECharts draws on a canvas; happy-dom has no 2D context. A recording stub lets charts init,
// set options and report 'finished' without drawing anything.
const context2d = new Proxy(
  { canvas: null as unknown, measureText: (text: string) => ({ width: text.length * 7 }) },
  {
    get(target, prop: string) {
      if (prop in target) return (target as Record<string, unknown>)[prop];
      if (prop === 'getImageData' || prop === 'createImageData') return () => ({ data: new Uint8ClampedArray(4) });
      if (prop === 'createLinearGradient' || prop === 'createRadialGradient' || prop === 'createPattern')
        return () => ({ addColorStop: () => undefined });
      if (prop === 'getLineDash') return () => [];
      if (prop === 'getTransform') return () => ({ a: 1, b: 0, c: 0, d: 1, e: 0, f: 0 });
      return typeof prop === 'string' && /^[a-z]/.test(prop) ? () => undefined : undefined;
    },
    set(target, prop: string, value) {
      (target as Record<string, unknown>)[prop] = value;
      return true;
    },
  },
);
HTMLCanvasElement.prototype.getContext = function getContext(this: HTMLCanvasElement) {
  (context2d as { canvas: unknown }).canvas = this;
  return context2d as unknown as CanvasRenderingContext2D;
} as typeof HTMLCanvasElement.prototype.getContext;

// happy-dom does no layout (every size is 0); ECharts wants its container's size. Elements
// report the size their inline style gives them (a chart's div: width 100%, height N px).
const inlineSize = (value: string, whole: number) => (value.endsWith('%') ? (whole * parseFloat(value)) / 100 : parseFloat(value) || 0);
Object.defineProperty(HTMLElement.prototype, 'clientWidth', {
  configurable: true,
  get(this: HTMLElement) {
    return inlineSize(this.style.width, 1024);
  },
});
Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
  configurable: true,
  get(this: HTMLElement) {
    return inlineSize(this.style.height, 768);
  },
});

// Language: Chinese unless a test switches it.
localStorage.removeItem('yifang.lang');

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  sessionStorage.clear();
});
