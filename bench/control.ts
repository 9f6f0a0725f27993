/**
 * Control quality against the ideal (issue #39): whole simulated days through the real load
 * manager (LoadManager on a ManualClock against the site simulator's chargers, meters, cars, PV and
 * battery), and for the same truth the ideal: ampflow's own allocation with perfect, instant
 * knowledge (bench/control/ideal.ts). Per day: delivered ÷ ideal energy, seconds over any limit,
 * starts per car, the PV surplus share (PV days) and cost ÷ optimal cost (the tariff day, when
 * bench/control/tariff-day.ts is there). What is real and what is modelled: docs/performance.md.
 *
 *   npm run bench:control -- [--day carpark|home|pv-sunny-cloudy|pv-fast-clouds|tariff|pv] [--seed N] [--hidden-seed]
 *                            [--fleet simulator|mixed|<habit>,<habit>…] [--cars] [--oracle]
 *
 * `home` is issue #45's home layout (sim/site-scenarios.ts `homeLayout`: a grid meter that
 * counts the chargers, three cars on 63 A, chargers that report every 10, 30 and 60 s).
 * `--fleet mixed` gives every charger of the car park and the home day the habits of the fleet as
 * found (sim/charger-habits.ts, the population the closed-loop properties draw from: kept
 * limits, no SmartCharging, unphased or energy-only meters, readings every 5-60 s, limits followed
 * in 1-60 s, cars 0-3 % above their limit or below it), drawn with the day's seed, and prints
 * delivered ÷ ideal per behaviour (bench/control/fleet.ts); `--fleet following,overshoot` plays
 * those habits alone (what costs what); `simulator` (the default) the simulator's own chargers.
 * With a fleet only the days that have its variant run (carpark, home).
 *
 * Each day has a fixed seed (the carpark 63, the home day 45, the PV days 10 and 11, the tariff day its own);
 * `--seed N` runs every chosen day with N, `--hidden-seed` with a random seed that is printed;
 * `--cars` prints each car's energy and starts beside the ideal's; `--oracle` (PV days) the best
 * share any policy with perfect knowledge reaches with at most 2, 3, 4 starts (bench/control/oracle.ts).
 *
 * Not part of npm test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Population } from '../sim/charger-habits';
import type { DayOptions, DayResult } from './control/day-result';
import { LOCAL_DAYS, runLocalDay } from './control/days';
import { fleetArgument, parseFleet } from './control/fleet';
import { oracleLines } from './control/oracle-lines';
import { machineLine } from './support/machine';
import { TINY, TINY_DAY_MS } from './support/options';

const TARIFF_DAY = join(__dirname, 'control', 'tariff-day.ts');
const TARIFF_DEFAULT_SEED = 1;

interface DayRun {
  name: string;
  defaultSeed: number;
  /** It has a variant with the fleet's habits (`--fleet`). */
  fleet?: true;
  run: (seed: number, fleet?: Population) => Promise<DayResult>;
}

function days(): DayRun[] {
  const list: DayRun[] = LOCAL_DAYS.map((d) => ({
    ...d,
    run: async (seed: number, fleet?: Population) =>
      runLocalDay(d.name, seed, TINY ? TINY_DAY_MS : undefined, fleet),
  }));
  // Day 3 comes from the prices work (bench/control/tariff-day.ts); without it the bench runs the others.
  if (existsSync(TARIFF_DAY))
    list.push({
      name: 'tariff',
      defaultSeed: TARIFF_DEFAULT_SEED,
      run: async (seed: number) => {
        const module = (await import(TARIFF_DAY)) as {
          runTariffDay: (options: DayOptions) => Promise<DayResult>;
        };
        return module.runTariffDay({ seed });
      },
    });
  return list;
}

/** The day's own mean, else the mean of its starts per car. */
function meanStarts(r: DayResult): number {
  const starts = Object.values(r.startsPerCar);
  return r.meanStartsPerCar ?? (starts.length > 0 ? starts.reduce((a, b) => a + b, 0) / starts.length : 0);
}

const pct = (value: number | undefined) => (value === undefined ? '' : `${(value * 100).toFixed(1)} %`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      day: { type: 'string' },
      seed: { type: 'string' },
      'hidden-seed': { type: 'boolean', default: false },
      cars: { type: 'boolean', default: false },
      oracle: { type: 'boolean', default: false },
      fleet: { type: 'string' },
    },
  });
  const fleet = parseFleet(values.fleet);
  const all = days();
  const named = values.day
    ? all.filter((d) => d.name === values.day || (values.day === 'pv' && d.name.startsWith('pv-')))
    : all;
  if (named.length === 0)
    throw new Error(`--day: no day "${values.day}" (days: ${all.map((d) => d.name).join(', ')}, pv)`);
  const chosen = fleet ? named.filter((d) => d.fleet) : named;
  if (chosen.length === 0)
    throw new Error(
      `--fleet: no variant of ${values.day} with the fleet's habits (days that have one: ${all
        .filter((d) => d.fleet)
        .map((d) => d.name)
        .join(', ')})`,
    );
  let seed: number | undefined;
  if (values['hidden-seed']) seed = Math.floor(Math.random() * 1_000_000);
  else if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0)
      throw new Error(`--seed: a whole number ≥ 0, not "${values.seed}"`);
  }
  console.log(
    'ampflow control quality: delivered against the ideal (same policy, perfect instant knowledge)',
  );
  console.log(machineLine());
  if (!existsSync(TARIFF_DAY)) console.log('(no tariff day: bench/control/tariff-day.ts is not there)');
  if (values['hidden-seed']) console.log(`hidden seed: ${seed}`);
  if (fleet) console.log(`fleet: ${fleetArgument(fleet)} (habits drawn with each day's seed)`);
  console.log('');
  const results: DayResult[] = [];
  for (const day of chosen) {
    const result = await day.run(seed ?? day.defaultSeed, fleet);
    results.push(result);
    printDay(result, values.cars === true);
    if (values.oracle)
      for (const line of oracleLines(day.name, seed ?? day.defaultSeed, TINY ? TINY_DAY_MS : undefined))
        console.log(line);
  }
  console.log(
    '| day | seed | delivered ÷ ideal | delivered / ideal kWh | s over (beyond the chargers’ pace) | starts per car max / mean | PV surplus share (ideal) | cost ÷ optimal | computed in |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const pv = r.surplusShare === undefined ? '' : `${pct(r.surplusShare)} (${pct(r.idealSurplusShare)})`;
    const cost =
      r.costRatio === undefined
        ? ''
        : `${r.costRatio.toFixed(3)}×${r.reachedByDeparture === undefined ? '' : r.reachedByDeparture ? ', energy reached' : ', energy NOT reached'}`;
    console.log(
      `| ${r.day}${r.fleet ? ` (fleet ${r.fleet})` : ''} | ${r.seed} | ${pct(r.ratio)} | ${r.deliveredKWh.toFixed(1)} / ${r.idealKWh.toFixed(1)} | ${r.secondsOver}${r.secondsOverBeyondPace === undefined ? '' : ` (${r.secondsOverBeyondPace})`} | ${r.maxStartsPerCar} / ${meanStarts(r).toFixed(1)} | ${pv} | ${cost} | ${r.wallSeconds === undefined ? '' : `${r.wallSeconds.toFixed(1)} s`} |`,
    );
  }
  if (fleet) printBehaviours(results);
  const args = [
    ...(values.day ? [`--day ${values.day}`] : []),
    ...(fleet ? [`--fleet ${fleetArgument(fleet)}`] : []),
    ...(seed === undefined ? [] : [`--seed ${seed}`]),
    ...(values.oracle ? ['--oracle'] : []),
  ];
  console.log(`\ncommand: npm run bench:control${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`);
}

/** Delivered ÷ ideal per behaviour of the fleet, one row per day and behaviour. */
function printBehaviours(results: readonly DayResult[]): void {
  console.log('\n| day | seed | behaviour | chargers / cars | delivered ÷ ideal | delivered / ideal kWh |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of results)
    for (const [name, g] of Object.entries(r.byBehaviour ?? {}))
      console.log(
        `| ${r.day} | ${r.seed} | ${name} | ${g.chargers} / ${g.cars} | ${pct(g.idealKWh > 0 ? g.deliveredKWh / g.idealKWh : 1)} | ${g.deliveredKWh.toFixed(1)} / ${g.idealKWh.toFixed(1)} |`,
      );
}

function printDay(r: DayResult, cars: boolean): void {
  console.log(`${r.day} (seed ${r.seed}${r.fleet ? `, fleet ${r.fleet}` : ''}):`);
  console.log(
    `  delivered ${r.deliveredKWh.toFixed(2)} kWh of the ideal's ${r.idealKWh.toFixed(2)} kWh = ${pct(r.ratio)}; ${r.secondsOver} s over a limit${r.secondsOverBeyondPace === undefined ? '' : `, ${r.secondsOverBeyondPace} s of them beyond what the chargers' pace after a rise of the other loads explains`}`,
  );
  if (r.surplusShare !== undefined)
    console.log(`  PV surplus into the cars ${pct(r.surplusShare)} (the ideal ${pct(r.idealSurplusShare)})`);
  if (r.costRatio !== undefined) console.log(`  cost ÷ optimal ${r.costRatio.toFixed(3)}`);
  if (r.reachedByDeparture !== undefined)
    console.log(`  energy reached by the departure: ${r.reachedByDeparture}`);
  console.log(
    `  starts per car: ${Object.entries(r.startsPerCar)
      .map(([car, n]) => `${car} ${n}`)
      .join(', ')}`,
  );
  for (const note of r.notes ?? []) console.log(`  ${note}`);
  for (const [name, g] of Object.entries(r.byBehaviour ?? {}))
    console.log(
      `  ${name} (${g.chargers} chargers, ${g.cars} cars): ${g.deliveredKWh.toFixed(1)} of ${g.idealKWh.toFixed(1)} kWh = ${pct(g.idealKWh > 0 ? g.deliveredKWh / g.idealKWh : 1)}`,
    );
  if (cars)
    for (const [car, f] of Object.entries(r.perCar ?? {}))
      console.log(
        `  ${car} (${f.traits}): ${f.deliveredKWh.toFixed(1)} kWh, the ideal ${f.idealKWh.toFixed(1)} kWh; ${f.starts} starts, the ideal ${f.idealStarts}`,
      );
  if (r.wallSeconds !== undefined) console.log(`  computed in ${r.wallSeconds.toFixed(1)} s`);
  console.log('');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
