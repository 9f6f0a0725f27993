import {
  FROZEN_AFTER_MS,
  FROZEN_WHILE_CHARGERS_MOVE_MS,
  NEGATIVE_TOLERANCE_A,
} from '../../lib/dlm/evidence/meter-plausibility';
import type { Triple } from '../../lib/dlm/site';
import type { Site } from '../../lib/dlm/site/model';
import { COMMAND_TIMEOUT_MS } from '../../sim/site-faults';
import { drawnA, everyPhase, levelAt } from './closed-loop-bounds';
import type { Plan } from './closed-loop-property';

/**
 * The closed-loop property on real-site defaults, with the faults a car park has (issue #27): no
 * fallback configured on any circuit; chargers that follow a change only after 10-60 s (1-60 s for
 * those the fleet's `following` habit draws: closed-loop-population.ts), some that
 * confirm their limits and some that do not; one charger that meters energy only; at most one
 * 16 A charger that refuses its limits or never answers; a metered circuit whose meter goes silent
 * for up to 30 minutes while its other loads move within what it had shown before; a meter that
 * lies with a fresh timestamp for a while (reads 0 A, the negated current, or repeats itself); a
 * charger or a meter that reads the impossible (1e308 A, NaN, 10 times its wiring) once or for a while.
 *
 * With a PV plant behind the root meter (its inverter read or not) and ampflow stopping at a minute
 * (closed-loop-fault-plans.ts: then every charger falls to its fallback and the loads hold within
 * what the meters saw; no window that starts later excuses anything but the chargers' own pace in
 * falling to their fallbacks: closed-loop-property.ts absentWindows).
 *
 * Beyond the base property's windows (closed-loop-property.ts), an excursion may lie only in these:
 * - a meter going silent: none while its loads stay within what it showed, once the silence is
 *   noticed (`staleAfterMs`, 30 s) and the decreases it calls for have landed (a step, the chargers'
 *   response, a step); a jump of its loads before that is a jump nobody saw: until then, plus the
 *   same reaction (a meter above it that reads sees it as any other jump);
 * - a charger that refuses its limits: from the start until its refusal is known (its answer, or
 *   the command timeout of 30 s for one that never answers), plus a step, the others' response and
 *   a step. Nothing after: it is counted at what it may draw on its own from then on;
 * - a meter that lies, from the lie's start to its end plus the same reaction, each excursion no
 *   longer than it takes to see the lie and react: reading 0 A (a meter that includes the chargers),
 *   the next reading of a charger below that shows it drawing; negated, its next reading (a
 *   negated current within the meter's offset, 1 A, is not seen: by at most that much); frozen,
 *   FROZEN_WHILE_CHARGERS_MOVE_MS of the same value while the chargers below move, then a reading.
 *   A meter of the other loads only (every meter's last digits move: 0.05 A of noise) is found
 *   out by its own values: reading 0, at its first lying reading; frozen, FROZEN_AFTER_MS of
 *   the same values and a reading;
 * - a meter that reads the impossible: a move of its loads (within what it read) before its values
 *   held are stale, plus the same reaction. A charger's impossible reading needs no window: it is
 *   taken as not measured, and the charger is counted at its set-point.
 * Each bounds the excess it explains (closed-loop-property.ts judges by the bounds): a refusing
 * charger, what it draws; a silence, how far its loads rose above its last reading; a lie, what it
 * hides (read 0, the loads below; negated, the meter's offset; frozen, the loads and, where it
 * counts them, the chargers below; impossible, the loads below).
 */

const SECOND = 1000;
/** The meters' staleAfterMs (the site's default). */
const STALE_AFTER_MS = 30 * SECOND;

/**
 * A window of the properties (closed-loop-property.ts says how they are judged): where, when and
 * why a breaker may carry more than its limit, and by how much at most at each moment.
 */
export interface FaultWindow {
  circuits: Set<string>;
  fromMs: number;
  toMs: number;
  why: string;
  /**
   * What the window's cause can put above a limit, per grid phase, at a moment (ms): the jump's
   * size, a charger's overdraw, what the loads no set-point reaches put above the limit.
   */
  boundA: Triple | ((atMs: number) => Triple);
  /** Windows of one cause (a jump, and the same jump while a charger was raised) explain one excess. */
  cause: string;
  /** Each excursion in it lasts at most this long. */
  maxDurationMs?: number;
}

/** Whether a load step of circuit `id` at `atMs` falls in a silence of its meter, past `staleAfterMs`. */
export function unseenJump(plan: Plan, id: string, atMs: number): 'noticed' | 'early' | 'no' {
  for (const d of plan.meterFaults?.[id]?.dropouts ?? []) {
    if (atMs < d.fromMs || atMs >= d.toMs) continue;
    return atMs >= d.fromMs + STALE_AFTER_MS ? 'noticed' : 'early';
  }
  return 'no';
}

/** The windows of the faults (the module comment says each). */
export function faultWindows(
  plan: Plan,
  site: Site,
  ancestors: (id: string) => string[],
  maxResponse: number,
): FaultWindow[] {
  const windows: FaultWindow[] = [];
  const reaction = SECOND + maxResponse + 2 * SECOND;
  for (const [key, options] of Object.entries(plan.chargers)) {
    if (!options.refusesLimits) continue;
    const connector = site.connectors.find((c) => c.key === key);
    const circuitId = site.circuits[connector?.circuitIndex ?? 0]?.id ?? '';
    const knownMs = options.refusesLimits === 'noAnswer' ? COMMAND_TIMEOUT_MS : SECOND;
    windows.push({
      circuits: new Set(ancestors(circuitId)),
      fromMs: 0,
      toMs: knownMs + reaction,
      why: `${key} refuses its limits`,
      // Until then it is counted at its limit, and draws what its car takes (its maximum).
      boundA: everyPhase(drawnA(plan, connector?.maxA ?? 0)),
      cause: `refuses:${key}`,
    });
  }
  for (const [id, faults] of Object.entries(plan.meterFaults ?? {})) {
    for (const d of faults.dropouts ?? []) {
      // Until the silence is noticed and the decreases it calls for have landed.
      const settledMs = d.fromMs + STALE_AFTER_MS + reaction;
      const early = (plan.loads[id] ?? []).some((s) => s.fromMs >= d.fromMs && s.fromMs < settledMs);
      if (!early) continue;
      windows.push({
        circuits: new Set(ancestors(id)),
        fromMs: d.fromMs,
        toMs: settledMs + reaction,
        why: `other loads of ${id} jumped before its silent meter's fallback took effect`,
        // What they rose to in the silence above what the meter read last.
        boundA: riseOf(plan.loads[id] ?? [], d.fromMs - 3 * SECOND, d.fromMs, settledMs),
        cause: `silence:${id}@${d.fromMs}`,
      });
    }
    const circuit = site.circuits.find((c) => c.id === id);
    const below = site.connectors.filter((c) => circuit?.connectorIndexes.includes(c.index));
    const chargerMs = Math.max(SECOND, ...below.map((c) => plan.chargers[c.key]?.meterIntervalMs ?? SECOND));
    const meterMs = plan.meterIntervalMs[id] ?? SECOND;
    const includes = circuit?.meter?.location === 'includesChargers';
    for (const lie of faults.lies ?? []) {
      if (lie.kind === 'absurd') {
        // A reading that is no number (NaN, 1e308 rounded to Infinity) is not taken: the values held
        // age until they are stale, as in a silence; one beyond 3 times the limit is impossible at
        // once (blind at what it learned). Its loads hold within what it read
        // (closed-loop-fault-plans.ts): a jump before the staleness is noticed is one nobody saw,
        // bounded as a silence's, by how far they rose above its last reading.
        const settledMs = lie.fromMs + STALE_AFTER_MS + reaction;
        const steps = plan.loads[id] ?? [];
        if (steps.some((s) => s.fromMs >= lie.fromMs && s.fromMs < settledMs))
          windows.push({
            circuits: new Set(ancestors(id)),
            fromMs: lie.fromMs,
            toMs: settledMs + reaction,
            why: `other loads of ${id} moved while its meter read ${lie.valueA} A, before it went stale`,
            boundA: riseOf(steps, lie.fromMs - 3 * SECOND, lie.fromMs, settledMs),
            cause: `absurd:${id}@${lie.fromMs}`,
          });
        continue;
      }
      // A meter of the other loads only is found out by its own values (they moved before: the
      // meters jitter): reading 0, at once; frozen, after FROZEN_AFTER_MS of the same values.
      const seenMs =
        lie.kind === 'zero'
          ? includes
            ? chargerMs
            : meterMs
          : lie.kind === 'frozen'
            ? includes
              ? FROZEN_WHILE_CHARGERS_MOVE_MS + meterMs + chargerMs
              : FROZEN_AFTER_MS + 2 * meterMs
            : meterMs;
      // What the lie hides: read 0, the loads below the meter; negated, within the meter's offset;
      // frozen, the loads (they hold still) and, where it counts the chargers, what they moved by.
      const below = site.circuits.filter((c) => ancestors(c.id).includes(id));
      const hiddenA = (atMs: number) => {
        const total: Triple = [0, 0, 0];
        for (const c of below) {
          const levels = levelAt(plan.loads[c.id] ?? [], atMs);
          for (const p of [0, 1, 2] as const) total[p] += levels[p] ?? 0;
        }
        return total;
      };
      const chargersA = site.connectors
        .filter((c) => below.some((b) => b.index === c.circuitIndex))
        .reduce((sum, c) => sum + drawnA(plan, c.maxA), 0);
      const hidden = maxOver(hiddenA, plan.loads, lie.fromMs, lie.toMs + seenMs + reaction);
      windows.push({
        circuits: new Set(ancestors(id)),
        fromMs: lie.fromMs,
        toMs: lie.toMs + seenMs + reaction,
        maxDurationMs: seenMs + reaction,
        boundA:
          lie.kind === 'negative'
            ? everyPhase(NEGATIVE_TOLERANCE_A + 0.01)
            : lie.kind === 'frozen' && includes
              ? (hidden.map((v) => v + chargersA) as Triple)
              : hidden,
        cause: `lie:${id}@${lie.fromMs}`,
        why: `meter of ${id} reads ${lie.kind}`,
      });
    }
  }
  return windows;
}

/** The most `at` reaches per phase from `fromMs` to `toMs` (it changes only at the steps of `loads`). */
function maxOver(at: (atMs: number) => Triple, loads: Plan['loads'], fromMs: number, toMs: number): Triple {
  const times = [fromMs, ...Object.values(loads).flatMap((s) => s.map((x) => x.fromMs))].filter(
    (t) => t >= fromMs && t <= toMs,
  );
  const most: Triple = [0, 0, 0];
  for (const t of times) {
    const levels = at(t);
    for (const p of [0, 1, 2] as const) most[p] = Math.max(most[p], levels[p] ?? 0);
  }
  return most;
}

/** How far `steps` rise from `fromMs` to `toMs` above the least they were at `seenFromMs`..`seenToMs`. */
function riseOf(
  steps: { fromMs: number; levels: Triple }[],
  seenFromMs: number,
  seenToMs: number,
  toMs: number,
): Triple {
  const a = levelAt(steps, seenFromMs);
  const b = levelAt(steps, seenToMs);
  const seen = a.map((v, p) => Math.min(v, b[p] ?? 0));
  const most = maxOver((t) => levelAt(steps, t), { steps }, seenToMs, toMs);
  return most.map((v, p) => Math.max(0, v - (seen[p] ?? 0))) as Triple;
}
