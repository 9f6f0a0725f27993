/**
 * CPU profiles of the benchmarks' server processes (`node --cpu-prof`): the options that make a
 * process write one, and a summary of what it spent its time in (self time per function, and the
 * inclusive time of the package's own functions), printed next to the figures.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Node.js options that write a .cpuprofile into `dir` when the process exits. */
export function cpuProfileArgs(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  percent: number;
}

export interface ProfileSummary {
  /** Sampled time, ms. */
  totalMs: number;
  /** Functions by self time, highest first. */
  self: ProfileLine[];
  /** The package's functions (lib/, nodes/) by inclusive time, highest first. */
  inclusive: ProfileLine[];
}

/**
 * `readSampledValue lib/ocpp/sampled-values.ts`, `_onMessage node_modules/ocpp-rpc/lib/client.js:681`,
 * `(garbage collector)`, `writev (native)`. The package's own files are named without a line: run
 * through tsx, their lines are those of the transpiled code.
 */
function frameName(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name.startsWith('(') ? name : `${name} (native)`;
  const url = frame.url.replace(/^file:\/\//, '');
  const modules = url.lastIndexOf('node_modules/');
  const own = Math.max(url.lastIndexOf('/lib/'), url.lastIndexOf('/nodes/'));
  const short = modules >= 0 ? url.slice(modules) : own >= 0 ? url.slice(own + 1) : url.replace(/^.*\//, '');
  return isOwnCode(frame) ? `${name} ${short}` : `${name} ${short}:${frame.lineNumber + 1}`;
}

function isOwnCode(frame: ProfileNode['callFrame']): boolean {
  return /\/(lib|nodes)\//.test(frame.url) && !frame.url.includes('node_modules');
}

/** Self and inclusive time per function of one .cpuprofile. */
export function summariseProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const idle = profile.nodes.find((node) => node.callFrame.functionName === '(idle)');
  const busyUs = totalUs - (idle ? (selfUs.get(idle.id) ?? 0) : 0);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node || node === idle) continue;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    // Each of the package's functions on the stack once, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !isOwnCode(frame)) continue;
      const ownName = frameName(frame);
      if (seen.has(ownName)) continue;
      seen.add(ownName);
      inclusive.set(ownName, (inclusive.get(ownName) ?? 0) + us);
    }
  }
  const ranked = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, percent: (us / busyUs) * 100 }));
  return { totalMs: busyUs / 1000, self: ranked(self), inclusive: ranked(inclusive) };
}

/** The .cpuprofile files in `dir`, largest first. */
export function profilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => join(dir, file))
    .sort((a, b) => statSync(b).size - statSync(a).size);
}

/** The summary as lines to print under a heading. */
export function profileLines(summary: ProfileSummary): string[] {
  const format = (line: ProfileLine) => `    ${line.percent.toFixed(1).padStart(5)} %  ${line.name}`;
  return [
    `  busy ${(summary.totalMs / 1000).toFixed(1)} s sampled; self time (% of busy):`,
    ...summary.self.map(format),
    '  inclusive time of the package functions (% of busy):',
    ...summary.inclusive.map(format),
  ];
}
