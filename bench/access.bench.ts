/**
 * Issue #15: the cost of the access policy on reads. GET /fhir/Patient/{id} on 32 connections,
 * side by side in one run and per store:
 *   - before: the server as the issue measured it (1,500 req/s): no policy decision point and the
 *     read's AuditEvent buffered and flushed each second (`AuditLog.readMode = 'buffered'`);
 *   - no policy: a permissive policy file (one allow rule, district scope, for every role) — the
 *     server as it was before the policy decision point;
 *   - policy, administrator: the shipped policy; a district-scope rule decides with no lookup;
 *   - policy, family doctor: the shipped policy; the resident's own facts are looked up (and
 *     cached two seconds) before the care-scope rule decides, and ID numbers are not masked.
 * Target: with durable audit and the policy on, within 20 % of "before" (and of "no policy").
 *
 *   node --import tsx bench/access.bench.ts [--seconds 10] [--connections 32] [--only pglite|postgres]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareTemplates, startTestServer, type StoreKind, useProductCache } from '../src/app/test-stores.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { percentile, printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

const SHIPPED = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../config/security/policy.json');

/** The shipped policy with every rule replaced by one district-wide allow for every role. */
function permissivePolicyFile(): string {
  const shipped = JSON.parse(fs.readFileSync(SHIPPED, 'utf8')) as Record<string, unknown>;
  const open = {
    ...shipped,
    rules: [{ id: 'everyone-everything', effect: 'allow', roles: ['*'], actions: ['read', 'search', 'write', 'delete', 'export'] }],
  };
  const file = path.join(os.tmpdir(), `yifang-open-policy-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(open, null, 1));
  return file;
}

export async function runAccessBench(argv: string[] = []): Promise<void> {
  const seconds = Number(arg(argv, 'seconds') ?? (argv.includes('--quick') ? 4 : 10));
  const connections = Number(arg(argv, 'connections') ?? 32);
  const only = arg(argv, 'only') as StoreKind | undefined;
  const stores: StoreKind[] = only ? [only] : process.env.YIFANG_TEST_PG_URL ? ['pglite', 'postgres'] : ['pglite'];
  loadDefinitions();
  await prepareTemplates();
  const open = permissivePolicyFile();
  const rows: Record<string, string | number>[] = [];
  const saved = process.env.ACCESS_POLICY;
  try {
    for (const kind of stores) {
      const results: Record<string, number> = {};
      for (const variant of ['before: no policy, buffered audit', 'no policy', 'policy, administrator', 'policy, family doctor'] as const) {
        process.env.ACCESS_POLICY = variant === 'no policy' || variant.startsWith('before') ? open : SHIPPED;
        const server = await startTestServer(kind);
        if (variant.startsWith('before')) server.audit.readMode = 'buffered';
        try {
          await server.api('/fhir/Organization/org-bench', {
            method: 'PUT',
            body: JSON.stringify({ resourceType: 'Organization', id: 'org-bench', name: '基准社区卫生服务中心' }),
          });
          const ids: string[] = [];
          for (let i = 0; i < 100; i++) {
            const r = await server.api('/fhir/Patient', {
              method: 'POST',
              body: JSON.stringify({
                resourceType: 'Patient',
                name: [{ family: `Bench${i}` }],
                gender: 'female',
                managingOrganization: { reference: 'Organization/org-bench' },
              }),
            });
            ids.push(((await r.json()) as { id: string }).id);
          }
          let token = server.token;
          if (variant === 'policy, family doctor') {
            await server.auth.addUser({
              username: 'fd-bench',
              password: 'bench-password-1',
              roles: ['family-doctor'],
              organization: 'org-bench',
            });
            const login = await fetch(`${server.url}/auth/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ username: 'fd-bench', password: 'bench-password-1' }),
            });
            token = ((await login.json()) as { access_token: string }).access_token;
          }
          const run = async (durationMs: number) => {
            const latencies: number[] = [];
            let errors = 0;
            const until = Date.now() + durationMs;
            const started = Date.now();
            await Promise.all(
              Array.from({ length: connections }, async (_, k) => {
                for (let i = k; Date.now() < until; i += connections) {
                  const t0 = performance.now();
                  const r = await server.api(`/fhir/Patient/${ids[i % ids.length]}`, { headers: { authorization: `Bearer ${token}` } });
                  await r.arrayBuffer();
                  if (r.status !== 200) errors++;
                  latencies.push(performance.now() - t0);
                }
              }),
            );
            return { latencies: latencies.sort((a, b) => a - b), errors, seconds: (Date.now() - started) / 1000 };
          };
          await run(1500); // warm up
          const r = await run(seconds * 1000);
          const rps = r.latencies.length / r.seconds;
          results[variant] = rps;
          rows.push({
            store: kind,
            access: variant,
            'reads/s': Math.round(rps),
            'p50 ms': percentile(r.latencies, 50),
            'p95 ms': percentile(r.latencies, 95),
            errors: r.errors,
            audit: variant.startsWith('before') ? 'buffered (1 s flush)' : 'durable',
            'vs before': variant.startsWith('before')
              ? ''
              : `${((rps / results['before: no policy, buffered audit']!) * 100).toFixed(0)} % (target ≥ 80 %)`,
            'vs no policy':
              results['no policy'] === undefined || variant === 'no policy' ? '' : `${((rps / results['no policy']) * 100).toFixed(0)} %`,
          });
        } finally {
          await server.dispose();
        }
      }
    }
  } finally {
    if (saved === undefined) delete process.env.ACCESS_POLICY;
    else process.env.ACCESS_POLICY = saved;
    fs.rmSync(open, { force: true });
  }
  printTable(`GET /fhir/Patient/{id}, ${connections} connections, ${seconds} s per variant, audit on: the access policy's cost`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await runAccessBench(process.argv.slice(2));
