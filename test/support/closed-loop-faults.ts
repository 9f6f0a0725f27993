import fc from 'fast-check';
import { FROZEN_AFTER_MS, NEGATIVE_TOLERANCE_A } from '../../lib/dlm/meter-plausibility';
import type { CircuitConfig, Triple } from '../../lib/dlm/site';
import type { Site } from '../../lib/dlm/site-model';
import { COMMAND_TIMEOUT_MS, type MeterLie } from '../../lib/sim/site-faults';
import { type Plan, planArbitrary } from './closed-loop-property';

/**
 * The closed-loop property on real-site defaults, with the faults a car park has (issue #27): no
 * fallback configured on any circuit; chargers that follow a change only after 10-60 s, some that
 * confirm their limits and some that do not; one charger that meters energy only; at most one
 * 16 A charger that refuses its limits or never answers; a metered circuit whose meter goes silent
 * for up to 30 minutes while its other loads move within what it had shown before; a meter that
 * lies with a fresh timestamp for a while (reads 0 A, the negated current, or repeats itself).
 *
 * Beyond the base property's windows (closed-loop-property.ts), an excursion may lie only in these:
 * - a meter going silent: none while its loads stay within what it showed; a jump of its loads in
 *   its first `staleAfterMs` (30 s) of silence is a jump nobody saw: until the silence is noticed,
 *   plus a step, the chargers' response and a step;
 * - a charger that refuses its limits: from the start until its refusal is known (its answer, or
 *   the command timeout of 30 s for one that never answers), plus a step, the others' response and
 *   a step. Nothing after: it is counted at what it may draw on its own from then on;
 * - a meter that lies, from the lie's start to its end plus the same reaction, each excursion no
 *   longer than it takes to see the lie and react: reading 0 A (a meter that includes the chargers),
 *   the next reading of a charger below that shows it drawing; negated, its next reading (a
 *   negated current within the meter's offset, 1 A, is not seen: by at most that much); frozen,
 *   FROZEN_AFTER_MS of the same value while the chargers below move, then a reading.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DURATION_MS = 25 * MINUTE;
/** The meters' staleAfterMs (the site's default). */
const STALE_AFTER_MS = 30 * SECOND;

/** A window of the fault property (closed-loop-property.ts's Window, with bounds on each excursion). */
export interface FaultWindow {
  circuits: Set<string>;
  fromMs: number;
  toMs: number;
  why: string;
  /** Each excursion in it lasts at most this long. */
  maxDurationMs?: number;
  /** Each excursion in it is at most this much over the limit. */
  maxExcessA?: number;
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
    });
  }
  for (const [id, faults] of Object.entries(plan.meterFaults ?? {})) {
    for (const d of faults.dropouts ?? []) {
      const early = (plan.loads[id] ?? []).some(
        (s) => s.fromMs >= d.fromMs && s.fromMs < d.fromMs + STALE_AFTER_MS,
      );
      if (!early) continue;
      windows.push({
        circuits: new Set(ancestors(id)),
        fromMs: d.fromMs,
        toMs: d.fromMs + STALE_AFTER_MS + reaction,
        why: `other loads of ${id} jumped as its meter went silent`,
      });
    }
    const circuit = site.circuits.find((c) => c.id === id);
    const below = site.connectors.filter((c) => circuit?.connectorIndexes.includes(c.index));
    const chargerMs = Math.max(SECOND, ...below.map((c) => plan.chargers[c.key]?.meterIntervalMs ?? SECOND));
    const meterMs = plan.meterIntervalMs[id] ?? SECOND;
    for (const lie of faults.lies ?? []) {
      const seenMs =
        lie.kind === 'zero'
          ? chargerMs
          : lie.kind === 'frozen'
            ? FROZEN_AFTER_MS + meterMs + chargerMs
            : meterMs;
      windows.push({
        circuits: new Set(ancestors(id)),
        fromMs: lie.fromMs,
        toMs: lie.toMs + seenMs + reaction,
        maxDurationMs: seenMs + reaction,
        ...(lie.kind === 'negative' ? { maxExcessA: NEGATIVE_TOLERANCE_A + 0.01 } : {}),
        why: `meter of ${id} reads ${lie.kind}`,
      });
    }
  }
  return windows;
}

/**
 * Random sites as planArbitrary's, turned into real-site defaults with faults (the module comment).
 */
export const faultPlanArbitrary: fc.Arbitrary<Plan> = fc
  .tuple(
    planArbitrary,
    fc.record({
      responses: fc.array(fc.integer({ min: 10, max: 60 }), { minLength: 4, maxLength: 4 }),
      confirms: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      meterIntervals: fc.array(fc.constantFrom(5 * SECOND, 10 * SECOND, 60 * SECOND), {
        minLength: 4,
        maxLength: 4,
      }),
      energyOnly: fc.integer({ min: -1, max: 3 }),
      refusing: fc.constantFrom<'none' | 'reject' | 'noAnswer'>('none', 'reject', 'noAnswer'),
      refusingIndex: fc.nat(),
      dropout: fc.option(
        fc.record({
          circuit: fc.nat(),
          atMin: fc.integer({ min: 4, max: 20 }),
          forMin: fc.integer({ min: 1, max: 30 }),
          // The loads' peak before the silence (a share of the limit), reached again during it.
          peakShare: fc.double({ min: 0.2, max: 0.6, noNaN: true }),
          // More cars on the silent circuit: the 6 A each it then gets must not fit beside the peak.
          crowd: fc.integer({ min: 0, max: 8 }),
        }),
      ),
      lie: fc.option(
        fc.record({
          circuit: fc.nat(),
          atMin: fc.integer({ min: 2, max: 22 }),
          forMin: fc.integer({ min: 1, max: 10 }),
          kind: fc.constantFrom<MeterLie['kind']>('zero', 'negative', 'frozen'),
        }),
      ),
    }),
  )
  .map(([base, f]) => {
    const plan = structuredClone(base);
    for (const circuit of plan.site.circuits) delete circuit.fallback;
    const keys = Object.keys(plan.chargers);
    keys.forEach((key, k) => {
      const charger = plan.chargers[key];
      if (!charger) return;
      // The base property's chargers that draw more than told, or keep three phases after a switch
      // to one, are left to it (its windows assume 1-8 s responses): here every charger follows
      // its limit once it took it, or refuses it outright.
      delete charger.rogue;
      delete charger.overOfferA;
      delete charger.ignoresPhaseSwitch;
      charger.responseDelayMs = (f.responses[k] ?? 10) * SECOND;
      charger.meterIntervalMs = f.meterIntervals[k] ?? 10 * SECOND;
      charger.confirms = f.confirms[k] ?? false;
      if (k === f.energyOnly) charger.reportsCurrents = false;
    });
    if (f.refusing !== 'none') {
      const k = f.refusingIndex % keys.length;
      const key = keys[k] ?? '';
      plan.chargers[key] = { ...(plan.chargers[key] as Plan['chargers'][string]), refusesLimits: f.refusing };
      delete plan.chargers[key]?.rogue;
      delete plan.chargers[key]?.overOfferA;
      const connector = plan.site.connectors[k];
      if (connector) connector.maxA = 16;
    }
    plan.meterFaults = {};
    const metered = plan.site.circuits.filter((c) => c.meter);
    const subtree = (id: string): string[] => [
      id,
      ...plan.site.circuits.filter((c) => c.parent === id).flatMap((c) => subtree(c.id)),
    ];
    // A silent meter: one with no meter below it (its subtree's loads are its own), whose loads
    // move during the silence only within what they were before it.
    const leaves = metered.filter((c) =>
      subtree(c.id).every((id) => id === c.id || !plan.meterIntervalMs[id]),
    );
    const dropout = f.dropout;
    if (dropout && leaves.length > 0) {
      const circuit = leaves[dropout.circuit % leaves.length] as CircuitConfig;
      const fromMs = dropout.atMin * MINUTE;
      const toMs = Math.min(DURATION_MS, fromMs + dropout.forMin * MINUTE);
      const limit = circuit.limitA as Triple;
      const peak = limit.map((l) => Math.round(l * dropout.peakShare * 10) / 10) as Triple;
      // The peak for a minute early on (the meter sees it), and again in the silence.
      const steps = [
        ...(plan.loads[circuit.id] ?? []),
        { fromMs: MINUTE, levels: peak },
        { fromMs: 2 * MINUTE, levels: [0, 0, 0] as Triple },
        { fromMs: fromMs + 2 * MINUTE, levels: peak },
      ].sort((a, b) => a.fromMs - b.fromMs);
      plan.loads[circuit.id] = steps;
      const before = steps.filter((s) => s.fromMs < fromMs - MINUTE);
      const seen: Triple = [0, 0, 0];
      for (const s of before)
        for (const p of [0, 1, 2] as const) seen[p] = Math.max(seen[p], s.levels[p] ?? 0);
      for (const s of steps) {
        if (s.fromMs >= fromMs - MINUTE && s.fromMs < toMs)
          s.levels = s.levels.map((v, p) => Math.min(v, seen[p] ?? 0)) as Triple;
      }
      plan.meterFaults[circuit.id] = { dropouts: [{ fromMs, toMs }] };
      for (let n = 0; n < dropout.crowd; n++) {
        const chargePointId = `CP-X${n}`;
        plan.site.connectors.push({
          chargePointId,
          circuit: circuit.id,
          phaseRotation: (['RST', 'STR', 'TRS'] as const)[n % 3],
          maxA: 16,
        });
        plan.chargers[`${chargePointId}/1`] = {
          responseDelayMs: (f.responses[n % 4] ?? 10) * SECOND,
          meterIntervalMs: 10 * SECOND,
          confirms: n % 2 === 0,
        };
        const arriveMs = (1 + n) * MINUTE;
        plan.cars.push({
          connector: `${chargePointId}/1`,
          arriveMs,
          leaveMs: DURATION_MS + MINUTE,
          ev: { phases: 3, maxCurrentA: 16, capacityKWh: 60, socPercent: 20 },
        });
      }
    }
    // A lie on another meter than the silent one (a frozen meter's loads hold still, which would
    // take the peak the silent one must have seen).
    const liars = metered.filter((c) => !plan.meterFaults?.[c.id]);
    if (f.lie && liars.length > 0) {
      const circuit = liars[f.lie.circuit % liars.length] as CircuitConfig;
      const kind = circuit.meter?.location === 'includesChargers' ? f.lie.kind : 'negative';
      const fromMs = f.lie.atMin * MINUTE;
      const toMs = Math.min(DURATION_MS, fromMs + f.lie.forMin * MINUTE);
      {
        // A frozen meter hides what its loads do: they hold still while it lies (no rule sees that).
        if (kind === 'frozen') {
          for (const id of subtree(circuit.id))
            plan.loads[id] = (plan.loads[id] ?? []).filter(
              (s) => s.fromMs < fromMs - MINUTE || s.fromMs >= toMs,
            );
        }
        // A lie that a charger must reveal needs chargers below that report their currents.
        const revealers = plan.site.connectors.filter((c) => subtree(circuit.id).includes(c.circuit));
        if (kind !== 'negative')
          for (const c of revealers) delete plan.chargers[`${c.chargePointId}/1`]?.reportsCurrents;
        plan.meterFaults[circuit.id] = { ...plan.meterFaults[circuit.id], lies: [{ fromMs, toMs, kind }] };
      }
    }
    return plan;
  });

/** The short form's command that replays one case (closed-loop-faults_spec.ts's environment variables). */
export function faultsReplayCommand(seed: number, path: string): string {
  return `FAULTS_SEED=${seed} FAULTS_PATH=${path} FAULTS_RUNS=1 npx mocha test/unit/dlm/closed-loop-faults_spec.ts`;
}
