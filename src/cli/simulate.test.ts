/**
 * `yifang simulate`: arguments are checked and a bad one is named; a run writes the output;
 * --live posts each day to the real endpoints of a (here: stub) Yifang server.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSimulateCommand } from './simulate.js';

function program(): { program: Command; err: string[]; out: string[] } {
  const err: string[] = [];
  const out: string[] = [];
  const p = new Command('yifang');
  p.exitOverride();
  p.configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
  const cmd = registerSimulateCommand(p);
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: (s) => err.push(s), writeOut: (s) => out.push(s) });
  return { program: p, err, out };
}

async function run(args: string[]): Promise<{ error: CommanderError | null; err: string; out: string }> {
  const p = program();
  try {
    await p.program.parseAsync(['node', 'yifang', 'simulate', ...args]);
    return { error: null, err: p.err.join(''), out: p.out.join('') };
  } catch (e) {
    if (e instanceof CommanderError) return { error: e, err: p.err.join(''), out: p.out.join('') };
    throw e;
  }
}

describe('yifang simulate: arguments', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'yifang-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it.each([
    [['--population', '-5'], '--population'],
    [['--population', 'many'], '--population'],
    [['--start', '2024-13-01'], '--start'],
    [['--days', '-1'], '--days'],
    [['--seed', '1.5'], '--seed'],
    [['--interval-seconds', 'soon'], '--interval-seconds'],
    [['--live', 'not a url'], '--live'],
  ])('rejects %j naming %s', async (args, name) => {
    const r = await run([...args, '--out', join(tmp, 'x')]);
    expect(r.error).not.toBeNull();
    expect(r.err).toContain(name);
    expect(existsSync(join(tmp, 'x', 'manifest.json'))).toBe(false);
  });

  it('rejects an output directory that cannot be written, naming --out', async () => {
    const file = join(tmp, 'file');
    writeFileSync(file, '');
    const r = await run(['--population', '500', '--days', '2', '--out', join(file, 'sub'), '--no-progress']);
    expect(r.error).not.toBeNull();
    expect(r.err).toContain('--out');
  });

  it('needs --out unless --live is given', async () => {
    const r = await run(['--population', '500', '--days', '2']);
    expect(r.err).toContain('--out');
  });

  it('has help', async () => {
    const r = await run(['--help']);
    expect(r.out).toContain('--population');
    expect(r.out).toContain('--live');
  });

  it('writes a district', async () => {
    const out = join(tmp, 'run');
    const r = await run(['--seed', '2', '--population', '800', '--start', '2024-05-01', '--days', '5', '--out', out, '--no-progress']);
    expect(r.error).toBeNull();
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });
});

describe('yifang simulate --live', () => {
  let server: Server;
  let base = '';
  const requests: { method: string; url: string; type: string; auth: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        requests.push({
          method: req.method!,
          url: req.url!,
          type: String(req.headers['content-type']),
          auth: String(req.headers.authorization ?? ''),
          body,
        });
        if (req.url === '/auth/login') {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ token: 'tok-123' }));
        } else if (req.url === '/api/report-cards') {
          res.statusCode = 404;
          res.end('not built yet');
        } else {
          res.setHeader('content-type', 'application/json');
          res.end('{}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('logs in and posts each day to the FHIR, HL7, feed and report-card endpoints, reporting failures', async () => {
    const out = mkdtempSync(join(tmpdir(), 'yifang-live-'));
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (stderr.push(String(s)), true)) as typeof process.stderr.write;
    try {
      const r = await run([
        '--seed',
        '3',
        '--population',
        '600',
        '--start',
        '2024-01-08',
        '--days',
        '12',
        '--out',
        out,
        '--live',
        base,
        '--interval-seconds',
        '0',
        '--no-progress',
      ]);
      expect(r.error).toBeNull();
    } finally {
      process.stderr.write = write;
      rmSync(out, { recursive: true, force: true });
    }
    const login = requests.find((q) => q.url === '/auth/login')!;
    expect(JSON.parse(login.body)).toEqual({ username: 'admin', password: 'yifang-admin' });
    const fhir = requests.filter((q) => q.url === '/fhir');
    expect(fhir.length).toBeGreaterThan(1);
    const bundle = JSON.parse(fhir[0]!.body) as { resourceType: string; type: string; entry: { request: { method: string } }[] };
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry[0]!.request.method).toBe('PUT');
    expect(fhir.every((q) => q.auth === 'Bearer tok-123' && q.type.startsWith('application/fhir+json'))).toBe(true);
    const hl7 = requests.filter((q) => q.url === '/api/hl7');
    expect(hl7.length).toBeGreaterThan(0);
    expect(hl7[0]!.type).toBe('x-application/hl7-v2+er7');
    expect(hl7[0]!.body.startsWith('MSH|')).toBe(true);
    const abs = requests.find((q) => q.url === '/api/feeds/school-absenteeism')!;
    expect(abs.type).toBe('text/csv');
    expect(abs.body.split('\n')[0]).toBe('school_code,school_name,class_code,date,enrolled,absent,reason,symptom');
    expect(requests.some((q) => q.url === '/api/feeds/pharmacy-sales')).toBe(true);
    const text = stderr.join('');
    expect(text).toMatch(/POST \/api\/report-cards failed for \d{4}-\d{2}-\d{2}: 404/);
    expect(text).toContain('live: sent');
  });
});
