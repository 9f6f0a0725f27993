import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../../lib/clock';
import type { SessionRecord } from '../../../lib/ocpp/central-state';
import type { CentralSystem, ChargePointMessage } from '../../../lib/ocpp/central-system';
import type { CentralSystemAction, ChargePointAction } from '../../../lib/ocpp/connection';
import type { DataTransferRequest, OcppRequest, OcppResponse } from '../../../lib/ocpp/messages';
import {
  type RepliedMessage,
  SimulatedChargePoint,
  type SimulatedChargePointOptions,
} from '../../../sim/charge-point';
import { waitFor } from '../../support/events';
import { type OcppHarness, useOcppHarness } from '../../support/ocpp';

/**
 * The package's central system against its own charge-point simulator, over real WebSockets on
 * 127.0.0.1. Simulators run on a ManualClock (their heartbeats, meter values and file transfers
 * move only when a test advances it); the central system keeps the system clock.
 */

/** The simulator, plus the one charge-point request it has no public method for. */
export class InteropChargePoint extends SimulatedChargePoint {
  /** Sends a DataTransfer.req to the central system (OCPP 1.6 section 4.3). */
  dataTransfer(request: DataTransferRequest): Promise<OcppResponse<'DataTransfer'>> {
    return this.call('DataTransfer', request);
  }
}

export interface Simulated {
  cp: InteropChargePoint;
  clock: ManualClock;
}

export interface Interop {
  harness: () => OcppHarness;
  /**
   * A simulator that dials `cs` as `identity` (not yet connected), on its own ManualClock unless one
   * is given. WebSocket pings are off: they run on real timers.
   */
  simulator(cs: CentralSystem, identity: string, options?: Partial<SimulatedChargePointOptions>): Simulated;
  /** A central system with its defaults and a simulator connected to it as `identity`. */
  connected(
    identity: string,
    options?: Partial<SimulatedChargePointOptions>,
  ): Promise<Simulated & { cs: CentralSystem }>;
  /** Registers a simulator (or fleet) made elsewhere, to be closed after the test. */
  track(closable: { close(): Promise<void> }): void;
}

/**
 * Per test: the OCPP harness (central systems, closed after each test) and every simulator made
 * through it, closed after each test before the central systems go.
 */
export function useInterop(): Interop {
  const closables: { close(): Promise<void> }[] = [];
  // Registered before useOcppHarness's hook: mocha runs a suite's afterEach hooks in order, so the
  // simulators hang up before their central systems stop (and do not start reconnecting).
  afterEach(async () => {
    await Promise.all(closables.splice(0).map((closable) => closable.close()));
  });
  const harness = useOcppHarness();
  const simulator: Interop['simulator'] = (cs, identity, options = {}) => {
    const clock = (options.clock as ManualClock | undefined) ?? new ManualClock();
    const cp = new InteropChargePoint({
      centralSystemUrl: urlOf(cs),
      identity,
      ...options,
      clock,
      configuration: { WebSocketPingInterval: 0, ...options.configuration },
    });
    closables.push(cp);
    return { cp, clock };
  };
  return {
    harness,
    simulator,
    async connected(identity, options = {}) {
      const cs = await harness().centralSystem();
      const sim = simulator(cs, identity, options);
      await sim.cp.connect();
      return { cs, ...sim };
    },
    track(closable) {
      closables.push(closable);
    },
  };
}

/** Where chargers dial `cs`; fails when it is not listening. */
export function urlOf(cs: CentralSystem): string {
  const url = cs.url;
  if (!url) throw new Error(`the central system is ${cs.state}, not listening`);
  return url;
}

/** Every `message` event of `cs` from now on, in arrival order. */
export function recordMessages(cs: CentralSystem): ChargePointMessage[] {
  const messages: ChargePointMessage[] = [];
  cs.on('message', (message: ChargePointMessage) => messages.push(message));
  return messages;
}

/** Every `session` event of `cs` from now on. */
export function recordSessions(cs: CentralSystem): SessionRecord[] {
  const sessions: SessionRecord[] = [];
  cs.on('session', (session: SessionRecord) => sessions.push(session));
  return sessions;
}

/**
 * The next `message` event for `action` (from `chargePointId` if given) that `accept` takes.
 * Registered at once: call it before whatever causes the message.
 */
export async function nextMessage(
  cs: CentralSystem,
  action: ChargePointAction,
  accept: (message: ChargePointMessage) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ChargePointMessage> {
  const [message] = await waitFor<[ChargePointMessage]>(
    cs,
    'message',
    (m) => m.action === action && accept(m),
    timeoutMs,
  );
  return message;
}

/** The next `message` event for `action` whose request has `status`. Registered at once. */
export function nextWithStatus(
  cs: CentralSystem,
  action: ChargePointAction,
  status: string,
): Promise<ChargePointMessage> {
  return nextMessage(cs, action, (m) => (m.request as { status?: string }).status === status);
}

/** Advances a rebooting simulator's clock by `rebootMs`; resolves with the BootNotification that follows. */
export function bootAfter(
  cs: CentralSystem,
  clock: ManualClock,
  rebootMs: number,
): Promise<ChargePointMessage> {
  const booted = nextMessage(cs, 'BootNotification');
  clock.advance(rebootMs);
  return booted;
}

/** The messages of one action, their package-shaped payloads. */
export function payloadsOf<T = Record<string, unknown>>(
  messages: readonly ChargePointMessage[],
  action: ChargePointAction,
): T[] {
  return messages.filter((m) => m.action === action).map((m) => m.payload as T);
}

/** The raw OCPP requests of one action. */
export function requestsOf<T = Record<string, unknown>>(
  messages: readonly ChargePointMessage[],
  action: ChargePointAction,
): T[] {
  return messages.filter((m) => m.action === action).map((m) => m.request as T);
}

export { advance } from '../../support/clock';

/** Every finished session `cs` has recorded, oldest first. */
export async function allSessions(cs: CentralSystem): Promise<SessionRecord[]> {
  const sessions: SessionRecord[] = [];
  for await (const session of cs.sessions()) sessions.push(session);
  return sessions;
}

/** ISO 8601 of a simulator clock's now plus `offsetMs`. */
export function simTime(clock: ManualClock, offsetMs = 0): string {
  return new Date(clock.now() + offsetMs).toISOString();
}

/** What the central system's `command` event carries. */
export interface CommandEvent {
  chargePointId: string;
  action: CentralSystemAction;
  request: unknown;
  response?: unknown;
  error?: Error;
}

/**
 * Sends `action` through `CentralSystem.call` and returns the answer, after checking that it is
 * exactly what the simulator answered (its `replied` event) to exactly the request sent, and that
 * the central system reported the exchange as a `command` event.
 */
export async function roundTrip<A extends CentralSystemAction>(
  cs: CentralSystem,
  cp: SimulatedChargePoint,
  action: A,
  request: OcppRequest<A>,
): Promise<OcppResponse<A>> {
  const replied = waitFor<[RepliedMessage]>(
    cp as unknown as EventEmitter,
    'replied',
    (m) => m.action === action,
  );
  const command = waitFor<[CommandEvent]>(
    cs,
    'command',
    (event) => event.action === action && event.chargePointId === cp.identity,
  );
  const response = await cs.call(cp.identity, action, request);
  const [[answer], [event]] = await Promise.all([replied, command]);
  assert.deepEqual(answer.request, request, `${action}: the simulator got the request as sent`);
  assert.equal(answer.error, undefined, `${action}: the simulator answered without an error`);
  assert.deepEqual(response, answer.response, `${action}: the central system returns the simulator's answer`);
  assert.deepEqual(event.response, response, `${action}: the command event carries the answer`);
  return response;
}

/**
 * A fresh temporary directory per test (for `dataDirectory`), removed after the test. Call it after
 * useInterop(): hooks of one suite run in order, so the central systems are stopped first.
 */
export function useTempDirectory(prefix = 'ampflow-interop-'): () => string {
  let directory: string | undefined;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  });
  return () => {
    if (!directory) throw new Error('no temporary directory outside a test');
    return directory;
  };
}
