import fc from 'fast-check';
import type { CircuitConfig, ConnectorConfig, Triple } from '../../lib/dlm/site';
import type { MeterLie } from '../../sim/site-faults';
import { withPhaseSwitchPauses } from './closed-loop-pause';
import { FAULTS_POPULATION, withPopulation } from './closed-loop-population';
import { type Plan, siteArbitrary } from './closed-loop-property';
import { foldPv, pvPlantArbitraries, sunSteps } from './closed-loop-pv';

/**
 * The random sites of the closed-loop faults property (its windows and the faults it plays:
 * closed-loop-faults.ts), and the command that replays one of them.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DURATION_MS = 25 * MINUTE;
/** No car before this: the slowest charger (60 s) has taken its first limit. */
const FIRST_CAR_MS = 75 * SECOND;

/**
 * Random sites as planArbitrary's, turned into real-site defaults with faults (the module comment),
 * the chargers' phase-switch pauses drawn after them (closed-loop-pause.ts).
 */
const faultSitesArbitrary: fc.Arbitrary<Plan> = withPhaseSwitchPauses(
  fc
    .tuple(
      siteArbitrary,
      fc.record({
        responses: fc.array(fc.integer({ min: 10, max: 60 }), { minLength: 4, maxLength: 4 }),
        confirms: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        meterIntervals: fc.array(fc.constantFrom(5 * SECOND, 10 * SECOND, 60 * SECOND), {
          minLength: 4,
          maxLength: 4,
        }),
        energyOnly: fc.integer({ min: -1, max: 3 }),
        // A charger that takes no fallback and keeps its last limit when ampflow is gone.
        keeper: fc.integer({ min: -1, max: 3 }),
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
        // ampflow stops (Node-RED stopped, the network broken) at a minute, in one site of three.
        gone: fc.option(fc.integer({ min: 6, max: 22 }), { freq: 3 }),
        // A PV plant behind the root meter: its inverter read, not read, or none.
        pv: fc.record({
          plant: fc.constantFrom<'read' | 'unread' | 'none'>('read', 'unread', 'none'),
          ...pvPlantArbitraries(6),
        }),
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
      // The first car comes once every charger has taken its first limit (60 s at the slowest): a
      // car at a charger that has not yet draws what the charger offers on its own.
      for (const car of plan.cars) {
        const shift = Math.max(0, FIRST_CAR_MS - car.arriveMs);
        car.arriveMs += shift;
        if (car.leaveMs !== undefined) car.leaveMs += shift;
      }
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
        if (k === f.keeper) charger.keepsLastLimit = true;
      });
      if (f.refusing !== 'none') {
        const k = f.refusingIndex % keys.length;
        const key = keys[k] ?? '';
        plan.chargers[key] = {
          ...(plan.chargers[key] as Plan['chargers'][string]),
          refusesLimits: f.refusing,
        };
        delete plan.chargers[key]?.rogue;
        delete plan.chargers[key]?.overOfferA;
        const connector = plan.site.connectors[k];
        if (connector) connector.maxA = 16;
      }
      addPlant(plan, f.pv);
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
        holdWithinSeen(steps, fromMs, toMs);
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
        // A frozen meter above the silent one would hold still the peak the silent one must see
        // before its silence (found at FAULTS_SEED=20261125 path 9619): it reads 0 A instead.
        const aboveSilent = subtree(circuit.id).some((id) => plan.meterFaults?.[id]?.dropouts);
        // A meter of the other loads only is checked only by its own values (they moved before).
        // Where generation is possible but not measured, reading negative (exporting) says nothing.
        const unmeasured =
          f.pv.plant === 'unread' && plan.site.connectors.some((c) => c.mode && c.mode !== 'fast');
        const kind =
          (f.lie.kind === 'frozen' && aboveSilent) || (f.lie.kind === 'negative' && unmeasured)
            ? 'zero'
            : f.lie.kind;
        const fromMs = f.lie.atMin * MINUTE;
        const toMs = Math.min(DURATION_MS, fromMs + f.lie.forMin * MINUTE);
        {
          // A frozen meter hides what its loads do: they hold still while it lies (no rule sees that).
          if (kind === 'frozen') {
            for (const id of subtree(circuit.id))
              plan.loads[id] = (plan.loads[id] ?? []).filter(
                (s) => s.fromMs < fromMs - MINUTE || s.fromMs >= toMs,
              );
          } else {
            // Found out, it is blind: its own loads move within what it read before, as in a
            // silence (a rise of 14.7 A while it read the negated current was one no rule can see:
            // FAULTS_SEED=13477 FAULTS_PATH=3648). Those of a sub-circuit with a meter its own sees.
            holdWithinSeen(plan.loads[circuit.id] ?? [], fromMs, toMs);
          }
          // A lie that a charger must reveal needs chargers below that report their currents.
          const revealers = plan.site.connectors.filter((c) => subtree(circuit.id).includes(c.circuit));
          if (kind !== 'negative')
            for (const c of revealers) delete plan.chargers[`${c.chargePointId}/1`]?.reportsCurrents;
          plan.meterFaults[circuit.id] = { ...plan.meterFaults[circuit.id], lies: [{ fromMs, toMs, kind }] };
        }
      }
      // ampflow gone: the chargers' fallbacks must fit beside the other loads as learned (what the
      // meters saw: the loads hold within it from a minute before).
      if (f.gone !== null) {
        plan.goneAtMs = f.gone * MINUTE;
        for (const circuit of metered)
          holdWithinSeen(plan.loads[circuit.id] ?? [], plan.goneAtMs, DURATION_MS);
      }
      // Real meters: their last digits move from reading to reading (what the zero and frozen rules
      // of a meter of the other loads only go by).
      for (const circuit of metered)
        plan.meterFaults[circuit.id] = { ...plan.meterFaults[circuit.id], jitterA: 0.05 };
      return plan;
    }),
);

/**
 * Those sites, each charger with its habits of the fleet (closed-loop-population.ts), then the
 * impossible readings last (withAbsurdReadings): each drawn after what was there before it.
 */
export const faultPlanArbitrary: fc.Arbitrary<Plan> = withAbsurdReadings(
  withPopulation(faultSitesArbitrary, FAULTS_POPULATION),
);

/**
 * Impossible readings (issue 46): in one site of two, a charger's meter or a circuit's meter reads
 * 1e308 A, NaN or 10 times its wiring (the connector's maxA, the circuit's limit) on every phase,
 * once (a window of a second: the one report in it) or for 1-10 minutes. Drawn after every other
 * draw, so a seed draws the same sites as before with this added. A meter that lies so is blind
 * (a number that is none ages until it is stale; more than 3 times its limit is impossible), so its
 * own loads move within what it read before, as for its other lies; those of a circuit below with a
 * meter of its own, that meter sees (a blind meter that counts the chargers counts them at what the
 * circuits below count: other-load-peaks.ts blindIncluding). Holding them too lowered what those
 * meters had seen before the lie: a silent meter's peak a minute in (FAULTS_SEED=20261125, paths
 * 1777 and 7392: 0 A in every reading, then 26.7 A and 18.3 A after ampflow was gone, never seen by
 * any meter, 5.7 A and 6.3 A over the root with every fallback fitting the loads as learned; the
 * same without the NaN). Lowering its own loads may lower what the meter saw before ampflow went:
 * they hold again within what it did see.
 */
function withAbsurdReadings(plans: fc.Arbitrary<Plan>): fc.Arbitrary<Plan> {
  return fc
    .tuple(
      plans,
      fc.option(
        fc.record({
          meter: fc.boolean(),
          index: fc.nat(),
          value: fc.constantFrom<'huge' | 'nan' | 'tenfold'>('huge', 'nan', 'tenfold'),
          atMin: fc.integer({ min: 2, max: 22 }),
          // 0: once; else for this many minutes.
          forMin: fc.integer({ min: 0, max: 10 }),
        }),
        { freq: 2 },
      ),
    )
    .map(([plan, absurd]) => {
      if (!absurd) return plan;
      const fromMs = absurd.atMin * MINUTE;
      const toMs = Math.min(DURATION_MS, fromMs + (absurd.forMin === 0 ? SECOND : absurd.forMin * MINUTE));
      const absurdA = (wiringA: number) =>
        absurd.value === 'huge' ? 1e308 : absurd.value === 'nan' ? Number.NaN : 10 * wiringA;
      const meterFaults = plan.meterFaults ?? {};
      const liars = plan.site.circuits.filter(
        (c) => c.meter && !meterFaults[c.id]?.dropouts && !meterFaults[c.id]?.lies,
      );
      if (absurd.meter && liars.length > 0) {
        const circuit = liars[absurd.index % liars.length] as CircuitConfig;
        const valueA = absurdA(Math.max(...(circuit.limitA as Triple)));
        const loads = structuredClone(plan.loads);
        const own = loads[circuit.id] ?? [];
        holdWithinSeen(own, fromMs, toMs);
        if (plan.goneAtMs !== undefined) holdWithinSeen(own, plan.goneAtMs, DURATION_MS);
        return {
          ...plan,
          loads,
          meterFaults: {
            ...meterFaults,
            [circuit.id]: { ...meterFaults[circuit.id], lies: [{ fromMs, toMs, kind: 'absurd', valueA }] },
          },
        };
      }
      const keys = Object.keys(plan.chargers);
      const key = keys[absurd.index % keys.length];
      const charger = key === undefined ? undefined : plan.chargers[key];
      if (key === undefined || !charger) return plan;
      const connector = plan.site.connectors.find((c) => `${c.chargePointId}/${c.connectorId ?? 1}` === key);
      const valueA = absurdA(connector?.maxA ?? 32);
      return {
        ...plan,
        chargers: { ...plan.chargers, [key]: { ...charger, absurdReadings: [{ fromMs, toMs, valueA }] } },
      };
    });
}

/**
 * A PV plant behind the root meter (issue #36: the meters checked with and without measured
 * generation), cars on pv, minpv or fast: one whose inverter the site reads (the simulator's
 * inverter, `pv.inverterSource`), or one it does not read (folded into the root's loads: what the
 * load manager cannot tell from them, a blind meter's loads hold within what it saw).
 */
function addPlant(
  plan: Plan,
  pv: {
    plant: 'read' | 'unread' | 'none';
    peakShare: number;
    morning: number;
    sun: { atMin: number; level: number }[];
    modes: ConnectorConfig['mode'][];
  },
): void {
  if (pv.plant === 'none') return;
  const root = plan.site.circuits[0] as CircuitConfig;
  const plant = {
    peakA: pv.peakShare * Math.min(...(root.limitA as Triple)),
    sun: sunSteps(pv.morning, pv.sun),
  };
  plan.site.connectors = plan.site.connectors.map((c, k) => ({ ...c, mode: pv.modes[k] ?? 'fast' }));
  if (pv.plant === 'read') {
    plan.pv = { ...plant, source: 'inverter' };
    plan.site.pv = { inverterSource: 'inverter' };
  } else plan.loads = foldPv(plan.loads, root.id, plant);
}

/**
 * The loads only a blind meter sees (silent, or found lying) move while it is blind only within
 * what it read before (what the load manager learns as their peak): from a minute before `fromMs`
 * to `toMs`, each step is capped at the most the steps before that reached. Only the steps that
 * took effect count: of several at the same time, the last (a step replaced at once was never
 * seen; counted, it let the loads rise in a silence to 14.1 A where the meter had seen 9.4 A:
 * FAULTS_SEED=13477 FAULTS_PATH=1632). `steps` sorted by time; capped in place.
 */
function holdWithinSeen(steps: { fromMs: number; levels: Triple }[], fromMs: number, toMs: number): void {
  const before = steps.filter((s, i) => s.fromMs < fromMs - MINUTE && steps[i + 1]?.fromMs !== s.fromMs);
  const seen: Triple = [0, 0, 0];
  for (const s of before) for (const p of [0, 1, 2] as const) seen[p] = Math.max(seen[p], s.levels[p] ?? 0);
  for (const s of steps) {
    if (s.fromMs >= fromMs - MINUTE && s.fromMs < toMs)
      s.levels = s.levels.map((v, p) => Math.min(v, seen[p] ?? 0)) as Triple;
  }
}

/** The short form's command that replays one case (closed-loop-faults_spec.ts's environment variables). */
export function faultsReplayCommand(seed: number, path: string): string {
  return `FAULTS_SEED=${seed} FAULTS_PATH=${path} FAULTS_RUNS=1 npx mocha test/unit/dlm/closed-loop-faults_spec.ts`;
}
