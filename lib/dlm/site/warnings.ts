/**
 * The warnings of a site that is accepted but where the defaults cannot guarantee a limit, or that
 * may not do what was meant; each names the circuit and the setting that would make it safe.
 * (validateSite's problems refuse a site; these only say.)
 */

import { conductorsOf, type GridPhase, triple } from '../phases';
import { leftA } from './circuit';
import { type ProblemSink, round1 } from './fields';
import type { Circuit, Connector, Site } from './model';
import { budgets, chooseMinimum, offlineSums, otherLoadsOffline } from './offline-plan';

/** Every warning about a site's circuits and connectors. */
export function warnAboutSafety(circuits: Circuit[], connectors: Connector[], warn: ProblemSink): void {
  warnAboutFallbacks(circuits, connectors, warn);
  warnAboutUnmeasured(circuits, connectors, warn);
  warnAboutAbsence(circuits, connectors, warn);
}

/**
 * ampflow's own absence, from the configuration alone (offline-plan.ts): if Node-RED stops, every
 * charger falls to its own offline limit (`offlineA`: what the installer entered, else its
 * maximum), and the other loads draw what `fallback.otherLoadA` says (else 0: nothing is learned
 * before the load manager runs). Bender manual §7.7: the sum must fit. Where it does not, says by
 * how much, how many of the connectors' minimum fallbacks the charging-profile node can be given
 * instead, and what to set. The load manager checks it again at run time with what the chargers
 * confirmed and the other loads' learned peak (control/offline-fit.ts).
 */
function warnAboutAbsence(circuits: Circuit[], connectors: Connector[], warn: ProblemSink): void {
  const otherA = otherLoadsOffline(circuits, (circuit, p) => circuit.fallback.otherLoadA?.[p] ?? 0);
  const sums = offlineSums(circuits, connectors, otherA, (c) => Math.min(c.offlineA, c.maxA));
  const left = budgets(circuits, otherA);
  const minimums = connectors.map((connector) => chooseMinimum(left, connector));
  for (const sum of sums) {
    if (sum.fits) continue;
    const circuit = circuits[sum.circuit];
    if (!circuit) continue;
    const below = circuit.connectorIndexes.flatMap((k) => (connectors[k] ? [connectors[k]] : []));
    const amps = new Set(below.map((c) => Math.min(c.offlineA, c.maxA)));
    const each = amps.size === 1 ? `${[...amps][0]} A each` : 'their own amps';
    const given = below.filter((c) => (minimums[c.index] ?? 0) > 0);
    const other = circuit.meter
      ? circuit.fallback.otherLoadA
        ? `the other loads at fallback.otherLoadA (${round1(sum.otherA)} A)`
        : 'the other loads at 0 A (nothing learned yet; the load manager adds their learned peak at run time)'
      : circuit.fallback.otherLoadA
        ? `the other loads at fallback.otherLoadA and below (${round1(sum.otherA)} A)`
        : `the other loads below (${round1(sum.otherA)} A)`;
    warn(
      `circuit "${circuit.id}" connectors offlineA`,
      `if ampflow stops (Node-RED stopped, the network to the chargers down), its ${below.length} connector${below.length === 1 ? '' : 's'} fall to their own offline limit (offlineA, ${each}): ${round1(sum.totalA)} A on L${sum.phase + 1} with ${other}, above the ${round1(sum.availableA)} A available (Bender §7.7: the fallbacks must fit). Where the charging-profile node installs its offline fallback, the load manager chooses it to fit: ${given.length} of ${below.length} at their minimum (${round1(given.reduce((total, c) => total + c.minA, 0))} A), 0 A for the rest; for a charger that takes no fallback, enter its own offline limit as its offlineA, low enough to fit`,
    );
  }
}

/**
 * Warnings about meters and fallbacks that work but may not do what was meant: an
 * `otherLoadsOnly` meter that may count loads twice, a per-connector fallback the breaker cannot carry.
 */
function warnAboutFallbacks(circuits: Circuit[], connectors: Connector[], warn: ProblemSink): void {
  // An `otherLoadsOnly` meter above circuits that count other loads of their own: their loads are
  // added to its reading (the safe side); if the meter sees them too, they count twice.
  const descendantsWithOthers = (circuit: Circuit): Circuit[] =>
    circuit.childIndexes.flatMap((i) => {
      const child = circuits[i];
      if (!child) return [];
      return child.meter ? [child] : descendantsWithOthers(child);
    });
  for (const circuit of circuits) {
    if (circuit.meter?.location !== 'otherLoadsOnly') continue;
    const below = descendantsWithOthers(circuit);
    if (below.length === 0) continue;
    warn(
      `circuit "${circuit.id}" meter.location`,
      `the other loads counted on ${below.map((c) => `"${c.id}"`).join(', ')} (below it) are added to what meter "${circuit.meter.source}" reads; if that meter measures them too they count twice (safe, but less current for the chargers)`,
    );
  }
  for (const circuit of circuits) {
    const limit = circuit.fallback.connectorLimitA;
    if (limit === undefined || circuit.fallback.otherLoadA !== undefined || !circuit.meter) continue;
    const onPhase = triple(0);
    for (const index of circuit.connectorIndexes) {
      const connector = connectors[index];
      if (!connector) continue;
      const used = conductorsOf(connector);
      for (const p of used) onPhase[p] += Math.max(limit, 0) >= connector.minA ? limit : 0;
    }
    onPhase.forEach((total, p) => {
      const available = leftA(circuit, circuit.limitA, p as GridPhase);
      if (total > available) {
        warn(
          `circuit "${circuit.id}" fallback.connectorLimitA`,
          `while the meter is stale, ${limit} A for each of its connectors is ${round1(total)} A on L${p + 1}, above the ${round1(available)} A available; set fallback.otherLoadA for a fallback the load manager can guarantee`,
        );
      }
    });
  }
}

/**
 * A circuit whose other loads nobody measures or estimates: no meter on it or on any circuit above
 * it, and no `fallback.otherLoadA` (the most they draw, counted always where no meter tells:
 * evidence/circuit-view.ts) on it or above. Whatever else is wired to it (a house, lights, a heat
 * pump) is counted as 0 A, which no fuse survives, so only a circuit that feeds nothing but its
 * chargers is safe; `headroomA` is a margin, not an estimate (1 A kept free beside a 25 A house's
 * oven is no protection), so it does not silence this. A circuit below a metered or estimated one is
 * not warned about: the meter above sees its loads (a dual charger's own supply line, a
 * sub-distribution of chargers), and its own breaker carries only what the chargers below it are given.
 */
function warnAboutUnmeasured(circuits: Circuit[], connectors: Connector[], warn: ProblemSink): void {
  const countedAbove = (circuit: Circuit): boolean => {
    for (
      let at: Circuit | undefined = circuit;
      at;
      at = at.parentIndex === undefined ? undefined : circuits[at.parentIndex]
    )
      if (at.meter || at.fallback.otherLoadA) return true;
    return false;
  };
  for (const circuit of circuits) {
    if (circuit.connectorIndexes.length === 0 || countedAbove(circuit)) continue;
    const count = circuit.connectorIndexes.filter((k) => connectors[k]).length;
    const kept = Math.max(...circuit.headroomA);
    warn(
      `circuit "${circuit.id}" fallback.otherLoadA`,
      `no meter measures what else it feeds beside its ${count} charger${count === 1 ? '' : 's'} (the house or whatever else is wired to it), and no estimate is set: they are counted as 0 A${kept > 0 ? ` (headroomA keeps only ${round1(kept)} A free)` : ''}, so the chargers may be given the whole breaker and it may trip; set fallback.otherLoadA (in the editor: "Other loads when not measured, A", which counts always where there is no meter) to the most those loads draw, or give it (or a circuit above it) a meter`,
    );
  }
}

/**
 * *Check the site*: where a car may charge on PV surplus but the site reads no inverter, a meter
 * that reads below the chargers or exports cannot be judged (generation could explain it).
 */
export function warnAboutUnmeasuredGeneration(
  site: Pick<Site, 'pv' | 'connectors' | 'circuits' | 'defaultMode'>,
  warn: (field: string, message: string) => void,
): void {
  if (site.pv.inverterSources.length > 0 || !pvCars(site)) return;
  const meters = site.circuits.filter((c) => c.meter && !c.meter.noGenerationBelow);
  if (meters.length === 0) return;
  warn(
    'pv.inverterSource',
    `cars may charge on PV surplus, but the site reads no inverter: while the PV plant's generation is not measured, a meter that reads less than the chargers below it draw, or exports (a CT fallen off or the wrong way round), cannot be told from generation (${meters.map((c) => `circuit "${c.id}"`).join(', ')}); set pv.inverterSource to the inverter's reading source, or meter.noGenerationBelow where nothing below a meter generates`,
  );
}

/** Whether some connector may charge on PV surplus (its mode, else the site's default; an expression may). */
export function pvCars(site: Pick<Site, 'connectors' | 'defaultMode'>): boolean {
  return site.connectors.some((c) => {
    const mode = c.mode ?? site.defaultMode;
    return typeof mode !== 'string' || (mode !== 'fast' && mode !== 'off');
  });
}
