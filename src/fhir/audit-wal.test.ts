/**
 * The read write-ahead file (audit-wal.ts): lines on disk before an append is acknowledged,
 * grouped flushes, the drain and the file's removal, replay on start (torn lines skipped,
 * idempotent), the size bound, failures, the lock; then the same through AuditLog on the store.
 * No timings are asserted: drains are asked for, or held off with long delays.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { freshDatabase, storeKinds } from '../app/testing.js';
import { AuditLog, mayReadAuditTrail, type AuditInput } from './audit.js';
import { verifyAuditChain } from './audit-chain.js';
import { AuditWal, parseWalLine, walLine, type AuditWalOptions, type AuditWalStore } from './audit-wal.js';

const dirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-audit-wal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

let n = 0;
const event = (id = `ev-${++n}`): Resource =>
  ({ resourceType: 'AuditEvent', id, recorded: '2025-01-01T00:00:00.000Z', meta: { versionId: '1' } }) as Resource;

/** A store in memory; `failNext` makes commits fail, `landThenFail` stores and then reports a failure. */
function memoryStore() {
  const rows = new Map<string, Resource>();
  const commits: string[][] = [];
  const store = {
    rows,
    commits,
    failNext: 0,
    landThenFail: false,
    async commit(events: Resource[]) {
      if (store.failNext > 0) {
        store.failNext--;
        throw new Error('database unavailable');
      }
      for (const e of events) {
        if (rows.has(e.id!)) throw new Error(`duplicate key: ${e.id}`);
        rows.set(e.id!, e);
      }
      commits.push(events.map((e) => e.id!));
      if (store.landThenFail) {
        store.landThenFail = false;
        throw new Error('connection lost after commit');
      }
    },
    async stored(ids: string[]) {
      return new Set(ids.filter((id) => rows.has(id)));
    },
  };
  const typed: AuditWalStore = store;
  void typed;
  return store;
}

/** Drains only when asked (timers and batch size out of reach). */
const HELD: Partial<AuditWalOptions> = { drainMs: 1e9, drainIdleMs: 1e9, drainBatch: 1e9 };
const walFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.wal'));
const linesIn = (dir: string) =>
  walFiles(dir)
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean);
const silent = () => undefined;

describe('audit write-ahead file', () => {
  it('acknowledges an append once its line is on disk, drains it, then empties the file', async () => {
    const dir = tmpDir();
    const store = memoryStore();
    const wal = new AuditWal({ dir, ...HELD }, store, silent);
    await wal.open();
    const e = event();
    await wal.append(e);
    const lines = linesIn(dir);
    expect(lines).toHaveLength(1);
    expect(parseWalLine(lines[0]!)).toEqual(e);
    expect(store.rows.size).toBe(0);
    expect(wal.backlog).toBe(1);
    await wal.drainReady();
    expect([...store.rows.keys()]).toEqual([e.id]);
    expect(wal.backlog).toBe(0);
    await wal.close();
    expect(walFiles(dir)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
  });

  it('covers appends that arrive together with one write and one fdatasync', async () => {
    const store = memoryStore();
    const wal = new AuditWal({ dir: tmpDir(), ...HELD }, store, silent);
    await wal.open();
    await Promise.all(Array.from({ length: 50 }, () => wal.append(event())));
    expect(wal.stats).toMatchObject({ appended: 50, writes: 1 });
    await wal.close();
    expect(store.rows.size).toBe(50);
  });

  it('with syncToDisk off (the server on PGlite) acknowledges once written, without fdatasync', async () => {
    const dir = tmpDir();
    const store = memoryStore();
    // Count the fdatasyncs of every file handle while the file is in use.
    const probe = await fsp.open(path.join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void>; sync: () => Promise<void> };
    await probe.close();
    const { datasync, sync } = proto;
    let syncs = 0;
    proto.datasync = function (this: unknown) {
      syncs++;
      return datasync.call(this);
    };
    proto.sync = function (this: unknown) {
      syncs++;
      return sync.call(this);
    };
    try {
      const off = new AuditWal({ dir, ...HELD, syncToDisk: false }, store, silent);
      await off.open();
      const e = event();
      await off.append(e);
      // Another reader sees the line at once: it is in the operating system's hands, which a
      // process that dies leaves in place.
      expect(linesIn(dir).map((l) => parseWalLine(l))).toEqual([e]);
      expect(syncs).toBe(0);
      await off.close();
      expect([...store.rows.keys()]).toEqual([e.id]);

      const on = new AuditWal({ dir: tmpDir(), ...HELD }, memoryStore(), silent);
      await on.open();
      await on.append(event());
      expect(syncs).toBeGreaterThan(0);
      await on.close();
    } finally {
      proto.datasync = datasync;
      proto.sync = sync;
    }
  });

  it('drains by itself once appends pause, and in batches', async () => {
    const store = memoryStore();
    const wal = new AuditWal({ dir: tmpDir(), drainIdleMs: 0, drainBatch: 4 }, store, silent);
    await wal.open();
    await Promise.all(Array.from({ length: 10 }, () => wal.append(event())));
    while (store.rows.size < 10) await new Promise((r) => setTimeout(r, 5));
    expect(store.commits.map((c) => c.length)).toEqual([4, 4, 2]);
    await wal.close();
  });

  it('starts a new file past segmentBytes and removes each old one once its events are stored', async () => {
    const dir = tmpDir();
    const store = memoryStore();
    const wal = new AuditWal({ dir, ...HELD, segmentBytes: 1 }, store, silent);
    await wal.open();
    for (let i = 0; i < 3; i++) await wal.append(event());
    expect(walFiles(dir)).toHaveLength(3);
    await wal.flush(); // drained, and the drained files removed
    expect(walFiles(dir)).toHaveLength(1); // the active one, emptied
    expect(wal.bytesOnDisk).toBe(0);
    await wal.append(event());
    expect(walFiles(dir)).toHaveLength(1);
    await wal.close();
    expect(walFiles(dir)).toEqual([]);
    expect(store.rows.size).toBe(4);
  });

  it('replays on open what the database lacks, skipping torn and damaged lines, and removes the files', async () => {
    const dir = tmpDir();
    const [a, b, c, d] = [event(), event(), event(), event()];
    const damaged = walLine(d).replace('"AuditEvent"', '"AuditEvenT"'); // whole, but its check fails
    // A crash cut the last write short: its line is torn (its fdatasync never returned, so no
    // response waited for it).
    fs.writeFileSync(path.join(dir, 'reads-000000000007.wal'), walLine(a) + walLine(b) + damaged + walLine(c).slice(0, 40));
    const store = memoryStore();
    store.rows.set(a.id!, a); // drained before the crash; its file was not yet removed
    const logged: string[] = [];
    const wal = new AuditWal({ dir }, store, (m) => logged.push(m));
    const report = await wal.open();
    expect(report).toEqual({ files: 1, entries: 2, replayed: 1, torn: 2 });
    expect([...store.rows.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(logged.join('\n')).toContain('torn');
    expect(walFiles(dir)).toEqual([]);
    // New appends go to a new file, never after the torn tail.
    await wal.append(event());
    expect(walFiles(dir)).toEqual(['reads-000000000008.wal']);
    await wal.close();
  });

  it('is idempotent: a copy of the files taken before the drain replays nothing once it is stored', async () => {
    const dir = tmpDir();
    const copy = tmpDir();
    const store = memoryStore();
    const wal = new AuditWal({ dir, ...HELD }, store, silent);
    await wal.open();
    await Promise.all(Array.from({ length: 5 }, () => wal.append(event())));
    for (const f of walFiles(dir)) fs.copyFileSync(path.join(dir, f), path.join(copy, f));
    await wal.close();
    expect(store.rows.size).toBe(5);
    const again = new AuditWal({ dir: copy }, store, silent);
    expect(await again.open()).toMatchObject({ entries: 5, replayed: 0, torn: 0 });
    await again.close();
    expect(store.commits).toHaveLength(1);
  });

  it('keeps events through a failed drain and does not store twice one whose commit landed', async () => {
    const store = memoryStore();
    const wal = new AuditWal({ dir: tmpDir(), ...HELD }, store, silent);
    await wal.open();
    await Promise.all([wal.append(event()), wal.append(event())]);
    store.failNext = 1;
    await expect(wal.drainReady()).rejects.toThrow('database unavailable');
    expect(wal.backlog).toBe(2);
    await wal.append(event());
    store.landThenFail = true;
    await expect(wal.drainReady()).rejects.toThrow('connection lost');
    expect(store.rows.size).toBe(3);
    await wal.drainReady(); // leaves out what is stored: no duplicate key
    expect(wal.backlog).toBe(0);
    expect(wal.stats.drainFailures).toBe(2);
    await wal.close();
  });

  it('refuses appends past maxBytes (the caller stores them directly) and takes them again once drained', async () => {
    const store = memoryStore();
    const line = Buffer.byteLength(walLine(event('ev-size-probe')));
    const wal = new AuditWal({ dir: tmpDir(), ...HELD, maxBytes: line * 3 }, store, silent);
    await wal.open();
    const accepted = Array.from({ length: 5 }, () => wal.append(event('ev-size-pr' + String(++n).padStart(3, '0'))));
    expect(accepted.map((p) => p !== undefined)).toEqual([true, true, true, false, false]);
    await Promise.all(accepted);
    expect(wal.stats.overflow).toBe(2);
    expect(wal.bytesOnDisk).toBe(line * 3);
    await wal.flush(); // drained, and the file emptied
    await wal.append(event('ev-size-pr' + String(++n).padStart(3, '0')));
    expect(wal.bytesOnDisk).toBe(line);
    await wal.close();
  });

  it('rejects the appends of a failed write, then goes on in a new file', async () => {
    const dir = tmpDir();
    const store = memoryStore();
    const wal = new AuditWal({ dir, ...HELD }, store, silent);
    await wal.open();
    await wal.append(event());
    // The file goes bad under it (as after EIO): the write fails.
    await (wal as unknown as { active: { fh: fs.promises.FileHandle } }).active.fh.close();
    await expect(wal.append(event())).rejects.toThrow();
    await wal.append(event());
    expect(wal.stats.writeFailures).toBe(1);
    await wal.close();
    expect(store.rows.size).toBe(2); // the failed one is the caller's to store
    expect(walFiles(dir)).toEqual([]);
  });

  it('is one process per directory: refused while the holder lives, taken over from one that is gone', async () => {
    const dir = tmpDir();
    const lock = path.join(dir, 'lock');
    const wal = new AuditWal({ dir }, memoryStore(), silent);
    await wal.open();
    expect(fs.readFileSync(lock, 'utf8')).toBe(String(process.pid));
    await wal.close();
    expect(fs.existsSync(lock)).toBe(false);
    // Held by a live process (this one's parent): refused, naming it.
    fs.writeFileSync(lock, String(process.ppid));
    await expect(new AuditWal({ dir }, memoryStore(), silent).open()).rejects.toThrow(`in use by process ${process.ppid}`);
    // Left by a process that is gone (no pid is that large), or by this one (a start that failed part way).
    for (const holder of ['4194304999', String(process.pid)]) {
      fs.writeFileSync(lock, holder);
      const next = new AuditWal({ dir }, memoryStore(), silent);
      await next.open();
      await next.close();
    }
  });
});

describe('mayReadAuditTrail', () => {
  it('names the requests that can see AuditEvents', () => {
    expect(mayReadAuditTrail('GET', '/fhir/AuditEvent?entity=Patient/1')).toBe(true);
    expect(mayReadAuditTrail('GET', '/fhir/Patient?_revinclude=AuditEvent%3Aentity')).toBe(true);
    expect(mayReadAuditTrail('GET', '/fhir/Patient?_has:AuditEvent:entity:agent=x')).toBe(true);
    expect(mayReadAuditTrail('GET', '/fhir/_history')).toBe(true);
    expect(mayReadAuditTrail('GET', '/fhir?_type=Patient')).toBe(true);
    expect(mayReadAuditTrail('GET', '/api/audit/events?user=x')).toBe(true);
    expect(mayReadAuditTrail('POST', '/fhir', { resourceType: 'Bundle', entry: [{ request: { method: 'GET', url: 'x' } }] })).toBe(true);
    expect(mayReadAuditTrail('POST', '/fhir', { resourceType: 'Bundle', entry: [{ request: { method: 'POST', url: 'Patient' } }] })).toBe(
      false,
    );
    expect(mayReadAuditTrail('GET', '/fhir/Patient/1')).toBe(false);
    expect(mayReadAuditTrail('GET', '/fhir/Patient?name=Li')).toBe(false);
    expect(mayReadAuditTrail('GET', '/api/surveillance/alerts')).toBe(false);
  });
});

const READ: AuditInput = {
  user: { username: 'dr-li', displayName: '李医生', roles: ['clinician'] },
  action: 'R',
  subtype: 'read',
  entities: ['Patient/p1'],
  outcome: 'success',
};

describe('audit log with the read write-ahead file', () => {
  for (const kind of storeKinds()) {
    it(`acknowledges reads from the file, stores them on settle, and replays a crash's leftovers into the chain [${kind}]`, async () => {
      const db = await freshDatabase(kind);
      const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_chain`)).rows[0]!.n;
      try {
        const dir = tmpDir();
        const audit = new AuditLog(db, { readWal: { dir, ...HELD } });
        await audit.init();
        await Promise.all(Array.from({ length: 20 }, (_, i) => audit.record({ ...READ, purpose: `settle-${i}` })));
        expect(linesIn(dir)).toHaveLength(20);
        expect(await count()).toBe(0);
        await audit.settle();
        expect(await count()).toBe(20);
        await audit.close();
        expect(walFiles(dir)).toEqual([]);

        // What a crash leaves: acknowledged lines the drain never reached, and a torn last one.
        const crashed = tmpDir();
        const left = Array.from({ length: 7 }, (_, i) => {
          const e = audit.build({ ...READ, purpose: `replay-${i}` });
          return { ...e, meta: { versionId: '1', lastUpdated: e.recorded } } as Resource;
        });
        fs.writeFileSync(
          path.join(crashed, 'reads-000000000001.wal'),
          left.map(walLine).join('') + walLine(audit.build({ ...READ, purpose: 'torn' }) as Resource).slice(0, 100),
        );
        const copy = tmpDir();
        fs.copyFileSync(path.join(crashed, 'reads-000000000001.wal'), path.join(copy, 'reads-000000000001.wal'));
        // Restarted with the file turned off: what the last run left is stored all the same.
        const restarted = new AuditLog(db, { readWal: false, readWalDir: crashed });
        await restarted.init();
        expect(restarted.wal).toBeUndefined();
        expect(restarted.replayed).toEqual({ files: 1, entries: 7, replayed: 7, torn: 1 });
        expect(walFiles(crashed)).toEqual([]);
        await restarted.close();
        expect(await count()).toBe(27);
        // Replayed twice (a crash during the first replay): nothing stored twice.
        const again = new AuditLog(db, { readWal: { dir: copy } });
        await again.init();
        expect(again.replayed).toMatchObject({ entries: 7, replayed: 0 });
        await again.close();
        expect(await count()).toBe(27);
        const purposes = (
          await db.query<{ t: string }>(
            `SELECT content #>> '{purposeOfEvent,0,text}' AS t FROM resource_history WHERE resource_type = 'AuditEvent'`,
          )
        ).rows.map((r) => r.t);
        expect(purposes).toEqual(expect.arrayContaining(left.map((_, i) => `replay-${i}`)));
        expect(purposes).not.toContain('torn');
        const report = await verifyAuditChain(db.pool, audit.keys);
        expect(report.problems).toEqual([]);
        expect(report.events).toBe(27);
      } finally {
        await db.dispose();
      }
    });
  }

  it('stores a read directly when the file is full', async () => {
    const db = await freshDatabase('pglite');
    try {
      const audit = new AuditLog(db, { readWal: { dir: tmpDir(), ...HELD, maxBytes: 1 } });
      await audit.init();
      await audit.record(READ);
      expect(audit.wal!.stats.overflow).toBe(1);
      expect(audit.stats.events).toBe(1); // committed through the group commit before it settled
      await audit.close();
    } finally {
      await db.dispose();
    }
  });
});
