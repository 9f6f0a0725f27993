import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../lib/clock';
import { type Logger, silentLogger } from '../lib/log';
import { SimulatedChargePoint, type SimulatedChargePointOptions } from './charge-point';
import { type EvOptions, SimulatedEv } from './ev';
import { hashString, type OcppVersion } from './link';

/**
 * Many simulated charge points against one central system, with cars that come and go: a car
 * arrives after a random gap, plugs in, charges for a random time, stops and leaves. The pattern
 * runs on the Clock and draws from a seeded generator per connector, so a seed always gives the
 * same arrivals, cars and stays.
 */

export interface SessionPattern {
  /** Mean stay of a car, minutes; each stay is uniform in 0.5-1.5 × this. */
  sessionMinutes: number;
  /** Mean free time between cars on a connector, minutes (exponentially distributed). */
  gapMinutes: number;
  /** Seed of the generator. */
  seed: number;
  /** Badges the cars show, one drawn at random per session; omitted: a random `TAG-nnnnn`. */
  idTags?: readonly string[];
}

export interface FleetOptions {
  centralSystemUrl: string;
  /** Number of charge points. */
  count: number;
  /** Identities are `<prefix><number>`. Default `SIM-`. */
  identityPrefix?: string;
  /** Number of the first charge point. Default 1. */
  firstNumber?: number;
  /** The identities themselves, one per charge point (`count` of them), instead of prefix and number. */
  identities?: readonly string[];
  /** Options every charge point shares. */
  chargePoint?: Omit<SimulatedChargePointOptions, 'centralSystemUrl' | 'identity' | 'clock' | 'log'>;
  /**
   * The OCPP version of each charge point, given out in turn: `['1.6', '2.0.1']` makes every other
   * one a 2.0.1 charger (a mixed site). Default: `chargePoint.ocppVersion`, else 1.6.
   */
  ocppVersions?: readonly OcppVersion[];
  /** Cars arriving and leaving; omit for charge points that only connect. */
  sessions?: SessionPattern;
  /** Spread the first connects evenly over this many seconds (avoids a thundering herd). Default 0. */
  connectSpreadS?: number;
  clock?: Clock;
  log?: Logger;
}

export interface FleetCounters {
  chargePoints: number;
  /** Charge points with an open WebSocket. */
  connected: number;
  /** Charge points the central system has accepted. */
  accepted: number;
  sessionsStarted: number;
  sessionsFinished: number;
  /** Cars that could not start (id tag not accepted, charge point unavailable). */
  sessionsRefused: number;
  /** Energy delivered by every connector since the fleet started, Wh. */
  energyWh: number;
}

export interface SessionEvent {
  identity: string;
  connectorId: number;
  kind: 'arrived' | 'started' | 'refused' | 'stopped' | 'left';
  idTag: string;
  ev: SimulatedEv;
  /** Energy of the session, Wh ('stopped'). */
  energyWh?: number;
  /** Why a car was refused. */
  reason?: string;
}

export interface ChargePointNote {
  identity: string;
  kind: 'connected' | 'disconnected' | 'connectFailed' | 'boot' | 'command' | 'rebooting';
  detail: string;
}

export interface FleetEvents {
  session: [SessionEvent];
  chargePoint: [ChargePointNote];
}

/** mulberry32: tiny, fast and good enough for arrivals and car choices. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A car as found in a European car park: mostly three-phase 11 kW, some single-phase, a few picky ones. */
function randomEv(random: () => number): EvOptions {
  const singlePhase = random() < 0.25;
  const capacities = [40, 50, 58, 64, 77, 100];
  return {
    capacityKWh: capacities[Math.floor(random() * capacities.length)] ?? 60,
    socPercent: Math.round(10 + random() * 50),
    phases: singlePhase ? 1 : 3,
    maxCurrentA: singlePhase ? (random() < 0.5 ? 16 : 32) : random() < 0.8 ? 16 : 32,
    // Some cars need more than the IEC 61851 minimum to start charging.
    minCurrentA: random() < 0.1 ? 8 : 6,
  };
}

interface ConnectorRun {
  random: () => number;
  timer?: TimerHandle;
  sessionNumber: number;
}

export class Fleet extends EventEmitter<FleetEvents> {
  readonly chargePoints: SimulatedChargePoint[];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly runs = new Map<string, ConnectorRun>();
  private readonly connectTimers: TimerHandle[] = [];
  private readonly initialEnergyWh: number;
  private running = false;
  private readonly tally = { sessionsStarted: 0, sessionsFinished: 0, sessionsRefused: 0 };

  constructor(readonly options: FleetOptions) {
    super();
    if (!Number.isInteger(options.count) || options.count < 1)
      throw new RangeError('count must be a whole number ≥ 1');
    if (options.identities && options.identities.length !== options.count)
      throw new RangeError(`${options.identities.length} identities for ${options.count} charge points`);
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    const prefix = options.identityPrefix ?? 'SIM-';
    const first = options.firstNumber ?? 1;
    const versions = options.ocppVersions ?? [];
    this.chargePoints = Array.from({ length: options.count }, (_, index) => {
      const ocppVersion = versions.length > 0 ? versions[index % versions.length] : undefined;
      const cp = new SimulatedChargePoint({
        ...options.chargePoint,
        ...(ocppVersion === undefined ? {} : { ocppVersion }),
        centralSystemUrl: options.centralSystemUrl,
        identity: options.identities?.[index] ?? `${prefix}${first + index}`,
        clock: this.clock,
        log: this.log,
      });
      this.watch(cp);
      return cp;
    });
    this.initialEnergyWh = this.totalEnergyWh();
  }

  /** Connects every charge point and starts the session pattern; resolves when every first connect attempt has an outcome. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const spreadMs = (this.options.connectSpreadS ?? 0) * 1000;
    const attempts = this.chargePoints.map((cp, index) => {
      const delayMs = spreadMs > 0 ? Math.floor((index * spreadMs) / this.chargePoints.length) : 0;
      if (delayMs === 0) return cp.connect();
      return new Promise<unknown>((resolve) => {
        this.connectTimers.push(
          this.clock.setTimeout(() => resolve(cp.connect().catch(() => undefined)), delayMs),
        );
      });
    });
    if (this.options.sessions) {
      for (const cp of this.chargePoints) {
        for (let connectorId = 1; connectorId <= cp.connectorCount; connectorId++)
          this.startRun(cp, connectorId);
      }
    }
    await Promise.allSettled(attempts);
  }

  /** Stops the pattern and switches every charge point off. */
  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.connectTimers) this.clock.clearTimeout(timer);
    for (const run of this.runs.values()) this.clock.clearTimeout(run.timer);
    this.runs.clear();
    await Promise.all(this.chargePoints.map((cp) => cp.close()));
  }

  get counters(): FleetCounters {
    return {
      chargePoints: this.chargePoints.length,
      connected: this.chargePoints.filter((cp) => cp.isOnline).length,
      accepted: this.chargePoints.filter((cp) => cp.registration === 'Accepted').length,
      ...this.tally,
      energyWh: this.totalEnergyWh() - this.initialEnergyWh,
    };
  }

  /** Resolves when every charge point is idle (nothing on its way to the central system). */
  async whenIdle(): Promise<void> {
    while (!this.chargePoints.every((cp) => cp.idle)) {
      await Promise.all(this.chargePoints.map((cp) => cp.whenIdle()));
    }
  }

  private totalEnergyWh(): number {
    let sum = 0;
    for (const cp of this.chargePoints) {
      for (let id = 1; id <= cp.connectorCount; id++) sum += cp.connector(id).energyWh;
    }
    return sum;
  }

  private startRun(cp: SimulatedChargePoint, connectorId: number): void {
    const pattern = this.options.sessions as SessionPattern;
    const run: ConnectorRun = {
      // One stream per connector: what happens on one connector never shifts another's draws.
      random: seededRandom(hashString(`${pattern.seed}/${cp.identity}/${connectorId}`)),
      sessionNumber: 0,
    };
    this.runs.set(`${cp.identity}/${connectorId}`, run);
    this.scheduleArrival(cp, connectorId, run);
  }

  private scheduleArrival(cp: SimulatedChargePoint, connectorId: number, run: ConnectorRun): void {
    if (!this.running) return;
    const pattern = this.options.sessions as SessionPattern;
    const gapMs = -Math.log(1 - run.random()) * pattern.gapMinutes * 60_000;
    run.timer = this.clock.setTimeout(
      () => void this.arrive(cp, connectorId, run),
      Math.max(1000, Math.round(gapMs)),
    );
  }

  private async arrive(cp: SimulatedChargePoint, connectorId: number, run: ConnectorRun): Promise<void> {
    if (!this.running) return;
    const pattern = this.options.sessions as SessionPattern;
    run.sessionNumber += 1;
    // Draw everything for this session now, whatever happens next, to keep the stream aligned.
    const ev = new SimulatedEv({
      ...randomEv(run.random),
      name: `${cp.identity}/${connectorId}#${run.sessionNumber}`,
    });
    const drawn = run.random();
    const idTag = pattern.idTags?.length
      ? (pattern.idTags[Math.floor(drawn * pattern.idTags.length)] as string)
      : `TAG-${String(1 + Math.floor(drawn * 99_999)).padStart(5, '0')}`;
    const stayMs = Math.round((0.5 + run.random()) * pattern.sessionMinutes * 60_000);
    const base = { identity: cp.identity, connectorId, idTag, ev };
    const free = cp.connector(connectorId);
    if (free.ev || free.transaction || !['Available', 'Preparing'].includes(free.status)) {
      this.tally.sessionsRefused += 1;
      this.emit('session', { ...base, kind: 'refused', reason: `connector is ${free.status}` });
      this.scheduleArrival(cp, connectorId, run);
      return;
    }
    cp.plugIn(connectorId, ev);
    this.emit('session', { ...base, kind: 'arrived' });
    const leaveAt = this.clock.now() + stayMs;
    let startWh = cp.connector(connectorId).energyWh;
    try {
      await cp.startTransaction(connectorId, idTag);
      startWh = cp.connector(connectorId).energyWh;
      this.tally.sessionsStarted += 1;
      this.emit('session', { ...base, kind: 'started' });
    } catch (err) {
      this.tally.sessionsRefused += 1;
      this.emit('session', { ...base, kind: 'refused', reason: (err as Error).message });
    }
    if (!this.running) return;
    run.timer = this.clock.setTimeout(
      () => {
        if (!this.running) return;
        const state = cp.connector(connectorId);
        if (state.transaction) {
          void cp.stopTransaction(connectorId, 'Local').catch(() => undefined);
          this.tally.sessionsFinished += 1;
          this.emit('session', { ...base, kind: 'stopped', energyWh: state.energyWh - startWh });
        }
        if (cp.connector(connectorId).ev) cp.unplug(connectorId);
        this.emit('session', { ...base, kind: 'left' });
        this.scheduleArrival(cp, connectorId, run);
      },
      Math.max(0, leaveAt - this.clock.now()),
    );
  }

  private watch(cp: SimulatedChargePoint): void {
    const note = (kind: ChargePointNote['kind'], detail: string) =>
      this.emit('chargePoint', { identity: cp.identity, kind, detail });
    cp.on('connected', () => note('connected', `sub-protocol "${cp.protocol ?? ''}"`));
    cp.on('disconnected', ({ code, reason }) => note('disconnected', `${code}${reason ? ` ${reason}` : ''}`));
    cp.on('connectFailed', (err) => note('connectFailed', err.message));
    cp.on('boot', (boot) => note('boot', `${boot.status} (interval ${boot.interval} s)`));
    cp.on('received', ({ action }) => note('command', action));
    cp.on('rebooting', ({ reason }) => note('rebooting', reason));
  }
}
