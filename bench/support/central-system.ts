import { silentLogger } from '../../lib/log';
import { CentralSystem } from '../../lib/ocpp/central-system';

/**
 * A started in-process central system on loopback for the benchmarks that drive it directly:
 * any charger accepted, every id tag accepted, no configuration read at boot, no keep-alive pings,
 * nothing logged (the figures measure the work, not the console).
 */
export async function benchCentralSystem(): Promise<CentralSystem> {
  const cs = new CentralSystem({
    host: '127.0.0.1',
    port: 0,
    unknownChargePoints: 'accept',
    readConfigurationOnBoot: false,
    pingIntervalS: 0,
    authorization: { policy: 'acceptAll' },
    log: silentLogger,
  });
  await cs.start();
  return cs;
}

/**
 * Calls `listener` with the connector (`CP-1/2`) and the time (performance.now()) each time a
 * SetChargingProfile frame leaves `cs` for a charger.
 */
export function onProfileFrameOut(
  cs: CentralSystem,
  listener: (connector: string, atMs: number) => void,
): void {
  cs.on(
    'frame',
    ({ chargePointId, direction, frame }: { chargePointId: string; direction: string; frame: string }) => {
      if (direction !== 'out' || !frame.includes('"SetChargingProfile"')) return;
      const atMs = performance.now();
      const connectorId = (JSON.parse(frame) as [number, string, string, { connectorId: number }])[3]
        .connectorId;
      listener(`${chargePointId}/${connectorId}`, atMs);
    },
  );
}
