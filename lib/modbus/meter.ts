import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { ConfigError, parseNumber } from '../config-error';
import type { Reading } from '../contracts';
import type { ModbusBus } from './bus';
import { describeRange, ModbusRequestError } from './errors';
import { planReads, type ReadBlock } from './plan';
import { decodeBlocks, toReading } from './reading';
import { resolveSunSpecProfile, walkSunSpec } from './sunspec';
import type { DeviceProfile, Measurand } from './types';

export const MIN_POLL_INTERVAL_MS = 200;

export interface MeterOptions {
  /** The meter's name: `Reading.source`, `msg.topic`, and named in every error. */
  name: string;
  bus: ModbusBus;
  profile: DeviceProfile;
  /** Modbus unit id (slave address), 0-255 (0 and 248-255 for gateways that need them). */
  unitId: number;
  /** Poll interval; 0 reads only on demand (default 1000 ms, at least 200 ms). */
  pollIntervalMs?: number;
  /** Data older than this makes the meter stale (default 3 poll intervals; 0 = never). */
  staleAfterMs?: number;
  /** Response timeout per request (default: the profile's, else the bus's). */
  timeoutMs?: number;
  /** Pause after the bus connects before this meter's first request (default: the profile's). */
  pauseAfterConnectMs?: number;
  /** Caps the profile's request size for devices that answer fewer registers. */
  maxRegistersPerRequest?: number;
  /** Single-phase meters: the grid phase they are wired to (default 1). */
  phase?: 1 | 2 | 3;
  clock?: Clock;
}

/** A poll's request that failed: names the meter, its unit and bus, and the registers. */
export class MeterReadError extends Error {
  constructor(
    readonly meter: string,
    readonly unitId: number,
    readonly bus: string,
    readonly measurands: Measurand[],
    override readonly cause: Error,
    readonly block?: ReadBlock,
  ) {
    const registers = block
      ? `${measurands.join(', ')} (${describeRange(block.functionCode, block.address, block.quantity)}): `
      : '';
    const detail = cause instanceof ModbusRequestError ? cause.detail : cause.message;
    super(`meter "${meter}" (unit ${unitId} on bus "${bus}"): ${registers}${detail}`);
    this.name = 'MeterReadError';
  }

  /** Whether the bus, not the device, is the problem (not connected, closed). */
  get busProblem(): boolean {
    // SunSpec discovery wraps the request's error once more.
    for (let cause: unknown = this.cause; cause instanceof Error; cause = cause.cause) {
      if (cause instanceof ModbusRequestError) {
        return (
          cause.failure === 'not-connected' || cause.failure === 'closed' || cause.failure === 'disconnected'
        );
      }
    }
    return false;
  }
}

export interface PollResult {
  reading: Reading;
  /** Requests that failed while others succeeded: the reading lacks their values. */
  errors: MeterReadError[];
}

export type MeterState = 'starting' | 'ok' | 'partial' | 'failing' | 'stopped';

/**
 * Polls one device through a bus and turns each poll into a Reading. Never more than one poll of
 * its own is in flight: a tick that finds the previous poll still running is skipped (the bus
 * would only coalesce it). Events:
 * - `reading` (PollResult): a scheduled poll succeeded (fully or partly);
 * - `failed` (MeterReadError): a scheduled poll brought nothing;
 * - `stale` (last reading or undefined): no good data for `staleAfterMs`;
 * - `state` (MeterState).
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
  private staleTimer: TimerHandle | undefined;
  private nextDueMs = 0;
  private started = false;
  private currentState: MeterState = 'starting';
  private stale = false;
  private last: Reading | undefined;
  private lastFailure: MeterReadError | undefined;
  private pollsSkipped = 0;
  private runningScheduled = false;

  constructor(options: MeterOptions) {
    super();
    this.name = options.name;
    this.bus = options.bus;
    this.profile = options.profile;
    this.clock = options.clock ?? systemClock;
    this.unitId = parseNumber('unitId', options.unitId, { fallback: 1, min: 0, max: 255, integer: true });
    const interval = options.pollIntervalMs ?? 1000;
    if (interval !== 0 && !(interval >= MIN_POLL_INTERVAL_MS)) {
      throw new ConfigError(
        'pollInterval',
        `${interval} ms is shorter than ${MIN_POLL_INTERVAL_MS} ms (0 polls on demand only)`,
      );
    }
    this.pollIntervalMs = interval;
    this.staleAfterMs = options.staleAfterMs ?? 3 * interval;
    this.timeoutMs = options.timeoutMs ?? options.profile.defaults?.timeoutMs;
    this.pauseAfterConnectMs = options.pauseAfterConnectMs ?? options.profile.defaults?.pauseAfterConnectMs;
    this.maxRegistersPerRequest = options.maxRegistersPerRequest;
    this.phase = options.phase ?? 1;
    if (!options.profile.sunspec) this.resolved = this.prepare(options.profile);
  }

  get state(): MeterState {
    return this.currentState;
  }

  /** Whether the newest good data is older than `staleAfterMs`. */
  get isStale(): boolean {
    return this.stale;
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

  start(): void {
    if (this.started) return;
    this.started = true;
    this.bus.open();
    this.armStaleTimer();
    if (this.pollIntervalMs > 0) {
      this.nextDueMs = this.clock.now();
      this.tick();
    }
  }

  stop(): void {
    this.started = false;
    this.clock.clearTimeout(this.pollTimer);
    this.clock.clearTimeout(this.staleTimer);
    this.setState('stopped');
  }

  /**
   * Reads now (a msg asked for it). Joins a poll in progress instead of sending the same
   * requests again. Rejects with a MeterReadError when nothing could be read.
   */
  readNow(): Promise<PollResult> {
    return this.poll(false);
  }

  private prepare(profile: DeviceProfile): { profile: DeviceProfile; blocks: ReadBlock[] } {
    const limit = this.maxRegistersPerRequest;
    const planned =
      limit && limit < profile.maxRegistersPerRequest
        ? { ...profile, maxRegistersPerRequest: limit }
        : profile;
    return { profile: planned, blocks: planReads(planned) };
  }

  private setState(state: MeterState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private armStaleTimer(): void {
    this.clock.clearTimeout(this.staleTimer);
    if (this.staleAfterMs <= 0 || !this.started) return;
    this.staleTimer = this.clock.setTimeout(() => {
      this.stale = true;
      this.emit('stale', this.last);
    }, this.staleAfterMs);
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
      (result) => {
        this.running = undefined;
        this.last = result.reading;
        this.lastFailure = result.errors[0];
        if (this.stale) this.stale = false;
        this.armStaleTimer();
        this.setState(result.errors.length ? 'partial' : 'ok');
        return result;
      },
      (error: unknown) => {
        this.running = undefined;
        const failure = error instanceof MeterReadError ? error : this.error([], error as Error);
        this.lastFailure = failure;
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
      return this.prepare(resolveSunSpecProfile(this.profile, layout));
    } catch (error) {
      throw this.error([], new Error(`SunSpec discovery: ${(error as Error).message}`, { cause: error }));
    }
  }

  private async pollOnce(): Promise<PollResult> {
    this.resolved ??= await this.discover();
    const { profile, blocks } = this.resolved;
    const outcomes = await Promise.allSettled(blocks.map((block) => this.request(block)));
    const timestampMs = this.clock.now();
    const answers = new Map<number, number[]>();
    const errors: MeterReadError[] = [];
    outcomes.forEach((outcome, index) => {
      const block = blocks[index] as ReadBlock;
      if (outcome.status === 'fulfilled') {
        answers.set(index, outcome.value);
        return;
      }
      const measurands = [
        ...new Set(block.registers.map((i) => profile.registers[i]?.measurand as Measurand)),
      ];
      errors.push(this.error(measurands, outcome.reason as Error, block));
    });
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
    return { reading, errors };
  }
}
