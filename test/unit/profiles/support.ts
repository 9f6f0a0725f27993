import type { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import type { CentralSystem, CentralSystemOptions } from '../../../lib/ocpp/central-system';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { ChargingProfileManager, type ProfileManagerOptions } from '../../../lib/profiles';
import type { EvOptions, SimulatedChargePointOptions } from '../../../sim/charge-point';
import type { RecordingLogger } from '../../support/ocpp';
import { type CommandEvent, type InteropChargePoint, useInterop } from '../interop/support';

/**
 * The profile manager against the package's central system and its charge-point simulator, over
 * real WebSockets on 127.0.0.1. Simulator and manager share one ManualClock (meter values, follow
 * delays, rate limits); the central system keeps the system clock.
 */

export interface ProfileRig {
  cs: CentralSystem;
  cp: InteropChargePoint;
  clock: ManualClock;
  manager: ChargingProfileManager;
  log: RecordingLogger;
  /** Every command the central system sent, with its answer, from the start. */
  commands: CommandEvent[];
}

export interface RigOptions {
  identity?: string;
  sim?: Partial<SimulatedChargePointOptions>;
  manager?: ProfileManagerOptions;
  cs?: Partial<CentralSystemOptions>;
  /** Connect the simulator (default true). */
  connect?: boolean;
}

export function useProfileRig() {
  const interop = useInterop();
  return {
    interop,
    async rig(options: RigOptions = {}): Promise<ProfileRig> {
      const harness = interop.harness();
      const cs = await harness.centralSystem(options.cs);
      const commands: CommandEvent[] = [];
      cs.on('command', (event: CommandEvent) => commands.push(event));
      const { cp, clock } = interop.simulator(cs, options.identity ?? 'CP1', {
        ...options.sim,
        configuration: { MeterValueSampleInterval: 10, ...options.sim?.configuration },
      });
      // Without asking for meter samples unless a test asks (sampling_spec.ts): its GetConfiguration
      // and ChangeConfiguration after the first limit would be in the commands these tests count and
      // order, and in flight when their next set-point arrives.
      const manager = new ChargingProfileManager(cs, {
        clock,
        log: harness.log,
        configureSampling: false,
        ...options.manager,
      });
      interop.track({ close: async () => manager.close() });
      if (options.connect ?? true) await cp.connect();
      return { cs, cp, clock, manager, log: harness.log, commands };
    },
  };
}

/**
 * For tests that count or order every command the charger gets: without the offline fallback's
 * own SetChargingProfile (offline-fallback_spec.ts tests it, and these rules with it).
 */
export const NO_OFFLINE_FALLBACK = { offlineFallbackA: null } as const;

export function setPoint(limitA: number, fields: Partial<SetPoint> = {}): SetPoint {
  return { chargePointId: 'CP1', connectorId: 1, limitA, phases: 3, reason: 'test', ...fields };
}

/** Plugs a car in and starts a transaction; resolves when the central system has bound it. */
export async function startCharging(
  cp: InteropChargePoint,
  connectorId = 1,
  ev: EvOptions = { maxCurrentA: 32 },
): Promise<number> {
  cp.plugIn(connectorId, ev);
  // One tag per connector: the central system refuses a tag already charging (ConcurrentTx).
  await cp.startTransaction(connectorId, `TAG-${connectorId}`);
  await cp.whenIdle();
  return cp.connector(connectorId).transaction?.transactionId as number;
}

/** The SetChargingProfile requests among the commands, from `from` on. */
export function profilesSent(commands: readonly CommandEvent[], from = 0): SetChargingProfileRequest[] {
  return commands
    .slice(from)
    .filter((event) => event.action === 'SetChargingProfile')
    .map((event) => event.request as SetChargingProfileRequest);
}

export function actionsSent(commands: readonly CommandEvent[], from = 0): string[] {
  return commands.slice(from).map((event) => event.action);
}

/**
 * Waits until nothing is on its way between the manager and the charger: the manager settled
 * (queue empty, composite schedules read) and the simulator idle, twice over, since an answer may
 * start the next command.
 */
export async function settled(rig: Pick<ProfileRig, 'cp' | 'manager'>, chargePointId = 'CP1'): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await rig.manager.whenSettled(chargePointId);
    await rig.cp.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What the charger offers on each connector now, A. */
export function offered(cp: InteropChargePoint, ...connectorIds: number[]): number[] {
  return connectorIds.map((connectorId) => cp.connector(connectorId).offeredA);
}

/** The installed profiles as `purpose@connector:limit`. */
export function installed(cp: InteropChargePoint): string[] {
  return cp.chargingProfiles.map(
    ({ connectorId, profile }) =>
      `${profile.chargingProfilePurpose}@${connectorId}:${profile.chargingSchedule.chargingSchedulePeriod[0]?.limit}`,
  );
}
