import { silentLogger } from '../../lib/log';
import { CentralSystem } from '../../lib/ocpp/central-system';

/**
 * A started in-process central system on loopback for the benchmarks that drive it directly:
 * any charger accepted, every id tag accepted, no configuration read at boot, no keep-alive pings,
 * nothing logged (the figures measure the work, not the console). `Impl` (and its `log`): the class
 * as compiled for the package (bench/support/compiled.ts) instead of the TypeScript sources.
 */
export async function benchCentralSystem(
  Impl: typeof CentralSystem = CentralSystem,
  log: typeof silentLogger = silentLogger,
): Promise<CentralSystem> {
  const cs = new Impl({
    host: '127.0.0.1',
    port: 0,
    unknownChargePoints: 'accept',
    readConfigurationOnBoot: false,
    pingIntervalS: 0,
    authorization: { policy: 'acceptAll' },
    log,
  });
  await cs.start();
  return cs;
}

/** `[2,"<id>","SetChargingProfile",{"connectorId":<n>,...`: the CALL as the central system writes it. */
const SET_PROFILE_HEAD = /^\[2,"[^"]*","SetChargingProfile",\{"connectorId":(\d+)/;

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
      if (direction !== 'out') return;
      const atMs = performance.now();
      // Read from the frame's head, not JSON.parse: this runs in the process being measured.
      const connectorId = SET_PROFILE_HEAD.exec(frame)?.[1];
      if (connectorId !== undefined) listener(`${chargePointId}/${connectorId}`, atMs);
    },
  );
}
