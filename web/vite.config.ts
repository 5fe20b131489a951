import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// The web app lives in web/; `vite build --config web/vite.config.ts` writes web/dist, which the
// Yifang server serves at '/' with an SPA fallback (the API shares the origin).
const webRoot = fileURLToPath(new URL('.', import.meta.url));
// For `vite --config web/vite.config.ts` (dev server) the API runs elsewhere: proxy to it.
const apiTarget = process.env.YIFANG_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: webRoot,
  base: '/',
  publicDir: 'public',
  // No React plugin: esbuild's automatic JSX runtime is all the app needs.
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1300,
    rollupOptions: {
      // antd's modules start with "use client", which means nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
      // Two pages: the staff app, and the resident portal (/portal/) with React and its own code only.
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        portal: fileURLToPath(new URL('./portal/index.html', import.meta.url)),
      },
      output: {
        manualChunks(id) {
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
});
