/**
 * A meter: polls one device through a bus on a schedule or on demand and turns each poll into a
 * Reading. How a poll's answers are put together is lib/modbus/meter-poll.ts's, staleness per
 * value staleness.ts's.
 */
import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { ConfigError, parseNumber } from '../config-error';
import type { Reading, StaleCause } from '../contracts';
import type { BusState, ModbusBus } from './bus';
import { faultOf, ModbusRequestError, type RequestFailure } from './errors';
import { collectAnswers, MeterReadError, type Poll, type PollResult } from './meter-poll';
import { planReads, type ReadBlock, spanBeyond } from './plan';
import { decodeBlocks, toReading } from './reading';
import { Staleness } from './staleness';
import { resolveSunSpecProfile, walkSunSpec } from './sunspec';
import type { DeviceProfile, Measurand } from './types';

export const MIN_POLL_INTERVAL_MS = 200;

/**
 * Failures of a read that are bad news for its values at once (staleness.ts): the bus is down, or
 * it gave up on the unit after failures in a row. Others (a timeout, an exception, a corrupt
 * answer, an overloaded bus) are bad news at the second in a row.
 */
const FINAL_FAILURES: ReadonlySet<RequestFailure> = new Set<RequestFailure>([
  'not-connected',
  'disconnected',
  'closed',
  'unit-backed-off',
]);

export { MeterReadError, type PollResult } from './meter-poll';

export interface MeterOptions {
  /** The meter's name: `Reading.source`, `msg.topic`, and named in every error. */
  name: string;
  bus: ModbusBus;
  profile: DeviceProfile;
  /** Modbus unit id (slave address), 0-255 (0 and 248-255 for gateways that need them). */
  unitId: number;
  /**
   * Poll interval; 0 reads only on demand (default 1000 ms, at least 200 ms). A shorter interval
   * than the profile's `defaults.minPollIntervalMs` is raised to it (see `warnings`).
   */
  pollIntervalMs?: number;
  /**
   * The meter is stale while any of its values is older than this: not read (its request failed)
   * for this long (default 3 poll intervals; 0 = no timer). Known bad news makes it stale at once
   * whatever this is: its bus's connection lost or refused, or a value's read failing twice in a
   * row (staleness.ts).
   */
  staleAfterMs?: number;
  /** Response timeout per request (default: the profile's, else the bus's). */
  timeoutMs?: number;
  /** Pause after the bus connects before this meter's first request (default: the profile's). */
  pauseAfterConnectMs?: number;
  /**
   * Caps the profile's request size for devices that answer fewer registers. A cap below what one
   * value and its scale factor span (they are read in one request) is a settings error.
   */
  maxRegistersPerRequest?: number;
  /** Single-phase meters: the grid phase they are wired to (default 1). */
  phase?: 1 | 2 | 3;
  clock?: Clock;
}

export type MeterState = 'starting' | 'ok' | 'partial' | 'failing' | 'stopped';

/**
 * Polls one device through a bus and turns each poll into a Reading. Never more than one poll of
 * its own is in flight: a tick that finds the previous poll still running is skipped (the bus
 * would only coalesce it). Events:
 * - `reading` (PollResult): a scheduled poll succeeded (fully or partly);
 * - `failed` (MeterReadError): a scheduled poll brought nothing;
 * - `stale` (last reading or undefined): some value has not been read for `staleAfterMs`, or is
 *   known bad (the bus's connection lost, reads failing): `staleReason` says which;
 * - `state` (MeterState).
 *
 * Staleness is kept per value, not per poll: see staleness.ts.
 */
export class Meter extends EventEmitter {
  readonly name: string;
  readonly unitId: number;
  readonly profile: DeviceProfile;
  readonly pollIntervalMs: number;
  readonly staleAfterMs: number;
  private readonly bus: ModbusBus;
  private readonly clock: Clock;
  private readonly timeoutMs: number | undefined;
  private readonly pauseAfterConnectMs: number | undefined;
  private readonly maxRegistersPerRequest: number | undefined;
  private readonly phase: 1 | 2 | 3;
  private resolved: { profile: DeviceProfile; blocks: ReadBlock[] } | undefined;
  private running: Promise<PollResult> | undefined;
  private pollTimer: TimerHandle | undefined;
  private nextDueMs = 0;
  private started = false;
  private currentState: MeterState = 'starting';
  private last: Reading | undefined;
  private lastFailure: MeterReadError | undefined;
  private pollsSkipped = 0;
  private runningScheduled = false;
  private readonly staleness: Staleness;
  /** The bus's state as last seen (to tell a lost connection from one that could not be made). */
  private busState: BusState = 'idle';
  /** Settings adjusted rather than refused (a poll interval raised to the profile's minimum). */
  readonly warnings: string[] = [];

  constructor(options: MeterOptions) {
    super();
    this.name = options.name;
    this.bus = options.bus;
    this.profile = options.profile;
    this.clock = options.clock ?? systemClock;
    this.unitId = parseNumber('unitId', options.unitId, { fallback: 1, min: 0, max: 255, integer: true });
    let interval = options.pollIntervalMs ?? 1000;
    if (interval !== 0 && !(interval >= MIN_POLL_INTERVAL_MS)) {
      throw new ConfigError(
        'pollInterval',
        `${interval} ms is shorter than ${MIN_POLL_INTERVAL_MS} ms (0 polls on demand only)`,
      );
    }
    const deviceMinimum = options.profile.defaults?.minPollIntervalMs ?? 0;
    if (interval !== 0 && interval < deviceMinimum) {
      this.warnings.push(
        `meter "${this.name}": poll interval raised from ${interval / 1000} s to ${deviceMinimum / 1000} s, the shortest the ${options.profile.name} profile allows`,
      );
      interval = deviceMinimum;
    }
    this.pollIntervalMs = interval;
    this.staleAfterMs = options.staleAfterMs ?? 3 * interval;
    this.timeoutMs = options.timeoutMs ?? options.profile.defaults?.timeoutMs;
    this.pauseAfterConnectMs = options.pauseAfterConnectMs ?? options.profile.defaults?.pauseAfterConnectMs;
    this.maxRegistersPerRequest = options.maxRegistersPerRequest;
    this.phase = options.phase ?? 1;
    this.staleness = new Staleness({
      clock: this.clock,
      staleAfterMs: this.staleAfterMs,
      profile: () => this.resolved?.profile,
      turnedStale: () => this.emit('stale', this.last),
    });
    if (!options.profile.sunspec) {
      try {
        this.resolved = this.prepare(options.profile);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        throw new ConfigError(
          error.field,
          `meter "${this.name}": ${error.message.slice(error.field.length + 2)}`,
        );
      }
    }
  }

  get state(): MeterState {
    return this.currentState;
  }

  /** Whether some value is older than `staleAfterMs`, or known bad (connection lost, reads failing). */
  get isStale(): boolean {
    return this.staleness.isStale;
  }

  /** Why the meter is stale ("connection to tcp://… lost (…)", "nothing read for 4 s"); undefined while fresh. */
  get staleReason(): string | undefined {
    return this.staleness.staleReason;
  }

  /** The same as data (`msg.staleCause`: the load manager words it in the user's language). */
  get staleCause(): StaleCause | undefined {
    return this.staleness.staleCause;
  }

  get lastReading(): Reading | undefined {
    return this.last;
  }

  get lastError(): MeterReadError | undefined {
    return this.lastFailure;
  }

  /** Ticks that came while the previous poll still ran (the bus is too slow for the interval). */
  get skippedPolls(): number {
    return this.pollsSkipped;
  }

  /** The requests of one poll; undefined for SunSpec devices until discovered. */
  get plan(): readonly ReadBlock[] | undefined {
    return this.resolved?.blocks;
  }

  /** The profile with concrete registers (SunSpec: after discovery). */
  get resolvedProfile(): DeviceProfile | undefined {
    return this.resolved?.profile;
  }

  /** The values (measurand/direction) not read within `staleAfterMs`; empty unless stale. */
  get staleValues(): string[] {
    return this.staleness.staleValues;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.staleness.start();
    this.busState = this.bus.state;
    this.bus.on('state', this.onBusState);
    this.bus.open();
    if (this.pollIntervalMs > 0) {
      this.nextDueMs = this.clock.now();
      this.tick();
    }
  }

  stop(): void {
    this.started = false;
    this.clock.clearTimeout(this.pollTimer);
    this.bus.off('state', this.onBusState);
    this.staleness.stop();
    this.setState('stopped');
  }

  /**
   * Reads now (a msg asked for it). Joins a poll in progress instead of sending the same
   * requests again. Rejects with a MeterReadError when nothing could be read.
   */
  readNow(): Promise<PollResult> {
    return this.poll(false);
  }

  /**
   * The bus lost its connection, or cannot make one: every value is stale at once. (A bus that
   * closes is ampflow stopping or redeploying, not news about the meter: its reads then fail
   * as `closed`, a final failure, should the meter still poll.)
   */
  private readonly onBusState = (state: BusState, error?: Error): void => {
    const was = this.busState;
    this.busState = state;
    if (!this.started || state !== 'waiting') return;
    const why = error ? ` (${error.message})` : '';
    const address = this.bus.address;
    const fault = faultOf(error);
    const news = { address, ...(error ? { error: error.message } : {}), ...(fault ? { fault } : {}) };
    if (was === 'connected')
      this.staleness.markBad(`connection to ${address} lost${why}`, { connectionLost: news });
    else this.staleness.markBad(`no connection to ${address}${why}`, { noConnection: news });
    this.staleness.check();
  };

  private prepare(profile: DeviceProfile): { profile: DeviceProfile; blocks: ReadBlock[] } {
    const limit = this.maxRegistersPerRequest;
    if (!limit || limit >= profile.maxRegistersPerRequest) return { profile, blocks: planReads(profile) };
    for (const register of profile.registers) {
      const span = spanBeyond(register, limit);
      if (span !== undefined) {
        throw new ConfigError(
          'maxRegistersPerRequest',
          `${limit} is too few: ${register.measurand} at ${register.address} and its scale factor at ${register.scaleFactorAddress} must be read in one request of ${span} registers; leave the field empty or set at least ${span}`,
        );
      }
    }
    const planned = { ...profile, maxRegistersPerRequest: limit };
    return { profile: planned, blocks: planReads(planned) };
  }

  private setState(state: MeterState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private tick(): void {
    if (!this.started) return;
    const now = this.clock.now();
    // Fixed rate; ticks missed while the process was busy are dropped, not caught up in a burst.
    this.nextDueMs += this.pollIntervalMs;
    if (this.nextDueMs <= now) this.nextDueMs = now + this.pollIntervalMs;
    this.pollTimer = this.clock.setTimeout(() => this.tick(), this.nextDueMs - now);
    if (this.running && this.runningScheduled) {
      this.pollsSkipped += 1;
      return;
    }
    // An on-demand read in progress serves this tick too.
    this.poll(true).then(
      (result) => {
        if (this.started) this.emit('reading', result);
      },
      (error: MeterReadError) => {
        if (this.started) this.emit('failed', error);
      },
    );
  }

  private poll(scheduled: boolean): Promise<PollResult> {
    if (this.running) {
      if (scheduled) this.runningScheduled = true;
      return this.running;
    }
    this.runningScheduled = scheduled;
    const running = this.pollOnce().then(
      ({ result, answered, profile }) => {
        this.running = undefined;
        this.last = result.reading;
        this.lastFailure = result.errors[0];
        for (const { block, atMs } of answered) this.staleness.read(profile, block.registers, atMs);
        this.staleness.check();
        this.setState(result.errors.length ? 'partial' : 'ok');
        return result;
      },
      (error: unknown) => {
        this.running = undefined;
        const failure = error instanceof MeterReadError ? error : this.error([], error as Error);
        this.lastFailure = failure;
        this.staleness.check();
        this.setState('failing');
        throw failure;
      },
    );
    this.running = running;
    return running;
  }

  private error(measurands: Measurand[], cause: Error, block?: ReadBlock): MeterReadError {
    return new MeterReadError(this.name, this.unitId, this.bus.name, measurands, cause, block);
  }

  private request(block: { functionCode: 3 | 4; address: number; quantity: number }) {
    return this.bus.read({
      unitId: this.unitId,
      functionCode: block.functionCode,
      address: block.address,
      quantity: block.quantity,
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      ...(this.pauseAfterConnectMs === undefined ? {} : { pauseAfterConnectMs: this.pauseAfterConnectMs }),
    });
  }

  private async discover(): Promise<{ profile: DeviceProfile; blocks: ReadBlock[] }> {
    const discovery = this.profile.sunspec;
    if (!discovery) throw new Error('not a SunSpec profile');
    try {
      const layout = await walkSunSpec(
        (address, quantity) => this.request({ functionCode: 3, address, quantity }),
        discovery.baseAddresses,
      );
      const resolved = resolveSunSpecProfile(this.profile, layout);
      try {
        return this.prepare(resolved);
      } catch (error) {
        // A setting that does not fit the model found: the settings' fault, not discovery's.
        throw this.error([], error as Error);
      }
    } catch (error) {
      if (error instanceof MeterReadError) throw error;
      throw this.error([], new Error(`SunSpec discovery: ${(error as Error).message}`, { cause: error }));
    }
  }

  private async pollOnce(): Promise<Poll> {
    this.resolved ??= await this.discover();
    const { profile, blocks } = this.resolved;
    // Each answer with the time it came: the reading is as old as its oldest part.
    const outcomes = await Promise.allSettled(
      blocks.map((block) => this.request(block).then((registers) => ({ registers, atMs: this.clock.now() }))),
    );
    const { answers, answered, errors, timestampMs } = collectAnswers(
      profile,
      blocks,
      outcomes,
      this.staleAfterMs,
      (measurands, cause, block) => this.error(measurands, cause, block),
    );
    // A read that failed is bad news for its values (at once when final: FINAL_FAILURES).
    for (const error of errors) {
      const cause = error.cause;
      if (!error.block || !(cause instanceof ModbusRequestError)) continue;
      const final = FINAL_FAILURES.has(cause.failure);
      this.staleness.failed(profile, error.block.registers, cause.detail, final, cause.fault);
    }
    // A SunSpec map that moved (firmware update) answers "illegal address": discover again next time.
    if (
      this.profile.sunspec &&
      errors.some((error) => error.cause instanceof ModbusRequestError && error.cause.exceptionCode === 2)
    ) {
      this.resolved = undefined;
    }
    if (answers.size === 0) throw errors[0] ?? this.error([], new Error('nothing to read'));
    const measured = decodeBlocks(profile, blocks, answers);
    const reading = toReading(profile, measured, { source: this.name, timestampMs, phase: this.phase });
    return { result: { reading, errors }, answered, profile };
  }
}
