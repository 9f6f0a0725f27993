/**
 * A site in a box for the load manager's scenario tests, the bench and the demo: circuits with
 * other loads over the day, a PV plant, a home battery, chargers that follow set-points after a
 * response delay (or a rogue one that ignores them, one that offers more than its set-point, one
 * whose car keeps all its phases after a switch to one), cars (sim/ev.ts: single-phase ones,
 * ones that take less than offered), and meters that produce Readings (including or excluding the
 * chargers, with dropouts). Pure and in-process, on a ManualClock.
 *
 * The simulator is the physical truth: `actualA` is what each breaker carries. `runClosedLoop`
 * (closed-loop.ts, imported from there) couples it with a LoadManager and records every second where a breaker carried
 * more than its limit, so tests can assert a bound on how long that may last. What a site is made
 * of: site-options.ts.
 */
import type { ManualClock } from '../lib/clock';
import type { ConnectorState, ConnectorStatus, Reading, SetPoint } from '../lib/contracts';
import { GRID_PHASES, parseSite, type Site, type Triple, triple } from '../lib/dlm/site';
import { addConductors, wattsPerA } from './conductors';
import { SimulatedEv } from './ev';
import { type BatteryState, batteryPowerW, batteryState } from './site-battery';
import { type ChargerSim, chargerSim, fallBack, takeLimits, takeSetPoint } from './site-charger';
import { meterReads, withJitter } from './site-faults';
import type { LoadProfile, SimCar, SimMeterOptions, SimPv, SiteSimOptions } from './site-options';
import { type ChargerStats, chargerStats, round2, sumTriple, takeConnectorStates } from './site-report';

export type {
  LoadProfile,
  SimBattery,
  SimCar,
  SimChargerOptions,
  SimMeterOptions,
  SimPv,
  SiteSimOptions,
} from './site-options';
export type { ChargerStats } from './site-report';

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
  /** Meter readings measured and not delivered yet (SimMeterOptions.delayMs), in the order measured. */
  private readonly delayed: { dueMs: number; reading: Reading }[] = [];
  private nextTransactionId = 1;
  private readonly arrived = new Set<SimCar>();
  private readonly pv: SimPv | undefined;
  /** ampflow is gone (centralGone). */
  private gone = false;
  private readonly battery: BatteryState | undefined;
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
    this.battery = options.battery ? batteryState(options.battery) : undefined;
    this.meterOptions = {};
    for (const circuit of this.site.circuits) {
      const given = options.meters?.[circuit.id] ?? {};
      this.meterOptions[circuit.id] = {
        intervalMs: given.intervalMs ?? 1000,
        dropouts: given.dropouts ?? [],
        lies: given.lies ?? [],
        jitterA: given.jitterA ?? 0,
        delayMs: given.delayMs ?? 0,
      };
    }
    this.chargers = this.site.connectors.map((connector) =>
      chargerSim(connector, options.chargers?.[connector.key] ?? {}),
    );
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
    takeSetPoint(charger, setPoint, this.clock.now());
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
      if (connector) fallBack(charger, connector, now);
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
    takeLimits(charger, connector, now);
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
    const paused = car !== undefined && charger.pausedUntilMs !== undefined && now < charger.pausedUntilMs;
    if (paused) {
      // Switching its phases under load: the charger holds the car (it reports SuspendedEVSE).
      // The session goes on, the same contactor cycle is counted as the phase switch, not a start.
      this.settleCharger(charger, 'SuspendedEVSE', chargerA, true);
      return;
    }
    if (car) {
      const usedPhases = charger.phases === 1 && !charger.options.ignoresPhaseSwitch ? 1 : connector.phases;
      const draw = car.ev.draw(charger.offeredA, usedPhases);
      if (draw.currentA > 0) {
        status = 'Charging';
        car.charged = true;
        for (let i = 0; i < draw.phases; i++) chargerA[i] = draw.currentA;
        const powerW = draw.currentA * wattsPerA(this.site, draw.phases);
        car.ev.charge((powerW * dtMs) / 3_600_000);
        charger.energyWh += (powerW * dtMs) / 3_600_000;
        // A car that does not take what is offered (full, or below its own minimum) is the car's
        // doing, SuspendedEV; nothing offered (0 A, or not yet applied) is the charger's, SuspendedEVSE.
      } else status = car.ev.full || charger.offeredA > 0 ? 'SuspendedEV' : 'SuspendedEVSE';
    } else chargerA = triple(0);
    const drawing = status === 'Charging';
    if (drawing && !charger.drawing) charger.starts += 1;
    if (!drawing && charger.drawing && car) charger.stops += 1;
    this.settleCharger(charger, status, chargerA, drawing);
  }

  private settleCharger(
    charger: ChargerSim,
    status: ConnectorStatus,
    chargerA: Triple,
    drawing: boolean,
  ): void {
    charger.drawing = drawing;
    if (status !== charger.status) charger.dirty = true;
    charger.status = status;
    charger.chargerA = chargerA;
  }

  private stepBattery(dtMs: number): void {
    const battery = this.battery;
    if (!battery) return;
    // The battery's own controller holds the grid at zero (site-battery.ts): it charges from
    // export and covers import.
    const root = this.site.rootIndexes[0] ?? 0;
    const netW = sumTriple(this.actual[root] ?? triple(0)) * this.site.voltageV - battery.powerW;
    const powerW = batteryPowerW(battery, netW, dtMs, this.clock.now());
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
      addConductors(target, connector, charger.chargerA);
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
        addConductors(total, connector, charger.chargerA);
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
      const reading: Reading = {
        source: circuit.meter.source,
        timestamp: timestamp(),
        currentA: currentA.map(round2) as Triple,
        powerW: powerW.map(Math.round) as Triple,
        totalPowerW: Math.round(sumTriple(powerW)),
      };
      if (options.delayMs > 0) this.delayed.push({ dueMs: now + options.delayMs, reading });
      else readings.push(reading);
    }
    // Meters of different delays: each reading when its own is over, in the order measured.
    for (let i = 0; i < this.delayed.length; ) {
      const due = this.delayed[i];
      if (due && due.dueMs <= now) {
        readings.push(due.reading);
        this.delayed.splice(i, 1);
      } else i++;
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
    return takeConnectorStates(this.chargers, this.startMs, this.clock.now());
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

  /** The most the home battery charges with, W (0 without one). */
  get batteryMaxChargeW(): number {
    return this.battery?.maxChargeW ?? 0;
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
  chargerStats(): ChargerStats[] {
    return chargerStats(this.site, this.chargers);
  }
}
