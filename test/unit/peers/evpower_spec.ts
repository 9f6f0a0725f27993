import assert from 'node:assert/strict';
import type { SetPoint } from '../../../lib/contracts';
import { LoadManager } from '../../../lib/dlm/load-manager';
import type { SiteConfig } from '../../../lib/dlm/site';
import { silentLogger } from '../../../lib/log';
import type { CentralSystem } from '../../../lib/ocpp/central-system';
import { feedConnectorStates } from '../../../lib/ocpp/connector-feed';
import { ChargingProfileManager } from '../../../lib/profiles';
import { EvpowerCharger } from '../../support/evpower-charger';
import { useOcppHarness } from '../../support/ocpp';

/**
 * The central system, the load manager and the charging-profile manager against chargers built on
 * a charge-point library that was not written here and is not ocpp-rpc (@evpower/ocpp-ts), over
 * real WebSockets on 127.0.0.1. A test our own simulator passes proves little about a charger.
 */

const SUPPLY_A = 32;

describe('chargers built elsewhere: @evpower/ocpp-ts', () => {
  const harness = useOcppHarness();
  const chargers: EvpowerCharger[] = [];
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all(chargers.splice(0).map((cp) => cp.close()));
  });

  async function connected(cs: CentralSystem, identity: string): Promise<EvpowerCharger> {
    const cp = new EvpowerCharger(identity);
    chargers.push(cp);
    await cp.connect(`ws://127.0.0.1:${cs.port}${cs.pathPrefix}`);
    return cp;
  }

  /** Resolves once `done()` holds, checked after every profile a charger accepts; fails with `state()` after 8 s. */
  function until(done: () => boolean, state: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(deadline);
        for (const cp of chargers) cp.off('profile', check);
        resolve();
      };
      const deadline = setTimeout(() => {
        for (const cp of chargers) cp.off('profile', check);
        reject(new Error(`not reached within 8 s: ${state()}`));
      }, 8_000);
      for (const cp of chargers) cp.on('profile', check);
      check();
    });
  }

  it('runs a whole session: boot, status, authorize, start, meter values, stop, one charge data record', async () => {
    const cs = await harness().centralSystem();
    const cp = await connected(cs, 'PEER-1');
    assert.equal(await cp.startSession(1, 'TAG-1', { maxA: 16, phases: 3 }), 'Accepted');
    const state = cs.connectorOf('PEER-1', 1);
    assert.equal(state?.status, 'Charging');
    assert.deepEqual(state?.currentA, [16, 16, 16], 'Current.Import per phase from its MeterValues');
    assert.equal(cs.openTransactions().length, 1);
    await cp.stopSession(1);
    const sessions = [];
    for await (const session of cs.sessions()) sessions.push(session);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]?.chargePointId, 'PEER-1');
    assert.equal(sessions[0]?.energyWh, 1000);
    assert.equal(cs.openTransactions().length, 0);
  });

  /** The load manager and the profile manager wired to `cs` as ampflow-dlm and ampflow-charging-profile wire them. */
  function controlLoop(cs: CentralSystem, site: SiteConfig): LoadManager {
    const manager = new LoadManager({ site, logger: silentLogger });
    const profiles = new ChargingProfileManager(cs, { increaseIntervalMs: 0, log: silentLogger });
    manager.on('setPoint', (setPoint: SetPoint) => {
      profiles.apply(setPoint).catch(() => undefined);
    });
    const stopFeed = feedConnectorStates(cs, manager, (err) => assert.fail(err));
    manager.start();
    cleanups.push(
      stopFeed,
      () => manager.stop(),
      () => profiles.close(),
    );
    return manager;
  }

  function supplyLine(ids: string[]): SiteConfig {
    return {
      circuits: [{ id: 'supply', limitA: SUPPLY_A }],
      connectors: ids.map((chargePointId) => ({ chargePointId, circuit: 'supply', maxA: 32 })),
      unbalanceLimitA: null,
      control: { rampUpAPerS: 1000, minUpdateIntervalMs: 0 },
    };
  }

  const drawn = () => chargers.map((cp) => cp.drawA(1)[0] ?? 0);
  const shown = () =>
    `draws ${drawn().join(' / ')} A, limits ${chargers.map((cp) => cp.limitA(1)).join(' / ')} A`;

  it('takes the load manager’s limits as profiles: three cars share a 32 A supply line, none above it', async () => {
    const cs = await harness().centralSystem();
    const ids = ['PEER-1', 'PEER-2', 'PEER-3'];
    controlLoop(cs, supplyLine(ids));
    // Installed and booted first, then the cars come: a charger that connects is not under control
    // until it reports, and the others would be paused for it (and then kept off for minOffMs).
    for (const id of ids) await connected(cs, id);
    for (const cp of chargers) await cp.startSession(1, `TAG-${cp.identity}`, { maxA: 32, phases: 3 });
    await until(() => drawn().every((a) => a >= 6), shown);
    // Every car charges, and the line is never over its limit on any phase.
    const total = drawn().reduce((sum, a) => sum + a, 0);
    assert.ok(total <= SUPPLY_A + 1e-9, `the supply line carries ${total} A (${shown()})`);
    for (const cp of chargers) {
      assert.ok(cp.profiles.length > 0, `${cp.identity} got a profile`);
      for (const request of cp.profiles) {
        const limit = request.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? 0;
        assert.ok(limit <= SUPPLY_A, `${cp.identity} was never allowed more than the line (${limit})`);
      }
    }
  });

  it('charges a partly installed car park: two chargers the site names never connected, the others share the line', async () => {
    const cs = await harness().centralSystem();
    const manager = controlLoop(cs, supplyLine(['PEER-1', 'PEER-2', 'PEER-3', 'PEER-4', 'PEER-5']));
    for (const id of ['PEER-1', 'PEER-2', 'PEER-3']) await connected(cs, id);
    for (const cp of chargers) await cp.startSession(1, `TAG-${cp.identity}`, { maxA: 32, phases: 3 });
    const reasons = () =>
      manager
        .summary()
        .connectors.map((c) => `${c.chargePointId}: ${c.reason}`)
        .join('; ');
    await until(
      () => drawn().every((a) => a >= 6),
      () => `${shown()} (${reasons()})`,
    );
    const total = drawn().reduce((sum, a) => sum + a, 0);
    assert.ok(total <= SUPPLY_A + 1e-9, `the supply line carries ${total} A (${shown()})`);
    const waiting = manager.summary().connectors.find((c) => c.chargePointId === 'PEER-4');
    assert.match(String(waiting?.reason), /never connected/);
  });
});
