/**
 * bench:control's `--oracle` lines for a PV day (bench/control/oracle.ts computes them): the best
 * share of the surplus with perfect knowledge when the 1p/3p car starts at most 2, 3, 4 times, or
 * any number of times, and with at most 2 starts without import or with import at will.
 */
import { pvHome } from '../../sim/site-scenarios';
import { PV_DAYS } from '../support/pv-days';
import { runOracle } from './oracle';
import type { DipRule } from './oracle-dp';

const RULES: Record<DipRule, string> = {
  rides: 'dips ≤ 6 min, ≤ 69 Wh each (a strict reading of the pv rule)',
  none: 'no import at all',
  any: 'import at will (the metric’s ceiling)',
};

/**
 * The oracle's lines for a PV day of bench:control (`--oracle`), or none for another day;
 * `durationMs` shortens the day (a tiny run).
 */
export function oracleLines(dayName: string, seed: number, durationMs?: number): string[] {
  const pv = PV_DAYS.find((d) => d.name === dayName);
  if (!pv) return [];
  const started = performance.now();
  const day = () => {
    const scenario = pvHome({ ...pv.options, seed });
    return durationMs === undefined ? scenario : { ...scenario, durationMs };
  };
  const figures = runOracle(day(), {
    maxStarts: [2, 3, 4, Infinity],
    dips: ['rides'],
  }).concat(runOracle(day(), { maxStarts: [2], dips: ['none', 'any'] }));
  const lines = [
    `oracle (${dayName}, seed ${seed}): the best share of the PV surplus with perfect knowledge of the day, the 1p/3p car at most N starts (bench/control/oracle.ts), replayed through the simulator`,
    '| switching car | starts at most | bound (model) | share replayed (DP model) | its starts (after a switch) | its grid + battery kWh | its schedule |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of figures)
    lines.push(
      `| ${RULES[f.dips]} | ${Number.isFinite(f.maxStarts) ? f.maxStarts : 'any'} | ${((f.upperShare ?? 0) * 100).toFixed(1)} % | ${(f.share * 100).toFixed(1)} % (${(f.modelShare * 100).toFixed(1)} %) | ${f.starts} (${f.afterSwitch}) | ${(f.importWh / 1000).toFixed(1)} | ${Number.isFinite(f.maxStarts) ? f.schedule : ''} |`,
    );
  lines.push(`computed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return lines;
}
