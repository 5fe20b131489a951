/**
 * HL7 v2 over MLLP into the store (issue #4): a running server (PostgreSQL when reachable, and
 * PGlite), 4 concurrent MLLP connections, ADT^A04 registrations of distinct residents (each one
 * stores a Patient, an Encounter and the raw message in one transaction before the AA).
 * Two client styles: stop-and-wait (send, wait for the ACK, send the next: what most interface
 * engines do) and a window of 16 unacknowledged messages per connection.
 * Prints messages/s and ACK latency (send → ACK received) p50/p95/p99.
 *
 *   node --import tsx bench/mllp.bench.ts [--messages 4000] [--only pglite|postgres] [--no-processors] [--cpu-profile DIR]
 *
 * --no-processors stops the change-log processors (identity, surveillance, chronic care) to
 * measure intake alone. --cpu-profile writes the server process's CPU profile of each burst.
 * The sending side runs in a child process; CPU per message is given for the server process and
 * for the whole machine (server, database and client).
 */
import { fork } from 'node:child_process';
import inspector from 'node:inspector/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adt } from '../src/hl7v2/ingest-fixtures.js';
import { encodeFrame, MllpDecoder } from '../src/hl7v2/index.js';
import { startServer } from '../src/app/server.js';
import { cpuPerUnit, cpuSnapshot } from './cpu.js';
import { percentile, printTable } from './table.js';

const FAMILY = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '高', '林', '罗'];
const GIVEN = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀兰', '霞'];

/** A registration of a distinct resident (the identity service links each to its own person). */
function registration(controlId: string, facility: string, n: number): string {
  const birth = new Date(Date.UTC(1940, 0, 1) + ((n * 7919) % 25000) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  return adt(controlId, {
    facility,
    mrn: `M${n}`,
    name: `${FAMILY[n % 20]}^${GIVEN[Math.floor(n / 20) % 20]}${GIVEN[Math.floor(n / 400) % 20]}`,
    birth,
    phone: `139${String(10_000_000 + n).slice(-8)}`,
    street: `湖滨路${n}号`,
  });
}

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  return socket;
}

/**
 * Sends `messages` over one connection (a port to connect to, or an open socket) keeping at most
 * `window` unacknowledged; returns latencies (ms) and AA count.
 */
async function drive(target: number | net.Socket, messages: string[], window: number): Promise<{ latencies: number[]; aa: number }> {
  const socket = typeof target === 'number' ? await connect(target) : target;
  const decoder = new MllpDecoder();
  const sentAt: number[] = [];
  const latencies: number[] = [];
  let aa = 0;
  let next = 0;
  let acked = 0;
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (next < messages.length && next - acked < window) {
        sentAt.push(performance.now());
        socket.write(encodeFrame(messages[next++]!));
      }
    };
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.type !== 'message') continue;
        latencies.push(performance.now() - sentAt[acked]!);
        if (ev.payload.includes('MSA|AA')) aa++;
        acked++;
      }
      if (acked === messages.length) {
        socket.destroy();
        resolve({ latencies, aa });
      } else pump();
    });
    socket.on('error', reject);
    pump();
  });
}

/**
 * The sending side runs in its own process, as a hospital's interface engine would: it shares
 * the machine's two cores with the server, but not the server's event loop.
 */
type ClientJob = { port: number; window: number; connections: { prefix: string; facility: string; first: number; count: number }[] };
type ClientResult = { latencies: number[]; aa: number; seconds: number; cpuMs: number };

/** Starts the client, calls `onReady` once it has built its messages and connected, then lets it send. */
async function runClientProcess(job: ClientJob, onReady: () => void): Promise<ClientResult> {
  const child = fork(fileURLToPath(import.meta.url), ['--client'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m === 'ready') {
        onReady();
        child.send('go');
      } else resolve(m as ClientResult);
    });
    child.once('error', reject);
    child.once('exit', (code) => (code ? reject(new Error(`bench client exited with ${code}`)) : undefined));
    child.send(job);
  });
}

/** The child's side: build every message and connect first, then send on the parent's word. */
async function clientMain(): Promise<void> {
  const job = await new Promise<ClientJob>((resolve) => process.once('message', (m) => resolve(m as ClientJob)));
  const conns = job.connections.map((c) =>
    Array.from({ length: c.count }, (_, i) => registration(`${c.prefix}${i}`, c.facility, c.first + i)),
  );
  const sockets = await Promise.all(conns.map(() => connect(job.port)));
  const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
  process.send!('ready');
  await go;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(conns.map((m, i) => drive(sockets[i]!, m, job.window)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const result: ClientResult = {
    latencies: results.flatMap((r) => r.latencies),
    aa: results.reduce((s, r) => s + r.aa, 0),
    seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  process.send!(result, () => process.exit(0));
}

/** With --cpu-profile DIR: the server process's CPU profile of each burst alone, for Chrome DevTools. */
async function profileBurst<T>(dir: string | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!dir) return fn();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

async function runOne(
  store: 'pglite' | 'postgres',
  url: string | undefined,
  perConnection: number,
  window: number,
  label: string,
  withProcessors = true,
  profileDir?: string,
): Promise<Record<string, string | number>> {
  let cleanup: () => Promise<void>;
  let databaseUrl: string | undefined;
  let dataDir: string | undefined;
  if (store === 'postgres') {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const name = `yifang_mllpbench_${process.pid}_${window}`;
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    const u = new URL(url!);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    cleanup = async () => {
      // pg-pool's end() resolves before its sockets have closed; give them a moment, so the
      // forced drop does not terminate them mid-close (a harmless but noisy error).
      await new Promise((r) => setTimeout(r, 300));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    };
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-mllpbench-'));
    cleanup = async () => fs.rmSync(dataDir!, { recursive: true, force: true });
  }
  const server = await startServer({ databaseUrl, dataDir, port: 0, mllpPort: 0, quiet: true, adminPassword: 'bench-admin-pw' });
  try {
    if (!withProcessors) await server.processors.stop();
    if (databaseUrl) await server.auth.addUser({ username: 'admin', password: 'bench-admin-pw', roles: ['admin'] }).catch(() => undefined);
    const login = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'bench-admin-pw' }),
    });
    const { access_token } = (await login.json()) as { access_token: string };
    const status = (await (
      await fetch(`${server.url}/api/hl7/status`, { headers: { authorization: `Bearer ${access_token}` } })
    ).json()) as { mllpPort: number };
    // Warm-up in the same shape as the measured burst (JIT-compiled code, prepared plans, the
    // processors' batch paths), then let the processors catch up: the burst then measures a
    // server that has been running, not one compiling its code during the measurement.
    const warm = Math.ceil(perConnection / 2);
    await Promise.all(
      [0, 1, 2, 3].map((c) =>
        drive(
          status.mllpPort,
          Array.from({ length: warm }, (_, i) => registration(`WARM-${window}-${c}-${i}`, `WARM${c}`, 900_000 + c * warm + i)),
          window,
        ),
      ),
    );
    if (withProcessors) while ((await server.processors.lag()) > 0) await new Promise((r) => setTimeout(r, 100));
    const job: ClientJob = {
      port: status.mllpPort,
      window,
      connections: [0, 1, 2, 3].map((c) => ({
        prefix: `B${window}-${c}-`,
        facility: `HOSP${c}`,
        first: c * perConnection,
        count: perConnection,
      })),
    };
    let cpu0 = cpuSnapshot();
    const client = await profileBurst(profileDir, `mllp-${store}-window${window}`, () =>
      runClientProcess(job, () => {
        cpu0 = cpuSnapshot();
      }),
    );
    const seconds = client.seconds;
    const t0 = performance.now() - seconds * 1000;
    // CPU per message during the burst: the server's main thread (intake), its other threads (the
    // processor thread, V8's helpers), PostgreSQL, the client, and the whole machine.
    const cpu = cpuPerUnit(cpu0, cpuSnapshot(), client.latencies.length);
    // Derived data (identity links, visit counts, registries) follows the burst: how far behind
    // the change-log processors are when the last ACK arrives, and how long they take to catch up.
    const lagAtEnd = withProcessors ? await server.processors.lag() : 0;
    let caughtUp = performance.now();
    if (withProcessors) {
      while ((await server.processors.lag()) > 0) await new Promise((r) => setTimeout(r, 100));
      caughtUp = performance.now();
    }
    const lat = client.latencies.sort((a, b) => a - b);
    const total = lat.length;
    const stored = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM hl7_message WHERE status = 'stored' AND control_id LIKE $1`,
      [`B${window}-%`],
    );
    return {
      store,
      client: label,
      processors: withProcessors ? 'running' : 'stopped',
      messages: total,
      AA: client.aa,
      'stored rows': stored.rows[0]!.n,
      'messages/s': Math.round(total / seconds),
      'target /s': 1000,
      'ACK p50 ms': percentile(lat, 50).toFixed(1),
      'ACK p95 ms': percentile(lat, 95).toFixed(1),
      'ACK p99 ms': percentile(lat, 99).toFixed(1),
      'CPU ms/msg main thread': cpu?.mainThread ?? '',
      'other threads': cpu?.otherThreads ?? '',
      postgres: cpu?.postgres ?? '',
      sender: (client.cpuMs / total).toFixed(2),
      machine: cpu?.machineBusy ?? '',
      'steal ms/msg': cpu?.machineSteal ?? '',
      'changes behind at end': withProcessors ? lagAtEnd : '',
      'caught up after s': withProcessors ? ((caughtUp - t0) / 1000 - seconds).toFixed(1) : '',
      'end-to-end msg/s': withProcessors ? Math.round(total / ((caughtUp - t0) / 1000)) : '',
    };
  } finally {
    await server.close();
    await cleanup();
  }
}

export async function runMllpBench(argv: string[] = []): Promise<void> {
  const messages = Number(arg(argv, 'messages', '4000'));
  const only = arg(argv, 'only', '');
  const withProcessors = !argv.includes('--no-processors');
  const profileDir = argv.includes('--cpu-profile') ? arg(argv, 'cpu-profile', 'bench-profiles') : undefined;
  const pgUrl = process.env.YIFANG_TEST_PG_URL ?? process.env.DATABASE_URL;
  const rows: Record<string, string | number>[] = [];
  const stores: ['pglite' | 'postgres', string | undefined][] = [];
  if (pgUrl && only !== 'pglite') stores.push(['postgres', pgUrl]);
  if (only !== 'postgres') stores.push(['pglite', undefined]);
  for (const [store, url] of stores) {
    rows.push(await runOne(store, url, Math.ceil(messages / 4), 16, 'window 16 × 4 connections', withProcessors, profileDir));
    rows.push(await runOne(store, url, Math.ceil(messages / 16), 1, 'stop-and-wait × 4 connections', withProcessors, profileDir));
  }
  printTable(
    `MLLP ingest, ADT^A04 with PID/PV1 (${os.cpus().length} cores; AA only after the message, Patient and Encounter committed)`,
    rows,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--help'))
    console.log('node --import tsx bench/mllp.bench.ts [--messages 4000] [--only pglite|postgres] [--no-processors] [--cpu-profile DIR]');
  else if (process.argv.includes('--client')) await clientMain();
  else await runMllpBench(process.argv.slice(2));
}
