import assert from 'node:assert/strict';
import type { Clock } from '../../lib/clock';
import type { SetPoint } from '../../lib/contracts';
import { LoadManager } from '../../lib/dlm/load-manager';
import type { ConnectorConfig, SiteConfig } from '../../lib/dlm/site';
import { silentLogger } from '../../lib/log';
import type { CentralSystem } from '../../lib/ocpp/central-system';
import { feedConnectorStates } from '../../lib/ocpp/connector-feed';
import { ChargingProfileManager, type ProfileManagerOptions } from '../../lib/profiles';
import { Cars201 } from './car201';
import { Charger201 } from './charger201';
import { type Listenable, until as untilEvent } from './events';
import { EvpowerCharger, type EvpowerChargerOptions } from './evpower-charger';
import { useOcppHarness } from './ocpp';
import type { PeerCharger, PeerChargerOptions } from './peer-charger';

/**
 * A car park for the peer chargers (peer-charger.ts): the load manager and the charging-profile
 * manager wired to a central system as the ampflow-dlm and ampflow-charging-profile nodes wire them,
 * a supply line, and waits that end on what the chargers do, never after a fixed time.
 */

/**
 * The load manager and the profile manager on `cs`; `stop` undoes it (call it in afterEach). With
 * `clock` (a ManualClock) the load manager's time moves only when the test moves it; the profile
 * manager takes `profileOptions` (e.g. a simulator's clock, whose schedules start at its time).
 */
export function controlLoop(
  cs: CentralSystem,
  site: SiteConfig,
  clock?: Clock,
  profileOptions: ProfileManagerOptions = {},
) {
  const manager = new LoadManager({ site, logger: silentLogger, ...(clock ? { clock } : {}) });
  const profiles = new ChargingProfileManager(cs, {
    increaseIntervalMs: 0,
    log: silentLogger,
    ...profileOptions,
  });
  const feedErrors: Error[] = [];
  manager.on('setPoint', (setPoint: SetPoint) => {
    profiles.apply(setPoint).catch(() => undefined);
  });
  const stopFeed = feedConnectorStates(cs, manager, (err) => feedErrors.push(err));
  manager.start();
  return {
    manager,
    profiles,
    /** States the load manager refused (a test asserts there are none). */
    feedErrors,
    stop: async () => {
      stopFeed();
      manager.stop();
      await profiles.close();
    },
  };
}

/** Resolves with the ms it took when `done(setPoints)` holds, checked now and at every set-point; rejects after `timeoutMs`. */
export function setPointsWhere(
  manager: LoadManager,
  done: (points: SetPoint[]) => boolean,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done(manager.setPoints())) return;
      clearTimeout(timer);
      manager.off('setPoint', check);
      resolve(Date.now() - started);
    };
    const timer = setTimeout(() => {
      manager.off('setPoint', check);
      reject(new Error(`not within ${timeoutMs} ms: ${JSON.stringify(manager.setPoints())}`));
    }, timeoutMs);
    manager.on('setPoint', check);
    check();
  });
}

/** The limit a charger's set-point gives it (connector 1's: these sites have one connector each), A. */
export const limitOf = (points: SetPoint[], id: string) =>
  points.find((p) => p.chargePointId === id)?.limitA ?? 0;

/**
 * Per test of a car park of peer chargers: the OCPP harness, the chargers `connected()` makes with
 * `make`, and the control loops `loop()` wires. After each test the `cleanups` run (the latest
 * first), then the chargers close while the central system still answers: these hooks come before
 * the harness's own afterEach, which stops the central systems.
 */
export function usePeerCarPark<C extends PeerCharger>(
  make: (identity: string, options: PeerChargerOptions) => C,
) {
  const chargers: C[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
  });
  const harness = useOcppHarness();
  /** controlLoop(), stopped after the test. */
  const loop = (
    cs: CentralSystem,
    site: SiteConfig,
    clock?: Clock,
    profileOptions?: ProfileManagerOptions,
  ) => {
    const wired = controlLoop(cs, site, clock, profileOptions);
    cleanups.push(wired.stop);
    return wired;
  };
  /** A charger `identity` (its register at `meterStartWh`) connected to `cs`. */
  const connected = async (cs: CentralSystem, identity: string, meterStartWh = 0): Promise<C> => {
    const cp = make(identity, { meterStartWh });
    chargers.push(cp);
    await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    return cp;
  };
  return {
    harness,
    chargers,
    cleanups,
    connected,
    loop,
    /**
     * The chargers `ids` on a supply line of `limitA` (supplyLine(), `connector` for each), under a
     * control loop, connected in turn; `watch` sees what the line carries from then on.
     */
    async onLine(
      cs: CentralSystem,
      ids: string[],
      limitA: number,
      connector: Partial<ConnectorConfig> = {},
      profileOptions?: ProfileManagerOptions,
    ) {
      const wired = loop(cs, supplyLine(ids, limitA, connector), undefined, profileOptions);
      for (const id of ids) await connected(cs, id);
      const watch = watchLine(chargers);
      cleanups.push(watch.stop);
      return { ...wired, watch };
    },
  };
}

/** One supply line of `limitA` per phase with a 32 A connector per charger. */
export function supplyLine(
  ids: readonly string[],
  limitA: number,
  connector: Partial<ConnectorConfig> = {},
): SiteConfig {
  return {
    circuits: [{ id: 'supply', limitA }],
    connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'supply', maxA: 32, ...connector })),
    unbalanceLimitA: null,
    control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
  };
}

/**
 * A charger the car-park helpers watch: the peer chargers (peer-charger.ts) are; a charger on
 * another base (evpower-charger.ts) takes an adapter. `change` fires at every change of what a car
 * draws, `reported` after the charger reported one.
 */
export interface WatchedCharger {
  readonly identity: string;
  hasConnector(connectorId: number): boolean;
  drawA(connectorId: number): readonly number[];
  offeredA(connectorId: number): number;
  statusOf(connectorId: number): string;
  on(event: 'change' | 'reported', listener: () => void): unknown;
  off(event: 'change' | 'reported', listener: () => void): unknown;
}

/** What every connector of the chargers draws, per phase, added up (the line's physical current). */
export function lineA(chargers: readonly WatchedCharger[]): [number, number, number] {
  const total: [number, number, number] = [0, 0, 0];
  for (const cp of chargers) {
    for (let id = 1; cp.hasConnector(id); id++) {
      const draw = cp.drawA(id);
      for (const p of [0, 1, 2] as const) total[p] += draw[p] ?? 0;
    }
  }
  return total;
}

/**
 * Watches the line: at every change of what a car draws, the physical current on each phase; `highestA` is the most any phase carried at any of those moments.
 */
export function watchLine(chargers: readonly WatchedCharger[]) {
  const watch = {
    highestA: 0,
    /** The draws at the moment of the highest. */
    at: '',
    stop: () => {
      for (const cp of chargers) cp.off('change', look);
    },
  };
  const look = () => {
    const worst = Math.max(...lineA(chargers));
    if (worst > watch.highestA) {
      watch.highestA = worst;
      watch.at = describeDraws(chargers);
    }
  };
  for (const cp of chargers) cp.on('change', look);
  return watch;
}

export function describeDraws(chargers: readonly WatchedCharger[]): string {
  return chargers
    .map((cp) => `${cp.identity} ${cp.drawA(1).join('/')} A (offers ${cp.offeredA(1)} A, ${cp.statusOf(1)})`)
    .join('; ');
}

/**
 * Resolves once `done()` holds, checked now, at every change of what a car draws and after every
 * report of a charger;
 * rejects with `describe()` after `timeoutMs`.
 */
export function until(
  chargers: readonly WatchedCharger[],
  done: () => boolean,
  describe: () => string = () => describeDraws(chargers),
  timeoutMs = 8000,
): Promise<void> {
  const wakeOn = chargers.flatMap((cp): [Listenable, string][] => [
    [cp, 'change'],
    [cp, 'reported'],
  ]);
  return untilEvent(done, wakeOn, timeoutMs, () => `not reached within ${timeoutMs} ms: ${describe()}`);
}

/**
 * Per test: the OCPP harness, and `cleanups` that run after the test, the latest first. They run
 * after the harness's own afterEach (it is registered first): its central systems stop, then the
 * chargers close.
 */
export function useOcppCleanups() {
  const harness = useOcppHarness();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return { harness, cleanups };
}

/**
 * Per test: a central system with chargers `ids` on `site` under a control loop, connected in turn
 * and closed after the test (useOcppCleanups): OCPP 1.6 ones on @evpower/ocpp-ts
 * (evpower-charger.ts) or OCPP 2.0.1 test stations (charger201.ts) with their cars (car201.ts), booted and Available.
 * `wake` is for events.ts's `until`: their changes.
 */
export function usePeerChargers() {
  const { harness, cleanups } = useOcppCleanups();
  async function looped(site: SiteConfig) {
    const cs = await harness().centralSystem();
    const wired = controlLoop(cs, site);
    cleanups.push(wired.stop);
    return { cs, wired };
  }
  return {
    harness,
    cleanups,
    async evpower(ids: readonly string[], site: SiteConfig, options: EvpowerChargerOptions = {}) {
      const { cs, wired } = await looped(site);
      const chargers = ids.map((id) => new EvpowerCharger(id, 1, options));
      cleanups.push(() => Promise.all(chargers.map((cp) => cp.close())));
      for (const cp of chargers) await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
      const wake = chargers.map((cp): [EvpowerCharger, string] => [cp, 'change']);
      return { cs, wired, chargers, wake };
    },
    async stations201(ids: readonly string[], site: SiteConfig) {
      const { cs, wired } = await looped(site);
      const stations: Cars201[] = [];
      for (const identity of ids) {
        const charger = new Charger201({ url: `ws://127.0.0.1:${cs.port}${cs.pathPrefix}`, identity });
        cleanups.push(() => charger.close());
        await charger.connect();
        assert.equal((await charger.boot()).status, 'Accepted');
        await charger.status(1, 'Available');
        stations.push(new Cars201(charger));
      }
      const wake = stations.map((cars): [Cars201, string] => [cars, 'change']);
      return { cs, wired, stations, wake };
    },
  };
}

/**
 * Per test: chargers on @evpower/ocpp-ts (evpower-charger.ts: status messages only, no readings
 * of their own) on `site` under a control loop, connected in turn; closed after the test
 * (usePeerChargers). `highestA()` is the most any phase of their line carried at any change a
 * charger made; `wake` and `state` are for events.ts's `until` (their changes; their limits and
 * the set-points).
 */
export function useEvpowerLine() {
  const peers = usePeerChargers();
  return async (ids: readonly string[], site: SiteConfig) => {
    const { cs, wired, chargers, wake } = await peers.evpower(ids, site);
    let highestA = 0;
    const onChange = () => {
      highestA = Math.max(
        highestA,
        ...[0, 1, 2].map((p) => chargers.reduce((sum, cp) => sum + (cp.drawA(1)[p] ?? 0), 0)),
      );
    };
    for (const cp of chargers) cp.on('change', onChange);
    const state = () =>
      `limits ${chargers.map((cp) => cp.limitA(1)).join(', ')}; set-points ${JSON.stringify(wired.manager.setPoints())}`;
    return { cs, wired, chargers, highestA: () => highestA, wake, state };
  };
}
