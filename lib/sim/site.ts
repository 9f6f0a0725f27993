/**
 * A site in a box for the load manager's scenario tests, the bench and the demo: circuits with
 * other loads over the day, a PV plant, a home battery, chargers that follow set-points after a
 * response delay (or a rogue one that ignores them, one that offers more than its set-point, one
 * whose car keeps all its phases after a switch to one), cars (lib/sim/ev.ts: single-phase ones,
 * ones that take less than offered), and meters that produce Readings (including or excluding the
 * chargers, with dropouts). Pure and in-process, on a ManualClock.
 *
 * The simulator is the physical truth: `actualA` is what each breaker carries. `runClosedLoop`
 * couples it with a LoadManager and records every second where a breaker carried more than its
 * limit, so tests can assert a bound on how long that may last.
 */
import type { ManualClock } from '../clock';
import type { ConnectorState, ConnectorStatus, Reading, SetPoint } from '../contracts';
import type { LoadManager } from '../dlm/load-manager';
import {
  GRID_PHASES,
  type GridPhase,
  parseSite,
  type Site,
  type SiteConfig,
  type Triple,
  triple,
} from '../dlm/site';
import { type EvOptions, SimulatedEv } from './ev';
import {
  type AnswerState,
  answerSetPoint,
  giveAnswers,
  type MeterLie,
  meterReads,
  type SimChargerFaults,
  withFaults,
  withJitter,
} from './site-faults';

/** Per-phase current of the other loads (A, grid phases) at `atMs` since the start of the day. */
export type LoadProfile = (atMs: number) => Triple;

export interface SimMeterOptions {
  /** A Reading every this often. Default 1000 ms. */
  intervalMs?: number;
  /** No readings in these windows (ms since the simulation started). */
  dropouts?: { fromMs: number; toMs: number }[];
  /** Readings with fresh timestamps but false values in these windows (site-faults.ts). */
  lies?: MeterLie[];
  /**
   * A real meter's last digits move from reading to reading: each non-zero phase reads up to this
   * much above the truth, A (never below: the noise must not hide load). Default 0 (exact).
   */
  jitterA?: number;
}

export interface SimChargerOptions extends SimChargerFaults {
  /** Time from a set-point to the car drawing the new current. Default 5000 ms. */
  responseDelayMs?: number;
  /** Ignores every set-point and offers its maximum. */
  rogue?: boolean;
  /**
   * Offers this much more than its set-point (up to its maximum): a charger that applies its limit
   * wrongly, so that what it draws follows the set-point. Default 0.
   */
  overOfferA?: number;
  /** Ignores the number of phases in a set-point: the car keeps drawing on all its phases. */
  ignoresPhaseSwitch?: boolean;
  /** The charger's own meter reports this often (OCPP MeterValueSampleInterval). Default 10 000 ms. */
  meterIntervalMs?: number;
}

export interface SimCar {
  /** `<chargePointId>/<connectorId>`. */
  connector: string;
  /** ms since the simulation started. */
  arriveMs: number;
  leaveMs?: number;
  ev: EvOptions;
  idTag?: string;
  /** The id tag's priority, as the central system would put it on the transaction. */
  tagPriority?: number;
}

export interface SimPv {
  peakW: number;
  /** 0..1 of the peak at `atMs` since the start of the day. */
  profile: (atMs: number) => number;
  /** The inverter's reading source: a reading (`totalPowerW`, export negative) every second. */
  source?: string;
}

export interface SimBattery {
  source: string;
  capacityWh: number;
  socPercent: number;
  maxChargeW: number;
  maxDischargeW: number;
  /** Never discharged below this. Default 10 %. */
  minSocPercent?: number;
  intervalMs?: number;
}

export interface SiteSimOptions {
  clock: ManualClock;
  /** The electrical truth: tree, limits, rotations, meters (the same model the load manager gets). */
  site: SiteConfig | Site;
  /** Time of day at the start, ms after midnight (profiles get the time of day). Default 0. */
  startOfDayMs?: number;
  otherLoads?: Record<string, LoadProfile>;
  meters?: Record<string, SimMeterOptions>;
  chargers?: Record<string, SimChargerOptions>;
  cars?: SimCar[];
  /** PV and battery sit at the root circuit (behind the grid meter). */
  pv?: SimPv;
  battery?: SimBattery;
}

interface ChargerSim {
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
  /** The fallback the load manager chose for it (`SetPoint.fallbackA`), installed with its limits. */
  fallbackA?: number;
}

export interface Overload {
  circuit: string;
  phase: GridPhase;
  fromMs: number;
  /** Seconds over the limit (so far, for the open one). */
  durationMs: number;
  maxExcessA: number;
}

export class SiteSimulator {
  readonly site: Site;
  private readonly clock: ManualClock;
  private readonly startMs: number;
  private readonly startOfDayMs: number;
  private readonly chargers: ChargerSim[];
  private readonly cars: SimCar[];
  private readonly meterOptions: Record<string, Required<SimMeterOptions>>;
  /** Per circuit, the last true reading (what a frozen meter repeats). */
  private readonly lastTrueA = new Map<string, Triple>();
  private readonly lastMeterMs = new Map<string, number>();
  private nextTransactionId = 1;
  private readonly arrived = new Set<SimCar>();
  private readonly pv: SimPv | undefined;
  /** ampflow is gone (centralGone). */
  private gone = false;
  private readonly battery: (SimBattery & { storedWh: number; powerW: number; lastMs: number }) | undefined;
  private readonly otherLoads: Record<string, LoadProfile>;
  private actual: Triple[] = [];
  private pvW = 0;
  private houseW = 0;

  constructor(options: SiteSimOptions) {
    this.clock = options.clock;
    this.startMs = options.clock.now();
    this.startOfDayMs = options.startOfDayMs ?? 0;
    this.site = 'rootIndexes' in options.site ? options.site : parseSite(options.site);
    this.otherLoads = options.otherLoads ?? {};
    this.cars = [...(options.cars ?? [])].sort((a, b) => a.arriveMs - b.arriveMs);
    this.pv = options.pv;
    this.battery = options.battery
      ? {
          ...options.battery,
          storedWh: (options.battery.socPercent / 100) * options.battery.capacityWh,
          powerW: 0,
          lastMs: -Infinity,
        }
      : undefined;
    this.meterOptions = {};
    for (const circuit of this.site.circuits) {
      const given = options.meters?.[circuit.id] ?? {};
      this.meterOptions[circuit.id] = {
        intervalMs: given.intervalMs ?? 1000,
        dropouts: given.dropouts ?? [],
        lies: given.lies ?? [],
        jitterA: given.jitterA ?? 0,
      };
    }
    this.chargers = this.site.connectors.map((connector) => {
      const given = options.chargers?.[connector.key] ?? {};
      return {
        key: connector.key,
        chargePointId: connector.chargePointId,
        connectorId: connector.connectorId,
        index: connector.index,
        options: {
          responseDelayMs: given.responseDelayMs ?? 5000,
          rogue: given.rogue ?? false,
          overOfferA: given.overOfferA ?? 0,
          ignoresPhaseSwitch: given.ignoresPhaseSwitch ?? false,
          meterIntervalMs: given.meterIntervalMs ?? 10_000,
        },
        faults: {
          ...(given.confirms === undefined ? {} : { confirms: given.confirms }),
          ...(given.refusesLimits === undefined ? {} : { refusesLimits: given.refusesLimits }),
          ...(given.reportsCurrents === undefined ? {} : { reportsCurrents: given.reportsCurrents }),
          ...(given.keepsLastLimit === undefined ? {} : { keepsLastLimit: given.keepsLastLimit }),
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
        drawing: false,
      };
    });
    this.computeActual();
  }

  /** ms since the simulation started. */
  get elapsedMs(): number {
    return this.clock.now() - this.startMs;
  }

  /** Time of day, ms after midnight. */
  get timeOfDayMs(): number {
    return this.startOfDayMs + this.elapsedMs;
  }

  /** A set-point from the load manager; the charger takes it after its response delay. */
  applySetPoint(setPoint: SetPoint): void {
    const charger = this.chargers.find(
      (c) => c.chargePointId === setPoint.chargePointId && c.connectorId === setPoint.connectorId,
    );
    if (!charger || this.gone) return;
    if (setPoint.fallbackA !== undefined) charger.fallbackA = setPoint.fallbackA;
    answerSetPoint(charger.faults, charger.answers, setPoint.limitA, this.clock.now());
    // One that confirms its limits holds the newest it confirmed: an older one still on its way
    // is replaced, not applied after it, and the newest lands when the older would have (the
    // charger applies whatever limit it holds on its own cycle: a second decrease does not
    // postpone the first). One that does not confirm may apply them in order.
    const landsAtMs = this.clock.now() + charger.options.responseDelayMs;
    const replaced = charger.faults.confirms ? charger.pending[0]?.atMs : undefined;
    if (charger.faults.confirms) charger.pending.length = 0;
    charger.pending.push({
      atMs: Math.min(landsAtMs, replaced ?? landsAtMs),
      limitA: setPoint.limitA,
      phases: setPoint.phases,
    });
  }

  /**
   * ampflow is gone (Node-RED stopped, the network to the chargers broken): each charger falls to
   * its fallback after its response delay (the one the load manager chose, else its own offline
   * limit) and takes no set-point any more; one that keeps its last limit keeps what it holds.
   */
  centralGone(): void {
    this.gone = true;
    const now = this.clock.now();
    for (const charger of this.chargers) {
      const connector = this.site.connectors[charger.index];
      if (!connector || charger.faults.keepsLastLimit) continue;
      charger.pending = [
        {
          atMs: now + charger.options.responseDelayMs,
          limitA: charger.fallbackA ?? connector.offlineA,
          phases: charger.phases,
        },
      ];
    }
  }

  /** Advances the physics by `dtMs` (call after the clock moved by the same amount). */
  step(dtMs: number): void {
    const now = this.clock.now();
    const elapsed = this.elapsedMs;
    for (const charger of this.chargers) this.stepCharger(charger, now, elapsed, dtMs);
    this.computeActual();
    this.stepBattery(dtMs);
  }

  private stepCharger(charger: ChargerSim, now: number, elapsed: number, dtMs: number): void {
    const connector = this.site.connectors[charger.index];
    if (!connector) return;
    if (giveAnswers(charger.faults, charger.answers, now)) charger.dirty = true;
    const ignores = charger.options.rogue || charger.faults.refusesLimits !== undefined;
    while (charger.pending[0] && charger.pending[0].atMs <= now) {
      const next = charger.pending.shift();
      if (!next || ignores) continue;
      charger.offeredA =
        next.limitA > 0 ? Math.min(connector.maxA, next.limitA + charger.options.overOfferA) : 0;
      if (next.phases !== charger.phases) {
        charger.phases = next.phases;
        // Switching with no car plugged in touches no session (a charger set back to three phases
        // after the car left).
        if (charger.car) charger.phaseSwitches += 1;
        if (charger.car && !charger.car.charged) charger.phaseSwitchesBeforeCurrent += 1;
      }
    }
    if (ignores) charger.offeredA = connector.maxA;
    // Cars arrive and leave.
    if (charger.car?.sim.leaveMs !== undefined && elapsed >= charger.car.sim.leaveMs) {
      delete charger.car;
      charger.status = 'Available';
      charger.dirty = true;
    }
    if (!charger.car) {
      const car = this.cars.find(
        (c) =>
          c.connector === charger.key &&
          c.arriveMs <= elapsed &&
          (c.leaveMs === undefined || c.leaveMs > elapsed) &&
          !this.arrived.has(c),
      );
      if (car) {
        this.arrived.add(car);
        charger.car = {
          sim: car,
          ev: new SimulatedEv(car.ev),
          transactionId: this.nextTransactionId++,
          energyStartWh: charger.energyWh,
        };
        charger.dirty = true;
      }
    }
    const car = charger.car;
    let chargerA = triple(0);
    let status: ConnectorStatus = 'Available';
    if (car) {
      const usedPhases = charger.phases === 1 && !charger.options.ignoresPhaseSwitch ? 1 : connector.phases;
      const draw = car.ev.draw(charger.offeredA, usedPhases);
      if (draw.currentA > 0) {
        status = 'Charging';
        car.charged = true;
        for (let i = 0; i < draw.phases; i++) chargerA[i] = draw.currentA;
        car.ev.charge((draw.currentA * draw.phases * this.site.voltageV * dtMs) / 3_600_000);
        charger.energyWh += (draw.currentA * draw.phases * this.site.voltageV * dtMs) / 3_600_000;
      } else status = car.ev.full ? 'SuspendedEV' : 'SuspendedEVSE';
    } else chargerA = triple(0);
    const drawing = status === 'Charging';
    if (drawing && !charger.drawing) charger.starts += 1;
    if (!drawing && charger.drawing && car) charger.stops += 1;
    charger.drawing = drawing;
    if (status !== charger.status) charger.dirty = true;
    charger.status = status;
    charger.chargerA = chargerA;
  }

  private stepBattery(dtMs: number): void {
    const battery = this.battery;
    if (!battery) return;
    // The battery's own controller holds the grid at zero: it charges from export and covers import.
    const root = this.site.rootIndexes[0] ?? 0;
    const netW = sumTriple(this.actual[root] ?? triple(0)) * this.site.voltageV - battery.powerW;
    const minWh = ((battery.minSocPercent ?? 10) / 100) * battery.capacityWh;
    let powerW = 0;
    if (netW < 0) {
      const roomWh = battery.capacityWh - battery.storedWh;
      powerW = Math.min(-netW, battery.maxChargeW, (roomWh * 3_600_000) / dtMs);
    } else if (netW > 0) {
      const availableWh = Math.max(0, battery.storedWh - minWh);
      powerW = -Math.min(netW, battery.maxDischargeW, (availableWh * 3_600_000) / dtMs);
    }
    battery.powerW = powerW;
    battery.storedWh += (powerW * dtMs) / 3_600_000;
    this.computeActual();
  }

  /** Per circuit: current per grid phase it carries now (signed: export negative at the root). */
  private computeActual(): void {
    const site = this.site;
    const timeOfDay = this.timeOfDayMs;
    const own = site.circuits.map(
      (circuit) => [...(this.otherLoads[circuit.id]?.(timeOfDay) ?? triple(0))] as Triple,
    );
    this.houseW = own.reduce((sum, phases) => sum + sumTriple(phases), 0) * site.voltageV;
    for (const charger of this.chargers) {
      const connector = site.connectors[charger.index];
      if (!connector) continue;
      const target = own[connector.circuitIndex];
      if (!target) continue;
      for (let i = 0; i < 3; i++) target[connector.gridPhaseOf[i] ?? 0] += charger.chargerA[i] ?? 0;
    }
    const root = site.rootIndexes[0] ?? 0;
    this.pvW = this.pv ? this.pv.peakW * Math.max(0, Math.min(1, this.pv.profile(timeOfDay))) : 0;
    const batteryW = this.battery?.powerW ?? 0;
    const rootOwn = own[root];
    if (rootOwn) {
      for (const p of GRID_PHASES) rootOwn[p] += (batteryW - this.pvW) / 3 / site.voltageV;
    }
    // Children first: a circuit carries its own loads and everything below.
    const actual = own.map((phases) => [...phases] as Triple);
    const depth = (index: number): number => {
      const parent = site.circuits[index]?.parentIndex;
      return parent === undefined ? 0 : 1 + depth(parent);
    };
    const order = site.circuits.map((c) => c.index).sort((a, b) => depth(b) - depth(a));
    for (const index of order) {
      const parent = site.circuits[index]?.parentIndex;
      const from = actual[index];
      const to = parent === undefined ? undefined : actual[parent];
      if (from && to) for (const p of GRID_PHASES) to[p] += from[p];
    }
    this.actual = actual;
  }

  /** What each circuit carries now, per grid phase, A (signed; index like the site's circuits). */
  actualA(): Triple[] {
    return this.actual.map((phases) => [...phases] as Triple);
  }

  /** What the chargers below each circuit draw now, per grid phase. */
  chargersA(): Triple[] {
    const site = this.site;
    return site.circuits.map((circuit) => {
      const total = triple(0);
      for (const k of circuit.connectorIndexes) {
        const connector = site.connectors[k];
        const charger = this.chargers[k];
        if (!connector || !charger) continue;
        for (let i = 0; i < 3; i++) total[connector.gridPhaseOf[i] ?? 0] += charger.chargerA[i] ?? 0;
      }
      return total;
    });
  }

  /** Meter readings due now (each meter at its interval, none during a dropout). */
  takeReadings(): Reading[] {
    const now = this.clock.now();
    const elapsed = this.elapsedMs;
    const readings: Reading[] = [];
    let stamp: string | undefined;
    const timestamp = () => {
      stamp ??= new Date(now).toISOString();
      return stamp;
    };
    const chargers = this.chargersA();
    for (const circuit of this.site.circuits) {
      if (!circuit.meter) continue;
      const options = this.meterOptions[circuit.id];
      if (!options) continue;
      const last = this.lastMeterMs.get(circuit.id);
      if (last !== undefined && now - last < options.intervalMs) continue;
      if (options.dropouts.some((d) => elapsed >= d.fromMs && elapsed < d.toMs)) continue;
      this.lastMeterMs.set(circuit.id, now);
      const total = this.actual[circuit.index] ?? triple(0);
      const below = chargers[circuit.index] ?? triple(0);
      const trueA =
        circuit.meter.location === 'includesChargers'
          ? total
          : (total.map((value, p) => value - (below[p] ?? 0)) as Triple);
      const measured = withJitter(trueA, options.jitterA, circuit.index, now);
      const currentA = meterReads(options.lies, elapsed, measured, this.lastTrueA.get(circuit.id));
      if (currentA === measured) this.lastTrueA.set(circuit.id, measured);
      const powerW = currentA.map((value) => value * this.site.voltageV) as Triple;
      readings.push({
        source: circuit.meter.source,
        timestamp: timestamp(),
        currentA: currentA.map(round2) as Triple,
        powerW: powerW.map(Math.round) as Triple,
        totalPowerW: Math.round(sumTriple(powerW)),
      });
    }
    if (this.pv?.source) {
      const powerW = -Math.round(this.pvW);
      readings.push({ source: this.pv.source, timestamp: timestamp(), totalPowerW: powerW });
    }
    const battery = this.battery;
    if (battery && (now - battery.lastMs >= (battery.intervalMs ?? 1000) || battery.lastMs === -Infinity)) {
      battery.lastMs = now;
      readings.push({
        source: battery.source,
        timestamp: timestamp(),
        totalPowerW: Math.round(battery.powerW),
        socPercent: round2((battery.storedWh / battery.capacityWh) * 100),
      });
    }
    return readings;
  }

  /** Connector states whose status changed or whose meter interval elapsed. */
  takeConnectorStates(): ConnectorState[] {
    const now = this.clock.now();
    const states: ConnectorState[] = [];
    for (const charger of this.chargers) {
      if (!charger.dirty && now - charger.lastReportMs < charger.options.meterIntervalMs) continue;
      charger.dirty = false;
      charger.lastReportMs = now;
      states.push(withFaults(charger.faults, charger.answers, this.connectorState(charger)));
    }
    return states;
  }

  private connectorState(charger: ChargerSim): ConnectorState {
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
              startedAt: new Date(this.startMs + car.sim.arriveMs).toISOString(),
              meterStartWh: Math.round(car.energyStartWh),
              ...(car.sim.tagPriority === undefined ? {} : { priority: car.sim.tagPriority }),
            },
            socPercent: round2(car.ev.socPercent),
          }
        : {}),
    };
  }

  /** Power the PV plant produces now, W. */
  get pvPowerW(): number {
    return this.pvW;
  }

  /** Other loads (house) now, W. */
  get otherLoadsW(): number {
    return this.houseW;
  }

  get batteryPowerW(): number {
    return this.battery?.powerW ?? 0;
  }

  get batterySocPercent(): number | undefined {
    const battery = this.battery;
    return battery ? (battery.storedWh / battery.capacityWh) * 100 : undefined;
  }

  /** Grid power at the root (import positive), W. */
  get gridPowerW(): number {
    return sumTriple(this.actual[this.site.rootIndexes[0] ?? 0] ?? triple(0)) * this.site.voltageV;
  }

  /** Per connector: what it draws (W), how often it started/stopped and switched phases, its car. */
  chargerStats(): {
    key: string;
    drawW: number;
    offeredA: number;
    phases: number;
    status: ConnectorStatus;
    energyWh: number;
    starts: number;
    stops: number;
    phaseSwitches: number;
    phaseSwitchesBeforeCurrent: number;
    carSocPercent?: number;
    carMaxW: number;
  }[] {
    return this.chargers.map((charger) => {
      const connector = this.site.connectors[charger.index];
      const ev = charger.car?.ev;
      const carPhases = ev ? Math.min(ev.phases, connector?.phases ?? 3) : 0;
      return {
        key: charger.key,
        drawW: sumTriple(charger.chargerA) * this.site.voltageV,
        offeredA: charger.offeredA,
        phases: charger.phases,
        status: charger.status,
        energyWh: charger.energyWh,
        starts: charger.starts,
        stops: charger.stops,
        phaseSwitches: charger.phaseSwitches,
        phaseSwitchesBeforeCurrent: charger.phaseSwitchesBeforeCurrent,
        ...(ev ? { carSocPercent: ev.socPercent } : {}),
        carMaxW:
          ev && !ev.full
            ? Math.min(ev.maxCurrentA, connector?.maxA ?? 32) * carPhases * this.site.voltageV
            : 0,
      };
    });
  }
}

export interface ClosedLoopOptions {
  durationMs: number;
  /** Simulation step. Default 1000 ms. */
  stepMs?: number;
  /** Called after every step (for statistics). */
  onStep?: (sim: SiteSimulator) => void;
  /**
   * ampflow stops then (ms from the start): nothing reaches the load manager any more and every
   * charger falls to its fallback (SiteSimulator.centralGone); the breakers are still watched.
   */
  goneAtMs?: number;
}

export interface ClosedLoopResult {
  /** Every episode in which a breaker carried more than its limit (magnitude), per circuit and phase. */
  overloads: Overload[];
  /** Time during which at least one breaker carried more than its limit, ms. */
  overloadedMs: number;
  /** Set-points the load manager emitted. */
  setPoints: number;
}

/**
 * Runs the simulator and the load manager against each other: set-points go to the chargers,
 * readings and connector states to the load manager, the clock moves one step at a time, and
 * every step each breaker's actual current is compared with its limit.
 */
export function runClosedLoop(
  clock: ManualClock,
  sim: SiteSimulator,
  manager: LoadManager,
  options: ClosedLoopOptions,
): ClosedLoopResult {
  const stepMs = options.stepMs ?? 1000;
  let setPoints = 0;
  const listener = (setPoint: SetPoint) => {
    setPoints += 1;
    sim.applySetPoint(setPoint);
  };
  manager.on('setPoint', listener);
  const overloads: Overload[] = [];
  const open = new Map<string, Overload>();
  let overloadedMs = 0;
  try {
    for (const state of sim.takeConnectorStates()) manager.connectorState(state);
    for (const reading of sim.takeReadings()) manager.reading(reading);
    manager.start();
    let gone = false;
    for (let elapsed = 0; elapsed < options.durationMs; elapsed += stepMs) {
      if (!gone && options.goneAtMs !== undefined && elapsed >= options.goneAtMs) {
        gone = true;
        manager.off('setPoint', listener);
        manager.stop();
        sim.centralGone();
      }
      clock.advance(stepMs);
      sim.step(stepMs);
      // What the meters and chargers report in the same second reaches the load manager together.
      const states = sim.takeConnectorStates();
      const readings = sim.takeReadings();
      if (!gone)
        manager.batch(() => {
          for (const state of states) manager.connectorState(state);
          for (const reading of readings) manager.reading(reading);
        });
      const actual = sim.actualA();
      let over = false;
      sim.site.circuits.forEach((circuit, c) => {
        for (const p of [0, 1, 2] as GridPhase[]) {
          const key = `${c}:${p}`;
          const excess = Math.abs(actual[c]?.[p] ?? 0) - (circuit.limitA[p] ?? 0);
          const episode = open.get(key);
          if (excess > 1e-6) {
            over = true;
            if (episode) {
              episode.durationMs += stepMs;
              episode.maxExcessA = Math.max(episode.maxExcessA, excess);
            } else {
              const started: Overload = {
                circuit: circuit.id,
                phase: p,
                fromMs: sim.elapsedMs,
                durationMs: stepMs,
                maxExcessA: excess,
              };
              open.set(key, started);
              overloads.push(started);
            }
          } else open.delete(key);
        }
      });
      if (over) overloadedMs += stepMs;
      options.onStep?.(sim);
    }
  } finally {
    manager.off('setPoint', listener);
    manager.stop();
  }
  return { overloads, overloadedMs, setPoints };
}

function sumTriple(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
