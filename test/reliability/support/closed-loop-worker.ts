/**
 * One worker of test/reliability/closed-loop_spec.ts: checks the closed-loop property
 * (test/support/closed-loop-property.ts) on its share of the cases of one seed, every
 * `count`-th case from `index`, and prints one line `RESULT <json>` at the end.
 *
 *   node --import tsx closed-loop-worker.ts <seed> <runs> <index> <count> <counterexample dir> [pv|faults|it]
 *
 * `pv`: the sites with a PV plant and cars on pv and minpv (pvPlanArbitrary); `faults`: real-site
 * defaults with silent and lying meters, slow and refusing chargers (faultPlanArbitrary); `it`: the
 * sites on an IT network with single-phase connectors and cars (itPlanArbitrary).
 *
 * Every failing case is written to `<dir>/closed-loop-<seed>-<path>.json` (the plan, the error and
 * the command that replays it with the short form's environment variables), and the run goes on.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultPlanArbitrary, faultsReplayCommand } from '../../support/closed-loop-fault-plans';
import { itPlanArbitrary, itReplayCommand } from '../../support/closed-loop-it-plans';
import {
  checkClosedLoop,
  planArbitrary,
  pvPlanArbitrary,
  replayCommand,
} from '../../support/closed-loop-property';

const [seed, runs, index, count] = process.argv.slice(2, 6).map(Number) as [number, number, number, number];
const dir = process.argv[6] as string;
const kind = process.argv[7];
const plans =
  kind === 'pv'
    ? pvPlanArbitrary
    : kind === 'faults'
      ? faultPlanArbitrary
      : kind === 'it'
        ? itPlanArbitrary
        : planArbitrary;

const startedMs = Date.now();
const cpuAtStart = process.cpuUsage();
let checked = 0;
const failures: { path: string; error: string; replay: string; file: string }[] = [];
const details = checkClosedLoop(
  {
    seed,
    runs,
    shard: { index, count },
    onCase: () => {
      checked += 1;
      if (checked % 500 === 0)
        console.log(
          `worker ${index}/${count}: ${checked} sites in ${((Date.now() - startedMs) / 1000).toFixed(0)} s`,
        );
    },
    // Every failing case is kept, and the run goes on: one run finds them all.
    onFailure: ({ path, error, plan }) => {
      checked += 1;
      const file = join(dir, `closed-loop-${seed}-${path}.json`);
      const replay =
        kind === 'faults'
          ? faultsReplayCommand(seed, path)
          : kind === 'it'
            ? itReplayCommand(seed, path)
            : replayCommand(seed, path, kind === 'pv');
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `${JSON.stringify({ seed, path, replay, error: error.message, plan }, null, 2)}\n`);
      failures.push({ path, error: error.message.slice(0, 2000), replay, file });
    },
  },
  plans,
);
if (details.failed) {
  // Not a case that failed (those are above): the run itself did.
  failures.push({ path: '', error: String(details.errorInstance), replay: '', file: '' });
}
const cpu = process.cpuUsage(cpuAtStart);
console.log(
  `RESULT ${JSON.stringify({ index, checked, wallMs: Date.now() - startedMs, cpuMs: (cpu.user + cpu.system) / 1000, failures })}`,
);
