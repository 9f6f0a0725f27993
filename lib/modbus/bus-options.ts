import { type Clock, systemClock } from '../clock';
import { type Logger, silentLogger } from '../log';
import { type BusTransport, type Connector, modbusConnector } from './connection';

/**
 * What a Modbus bus can be told, and the defaults it works with: one place for both, so the
 * bus (queue), its connection lifecycle, unit backoff and line drain read the same figures.
 */

/** `waiting`: for the next connect attempt, after one failed or the connection broke. */
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
  /** For tests: opens connections instead of {@link modbusConnector}. */
  connector?: Connector;
}

/** {@link BusOptions} with every default applied. */
export interface ResolvedBusOptions {
  name: string;
  transport: BusTransport;
  clock: Clock;
  log: Logger;
  connector: Connector;
  timeoutMs: number;
  interFrameDelayMs: number;
  pauseAfterConnectMs: number;
  maxQueueLength: number;
  maxWaitMs: number;
  connectTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number; stableAfterMs: number };
  /** RTU and RTU over TCP: answers are matched by position, not by a transaction id. */
  serialFramed: boolean;
  /** Undefined: the failed request's own timeout, at least 250 ms (see line-drain.ts). */
  drainAfterTimeoutMs: number | undefined;
  unitBackoff: { afterFailures: number; initialMs: number; maxMs: number };
  /** 0 on serial ports, which have no half-open connections. */
  silentConnectionMs: number;
}

export function resolveBusOptions(options: BusOptions): ResolvedBusOptions {
  const { transport } = options;
  return {
    name: options.name,
    transport,
    clock: options.clock ?? systemClock,
    log: options.log ?? silentLogger,
    connector: options.connector ?? modbusConnector(transport),
    timeoutMs: options.timeoutMs ?? 1000,
    interFrameDelayMs: options.interFrameDelayMs ?? (transport.kind === 'tcp' ? 0 : 10),
    pauseAfterConnectMs: options.pauseAfterConnectMs ?? 0,
    maxQueueLength: options.maxQueueLength ?? 200,
    maxWaitMs: options.maxWaitMs ?? 30000,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    reconnect: {
      initialMs: options.reconnect?.initialMs ?? 250,
      maxMs: options.reconnect?.maxMs ?? 30000,
      stableAfterMs: options.reconnect?.stableAfterMs ?? 30000,
    },
    serialFramed: transport.kind !== 'tcp',
    drainAfterTimeoutMs: options.drainAfterTimeoutMs,
    unitBackoff: {
      afterFailures: options.unitBackoff?.afterFailures ?? 2,
      initialMs: options.unitBackoff?.initialMs ?? 1000,
      maxMs: options.unitBackoff?.maxMs ?? 60000,
    },
    silentConnectionMs: transport.kind !== 'rtu' ? (options.silentConnectionMs ?? 60000) : 0,
  };
}
