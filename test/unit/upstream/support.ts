import type { EventEmitter } from 'node:events';
import { ManualClock } from '../../../lib/clock';
import { UpstreamProxy } from '../../../lib/upstream/proxy';
import { parseUpstreamSettings } from '../../../lib/upstream/settings';
import { waitFor } from '../../support/events';
import { type InteropChargePoint, useInterop } from '../interop/support';

/** A CALL an operator's backend for tests got from a charger. */
export type Call = { identity: string; action: string; params: Record<string, unknown> };

/** What the upstream tests need of an operator's backend (the ocpp-rpc one or the ts-ocpp one). */
export interface TestBackend extends EventEmitter {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Per test of the upstream proxy: ampflow's central system between the strict charge-point
 * simulator (CP1) and an operator's backend `make` builds, over real WebSockets on 127.0.0.1; the
 * proxy's timers run on a ManualClock. After each test the proxies, then the backends stop (after
 * the simulators hang up, before the central systems stop).
 */
export function useUpstreamSite<B extends TestBackend>(make: () => B) {
  const interop = useInterop();
  const backends: B[] = [];
  const proxies: UpstreamProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await Promise.all(backends.splice(0).map((backend) => backend.stop()));
  });

  /** A started backend, a central system with a proxy to it, and CP1 (meter values every 10 s). */
  async function site(settings: Record<string, unknown> = {}, backend: B = make()) {
    backends.push(backend);
    await backend.start();
    const cs = await interop.harness().centralSystem();
    const proxyClock = new ManualClock();
    const proxy = new UpstreamProxy(cs, parseUpstreamSettings({ url: backend.url, ...settings }), {
      clock: proxyClock,
      log: interop.harness().log,
    });
    proxies.push(proxy);
    const { cp, clock } = interop.simulator(cs, 'CP1', { configuration: { MeterValueSampleInterval: 10 } });
    return { backend, cs, proxy, proxyClock, cp, clock };
  }

  const backendGot = (backend: B, accept: (call: Call) => boolean) =>
    waitFor<[Call]>(backend, 'call', accept);

  /** The charger connects and the backend has its boot. */
  async function connected(backend: B, cp: InteropChargePoint): Promise<void> {
    const booted = backendGot(backend, (c) => c.action === 'BootNotification');
    await cp.connect();
    await booted;
  }

  /** A car plugs in and charges in a transaction; the id the charger uses for it. */
  async function charging(cp: InteropChargePoint, idTag = 'TAG-1', maxCurrentA = 16): Promise<number> {
    cp.plugIn(1, { maxCurrentA });
    await cp.startTransaction(1, idTag);
    await cp.whenIdle();
    return cp.connector(1).transaction?.transactionId as number;
  }

  return { interop, backends, proxies, site, backendGot, connected, charging };
}
