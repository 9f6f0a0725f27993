/**
 * The load manager against an older copy of itself, for changes that must not change behaviour
 * (speed work): the same random allocation problems, the same random input sequences for a whole
 * LoadManager (set-points and summaries after every step) and the four scenarios (set-points every
 * simulated second) must give byte-identical JSON; then the CPU time of both, interleaved in the
 * same run (ratios, not absolute times: the machine is shared).
 *
 *   git archive <old commit> lib | tar -x -C /tmp/old && ln -s "$PWD/node_modules" /tmp/old/node_modules
 *   npm run bench:dlm-compare -- --old /tmp/old [--sizes 100,1000,5000] [--problems 200,40,10] [--steps 60]
 *     [--time-sizes 100,200,500,1000,2000,5000] [--rounds 7] [--skip-check] [--skip-time] [--varied]
 *
 * `--varied` times allocate() on the varied problems (floors, PV, power and unbalance limits on
 * supply lines, whose fix-up pauses and starts over) instead of the plain ones.
 *
 * Ratios below ~1.15 are not evidence in one process: timed against an identical copy of itself,
 * the code loaded second ('new') measured 1.13-1.16x (allocate, 1,000 and 5,000 connectors, loaded
 * 2-core machine), the order of the runs alternated or not. For small differences, time each copy
 * in a process of its own, alternating the processes.
 *
 * Exits with 1 when any output differs. Not part of npm test.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ManualClock as ManualClockType } from '../lib/clock';
import type { allocate as allocateFn } from '../lib/dlm/allocation/allocate';
import type { LoadManagerOptions, LoadManager as LoadManagerType } from '../lib/dlm/load-manager';
import type { SiteConfig } from '../lib/dlm/site';
import { silentLogger } from '../lib/log';
import { seededRandom } from '../sim/fleet';
import type * as Scenarios from '../sim/site-scenarios';
import { bigSite, fillSite, randomInputs, randomProblem } from './support/dlm-sites';
import { machineLine, median } from './support/machine';
import { TINY_DAY_MS, tinyCap } from './support/options';

interface Code {
  label: string;
  allocate: typeof allocateFn;
  LoadManager: new (options: LoadManagerOptions) => LoadManagerType;
  ManualClock: new (startMs: number) => ManualClockType;
  scenarios: typeof Scenarios;
}

const { values } = parseArgs({
  options: {
    old: { type: 'string' },
    sizes: { type: 'string', default: '100,1000,5000' },
    problems: { type: 'string', default: '200,40,10' },
    steps: { type: 'string', default: '60' },
    'time-sizes': { type: 'string', default: '100,200,500,1000,2000,5000' },
    rounds: { type: 'string', default: '7' },
    'skip-check': { type: 'boolean', default: false },
    'skip-time': { type: 'boolean', default: false },
    varied: { type: 'boolean', default: false },
  },
});
/** A list option's numbers, each at most `cap` when the bench runs tiny (AMPFLOW_BENCH_TINY=1). */
const numbers = (text: string, cap: number) => [
  ...new Set(text.split(',').map((n) => tinyCap(Number(n), cap))),
];

async function load(root: string, label: string): Promise<Code> {
  const at = (path: string) => pathToFileURL(join(root, path)).href;
  const [allocation, manager, clock, scenarios] = await Promise.all([
    import(at('lib/dlm/allocation/allocate.ts')),
    import(at('lib/dlm/load-manager.ts')),
    import(at('lib/clock.ts')),
    // A checkout from before the simulator left lib/ (issue #47) has it in lib/sim.
    import(at(existsSync(join(root, 'sim')) ? 'sim/site-scenarios.ts' : 'lib/sim/site-scenarios.ts')),
  ]);
  return {
    label,
    allocate: allocation.allocate,
    LoadManager: manager.LoadManager,
    ManualClock: clock.ManualClock,
    scenarios,
  };
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Every step's set-points and summary, as one text. */
function drive(code: Code, site: SiteConfig, seed: number, steps: number): string {
  const clock = new code.ManualClock(Date.UTC(2026, 5, 21, 11));
  const manager = new code.LoadManager({ site, clock, logger: silentLogger });
  const out: string[] = [];
  manager.on('setPoint', (setPoint) => out.push(JSON.stringify(setPoint)));
  manager.start();
  for (const step of randomInputs(site, seededRandom(seed), clock.now(), steps)) {
    clock.advance(step.advanceMs);
    manager.batch(() => {
      for (const state of step.states) manager.connectorState(state);
      for (const reading of step.readings) manager.reading(reading);
    });
    for (const command of step.commands) out.push(manager.command(command));
    out.push(JSON.stringify(manager.summary()));
  }
  manager.stop();
  return out.join('\n');
}

function scenarioRun(code: Code, name: string, durationMs: number): string {
  const s = code.scenarios;
  const scenario =
    name === 'climkit'
      ? s.climkitZone({ rogue: ['CP-3/1'] })
      : name === 'bender'
        ? s.benderMaster()
        : name === 'dual'
          ? s.dualCharger()
          : s.pvHome({ phaseSwitching: true });
  const out: string[] = [];
  const result = s.runScenario(scenario, {
    durationMs: Math.min(durationMs, scenario.durationMs),
    onStep: (_sim, manager) => out.push(JSON.stringify(manager.setPoints())),
  });
  out.push(JSON.stringify({ energy: result.energyWh, starts: result.starts, pv: result.pv }));
  return out.join('\n');
}

function check(old: Code, now: Code): boolean {
  let same = true;
  const report = (what: string, a: string, b: string) => {
    const ok = a === b;
    same &&= ok;
    console.log(
      `${ok ? 'same' : 'DIFFERENT'}: ${what} (${digest(a)}${ok ? '' : ` vs ${digest(b)}`}, ${a.length} chars)`,
    );
  };
  const sizes = numbers(values.sizes, 100);
  const counts = numbers(values.problems, 5);
  sizes.forEach((size, i) => {
    const site = bigSite(size);
    for (const varied of [false, true]) {
      const random = seededRandom(1000 + size + (varied ? 1 : 0));
      const a: string[] = [];
      const b: string[] = [];
      for (let n = 0; n < (counts[i] ?? 10); n++) {
        const problem = randomProblem(site, random, varied);
        a.push(JSON.stringify(old.allocate(problem)));
        b.push(JSON.stringify(now.allocate(problem)));
      }
      report(
        `allocate(), ${counts[i] ?? 10} ${varied ? 'varied ' : ''}problems of ${size} connectors`,
        a.join('\n'),
        b.join('\n'),
      );
    }
  });
  const steps = tinyCap(Number(values.steps), 5);
  for (const size of sizes) {
    for (const rich of [false, true]) {
      const site = bigSite(size, rich);
      report(
        `LoadManager, ${steps} steps on ${size} connectors${rich ? ' (meters, modes, PV, switching)' : ''}`,
        drive(old, site, size + 5, steps),
        drive(now, site, size + 5, steps),
      );
    }
  }
  // Climkit's meter drops out from 3 h to 3 h 10 min (the fail-safe caps): run it past that.
  for (const [name, hours] of [
    ['climkit', 3.5],
    ['bender', 2],
    ['dual', 2],
    ['pvHome', 2],
  ] as const) {
    const ms = tinyCap(hours * 3_600_000, TINY_DAY_MS);
    report(`scenario ${name}, ${hours} h`, scenarioRun(old, name, ms), scenarioRun(now, name, ms));
  }
  return same;
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** Each code in turn, the order reversed every other round (the one run second pays for collecting the first's garbage). */
function inTurn(codes: Code[], round: number, run: (code: Code, i: number) => void): void {
  const order = codes.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const i of order) {
    const code = codes[i];
    if (code) run(code, i);
  }
}

/** CPU ms per allocate() of old and new, interleaved: best round, each round the same problems. */
function timeAllocate(codes: Code[], size: number, rounds: number): number[] {
  const site = bigSite(size);
  const random = seededRandom(1000);
  const problems = Array.from({ length: Math.max(4, Math.round(40_000 / size)) }, () =>
    randomProblem(site, random, values.varied),
  );
  const best = codes.map(() => Number.POSITIVE_INFINITY);
  for (let round = 0; round < rounds; round++) {
    inTurn(codes, round, (code, i) => {
      const started = cpuMs();
      for (const problem of problems) code.allocate(problem);
      best[i] = Math.min(best[i] ?? 0, (cpuMs() - started) / problems.length);
    });
  }
  return best;
}

/**
 * CPU ms per LoadManager update on a grid reading (bench:dlm's update), old and new: median. One
 * manager at a time, made again for each round (the other's heap would charge its collections to it).
 */
function timeUpdate(codes: Code[], size: number, rounds: number): number[] {
  const site = bigSite(size);
  const samples = codes.map(() => [] as number[]);
  const perRound = Math.max(3, Math.round(10_000 / size));
  for (let round = 0; round < rounds; round++) {
    inTurn(codes, round, (code, i) => {
      const random = seededRandom(7 + round);
      const clock = new code.ManualClock(Date.UTC(2026, 5, 21, 18));
      const manager = new code.LoadManager({ site, clock, logger: silentLogger });
      const iso = () => new Date(clock.now()).toISOString();
      fillSite(manager, site, random, iso);
      manager.start();
      for (let n = 0; n < perRound + 2; n++) {
        clock.advance(1000);
        const load = size * (0.8 + random() * 0.2);
        const started = cpuMs();
        manager.reading({ source: 'grid-meter', timestamp: iso(), currentA: [load, load - 20, load + 10] });
        if (n >= 2) samples[i]?.push(cpuMs() - started);
      }
      manager.stop();
    });
  }
  return samples.map((s) => median(s));
}

function timing(old: Code, now: Code): void {
  const sizes = numbers(values['time-sizes'], 100);
  const rounds = tinyCap(Number(values.rounds), 1);
  const codes = [old, now];
  timeAllocate(codes, 1000, 2); // warm-up
  timeUpdate(codes, 500, 1);
  const rows: { size: number; allocate: number[]; update: number[] }[] = [];
  console.log(
    `\nCPU ms (allocate${values.varied ? ' on varied problems' : ''}: best of rounds; update: median), old → new (new/old):`,
  );
  for (const size of sizes) {
    const allocate = timeAllocate(codes, size, rounds);
    const update = timeUpdate(codes, size, rounds);
    rows.push({ size, allocate, update });
    const f = (v: number[]) =>
      `${(v[0] ?? 0).toFixed(3)} → ${(v[1] ?? 0).toFixed(3)} (${((v[1] ?? 0) / (v[0] ?? 1)).toFixed(2)})`;
    console.log(
      `${String(size).padStart(5)} connectors: allocate ${f(allocate)}; update ${f(update)}; update/allocate ${((update[0] ?? 0) / (allocate[0] ?? 1)).toFixed(2)} → ${((update[1] ?? 0) / (allocate[1] ?? 1)).toFixed(2)}`,
    );
  }
  console.log('growth per doubling of connectors (old → new):');
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    if (!a || !b) continue;
    const exponent = Math.log(2) / Math.log(b.size / a.size);
    const per = (x: number[], y: number[], j: number) => ((y[j] ?? 0) / (x[j] ?? 1)) ** exponent;
    console.log(
      `${a.size} → ${b.size}: allocate ${per(a.allocate, b.allocate, 0).toFixed(2)} → ${per(a.allocate, b.allocate, 1).toFixed(2)}, update ${per(a.update, b.update, 0).toFixed(2)} → ${per(a.update, b.update, 1).toFixed(2)}`,
    );
  }
}

async function main(): Promise<void> {
  if (!values.old) throw new Error('--old <directory with the old lib/> is required');
  console.log('ampflow load manager: old against new');
  console.log(machineLine());
  console.log(`old: ${resolve(values.old)}\n`);
  const old = await load(resolve(values.old), 'old');
  const now = await load(resolve(__dirname, '..'), 'new');
  let same = true;
  if (!values['skip-check']) same = check(old, now);
  if (!values['skip-time']) timing(old, now);
  if (!same) {
    console.log('\nOUTPUTS DIFFER');
    process.exitCode = 1;
  }
}

void main();
