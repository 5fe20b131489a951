#!/usr/bin/env node
/**
 * After `vite build`: writes a gzip (.gz) and a Brotli (.br) copy beside every text asset of
 * web/dist over 1 kB, so the server sends the smaller one to a browser that accepts it
 * (@fastify/static's preCompressed) without compressing per request. A phone on a slow link
 * then loads the portal's ~360 kB of JavaScript as ~110 kB.
 *
 *   node scripts/compress-web.mjs [dir]   (default web/dist)
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

if (process.argv.includes('--help')) {
  console.log('node scripts/compress-web.mjs [dir]  — gzip and Brotli copies of the text assets of the web build (default web/dist)');
  process.exit(0);
}
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'web', 'dist'));
const TEXT = /\.(js|mjs|css|html|svg|json|txt|wasm)$/i;
let files = 0;
let before = 0;
let after = 0;
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (TEXT.test(e.name) && fs.statSync(p).size > 1024) {
      const data = fs.readFileSync(p);
      const br = zlib.brotliCompressSync(data, {
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      });
      fs.writeFileSync(`${p}.gz`, zlib.gzipSync(data, { level: 9 }));
      fs.writeFileSync(`${p}.br`, br);
      files++;
      before += data.length;
      after += br.length;
    }
  }
};
if (!fs.existsSync(root)) {
  console.error(`compress-web: ${root} does not exist (run vite build first)`);
  process.exit(1);
}
walk(root);
console.log(
  `compress-web: ${files} files, ${(before / 1024).toFixed(0)} kB → ${(after / 1024).toFixed(0)} kB with Brotli (gzip beside it)`,
);
