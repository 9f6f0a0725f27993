/**
 * Summary and explanations: why each set-point is what it is (the reason sent with it), and the
 * site summary (per circuit and connector, what counts, what is left, what is wrong). Reads the
 * stages' state; changes nothing.
 */
import type { AllocationProblem, Bound, ConnectorAllocation } from '../allocation/allocate';
import type { CircuitView } from '../evidence/circuit-view';
import { describePlan } from '../evidence/departure';
import type { Measurements } from '../evidence/measurements';
import { sessionEnergyWh } from '../evidence/observations';
import { overshootOf } from '../evidence/overshoot';
import type { ConnectorView } from '../parts';
import { EPS, GRID_PHASES, round2, type Triple, triple } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import { chargersPowerLimitNowW, countedA, leftA, limitNowA, powerLimitNowW } from '../site/circuit';
import { describeSiteLimits, type SiteLimits } from '../site/limits';
import type { Connector, Site } from '../site/model';
import { english, given, type Reason, type Said, say, sayNames } from '../words';
import {
  type CircuitSummary,
  type ConnectorSummary,
  generationNow,
  type OfflineSummary,
  type PvSummary,
  type SiteSummary,
  siteLoad,
} from './summary';

/** What the explanations read. */
export interface ExplainContext {
  site: Site;
  runtimes: ConnectorRuntimes;
  views: readonly ConnectorView[];
  circuitViews: readonly CircuitView[];
  siteLimits: SiteLimits;
}

/** The reason sent with a connector's set-point: a `price` connector's plan first (modes/price-plans.ts). */
export function reasonFor(
  context: ExplainContext,
  connector: Connector,
  view: ConnectorView,
  entry: ConnectorAllocation,
  limitA: number,
): Reason {
  const reason = limitReason(context, connector, view, entry, limitA);
  const plan = context.runtimes.of(connector).pricePlan;
  return plan === undefined ? reason : [...plan, ...reason];
}

function limitReason(
  context: ExplainContext,
  connector: Connector,
  view: ConnectorView,
  entry: ConnectorAllocation,
  limitA: number,
): Reason {
  // The first circuit on the path with a fallback in force (no array per connector and update).
  let fallback: Reason | undefined;
  for (let at = 0; at < connector.path.length && fallback === undefined; at++)
    fallback = context.circuitViews[connector.path[at] ?? 0]?.fallback;
  const prefix: Reason = [
    ...(fallback && view.wantsByStatus ? fallback : []),
    ...(view.online && view.uncontrolled
      ? [say('maxWithWhy', { why: view.uncontrolled.why, amps: view.uncontrolled.amps })]
      : []),
  ];
  if (view.notWanting) return [...prefix, ...view.notWanting];
  if (entry.state === 'charging' && limitA === 0 && view.holdReason) {
    return [...prefix, say('startingWhenPossible', { amps: entry.limitA, why: view.holdReason })];
  }
  if (context.runtimes.of(connector).session.yielding) {
    // A car that rests on its own (evidence/car-minimum.ts carYields).
    const resting = say('resting', { amps: view.minA });
    if (entry.state === 'charging' && limitA > 0) return [...prefix, resting];
    const why =
      entry.bound && entry.bound.kind !== 'max' ? describeBound(context, entry.bound, view) : undefined;
    return [...prefix, resting, why ? say('forNowNoneBecause', { why: [why] }) : say('forNowNone')];
  }
  if (entry.state === 'paused' || limitA === 0) {
    const why = entry.bound ? describeBound(context, entry.bound, view) : say('notEnoughCurrent');
    return [
      ...prefix,
      view.minFromCar
        ? say('pausedCarMinimum', { why: [why], amps: view.minA, minWhy: view.minWhy ?? [] })
        : say('paused', { why: [why], amps: view.minA }),
    ];
  }
  const target = entry.limitA;
  const plan = view.plan;
  const capped = view.capA < connector.maxA - EPS;
  let base: Reason;
  // Within minChangeA of its target (a meter's jitter moves the target by tenths), a bound other
  // than its own maximum is what holds it: worded as that bound, not as a ramp or a hold that
  // flips with every reading (issue 39: "ramping up to 17.5 A" and "limited: zone L1 is full" in turn).
  const near = Math.abs(target - limitA) < context.site.control.minChangeA - EPS;
  if (near && !plan && entry.bound && entry.bound.kind !== 'max')
    base = [say('limited', { why: [describeBound(context, entry.bound, view)] })];
  else if (limitA < target - EPS && view.holdReason)
    base = [say('thenUpTo', { why: view.holdReason, amps: target })];
  else if (limitA < target - EPS) base = [say('rampingUp', { amps: target })];
  else if (limitA > target + EPS)
    base = [say('holding', { amps: limitA, minChangeA: context.site.control.minChangeA })];
  else if (plan) {
    // A departure plan: what the surplus pays, what the grid adds (evidence/departure.ts).
    const held =
      entry.bound && entry.bound.kind !== 'max' ? describeBound(context, entry.bound, view) : undefined;
    const cap = capped
      ? (view.capReason ?? [say('itIsLimitedTo', { amps: view.capA })])
      : [say('maxIs', { amps: connector.maxA })];
    return [
      ...prefix,
      describePlan(plan, limitA, context.site.timeZone, held && [held], cap),
      ...carMinimum(view, limitA),
      ...unphasedNote(connector, view),
      ...refusedNote(context, connector),
    ];
  } else if (!entry.bound || entry.bound.kind === 'max') {
    base = capped
      ? (view.capReason ?? [say('limitedTo', { amps: view.capA })])
      : [say('maximum', { amps: connector.maxA })];
  } else base = [say('limited', { why: [describeBound(context, entry.bound, view)] })];
  // A pv car kept at its minimum while the surplus is smaller draws the rest from the grid (the
  // shortfall modes/pv.ts counts against its budget): "limited" by the surplus would hide that.
  const shortW = context.runtimes.of(connector).session.pvShortfallW ?? 0;
  if (entry.bound?.kind === 'pv' && base[0]?.key === 'limited' && limitA > 0 && shortW >= 50)
    base = [say('pvShortfall', { kW: (shortW / 1000).toFixed(1) })];
  // Ramping or held, a car with a plan says what it is for.
  if (plan && base[0]?.key === 'rampingUp')
    base = [say('rampingUpFor', { amps: target, plan: [describePlan(plan, target, context.site.timeZone)] })];
  return [
    ...prefix,
    ...base,
    ...carMinimum(view, limitA),
    ...unphasedNote(connector, view),
    ...refusedNote(context, connector),
  ];
}

/**
 * Said of a connector whose charger sent an impossible reading this session (its phase taken as
 * not measured, evidence/meter-plausibility.ts): the newest one, without the charger's name the
 * reason is already under.
 */
function refusedNote(context: ExplainContext, connector: Connector): Reason {
  const why = context.runtimes.of(connector).session.refusedWhy;
  return why === undefined ? [] : [say('readingRefused', { why: why.map(withoutCharger) })];
}

/** A charger's refused reading without its name (`chargerNotFinite` → `notFinite`). */
function withoutCharger(part: Said): Said {
  const { value = '', where = '', boundA = '', maxA = '' } = part.params ?? {};
  if (part.key === 'chargerNotFinite') return say('notFinite', { value, where });
  if (part.key === 'chargerBeyondWiring') return say('beyondWiring', { value, where, boundA, maxA });
  return part;
}

/** Said of a connector whose charger reports its current without a phase (evidence/measurements.ts unphasedOn). */
function unphasedNote(connector: Connector, view: ConnectorView): Reason {
  if (view.fromEnergy) return [say('byEnergyRegister')];
  if (!view.unphased) return [];
  // Its energy register showed one phase (evidence/energy-draw.ts unphasedShows): counted on L1.
  const onOne = connector.phases === 3 && view.chargerPhases.length === 1;
  const phases =
    connector.phases === 3 && !onOne ? 'L1-L3' : connector.network === 'IT' ? [say('itTwoConductors')] : 'L1';
  return [say(onOne ? 'withoutPhaseOnOne' : 'withoutPhase', { phases })];
}

/** Said of a car held at the minimum it asked for over ISO 15118 (more than the connector's). */
function carMinimum(view: ConnectorView, limitA: number): Reason {
  return view.minFromCar && limitA <= view.minA + EPS
    ? [say('carMinimum', { amps: view.minA, why: view.minWhy ?? [] })]
    : [];
}

/**
 * Why each set-point in force is what it is, worded when asked (a summary, LoadManager.setPoints):
 * from the views and the allocation of the last update, as the set-points that went out in it
 * were. Without an allocation of this site (a replaced site before its first update), the reason
 * each went out with.
 */
export function reasonsInForce(
  context: ExplainContext,
  allocation: { connectors: readonly ConnectorAllocation[] } | undefined,
): (k: number) => Reason {
  const { site, runtimes, views } = context;
  return (k) => {
    const connector = site.connectors[k];
    const sent = connector && runtimes.of(connector).sent;
    if (!connector || !sent) return [];
    const view = views[k];
    const entry = allocation?.connectors[k];
    if (!view || !entry) return sent.words;
    return reasonFor(context, connector, view, entry, sent.limitA);
  };
}

/** What bound a connector's allocation, in words. */
function describeBound(context: ExplainContext, bound: Bound, view: ConnectorView): Said {
  const { site } = context;
  const circuitName = (c: number) => site.circuits[c]?.name ?? `circuit ${c}`;
  switch (bound.kind) {
    case 'max':
      return view.capA < view.minA
        ? say('maxWithWhy', {
            why: view.capReason ?? [view.minFromCar ? say('itsMaximum') : say('limitWord')],
            amps: view.capA,
          })
        : say('itsMaximum');
    case 'phase':
      return say('phaseFull', { circuit: circuitName(bound.circuit), phase: bound.phase + 1 });
    case 'power':
      return say('powerLimit', { circuit: circuitName(bound.circuit) });
    case 'chargersPower': {
      const id = site.circuits[bound.circuit]?.id ?? '';
      // A site limit's own reason is the command's (`§14a`), shown as it came.
      const given_ = context.siteLimits.of(id)?.chargersPowerLimitW?.reason;
      return say('chargersPower', {
        why: [given_ === undefined ? say('siteLimit') : given(given_)],
        circuit: circuitName(bound.circuit),
      });
    }
    case 'unbalance':
      return say('unbalanceLimit', { circuit: circuitName(bound.circuit) });
    case 'pv':
      return say('pvSurplus');
  }
}

/** What the summary reads beyond the explanations' context. */
export interface SummaryInputs {
  measurements: Measurements;
  problem: AllocationProblem | undefined;
  internalProblems: readonly Reason[];
  unknownConnectors: ReadonlySet<string>;
  pv: PvSummary | undefined;
  /** The price now and until when prices are known (modes/price-plans.ts). */
  prices: SiteSummary['prices'];
  /** Per circuit, what it would carry if ampflow stopped now, and the problem where it does not fit (control/offline-fit.ts). */
  offline: { circuits: readonly OfflineSummary[]; problems: readonly (Reason | undefined)[] };
  /** Why the set-point in force of the connector at index k is what it is (one that has one). */
  reasonOf(k: number): Reason;
}

export function buildSummary(context: ExplainContext, inputs: SummaryInputs, now: number): SiteSummary {
  const { site, runtimes, views } = context;
  const problems: Reason[] = [...inputs.internalProblems];
  const counted = site.connectors.map((connector, k) => {
    const demand = inputs.problem?.connectors[k];
    const limit = runtimes.of(connector).sent?.limitA ?? 0;
    return GRID_PHASES.map((p) =>
      countedA(demand?.floorA[p] ?? 0, demand?.phases.includes(p) === true, limit),
    ) as Triple;
  });
  // What is held for chargers not under control (offline, or not reported yet): their own fallback.
  const reserved = site.connectors.map((_connector, k) => {
    const floor = inputs.problem?.connectors[k]?.floorA;
    return views[k]?.online || !floor ? triple(0) : (GRID_PHASES.map((p) => floor[p] ?? 0) as Triple);
  });
  const circuits: CircuitSummary[] = site.circuits.map((circuit, c) => {
    const view = context.circuitViews[c];
    const meter = inputs.measurements.peekMeter(circuit.id);
    const phaseA = meter?.phaseA ?? [undefined, undefined, undefined];
    const measuredAt = [
      ...phaseA.map((s) => s?.atMs ?? Number.NEGATIVE_INFINITY),
      meter?.powerW?.atMs ?? Number.NEGATIVE_INFINITY,
    ];
    const newestMs = Math.max(...measuredAt);
    const chargersA = triple(0);
    for (const k of circuit.connectorIndexes) {
      for (const p of GRID_PHASES) chargersA[p] += counted[k]?.[p] ?? 0;
    }
    const override = context.siteLimits.of(circuit.id);
    const otherA = view?.otherA ?? triple(0);
    const limitA = view?.limitA ?? limitNowA(circuit, override);
    const loadA = GRID_PHASES.map((p) => round2(otherA[p] + chargersA[p])) as Triple;
    const availableA = GRID_PHASES.map((p) => round2(leftA(circuit, limitA, p, loadA[p]))) as Triple;
    const reservedA = triple(0);
    for (const k of circuit.connectorIndexes) {
      for (const p of GRID_PHASES) reservedA[p] += reserved[k]?.[p] ?? 0;
    }
    // Overloaded: what is measured or under control exceeds the limit. What a blind meter's other
    // loads are assumed at (the whole limit before its first reading, a learned peak, a configured
    // fallback) is no measurement, and reservations for chargers not under control that fill the
    // circuit are none either: both are named instead (the fallback, "full with ...").
    // What of the other loads was measured now (evidence/circuit-view.ts knownA: a blind phase's at what the
    // circuits below measured).
    const measuredA = view?.knownA ?? triple(0);
    const overloaded = GRID_PHASES.some(
      (p) =>
        measuredA[p] + circuit.headroomA[p] > limitA[p] + EPS ||
        leftA(circuit, limitA, p, measuredA[p]) - chargersA[p] + reservedA[p] < -0.05,
    );
    const fullOfReservations =
      !overloaded && GRID_PHASES.some((p) => reservedA[p] > 0 && (availableA[p] ?? 0) < 0.05);
    // On its fallback: which of the cars below wait for it (paused while they want current).
    const fallback = view?.fallback && withPaused(context, circuit.connectorIndexes, view.fallback);
    if (fallback) problems.push(fallback);
    const offline = inputs.offline.problems[c];
    if (offline) problems.push(offline);
    if (overloaded) {
      problems.push([say('overloaded', { circuit: circuit.name, amps: availableA.join('/') })]);
    } else if (fullOfReservations) {
      const held = circuit.connectorIndexes
        .filter((k) => (reserved[k] ?? []).some((a) => a > 0))
        .map((k) => {
          const connector = site.connectors[k];
          const key = String(connector?.key);
          const amps = Math.max(...(reserved[k] ?? [0]));
          const why = views[k]?.uncontrolled?.why;
          return !views[k]?.known
            ? say('reservedNotReported', { key, amps })
            : why
              ? say('reservedOfflineWhy', { key, amps, why })
              : say('reservedOffline', { key, amps });
        });
      problems.push([say('fullOfReserved', { circuit: circuit.name, held })]);
    }
    const powerLimitW = powerLimitNowW(circuit, override);
    const chargersPowerLimitW = chargersPowerLimitNowW(override);
    const unbalance = Math.max(...chargersA) - Math.min(...chargersA);
    return {
      id: circuit.id,
      name: circuit.name,
      ...(circuit.parentIndex === undefined ? {} : { parent: site.circuits[circuit.parentIndex]?.id ?? '' }),
      limitA,
      configuredLimitA: circuit.limitA,
      headroomA: circuit.headroomA,
      otherA: otherA.map(round2) as Triple,
      chargersA: chargersA.map(round2) as Triple,
      loadA,
      availableA,
      ...(powerLimitW === undefined ? {} : { powerLimitW }),
      ...(chargersPowerLimitW === undefined ? {} : { chargersPowerLimitW }),
      unbalanceA: round2(unbalance),
      ...(circuit.unbalanceLimitA === undefined ? {} : { unbalanceLimitA: circuit.unbalanceLimitA }),
      ...(circuit.meter
        ? {
            meter: {
              source: circuit.meter.source,
              location: circuit.meter.location,
              stale: view?.stale ?? true,
              ...(Number.isFinite(newestMs) ? { ageMs: now - newestMs } : {}),
              ...(phaseA.every((s) => s !== undefined)
                ? { measuredA: phaseA.map((s) => round2(s?.value ?? 0)) as Triple }
                : {}),
              ...(meter?.powerW === undefined ? {} : { measuredW: Math.round(meter.powerW.value) }),
              ...(view?.stalePhases?.length ? { stalePhases: view.stalePhases.map((p) => p + 1) } : {}),
              ...(view?.implausible ? { implausible: english(view.implausible) } : {}),
            },
          }
        : {}),
      ...(fallback ? { fallback: english(fallback), fallbackWords: fallback } : {}),
      ...(override ? { siteLimits: describeSiteLimits(override) } : {}),
      overloaded,
      ...(reservedA.some((a) => a > 0) ? { reservedA: reservedA.map(round2) as Triple } : {}),
      ...(fullOfReservations ? { fullOfReservations } : {}),
      ...(inputs.offline.circuits[c] ? { offline: inputs.offline.circuits[c] } : {}),
    };
  });
  let charging = 0;
  let totalLimitA = 0;
  const connectors: ConnectorSummary[] = site.connectors.map((connector, k) => {
    const runtime = runtimes.of(connector);
    const view = views[k];
    const sent = runtime.sent;
    const limitA = sent?.limitA ?? 0;
    totalLimitA += limitA;
    if (limitA > 0 && runtime.state?.status === 'Charging') charging += 1;
    const session = runtime.session;
    if (session.overdrawing) {
      problems.push([say('overdrawing', { key: connector.key, amps: limitA })]);
    }
    if (session.refusedWhy !== undefined) {
      problems.push([say('refusedReadings', { why: session.refusedWhy, n: session.refusedReadings ?? 0 })]);
    }
    for (const error of runtime.exprErrors.values()) problems.push(error);
    const energyWh = sessionEnergyWh(runtime.state);
    const reason = sent ? inputs.reasonOf(k) : [];
    return {
      chargePointId: connector.chargePointId,
      connectorId: connector.connectorId,
      name: connector.name,
      circuit: site.circuits[connector.circuitIndex]?.id ?? '',
      ...(runtime.state?.status ? { status: runtime.state.status } : {}),
      online: view?.online ?? false,
      mode: view?.mode ?? 'fast',
      priority: view?.priority ?? 0,
      limitA,
      phases: sent?.phases ?? view?.phasesOut ?? 3,
      reason: english(reason),
      reasonWords: reason,
      gridPhases: (view?.gridPhases ?? []).map((p) => p + 1),
      ...(view?.drawGridA ? { drawA: view.drawGridA.map(round2) as Triple } : {}),
      ...(view?.fromEnergy ? { measuredBy: 'energy' as const } : {}),
      countedA: (counted[k] ?? triple(0)).map(round2) as Triple,
      ...(session.overdrawing ? { overdrawing: true } : {}),
      ...(overshootOf(runtime) > 0 ? { overshootPercent: Math.round(overshootOf(runtime) * 1000) / 10 } : {}),
      ...(session.refusedWhy === undefined ? {} : { refusedReading: english(session.refusedWhy) }),
      ...(view?.online && view.uncontrolled
        ? { uncontrolled: english(view.uncontrolled.why), uncontrolledWords: view.uncontrolled.why }
        : {}),
      ...((reserved[k] ?? []).some((a) => a > 0)
        ? { reservedA: (reserved[k] ?? triple(0)).map(round2) as Triple }
        : {}),
      ...(session.underDrawCapA !== undefined ? { underDrawing: true } : {}),
      ...(view?.mode === 'pv' ? { pvEnabled: session.pvEnabled } : {}),
      ...(energyWh > 0 ? { energyWh } : {}),
      ...(session.switches > 0 ? { phaseSwitches: session.switches } : {}),
      // A price connector: its mode as chosen (the others see fast or pv) and its plan in words.
      ...(runtime.pricePlan === undefined
        ? {}
        : { mode: 'price' as const, plan: english(runtime.pricePlan), planWords: runtime.pricePlan }),
      ...(runtime.pricePlanned === undefined ? {} : { planned: runtime.pricePlanned }),
    };
  });
  for (const key of inputs.unknownConnectors) problems.push([say('notInSite', { key })]);
  return {
    at: new Date(now).toISOString(),
    timeZone: site.timeZone,
    site: siteLoad(circuits, connectors, site.voltageV, generationNow(site, inputs.measurements, now)),
    charging,
    totalLimitA: round2(totalLimitA),
    circuits,
    connectors,
    ...(inputs.pv ? { pv: inputs.pv } : {}),
    ...(inputs.prices ? { prices: inputs.prices } : {}),
    problems: problems.map(english),
    problemWords: problems,
  };
}

/** A circuit's fallback, and the connectors below it that want current and are paused ("CP-7/1, CP-8/1 paused"). */
function withPaused(context: ExplainContext, below: readonly number[], fallback: Reason): Reason {
  const paused: string[] = [];
  for (const k of below) {
    const connector = context.site.connectors[k];
    const view = context.views[k];
    if (!connector || !view?.online || !view.wantsByStatus) continue;
    if ((context.runtimes.of(connector).sent?.limitA ?? 0) === 0) paused.push(connector.key);
  }
  return paused.length === 0 ? fallback : [...fallback, say('namesPaused', { names: sayNames(paused) })];
}
