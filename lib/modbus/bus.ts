import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { type Logger, silentLogger } from '../log';
import {
  type BusTransport,
  type Connector,
  describeTransport,
  type ModbusConnection,
  modbusSerialConnector,
} from './connection';
import { describeException, ModbusRequestError, type ReadRequest, type RequestFailure } from './errors';

export type BusState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

export interface BusOptions {
  /** Names the bus in every error and log line. */
  name: string;
  transport: BusTransport;
  /** Response timeout per request unless the request brings its own (default 1000 ms). */
  timeoutMs?: number;
  /**
   * Silence after each answer before the next request (RTU needs 3.5 characters; slow gateways
   * more). Default 0 for Modbus TCP, 10 ms otherwise.
   */
  interFrameDelayMs?: number;
  /** Pause after the connection opens before the first request to any device (default 0). */
  pauseAfterConnectMs?: number;
  /** Requests that may wait; more are refused at once (default 200). */
  maxQueueLength?: number;
  /**
   * Longest a request waits for its turn (the bus down, or overloaded) before it fails
   * (default 30 s). With the response timeout this bounds how long any request can take.
   */
  maxWaitMs?: number;
  /** Connect attempts time out after this (default 5 s). */
  connectTimeoutMs?: number;
  /**
   * Reconnect delays: doubling from `initialMs` up to `maxMs` (defaults 250 ms and 30 s). They
   * start again from `initialMs` only after a connection stayed up for `stableAfterMs` (default
   * 30 s): a gateway that accepts, answers once and drops is not hammered every 250 ms.
   */
  reconnect?: { initialMs?: number; maxMs?: number; stableAfterMs?: number };
  /**
   * RTU and RTU over TCP only, whose answers carry no transaction id: after a request timed out
   * (or got a corrupt answer: the framing may be out of step), the next request waits until the
   * line has been silent this long, and whatever arrived meanwhile (the late answer) is
   * discarded, so that a late answer can never be taken for the next request's. Default: the
   * failed request's own timeout, at least 250 ms. If the line never falls silent, the next
   * request goes after 4 times this all the same (input discarded). 0 turns the drain off.
   */
  drainAfterTimeoutMs?: number;
  /**
   * A unit is backed off after `afterFailures` failures in a row (timeouts, corrupt answers,
   * gateway exceptions): its requests fail at once for `initialMs`, doubling up to `maxMs`
   * (defaults 2, 1 s, 60 s). Other units are not affected.
   */
  unitBackoff?: { afterFailures?: number; initialMs?: number; maxMs?: number };
  /**
   * TCP only: a connection on which nothing at all arrived for this long while requests timed
   * out is taken as dead (a gateway that rebooted without closing) and reopened (default 60 s;
   * 0 = never).
   */
  silentConnectionMs?: number;
  clock?: Clock;
  log?: Logger;
  /** For tests: opens connections instead of modbus-serial. */
  connector?: Connector;
}

/** How one unit is doing, for statuses and tests. */
export interface UnitHealth {
  consecutiveFailures: number;
  /** Epoch ms until which requests to the unit fail at once; 0 when not backed off. */
  backedOffUntilMs: number;
  lastError?: ModbusRequestError;
}

export interface BusStats {
  sent: number;
  answered: number;
  timeouts: number;
  exceptions: number;
  corrupt: number;
  coalesced: number;
  refusedQueueFull: number;
  refusedBackedOff: number;
  waitTimeouts: number;
  connects: number;
  connectionsLost: number;
  /** Times the line was drained after a timeout or a corrupt answer (RTU framing). */
  drains: number;
  /** Bytes received, answers or not. */
  bytesReceived: number;
}

interface Waiter {
  resolve(registers: number[]): void;
  reject(error: Error): void;
}

interface Entry {
  key: string;
  request: ReadRequest;
  waiters: Waiter[];
  attempts: number;
  waitTimer?: TimerHandle;
}

interface InFlight {
  entry: Entry;
  connection: ModbusConnection;
  timer: TimerHandle;
}

/** The line is being drained after a failed request: nothing is sent until it was silent long enough. */
interface Drain {
  fromMs: number;
  silenceMs: number;
  /** The drain ends here at the latest, silent or not. */
  latestMs: number;
}

/** Least silence after a timeout on RTU framing, whatever the timeout. */
const MIN_DRAIN_MS = 250;
/** A drain lasts at most this many times its silence. */
const MAX_DRAIN_FACTOR = 4;

/**
 * One physical bus (a serial port or a TCP connection to a device or gateway) and its request
 * queue. Requests run strictly one at a time; each is bound in time (waiting at most `maxWaitMs`,
 * then at most its timeout on the wire), so every `read()` resolves or rejects, whatever the
 * devices and the connection do.
 *
 * Events: `state` (state, error?), `unit` (unitId, health), `sent` (request, attempt) when a
 * request goes on the wire, `done` (request, error?) when the wire is free again, `settled`
 * (request, error?) when its callers get their answer.
 */
export class ModbusBus extends EventEmitter {
  readonly name: string;
  readonly transport: BusTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly connector: Connector;
  private readonly timeoutMs: number;
  private readonly interFrameDelayMs: number;
  private readonly pauseAfterConnectMs: number;
  private readonly maxQueueLength: number;
  private readonly maxWaitMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;
  private readonly stableAfterMs: number;
  /** RTU and RTU over TCP: answers are matched by position, not by a transaction id. */
  private readonly serialFramed: boolean;
  private readonly drainAfterTimeoutMs: number | undefined;
  private readonly backoffAfterFailures: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly silentConnectionMs: number;

  private currentState: BusState = 'idle';
  private problem: Error | undefined;
  private readonly queue: Entry[] = [];
  private inFlight: InFlight | undefined;
  private connection: ModbusConnection | undefined;
  private connectAbort: AbortController | undefined;
  private connectTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private wakeTimer: TimerHandle | undefined;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private connectAttempt = 0;
  private reconnectFailures = 0;
  private connectedAtMs = 0;
  private quietUntilMs = 0;
  private lastHeardMs = 0;
  /** When bytes last arrived on the line (any bytes, answer or not). */
  private lastReceivedMs = 0;
  private drain: Drain | undefined;
  /** Whether an overloaded queue has been logged since the queue last ran empty. */
  private overloadReported = false;
  /** What the log last said, so a flapping connection is reported once, not on every attempt. */
  private reported: 'nothing' | 'working' | 'failing' = 'nothing';
  private readonly units = new Map<number, UnitHealth>();
  private readonly counters: BusStats = {
    sent: 0,
    answered: 0,
    timeouts: 0,
    exceptions: 0,
    corrupt: 0,
    coalesced: 0,
    refusedQueueFull: 0,
    refusedBackedOff: 0,
    waitTimeouts: 0,
    connects: 0,
    connectionsLost: 0,
    drains: 0,
    bytesReceived: 0,
  };

  constructor(options: BusOptions) {
    super();
    this.name = options.name;
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.connector = options.connector ?? modbusSerialConnector(options.transport);
    const overTcp = options.transport.kind !== 'rtu';
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.interFrameDelayMs = options.interFrameDelayMs ?? (options.transport.kind === 'tcp' ? 0 : 10);
    this.pauseAfterConnectMs = options.pauseAfterConnectMs ?? 0;
    this.maxQueueLength = options.maxQueueLength ?? 200;
    this.maxWaitMs = options.maxWaitMs ?? 30000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.reconnectInitialMs = options.reconnect?.initialMs ?? 250;
    this.reconnectMaxMs = options.reconnect?.maxMs ?? 30000;
    this.stableAfterMs = options.reconnect?.stableAfterMs ?? 30000;
    this.serialFramed = options.transport.kind !== 'tcp';
    this.drainAfterTimeoutMs = options.drainAfterTimeoutMs;
    this.backoffAfterFailures = options.unitBackoff?.afterFailures ?? 2;
    this.backoffInitialMs = options.unitBackoff?.initialMs ?? 1000;
    this.backoffMaxMs = options.unitBackoff?.maxMs ?? 60000;
    this.silentConnectionMs = overTcp ? (options.silentConnectionMs ?? 60000) : 0;
  }

  get state(): BusState {
    return this.currentState;
  }

  /** Why the bus is not connected (the last connection error), if it is not. */
  get lastError(): Error | undefined {
    return this.problem;
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
    const health = this.units.get(unitId);
    return health ? { ...health } : { consecutiveFailures: 0, backedOffUntilMs: 0 };
  }

  /** Starts connecting; requests may be queued before. Idempotent. */
  open(): void {
    if (this.currentState !== 'idle') return;
    this.connect();
  }

  /**
   * Queues a read. Resolves with the registers; rejects with a {@link ModbusRequestError}. An
   * identical read still waiting is joined rather than queued twice (polls are idempotent), so
   * both callers get the one, newest answer.
   */
  read(request: ReadRequest): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      if (this.currentState === 'closed') {
        reject(this.failure('closed', request, 'the bus is closed'));
        return;
      }
      const health = this.units.get(request.unitId);
      if (health && health.backedOffUntilMs > this.clock.now()) {
        this.counters.refusedBackedOff += 1;
        reject(this.backedOffError(request, health));
        return;
      }
      const key = `${request.unitId}/${request.functionCode}/${request.address}/${request.quantity}`;
      const waiting = this.queue.find((entry) => entry.key === key);
      if (waiting) {
        waiting.request = request;
        waiting.waiters.push(waiter);
        this.counters.coalesced += 1;
        return;
      }
      if (this.queue.length >= this.maxQueueLength) {
        this.counters.refusedQueueFull += 1;
        this.reportOverload(`the queue is full (${this.queue.length} requests waiting)`);
        reject(
          this.failure(
            'queue-full',
            request,
            `the queue is full (${this.queue.length} requests waiting): the bus cannot keep up; poll less often or split the devices over more buses`,
          ),
        );
        return;
      }
      const entry: Entry = { key, request, waiters: [waiter], attempts: 0 };
      this.queue.push(entry);
      this.startWaitTimer(entry);
      if (this.currentState === 'idle') this.connect();
      this.pump();
    });
  }

  /** Fails everything queued, closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    this.setState('closed');
    this.connectAbort?.abort();
    this.clock.clearTimeout(this.connectTimer);
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.wakeTimer);
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight) {
      this.clock.clearTimeout(inFlight.timer);
      const error = this.failure('closed', inFlight.entry.request, 'the bus was closed');
      this.emit('done', inFlight.entry.request, error);
      this.settle(inFlight.entry, error);
    }
    for (const entry of this.queue.splice(0)) {
      this.settle(entry, this.failure('closed', entry.request, 'the bus was closed'));
    }
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  private setState(state: BusState, error?: Error): void {
    if (error) this.problem = error;
    else if (state === 'connected') this.problem = undefined;
    if (state === this.currentState && !error) return;
    this.currentState = state;
    this.emit('state', state, error);
  }

  private failure(kind: RequestFailure, request: ReadRequest, detail: string, code?: number) {
    return new ModbusRequestError(kind, this.name, request, detail, code);
  }

  private backedOffError(request: ReadRequest, health: UnitHealth): ModbusRequestError {
    const seconds = Math.max(0, Math.ceil((health.backedOffUntilMs - this.clock.now()) / 1000));
    const cause = health.lastError ? `; last: ${health.lastError.detail}` : '';
    return this.failure(
      'unit-backed-off',
      request,
      `unit not answering (${health.consecutiveFailures} failures in a row${cause}); next try in ${seconds} s`,
    );
  }

  private startWaitTimer(entry: Entry): void {
    this.clock.clearTimeout(entry.waitTimer);
    entry.waitTimer = this.clock.setTimeout(() => {
      const index = this.queue.indexOf(entry);
      if (index < 0) return;
      this.queue.splice(index, 1);
      this.counters.waitTimeouts += 1;
      if (this.currentState === 'connected') {
        // Connected, but the wire never came free for it: the bus carries more than it can.
        this.reportOverload(`requests waited ${this.maxWaitMs} ms for their turn`);
        this.settle(
          entry,
          this.failure(
            'queue-timeout',
            entry.request,
            `waited ${this.maxWaitMs} ms for its turn: the bus is overloaded; poll less often or split the devices over more buses`,
          ),
        );
        return;
      }
      const why = `the bus is not connected${this.problem ? ` (${this.problem.message})` : ''}; waited ${this.maxWaitMs} ms`;
      this.settle(entry, this.failure('not-connected', entry.request, why));
    }, this.maxWaitMs);
  }

  /** Logs an overloaded bus once, until its queue has run empty again. */
  private reportOverload(what: string): void {
    if (this.overloadReported) return;
    this.overloadReported = true;
    this.log.warn(
      `modbus bus "${this.name}" is overloaded: ${what}; poll less often or split the devices over more buses`,
    );
  }

  private settle(entry: Entry, error: Error | undefined, registers?: number[]): void {
    this.clock.clearTimeout(entry.waitTimer);
    entry.waitTimer = undefined;
    for (const waiter of entry.waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve(registers ?? []);
    }
    this.emit('settled', entry.request, error);
  }

  private connect(): void {
    if (this.currentState === 'closed') return;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const attempt = ++this.connectAttempt;
    const abort = new AbortController();
    this.connectAbort = abort;
    this.setState('connecting');
    this.connectTimer = this.clock.setTimeout(() => {
      if (attempt !== this.connectAttempt) return;
      abort.abort();
      this.connectFailed(new Error(`no connection to ${this.address} within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    const onLost = (error: Error) => {
      if (attempt === this.connectAttempt) this.connectionLost(error);
    };
    const onReceive = (bytes: number) => {
      if (attempt !== this.connectAttempt) return;
      this.lastReceivedMs = this.clock.now();
      this.counters.bytesReceived += bytes;
    };
    this.connector.connect({ onLost, onReceive }, abort.signal).then(
      (connection) => {
        if (attempt !== this.connectAttempt || this.currentState !== 'connecting') {
          void connection.close();
          return;
        }
        this.clock.clearTimeout(this.connectTimer);
        this.connection = connection;
        this.counters.connects += 1;
        this.connectedAtMs = this.clock.now();
        this.lastHeardMs = this.connectedAtMs;
        this.quietUntilMs = 0;
        this.setState('connected');
        this.pump();
      },
      (error: Error) => {
        if (attempt !== this.connectAttempt || this.currentState !== 'connecting') return;
        this.connectFailed(error);
      },
    );
  }

  private connectFailed(error: Error): void {
    this.report('failing', `cannot connect to ${this.address}: ${error.message}; retrying`);
    this.scheduleReconnect(error);
  }

  /**
   * Logs a change between "working" (a device answered on this connection) and "failing" once
   * per change: a gateway that accepts and drops connections does not flood the log.
   */
  private report(health: 'working' | 'failing', message: string): void {
    if (this.reported === health) return;
    this.reported = health;
    this.log.info(`modbus bus "${this.name}": ${message}`);
  }

  private scheduleReconnect(error: Error): void {
    this.clock.clearTimeout(this.connectTimer);
    if (this.currentState === 'closed') return;
    this.connectAttempt += 1;
    const delayMs = Math.min(this.reconnectMaxMs, this.reconnectInitialMs * 2 ** this.reconnectFailures);
    this.reconnectFailures += 1;
    this.setState('waiting', error);
    this.reconnectTimer = this.clock.setTimeout(() => this.connect(), delayMs);
  }

  /**
   * The connection broke (socket closed, serial port gone). The request on the wire goes back to
   * the head of the queue for one more try on the next connection: reads are idempotent, and its
   * caller gets exactly one answer either way.
   */
  private connectionLost(error: Error): void {
    if (this.currentState !== 'connected') return;
    this.counters.connectionsLost += 1;
    // Reconnect delays start again only after a connection that held for a while.
    if (this.clock.now() - this.connectedAtMs >= this.stableAfterMs) this.reconnectFailures = 0;
    const connection = this.connection;
    this.connection = undefined;
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight) {
      this.clock.clearTimeout(inFlight.timer);
      const { entry } = inFlight;
      this.emit('done', entry.request, error);
      if (entry.attempts < 2) {
        this.queue.unshift(entry);
        this.startWaitTimer(entry);
      } else {
        this.settle(
          entry,
          this.failure(
            'disconnected',
            entry.request,
            `the connection broke twice during this request (${error.message})`,
          ),
        );
      }
    }
    void connection?.close();
    this.report('failing', `connection to ${this.address} lost: ${error.message}; reconnecting`);
    this.scheduleReconnect(error);
  }

  private scheduleWake(atMs: number): void {
    if (atMs >= this.wakeAtMs && this.wakeTimer !== undefined) return;
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = this.clock.setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.wakeAtMs = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, atMs - this.clock.now()),
    );
  }

  /** Sends the next request whose turn it is, if the wire is free. */
  private pump(): void {
    if (this.currentState !== 'connected' || this.inFlight || !this.connection) return;
    const now = this.clock.now();
    if (now < this.quietUntilMs) {
      this.scheduleWake(this.quietUntilMs);
      return;
    }
    if (this.drain && !this.drained(now, this.connection)) return;
    let earliestMs = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.queue.length; index++) {
      const entry = this.queue[index] as Entry;
      const health = this.units.get(entry.request.unitId);
      if (health && health.backedOffUntilMs > now) {
        // Backed off while it waited: fail it now rather than let it hold its place.
        this.queue.splice(index, 1);
        index -= 1;
        this.counters.refusedBackedOff += 1;
        this.settle(entry, this.backedOffError(entry.request, health));
        continue;
      }
      const pauseMs = Math.max(this.pauseAfterConnectMs, entry.request.pauseAfterConnectMs ?? 0);
      const readyAtMs = this.connectedAtMs + pauseMs;
      if (readyAtMs > now) {
        earliestMs = Math.min(earliestMs, readyAtMs);
        continue;
      }
      this.queue.splice(index, 1);
      this.send(entry, this.connection);
      return;
    }
    if (earliestMs < Number.POSITIVE_INFINITY) this.scheduleWake(earliestMs);
  }

  /**
   * Whether the drain after a timeout is over: the line has been silent for the drain's silence
   * (or the drain reached its longest). Then the input is discarded; a connection that cannot
   * discard is reopened instead. False while the bus must wait (a wake is scheduled).
   */
  private drained(now: number, connection: ModbusConnection): boolean {
    const drain = this.drain;
    if (!drain) return true;
    const silentAtMs = Math.max(drain.fromMs, this.lastReceivedMs) + drain.silenceMs;
    const readyAtMs = Math.min(silentAtMs, drain.latestMs);
    if (now < readyAtMs) {
      this.scheduleWake(readyAtMs);
      return false;
    }
    this.drain = undefined;
    if (silentAtMs > drain.latestMs) {
      this.log.warn(
        `modbus bus "${this.name}": the line did not fall silent within ${drain.latestMs - drain.fromMs} ms after a failed request (another master on the bus, noise?); input discarded, going on`,
      );
    }
    if (connection.discardInput?.() !== true) {
      // Nothing else clears what the connection may still hold: start afresh.
      this.connectionLost(new Error('reopened to discard what a timed-out device sent late'));
      return false;
    }
    return true;
  }

  private send(entry: Entry, connection: ModbusConnection): void {
    this.clock.clearTimeout(entry.waitTimer);
    entry.waitTimer = undefined;
    entry.attempts += 1;
    if (this.queue.length === 0) this.overloadReported = false;
    // Whatever an RTU-framing port holds now cannot be this request's answer.
    if (this.serialFramed) connection.discardInput?.();
    const { request } = entry;
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const timer = this.clock.setTimeout(() => {
      if (this.inFlight?.entry !== entry) return;
      this.finish(entry, this.failure('timeout', request, `no answer within ${timeoutMs} ms`));
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
          this.connectionLost(error);
          this.pump();
          return;
        }
        this.lastHeardMs = this.clock.now();
        this.report('working', `connected to ${this.address}`);
        if (error) {
          const code = (error as { modbusCode?: unknown }).modbusCode;
          if (typeof code === 'number') {
            this.finish(entry, this.failure('exception', request, describeException(code), code));
          } else {
            this.finish(entry, this.failure('corrupt', request, `unusable answer: ${error.message}`));
          }
          return;
        }
        if (!registers || registers.length !== request.quantity) {
          this.finish(
            entry,
            this.failure(
              'corrupt',
              request,
              `answer has ${registers?.length ?? 0} registers, asked for ${request.quantity}`,
            ),
          );
          return;
        }
        this.finish(entry, undefined, registers);
      },
    );
  }

  private finish(entry: Entry, error: ModbusRequestError | undefined, registers?: number[]): void {
    const inFlight = this.inFlight;
    if (inFlight?.entry !== entry) return;
    this.clock.clearTimeout(inFlight.timer);
    this.inFlight = undefined;
    this.emit('done', entry.request, error);
    const now = this.clock.now();
    this.quietUntilMs = now + this.interFrameDelayMs;
    if ((error?.failure === 'timeout' || error?.failure === 'corrupt') && this.serialFramed) {
      this.startDrain(now, entry.request);
    }
    const unitId = entry.request.unitId;
    if (!error) {
      this.counters.answered += 1;
      this.unitAnswered(unitId);
    } else {
      if (error.failure === 'timeout') this.counters.timeouts += 1;
      else if (error.failure === 'exception') this.counters.exceptions += 1;
      else if (error.failure === 'corrupt') this.counters.corrupt += 1;
      if (error.countsAgainstUnit) this.unitFailed(unitId, error);
      else this.unitAnswered(unitId);
    }
    this.settle(entry, error, registers);
    if (
      error?.failure === 'timeout' &&
      this.silentConnectionMs > 0 &&
      now - this.lastHeardMs >= this.silentConnectionMs
    ) {
      this.connectionLost(new Error(`nothing received for ${Math.round((now - this.lastHeardMs) / 1000)} s`));
    }
    this.pump();
  }

  /**
   * After a timeout on RTU framing the device may still answer; its answer has the unit, function
   * code and often the length the next request expects, and nothing else tells them apart. After
   * a corrupt answer the rest of a frame may still be on its way. So the line is left alone until
   * it has been silent for a while, and whatever came is discarded.
   */
  private startDrain(now: number, request: ReadRequest): void {
    const silenceMs = this.drainAfterTimeoutMs ?? Math.max(MIN_DRAIN_MS, request.timeoutMs ?? this.timeoutMs);
    if (silenceMs <= 0) return;
    this.counters.drains += 1;
    this.drain = { fromMs: now, silenceMs, latestMs: now + MAX_DRAIN_FACTOR * silenceMs };
  }

  private unitAnswered(unitId: number): void {
    const health = this.units.get(unitId);
    if (!health) return;
    this.units.delete(unitId);
    if (health.consecutiveFailures > 0) {
      this.emit('unit', unitId, { consecutiveFailures: 0, backedOffUntilMs: 0 });
    }
  }

  private unitFailed(unitId: number, error: ModbusRequestError): void {
    const health = this.units.get(unitId) ?? { consecutiveFailures: 0, backedOffUntilMs: 0 };
    health.consecutiveFailures += 1;
    health.lastError = error;
    const beyond = health.consecutiveFailures - this.backoffAfterFailures;
    if (beyond >= 0) {
      const backoffMs = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** beyond);
      health.backedOffUntilMs = this.clock.now() + backoffMs;
    }
    this.units.set(unitId, health);
    this.emit('unit', unitId, { ...health });
    if (health.backedOffUntilMs > this.clock.now()) {
      // Whatever else waits for this unit would only time out too.
      for (const entry of this.queue.filter((waiting) => waiting.request.unitId === unitId)) {
        this.queue.splice(this.queue.indexOf(entry), 1);
        this.counters.refusedBackedOff += 1;
        this.settle(entry, this.backedOffError(entry.request, health));
      }
    }
  }
}
