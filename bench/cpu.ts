/**
 * CPU accounting for the server benchmarks, from Linux's /proc: this process's main thread, its
 * other threads (worker threads, V8's compiler and GC helpers) and the local PostgreSQL processes,
 * plus the whole machine's busy and steal time. CPU per message drifts far less than messages per
 * second when this shared machine has a slow spell. Off Linux every reading is null.
 */
import fs from 'node:fs';

const TICK_MS = 10; // USER_HZ = 100

export interface CpuSnapshot {
  mainThread: number;
  otherThreads: number;
  postgres: number;
  machineBusy: number;
  machineSteal: number;
}

function ticksOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function cpuSnapshot(): CpuSnapshot | null {
  const machine = readOr('/proc/stat');
  if (!machine) return null;
  const [user, nice, system, , , irq, softirq, steal] = machine.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
  let mainThread = 0;
  let otherThreads = 0;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const stat = readOr(`/proc/self/task/${tid}/stat`);
    if (!stat) continue;
    if (tid === String(process.pid)) mainThread += ticksOf(stat);
    else otherThreads += ticksOf(stat);
  }
  // Backends that exit during the burst take their ticks with them: read before the server closes.
  let postgres = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = readOr(`/proc/${pid}/stat`);
    if (stat && stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('postgres')) postgres += ticksOf(stat);
  }
  return { mainThread, otherThreads, postgres, machineBusy: user! + nice! + system! + irq! + softirq!, machineSteal: steal! };
}

/** Milliseconds of CPU per unit of work between two snapshots, by part. */
export function cpuPerUnit(a: CpuSnapshot | null, b: CpuSnapshot | null, units: number): Record<keyof CpuSnapshot, string> | null {
  if (!a || !b) return null;
  const per = (k: keyof CpuSnapshot) => (((b[k] - a[k]) * TICK_MS) / units).toFixed(2);
  return {
    mainThread: per('mainThread'),
    otherThreads: per('otherThreads'),
    postgres: per('postgres'),
    machineBusy: per('machineBusy'),
    machineSteal: per('machineSteal'),
  };
}
