import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../clock';
import type { ModbusFault } from '../contracts';
import { BusLog } from './bus-log';
import { type BusOptions, type BusState, type ResolvedBusOptions, resolveBusOptions } from './bus-options';
import { type BusStats, countOutcome, emptyBusStats } from './bus-stats';
import { type BusTransport, describeTransport, type ModbusConnection } from './connection';
import {
  answerFailure,
  faultOf,
  ModbusRequestError,
  type ReadRequest,
  type RequestFailure,
  withFault,
} from './errors';
import { ConnectionLifecycle } from './lifecycle';
import { LineDrain } from './line-drain';
import { type QueuedRead, ReadQueue } from './read-queue';
import { backoffSeconds, describeBackoff, UnitBackoff, type UnitHealth } from './unit-backoff';
import { WakeTimer } from './wake-timer';

export type { BusOptions, BusState, BusStats, UnitHealth };

interface InFlight {
  entry: QueuedRead;
  connection: ModbusConnection;
  timer: TimerHandle;
}

/**
 * One physical bus (a serial port or a TCP connection to a device or gateway) and its request
 * queue. Requests run strictly one at a time; each is bound in time (waiting at most `maxWaitMs`,
 * then at most its timeout on the wire), so every `read()` resolves or rejects, whatever the
 * devices and the connection do.
 *
 * The bus owns what is on the wire and decides whose turn it is; the waiting reads are
 * read-queue.ts's, the connection (connects, reconnects, state) lifecycle.ts's, the backoff of
 * failing units unit-backoff.ts's, the drain of an RTU line after a failure line-drain.ts's, the
 * timer that wakes it when the wire may carry the next frame wake-timer.ts's, and what a finished
 * request counts as in {@link stats} bus-stats.ts's.
 *
 * Events: `state` (state, error?), `unit` (unitId, health), `sent` (request, attempt) when a
 * request goes on the wire, `done` (request, error?) when the wire is free again, `settled`
 * (request, error?) when its callers get their answer.
 */
export class ModbusBus extends EventEmitter {
  readonly name: string;
  readonly transport: BusTransport;
  private readonly settings: ResolvedBusOptions;
  private readonly clock: Clock;
  private readonly log: BusLog;
  private readonly lifecycle: ConnectionLifecycle;
  private readonly units: UnitBackoff;
  private readonly drain: LineDrain;

  private readonly queue: ReadQueue;
  private inFlight: InFlight | undefined;
  private readonly wake: WakeTimer;
  private quietUntilMs = 0;
  /** When a device last answered anything on this connection (answers, exceptions, corrupt). */
  private lastHeardMs = 0;
  private readonly counters: BusStats = emptyBusStats();

  constructor(options: BusOptions) {
    super();
    const settings = resolveBusOptions(options);
    this.settings = settings;
    this.name = settings.name;
    this.transport = settings.transport;
    this.clock = settings.clock;
    this.log = new BusLog(settings.log, settings.name, settings.clock);
    this.units = new UnitBackoff(settings.unitBackoff);
    this.drain = new LineDrain(settings.drainAfterTimeoutMs);
    this.wake = new WakeTimer(settings.clock, () => this.pump());
    this.queue = new ReadQueue({
      clock: settings.clock,
      maxWaitMs: settings.maxWaitMs,
      maxLength: settings.maxQueueLength,
      expired: (read) => this.waitedTooLong(read),
      settled: (request, error) => this.emit('settled', request, error),
    });
    this.lifecycle = new ConnectionLifecycle(
      { ...settings, address: this.address },
      {
        state: (state, error) => {
          this.emit('state', state, error);
          if (state === 'connected') this.pump();
        },
        opened: () => {
          this.counters.connects += 1;
          this.lastHeardMs = this.lifecycle.connectedAtMs;
          this.quietUntilMs = 0;
        },
        connectFailed: (error) =>
          this.log.connection('failing', `cannot connect to ${this.address}: ${error.message}; retrying`),
        broke: (error) => this.connectionBroke(error),
        received: (bytes) => {
          this.drain.received(this.clock.now());
          this.counters.bytesReceived += bytes;
        },
      },
    );
  }

  get state(): BusState {
    return this.lifecycle.state;
  }

  /** Why the bus is not connected (the last connection error), if it is not. */
  get lastError(): Error | undefined {
    return this.lifecycle.lastError;
  }

  /** "tcp://10.0.0.5:502", "/dev/ttyUSB0 9600 8N1". */
  get address(): string {
    return describeTransport(this.transport);
  }

  get queueLength(): number {
    return this.queue.length;
  }

  /** Whether a request is on the wire right now. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  get stats(): Readonly<BusStats> {
    return { ...this.counters };
  }

  unitHealth(unitId: number): UnitHealth {
    return this.units.health(unitId);
  }

  /** Starts connecting; requests may be queued before. Idempotent. */
  open(): void {
    this.lifecycle.open();
  }

  /**
   * Queues a read. Resolves with the registers; rejects with a {@link ModbusRequestError}. An
   * identical read still waiting is joined rather than queued twice (polls are idempotent), so
   * both callers get the one, newest answer.
   */
  read(request: ReadRequest): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.state === 'closed') {
        reject(this.failure('closed', request, 'the bus is closed', { kind: 'busClosed' }));
        return;
      }
      const health = this.units.backedOff(request.unitId, this.clock.now());
      if (health) {
        this.counters.refusedBackedOff += 1;
        reject(this.backedOffError(request, health));
        return;
      }
      const queued = this.queue.add(request, waiter);
      if (queued === 'joined') {
        this.counters.coalesced += 1;
        return;
      }
      if (queued === 'full') {
        this.counters.refusedQueueFull += 1;
        this.log.overloaded(`the queue is full (${this.queue.length} requests waiting)`);
        reject(
          this.failure(
            'queue-full',
            request,
            `the queue is full (${this.queue.length} requests waiting): the bus cannot keep up; poll less often or split the devices over more buses`,
            { kind: 'queueFull', waiting: this.queue.length },
          ),
        );
        return;
      }
      this.lifecycle.open();
      this.pump();
    });
  }

  /** Fails everything queued, closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    const connection = this.lifecycle.stop();
    this.wake.cancel();
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight) {
      this.clock.clearTimeout(inFlight.timer);
      const error = this.failure('closed', inFlight.entry.request, 'the bus was closed', {
        kind: 'busClosed',
      });
      this.emit('done', inFlight.entry.request, error);
      this.queue.settle(inFlight.entry, error);
    }
    this.queue.fail((read) =>
      this.failure('closed', read.request, 'the bus was closed', { kind: 'busClosed' }),
    );
    await connection?.close();
  }

  private failure(kind: RequestFailure, request: ReadRequest, detail: string, fault: ModbusFault) {
    return new ModbusRequestError(kind, this.name, request, detail, undefined, fault);
  }

  private backedOffError(request: ReadRequest, health: UnitHealth): ModbusRequestError {
    const nowMs = this.clock.now();
    const last = health.lastError?.fault;
    const fault: ModbusFault = {
      kind: 'backedOff',
      failures: health.consecutiveFailures,
      nextS: backoffSeconds(health, nowMs),
      ...(last ? { last } : {}),
    };
    return this.failure('unit-backed-off', request, describeBackoff(health, nowMs), fault);
  }

  /** A read waited its longest for its turn: the bus is down, or overloaded. */
  private waitedTooLong(read: QueuedRead): void {
    const { maxWaitMs } = this.settings;
    this.counters.waitTimeouts += 1;
    if (this.state === 'connected') {
      // Connected, but the wire never came free for it: the bus carries more than it can.
      this.log.overloaded(`requests waited ${maxWaitMs} ms for their turn`);
      this.queue.settle(
        read,
        this.failure(
          'queue-timeout',
          read.request,
          `waited ${maxWaitMs} ms for its turn: the bus is overloaded; poll less often or split the devices over more buses`,
          { kind: 'queueTimeout', ms: maxWaitMs },
        ),
      );
      return;
    }
    const problem = this.lifecycle.lastError;
    const why = `the bus is not connected${problem ? ` (${problem.message})` : ''}; waited ${maxWaitMs} ms`;
    const cause = faultOf(problem);
    const fault: ModbusFault = { kind: 'notConnected', ms: maxWaitMs, ...(cause ? { cause } : {}) };
    this.queue.settle(read, this.failure('not-connected', read.request, why, fault));
  }

  /**
   * The connection broke (socket closed, serial port gone). The request on the wire goes back to
   * the head of the queue for one more try on the next connection: reads are idempotent, and its
   * caller gets exactly one answer either way.
   */
  private connectionBroke(error: Error): void {
    this.counters.connectionsLost += 1;
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight) {
      this.clock.clearTimeout(inFlight.timer);
      const { entry } = inFlight;
      this.emit('done', entry.request, error);
      if (entry.attempts < 2) {
        this.queue.requeue(entry);
      } else {
        this.queue.settle(
          entry,
          this.failure(
            'disconnected',
            entry.request,
            `the connection broke twice during this request (${error.message})`,
            brokeTwice(faultOf(error)),
          ),
        );
      }
    }
    this.log.connection('failing', `connection to ${this.address} lost: ${error.message}; reconnecting`);
  }

  /** Sends the next request whose turn it is, if the wire is free. */
  private pump(): void {
    const connection = this.lifecycle.connection;
    if (this.state !== 'connected' || this.inFlight || !connection) return;
    const now = this.clock.now();
    if (now < this.quietUntilMs) {
      this.wake.wakeAt(this.quietUntilMs);
      return;
    }
    if (!this.drained(now, connection)) return;
    const next = this.queue.take((read) => {
      const health = this.units.backedOff(read.request.unitId, now);
      // Backed off while it waited: fail it now rather than let it hold its place.
      if (health) {
        this.counters.refusedBackedOff += 1;
        return { refuse: this.backedOffError(read.request, health) };
      }
      const pauseMs = Math.max(this.settings.pauseAfterConnectMs, read.request.pauseAfterConnectMs ?? 0);
      const readyAtMs = this.lifecycle.connectedAtMs + pauseMs;
      return readyAtMs > now ? { notBeforeMs: readyAtMs } : 'go';
    });
    if (next && 'read' in next) this.send(next.read, connection);
    else if (next) this.wake.wakeAt(next.notBeforeMs);
  }

  /**
   * Whether the line may carry the next request: no drain, or the drain after a failure just
   * ended, and then the input is discarded; a connection that cannot discard is reopened instead.
   * False while the bus must wait (a wake is scheduled).
   */
  private drained(now: number, connection: ModbusConnection): boolean {
    const drain = this.drain.check(now);
    if (drain.state === 'none') return true;
    if (drain.state === 'draining') {
      this.wake.wakeAt(drain.untilMs);
      return false;
    }
    if (drain.cutShortAfterMs !== undefined) {
      this.log.warn(
        `the line did not fall silent within ${drain.cutShortAfterMs} ms after a failed request (another master on the bus, noise?); input discarded, going on`,
      );
    }
    if (connection.discardInput?.() !== true) {
      // Nothing else clears what the connection may still hold: start afresh.
      this.lifecycle.lost(
        withFault(new Error('reopened to discard what a timed-out device sent late'), { kind: 'reopened' }),
      );
      return false;
    }
    return true;
  }

  private send(entry: QueuedRead, connection: ModbusConnection): void {
    entry.attempts += 1;
    if (this.queue.length === 0) this.log.caughtUp();
    // Whatever an RTU-framing connection holds now cannot be this request's answer.
    if (this.settings.serialFramed) connection.discardInput?.();
    const { request } = entry;
    const timeoutMs = request.timeoutMs ?? this.settings.timeoutMs;
    const timer = this.clock.setTimeout(() => {
      if (this.inFlight?.entry !== entry) return;
      this.finish(
        entry,
        this.failure('timeout', request, `no answer within ${timeoutMs} ms`, {
          kind: 'timeout',
          ms: timeoutMs,
        }),
      );
    }, timeoutMs);
    this.inFlight = { entry, connection, timer };
    this.counters.sent += 1;
    this.emit('sent', request, entry.attempts);
    connection.read(
      request.unitId,
      request.functionCode,
      request.address,
      request.quantity,
      (error, registers) => {
        // A late answer to a request that timed out (or a closed connection) is ignored here.
        if (this.inFlight?.entry !== entry || this.inFlight.connection !== connection) return;
        if (error && (error as { connectionLost?: boolean }).connectionLost) {
          this.lifecycle.lost(error);
          this.pump();
          return;
        }
        this.lastHeardMs = this.clock.now();
        this.log.connection('working', `connected to ${this.address}`);
        this.finish(entry, answerFailure(this.name, request, error, registers), registers);
      },
    );
  }

  private finish(entry: QueuedRead, error: ModbusRequestError | undefined, registers?: number[]): void {
    const inFlight = this.inFlight;
    if (inFlight?.entry !== entry) return;
    this.clock.clearTimeout(inFlight.timer);
    this.inFlight = undefined;
    this.emit('done', entry.request, error);
    const now = this.clock.now();
    this.quietUntilMs = now + this.settings.interFrameDelayMs;
    if ((error?.failure === 'timeout' || error?.failure === 'corrupt') && this.settings.serialFramed) {
      if (this.drain.start(now, entry.request.timeoutMs ?? this.settings.timeoutMs))
        this.counters.drains += 1;
    }
    const unitId = entry.request.unitId;
    countOutcome(this.counters, error);
    if (error?.countsAgainstUnit) this.unitFailed(unitId, error);
    else this.unitAnswered(unitId);
    this.queue.settle(entry, error, registers);
    const { silentConnectionMs } = this.settings;
    if (
      error?.failure === 'timeout' &&
      silentConnectionMs > 0 &&
      now - this.lastHeardMs >= silentConnectionMs
    ) {
      const s = Math.round((now - this.lastHeardMs) / 1000);
      this.lifecycle.lost(withFault(new Error(`nothing received for ${s} s`), { kind: 'silent', s }));
    }
    this.pump();
  }

  private unitAnswered(unitId: number): void {
    if (this.units.answered(unitId))
      this.emit('unit', unitId, { consecutiveFailures: 0, backedOffUntilMs: 0 });
  }

  private unitFailed(unitId: number, error: ModbusRequestError): void {
    const now = this.clock.now();
    const health = this.units.failed(unitId, error, now);
    this.emit('unit', unitId, health);
    if (health.backedOffUntilMs > now) {
      // Whatever else waits for this unit would only time out too.
      this.queue.fail((read) => {
        if (read.request.unitId !== unitId) return undefined;
        this.counters.refusedBackedOff += 1;
        return this.backedOffError(read.request, health);
      });
    }
  }
}

/** The connection broke twice during a request: the second break's cause, if known. */
function brokeTwice(cause: ModbusFault | undefined): ModbusFault {
  return cause ? { kind: 'brokeTwice', cause } : { kind: 'brokeTwice' };
}
