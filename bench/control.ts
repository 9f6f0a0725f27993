/**
 * Control quality against the ideal (issue #39): whole simulated days through the real load
 * manager (LoadManager on a ManualClock against the site simulator's chargers, meters, cars, PV and
 * battery), and for the same truth the ideal: ampflow's own allocation with perfect, instant
 * knowledge (bench/control/ideal.ts). Per day: delivered ÷ ideal energy, seconds over any limit,
 * starts per car, the PV surplus share (PV days) and cost ÷ optimal cost (the tariff day, when
 * bench/control/tariff-day.ts is there). What is real and what is modelled: docs/performance.md.
 *
 *   npm run bench:control -- [--day carpark|pv-sunny-cloudy|pv-fast-clouds|tariff|pv] [--seed N] [--hidden-seed] [--cars] [--oracle]
 *
 * Each day has a fixed seed (the carpark 63, the PV days 10 and 11, the tariff day its own);
 * `--seed N` runs every chosen day with N, `--hidden-seed` with a random seed that is printed;
 * `--cars` prints each car's energy and starts beside the ideal's; `--oracle` (PV days) the best
 * share any policy with perfect knowledge reaches with at most 2, 3, 4 starts (bench/control/oracle.ts).
 *
 * Not part of npm test.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DayOptions, DayResult } from './control/day-result';
import { LOCAL_DAYS, runLocalDay } from './control/days';
import { oracleLines } from './control/oracle-lines';
import { machineLine } from './support/machine';
import { TINY, TINY_DAY_MS } from './support/options';

const TARIFF_DAY = join(__dirname, 'control', 'tariff-day.ts');
const TARIFF_DEFAULT_SEED = 1;

interface DayRun {
  name: string;
  defaultSeed: number;
  run: (seed: number) => Promise<DayResult>;
}

function days(): DayRun[] {
  const list: DayRun[] = LOCAL_DAYS.map((d) => ({
    ...d,
    run: async (seed: number) => runLocalDay(d.name, seed, TINY ? TINY_DAY_MS : undefined),
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
    },
  });
  const all = days();
  const chosen = values.day
    ? all.filter((d) => d.name === values.day || (values.day === 'pv' && d.name.startsWith('pv-')))
    : all;
  if (chosen.length === 0)
    throw new Error(`--day: no day "${values.day}" (days: ${all.map((d) => d.name).join(', ')}, pv)`);
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
  console.log('');
  const results: DayResult[] = [];
  for (const day of chosen) {
    const result = await day.run(seed ?? day.defaultSeed);
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
      `| ${r.day} | ${r.seed} | ${pct(r.ratio)} | ${r.deliveredKWh.toFixed(1)} / ${r.idealKWh.toFixed(1)} | ${r.secondsOver}${r.secondsOverBeyondPace === undefined ? '' : ` (${r.secondsOverBeyondPace})`} | ${r.maxStartsPerCar} / ${meanStarts(r).toFixed(1)} | ${pv} | ${cost} | ${r.wallSeconds === undefined ? '' : `${r.wallSeconds.toFixed(1)} s`} |`,
    );
  }
  const args = [
    ...(values.day ? [`--day ${values.day}`] : []),
    ...(seed === undefined ? [] : [`--seed ${seed}`]),
    ...(values.oracle ? ['--oracle'] : []),
  ];
  console.log(`\ncommand: npm run bench:control${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`);
}

function printDay(r: DayResult, cars: boolean): void {
  console.log(`${r.day} (seed ${r.seed}):`);
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
