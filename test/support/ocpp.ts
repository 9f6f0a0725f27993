import assert from 'node:assert/strict';
import type { RPCClient } from 'ocpp-rpc';
import type { RPC_ClientOptions } from 'ocpp-rpc/lib/client';
import type { Logger } from '../../lib/log';
import type { SessionRecord } from '../../lib/ocpp/central-state';
import { CentralSystem, type CentralSystemOptions } from '../../lib/ocpp/central-system';
import { rpcChargePoint } from './charge-point';
import { useMade } from './hooks';

/** A Logger that keeps every line, for tests that check what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: { level: 'info' | 'warn' | 'error' | 'debug'; message: string }[] = [];
  info(message: string) {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string) {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string) {
    this.lines.push({ level: 'error', message });
  }
  debug(message: string) {
    this.lines.push({ level: 'debug', message });
  }
  matching(pattern: RegExp, level?: 'info' | 'warn' | 'error' | 'debug') {
    return this.lines.filter((line) => (!level || line.level === level) && pattern.test(line.message));
  }
}

export const BOOT = { chargePointVendor: 'ampflow', chargePointModel: 'test charger' } as const;

/**
 * Central systems and chargers for one test, all on 127.0.0.1; `close()` (in afterEach) stops
 * every one of them so no socket outlives its test.
 */
export class OcppHarness {
  private readonly centralSystems: CentralSystem[] = [];
  private readonly chargers: RPCClient[] = [];
  readonly log = new RecordingLogger();

  /** A started central system: port 0, unknown chargers accepted, id tags all accepted unless overridden. */
  async centralSystem(options: Partial<CentralSystemOptions> = {}): Promise<CentralSystem> {
    const cs = new CentralSystem({
      host: '127.0.0.1',
      port: 0,
      unknownChargePoints: 'accept',
      readConfigurationOnBoot: false,
      log: this.log,
      ...options,
      authorization: { policy: 'acceptAll', ...options.authorization },
    });
    this.centralSystems.push(cs);
    await cs.start();
    return cs;
  }

  /** A bare ocpp-rpc charger, not yet connected. */
  charger(cs: CentralSystem, identity: string, options: Partial<RPC_ClientOptions> = {}): RPCClient {
    const client = rpcChargePoint(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity, options);
    this.chargers.push(client);
    return client;
  }

  /** A charger that is connected and has booted (answered Accepted unless the policy says otherwise). */
  async bootedCharger(cs: CentralSystem, identity: string, options: Partial<RPC_ClientOptions> = {}) {
    const client = this.charger(cs, identity, options);
    await client.connect();
    const boot = (await client.call('BootNotification', BOOT)) as { status: string };
    return { client, boot };
  }

  async close(): Promise<void> {
    await Promise.all(this.chargers.map((client) => client.close({ force: true }).catch(() => undefined)));
    await Promise.all(this.centralSystems.map((cs) => cs.stop()));
    this.chargers.length = 0;
    this.centralSystems.length = 0;
  }
}

/** Registers a harness for each test of the suite and closes it after the test. */
export function useOcppHarness(): () => OcppHarness {
  return useMade(
    'each',
    () => new OcppHarness(),
    (harness) => harness.close(),
    { missing: 'no harness outside a test' },
  );
}

/** The OCPP-J CallError an ocpp-rpc call rejects with. */
export async function callError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { code: String((err as { rpcErrorCode?: string }).rpcErrorCode), message: (err as Error).message };
  }
  throw new Error('expected a CallError, the call succeeded');
}

export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

/** The sessions by transaction id; fails when one is recorded twice. */
export function sessionsById(sessions: readonly SessionRecord[]): Map<number, SessionRecord> {
  const byId = new Map<number, SessionRecord>();
  for (const session of sessions) {
    assert.equal(byId.has(session.transactionId), false, `session ${session.transactionId} recorded twice`);
    byId.set(session.transactionId, session);
  }
  return byId;
}

/**
 * Asserts that a recorded session, without an anomaly, agrees with the StartTransaction and the
 * StopTransaction it was recorded from: the charger and the meter registers.
 */
export function assertSessionAgrees(
  session: SessionRecord,
  start: { chargePointId: string; meterStart: number },
  stop: { chargePointId: string; meterStop: number },
): void {
  assert.equal(session.anomaly, undefined, `session ${session.transactionId}: ${session.anomaly}`);
  assert.equal(session.chargePointId, stop.chargePointId);
  assert.equal(start.chargePointId, stop.chargePointId);
  assert.equal(session.meterStartWh, start.meterStart);
  assert.equal(session.meterStopWh, stop.meterStop);
  assert.equal(session.energyWh, stop.meterStop - start.meterStart);
}
