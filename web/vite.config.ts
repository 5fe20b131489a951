import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The web app lives in web/; `vite build --config web/vite.config.ts` writes web/dist, which the
// Yifang server serves at '/' with an SPA fallback (the API shares the origin).
const webRoot = fileURLToPath(new URL('.', import.meta.url));
// For `vite --config web/vite.config.ts` (dev server) the API runs elsewhere: proxy to it.
const apiTarget = process.env.YIFANG_API_URL ?? 'http://127.0.0.1:8080';

/**
 * Two builds into web/dist: the staff app (default mode), then with `--mode portal` the resident
 * portal (/portal/), whose first paint on a slow phone counts every kilobyte: it runs on Preact's
 * React-compatible layer (about 5 kB against React DOM's 60 kB compressed), aliased for that build
 * only; its code is written against React's API and tested with React.
 */
export default defineConfig(({ mode }) => ({
  root: webRoot,
  base: '/',
  publicDir: 'public',
  // No React plugin: esbuild's automatic JSX runtime is all the app needs.
  esbuild: { jsx: 'automatic' },
  ...(mode === 'portal'
    ? {
        resolve: {
          alias: [
            { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
            { find: /^react-dom$/, replacement: 'preact/compat' },
            { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
            { find: /^react$/, replacement: 'preact/compat' },
          ],
        },
      }
    : {}),
  build: {
    outDir: 'dist',
    // The portal build adds its page beside the staff app's.
    emptyOutDir: mode !== 'portal',
    sourcemap: false,
    chunkSizeWarningLimit: 1300,
    rollupOptions: {
      // antd's modules start with "use client", which means nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
      input:
        mode === 'portal'
          ? { portal: fileURLToPath(new URL('./portal/index.html', import.meta.url)) }
          : { main: fileURLToPath(new URL('./index.html', import.meta.url)) },
      output: {
        manualChunks(id) {
          if (mode === 'portal') return undefined;
          if (!id.includes('node_modules')) return undefined;
          if (/node_modules\/(echarts|zrender)\//.test(id)) return 'echarts';
          if (/node_modules\/(react|react-dom|scheduler)\//.test(id)) return 'react';
          return 'antd';
        },
      },
    },
  },
  server: {
    proxy: {
      '/fhir': apiTarget,
      '/auth': apiTarget,
      '/api': apiTarget,
    },
  },
}));
