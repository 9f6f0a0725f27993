import { ManualClock } from '../../lib/clock';
import type { SetPoint } from '../../lib/contracts';
import { LoadManager } from '../../lib/dlm/load-manager';
import type { ControlConfig } from '../../lib/dlm/site';
import { silentLogger } from '../../lib/log';
import { feedConnectorStates } from '../../lib/ocpp/connector-feed';
import { ChargingProfileManager, type ProfileManagerOptions } from '../../lib/profiles';
import { SimulatedChargePoint } from '../../sim/charge-point';
import { benchCentralSystem } from './central-system';
import { wallTime } from './machine';

/**
 * Time to first amps (issue #12): a car plugs in where there is room (a 32 A line, nobody else
 * charging) and is authorized; how long until the charger holds a SetChargingProfile above 0 A.
 * Wired as the nodes wire it (central system -> connector-state feed -> load manager -> profile
 * manager -> central system), on loopback, on the real clock (the load manager's and the profile
 * manager's timers decide the figure). The charger boots and sits idle for `idleMs` first, as a
 * real one does before a car arrives.
 */
export interface FirstAmpsCase {
  name: string;
  control: Partial<ControlConfig>;
  profiles: ProfileManagerOptions;
}

export async function timeToFirstAmps(
  setting: FirstAmpsCase,
  idleMs: number,
  deadlineMs: number,
): Promise<number> {
  const cs = await benchCentralSystem();
  const simClock = new ManualClock(Date.now());
  const cp = new SimulatedChargePoint({
    centralSystemUrl: cs.url as string,
    identity: 'FIRST-1',
    clock: simClock,
    connectors: 1,
    configuration: { WebSocketPingInterval: 0, MeterValueSampleInterval: 0 },
  });
  const manager = new LoadManager({
    site: {
      circuits: [{ id: 'line', limitA: 32 }],
      connectors: [{ chargePointId: 'FIRST-1', circuit: 'line', maxA: 32 }],
      unbalanceLimitA: null,
      control: setting.control,
    },
    logger: silentLogger,
    coalesceInputs: true,
  });
  const profiles = new ChargingProfileManager(cs, { ...setting.profiles, log: silentLogger });
  manager.on('setPoint', (setPoint: SetPoint) => {
    profiles.apply(setPoint).catch(() => undefined);
  });
  const stopFeed = feedConnectorStates(cs, manager, (err) => {
    throw err;
  });
  manager.start();
  try {
    await cp.connect();
    await cp.whenIdle();
    await wallTime(idleMs); // the scenario's idle time, on the real clock the figure is taken on
    const firstAmps = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${setting.name}: no current within ${deadlineMs} ms`)),
        deadlineMs,
      );
      cp.on('received', ({ action, request }: { action: string; request: unknown }) => {
        if (action !== 'SetChargingProfile') return;
        const { csChargingProfiles } = request as {
          csChargingProfiles: { chargingSchedule: { chargingSchedulePeriod: { limit: number }[] } };
        };
        if ((csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0]?.limit ?? 0) > 0) {
          clearTimeout(timer);
          resolve(performance.now());
        }
      });
    });
    const pluggedAt = performance.now();
    cp.plugIn(1, { maxCurrentA: 32 });
    await cp.startTransaction(1, 'FIRST-TAG');
    return (await firstAmps) - pluggedAt;
  } finally {
    stopFeed();
    manager.stop();
    profiles.close();
    await cp.close();
    await cs.stop();
  }
}
