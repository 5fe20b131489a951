/**
 * The web build's text assets get Brotli and gzip copies (scripts/compress-web.mjs) that
 * @fastify/static sends to browsers accepting them (preCompressed), instead of 1.2 MB of antd
 * uncompressed on a phone's link.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { expect, it } from 'vitest';
import { repoRoot } from '../src/app/testing.js';

it('writes .br and .gz beside text assets over 1 kB, and the static server sends the one the browser accepts', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-compress-'));
  try {
    fs.mkdirSync(path.join(dir, 'assets'));
    const js = `export const words = ${JSON.stringify('医防融合 '.repeat(2000))};\n`;
    fs.writeFileSync(path.join(dir, 'assets', 'app.js'), js);
    fs.writeFileSync(path.join(dir, 'assets', 'tiny.css'), 'body{margin:0}');
    fs.writeFileSync(path.join(dir, 'assets', 'logo.png'), Buffer.alloc(4096));
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/compress-web.mjs'), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/compress-web: 1 files/);
    expect(zlib.brotliDecompressSync(fs.readFileSync(path.join(dir, 'assets', 'app.js.br'))).toString()).toBe(js);
    expect(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'assets', 'app.js.gz'))).toString()).toBe(js);
    // Too small to be worth it, or not text: left alone.
    expect(fs.existsSync(path.join(dir, 'assets', 'tiny.css.br'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'assets', 'logo.png.br'))).toBe(false);

    const app = Fastify();
    await app.register(fastifyStatic, { root: dir, prefix: '/', wildcard: true, index: false, preCompressed: true });
    const br = await app.inject({ url: '/assets/app.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(zlib.brotliDecompressSync(br.rawPayload).toString()).toBe(js);
    const gz = await app.inject({ url: '/assets/app.js', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await app.inject({ url: '/assets/app.js' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(js);
    await app.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
