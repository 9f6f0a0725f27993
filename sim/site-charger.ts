/**
 * One simulated charger of the site simulator (site.ts): what it offers and why, the limits on
 * their way to it (each lands after its response delay), its answers, and the connector state it
 * reports. Its cars and its physics stay with the site.
 */
import type { ConnectorState, ConnectorStatus, SetPoint } from '../lib/contracts';
import type { Connector, Triple } from '../lib/dlm/site';
import { triple } from '../lib/dlm/site';
import type { SimulatedEv } from './ev';
import { type AnswerState, answerSetPoint, giveAnswers, type SimChargerFaults } from './site-faults';
import type { SimCar, SimChargerOptions } from './site-options';

/** One charger of the simulated site. */
export interface ChargerSim {
  key: string;
  chargePointId: string;
  connectorId: number;
  index: number;
  options: Required<Omit<SimChargerOptions, keyof SimChargerFaults>>;
  faults: SimChargerFaults;
  answers: AnswerState;
  /** What the charger offers now, A. */
  offeredA: number;
  phases: 1 | 2 | 3;
  pending: { atMs: number; limitA: number; phases: 1 | 2 | 3 }[];
  /** `charged`: the car has drawn current this session. */
  car?: { sim: SimCar; ev: SimulatedEv; transactionId: number; energyStartWh: number; charged?: boolean };
  status: ConnectorStatus;
  energyWh: number;
  /** Charger phases L1..L3 current now. */
  chargerA: Triple;
  lastReportMs: number;
  dirty: boolean;
  starts: number;
  stops: number;
  phaseSwitches: number;
  /** Of `phaseSwitches`, those before the car first drew current (no contactor closed yet). */
  phaseSwitchesBeforeCurrent: number;
  drawing: boolean;
  /** A switch of the phases under load: the car draws nothing until then (ms). */
  pausedUntilMs?: number;
  /** Switches of the phases that stopped a car drawing current (each a contactor cycle). */
  phaseSwitchesUnderLoad: number;
  /** The fallback the load manager chose for it (`SetPoint.fallbackA`), installed with its limits. */
  fallbackA?: number;
}

/** A charger as configured (`given`), before anything happened: offering its own fallback. */
/** A simulated charger's time from a set-point to the car drawing it, unless its options say (ms). */
export const DEFAULT_RESPONSE_DELAY_MS = 5000;
/**
 * A simulated charger's pause for a switch of the phases while the car draws (ms): it stops the
 * car (IEC 61851 state C to B), opens its contactor, waits a few seconds for it to settle,
 * switches, and the car needs some 10-15 s to ask for current again. 20 s is the middle of what
 * wallboxes that switch (and the managers that drive them) allow for it.
 */
export const DEFAULT_PHASE_SWITCH_PAUSE_MS = 20_000;

export function chargerSim(connector: Connector, given: SimChargerOptions): ChargerSim {
  return {
    key: connector.key,
    chargePointId: connector.chargePointId,
    connectorId: connector.connectorId,
    index: connector.index,
    options: {
      responseDelayMs: given.responseDelayMs ?? DEFAULT_RESPONSE_DELAY_MS,
      rogue: given.rogue ?? false,
      overOfferA: given.overOfferA ?? 0,
      ignoresPhaseSwitch: given.ignoresPhaseSwitch ?? false,
      phaseSwitchPauseMs: given.phaseSwitchPauseMs ?? DEFAULT_PHASE_SWITCH_PAUSE_MS,
      meterIntervalMs: given.meterIntervalMs ?? 10_000,
      wholeAmps: given.wholeAmps ?? false,
    },
    faults: {
      ...(given.confirms === undefined ? {} : { confirms: given.confirms }),
      ...(given.refusesLimits === undefined ? {} : { refusesLimits: given.refusesLimits }),
      ...(given.reportsCurrents === undefined ? {} : { reportsCurrents: given.reportsCurrents }),
      ...(given.keepsLastLimit === undefined ? {} : { keepsLastLimit: given.keepsLastLimit }),
      ...(given.absurdReadings === undefined ? {} : { absurdReadings: given.absurdReadings }),
      ...(given.unphasedCurrent === undefined ? {} : { unphasedCurrent: given.unphasedCurrent }),
    },
    answers: { due: [] },
    // Before its first set-point a charger offers what it offers uncontrolled (its own fallback).
    offeredA: connector.offlineA,
    phases: connector.phases,
    pending: [],
    status: 'Available',
    energyWh: 0,
    chargerA: triple(0),
    lastReportMs: -Infinity,
    dirty: true,
    starts: 0,
    stops: 0,
    phaseSwitches: 0,
    phaseSwitchesBeforeCurrent: 0,
    phaseSwitchesUnderLoad: 0,
    drawing: false,
  };
}

/** A set-point reached the charger at `now`: its answer is due later, the limit lands after its response delay. */
export function takeSetPoint(charger: ChargerSim, setPoint: SetPoint, now: number): void {
  if (setPoint.fallbackA !== undefined) charger.fallbackA = setPoint.fallbackA;
  answerSetPoint(charger.faults, charger.answers, setPoint.limitA, now, setPoint.fallbackA);
  // One that confirms its limits holds the newest it confirmed: an older one still on its way
  // is replaced, not applied after it, and the newest lands when the older would have (the
  // charger applies whatever limit it holds on its own cycle: a second decrease does not
  // postpone the first). One that does not confirm may apply them in order.
  const landsAtMs = now + charger.options.responseDelayMs;
  const replaced = charger.faults.confirms ? charger.pending[0]?.atMs : undefined;
  if (charger.faults.confirms) charger.pending.length = 0;
  charger.pending.push({
    atMs: Math.min(landsAtMs, replaced ?? landsAtMs),
    limitA: setPoint.limitA,
    phases: setPoint.phases,
  });
}

/** Gives the answers due by `now` and applies the limits that landed (one that ignores them offers what it offers on its own). */
export function takeLimits(charger: ChargerSim, connector: Connector, now: number): void {
  if (giveAnswers(charger.faults, charger.answers, now)) charger.dirty = true;
  const ignores = charger.options.rogue || charger.faults.refusesLimits !== undefined;
  while (charger.pending[0] && charger.pending[0].atMs <= now) {
    const next = charger.pending.shift();
    if (!next || ignores) continue;
    const offeredA = next.limitA > 0 ? Math.min(connector.maxA, next.limitA + charger.options.overOfferA) : 0;
    // A limit a rounding error below a whole ampere (16.999999999) still offers that ampere.
    charger.offeredA = charger.options.wholeAmps ? Math.floor(offeredA + 1e-9) : offeredA;
    if (next.phases !== charger.phases) {
      charger.phases = next.phases;
      // Switching with no car plugged in touches no session (a charger set back to three phases
      // after the car left).
      if (charger.car) charger.phaseSwitches += 1;
      if (charger.car && !charger.car.charged) charger.phaseSwitchesBeforeCurrent += 1;
      // Under load the charger stops the car for the switch; one that ignores the phases does not.
      if (charger.drawing && !charger.options.ignoresPhaseSwitch && charger.options.phaseSwitchPauseMs > 0) {
        charger.pausedUntilMs = now + charger.options.phaseSwitchPauseMs;
        charger.phaseSwitchesUnderLoad += 1;
      }
    }
  }
  // A rogue offers its maximum; one that takes no limits (no SmartCharging) what it is set to
  // on its own: its own fallback, as the site says it (`offlineA`, its maximum unless set lower).
  if (ignores) charger.offeredA = charger.options.rogue ? connector.maxA : connector.offlineA;
}

/**
 * ampflow is gone: after its response delay the charger falls to its fallback (the one the load
 * manager chose, else its own offline limit); one that keeps its last limit keeps what it holds.
 */
export function fallBack(charger: ChargerSim, connector: Connector, now: number): void {
  if (charger.faults.keepsLastLimit) return;
  charger.pending = [
    {
      atMs: now + charger.options.responseDelayMs,
      limitA: charger.fallbackA ?? connector.offlineA,
      phases: charger.phases,
    },
  ];
}

/** The connector state the charger reports now (`startMs`: when the simulation started). */
export function connectorState(charger: ChargerSim, startMs: number): ConnectorState {
  const car = charger.car;
  const active = [1, 2, 3].filter((phase) => (charger.chargerA[phase - 1] ?? 0) > 1);
  return {
    chargePointId: charger.chargePointId,
    connectorId: charger.connectorId,
    status: charger.status,
    online: true,
    currentA: charger.chargerA.map(round2) as Triple,
    offeredCurrentA: charger.offeredA,
    energyWh: Math.round(charger.energyWh),
    ...(charger.status === 'Charging' ? { activePhases: active } : {}),
    ...(car
      ? {
          transaction: {
            transactionId: car.transactionId,
            idTag: car.sim.idTag ?? `TAG-${car.transactionId}`,
            startedAt: new Date(startMs + car.sim.arriveMs).toISOString(),
            meterStartWh: Math.round(car.energyStartWh),
            ...(car.sim.tagPriority === undefined ? {} : { priority: car.sim.tagPriority }),
          },
          socPercent: round2(car.ev.socPercent),
        }
      : {}),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
