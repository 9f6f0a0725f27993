/**
 * What every benchmark prints about the machine it ran on, and the statistics they share.
 * Figures are only comparable with the machine and its load next to them.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** The soft limit on open files of this process (each WebSocket is one), from /proc. */
export function openFilesLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line?.replace('Max open files', '').trim().split(/\s+/) ?? [];
    return `${soft ?? '?'} (hard ${hard ?? '?'})`;
  } catch {
    return 'unknown';
  }
}

/** One line: CPU model, cores, memory, OS, Node.js, open-files limit and the load average now. */
export function machineLine(): string {
  const cpu = cpus();
  const load = loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  return (
    `machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `${platform()} ${release()}, Node.js ${process.version}; ulimit -n ${openFilesLimit()}; load average ${load}`
  );
}

/** The load average (1 min) now, for lines printed during a run. */
export function loadNow(): string {
  return loadavg()[0]?.toFixed(2) ?? '?';
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p99 of 100 samples is the 99th smallest). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** CPU time (user + system) and resident memory of any process of ours, read from /proc. */
export function processUsage(pid: number): { cpuMs: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerS = 100; // USER_HZ on Linux
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuMs: ((utime + stime) * 1000) / ticksPerS, rssBytes: rssPages * 4096 };
}

/** This process's CPU time (user + system) in ms. */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/**
 * Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC through process.hrtime): unlike
 * performance.now(), whose origin is each process's start, comparable between processes.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves after `ms` of wall time: benchmarks measure over real windows (tests never sleep). */
export function wallTime(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` over `items` with at most `concurrency` at a time. */
export async function inBatches<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** A measured stretch of load: messages a second, the server's CPU per message and in %, ours in %. */
export interface CpuFigures {
  perS: number;
  cpuUsPerMessage: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
}

/**
 * Starts measuring the process `pid` (the server) and this one (the load generator); the function
 * it returns ends the stretch and gives its figures for the `messages` handled in it.
 */
export function cpuWindow(pid: number): (messages: number) => CpuFigures {
  const server0 = processUsage(pid).cpuMs;
  const own0 = ownCpuMs();
  const t0 = performance.now();
  return (messages) => {
    const elapsedMs = performance.now() - t0;
    const serverMs = processUsage(pid).cpuMs - server0;
    const ownMs = ownCpuMs() - own0;
    return {
      perS: (messages / elapsedMs) * 1000,
      cpuUsPerMessage: (serverMs * 1000) / messages,
      serverCpuPercent: (serverMs / elapsedMs) * 100,
      generatorCpuPercent: (ownMs / elapsedMs) * 100,
    };
  };
}
