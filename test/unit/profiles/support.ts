import type { ManualClock } from '../../../lib/clock';
import type { SetPoint } from '../../../lib/contracts';
import type { CentralSystem, CentralSystemOptions } from '../../../lib/ocpp/central-system';
import type { CentralSystemAction } from '../../../lib/ocpp/connection';
import type { SetChargingProfileRequest } from '../../../lib/ocpp/messages';
import { ChargingProfileManager, type ProfileManagerOptions } from '../../../lib/profiles';
import type { EvOptions, SimulatedChargePointOptions } from '../../../lib/sim/charge-point';
import { waitFor } from '../../support/events';
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
      const manager = new ChargingProfileManager(cs, { clock, log: harness.log, ...options.manager });
      interop.track({ close: async () => manager.close() });
      if (options.connect ?? true) await cp.connect();
      return { cs, cp, clock, manager, log: harness.log, commands };
    },
  };
}

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

/**
 * Resolves once the central system has given up waiting for the charger's answer to `action` (its
 * `command` event with an error: the manager's call timeout). Call it when the request arrives.
 */
export async function gaveUp(
  cs: CentralSystem,
  action: CentralSystemAction,
  chargePointId = 'CP1',
): Promise<void> {
  await waitFor<[CommandEvent]>(
    cs,
    'command',
    (event) => event.action === action && event.chargePointId === chargePointId && event.error !== undefined,
  );
}

/**
 * The charger carries out its next `times` requests for `action`, but answers each only after the
 * central system gave up waiting for it: a late answer, on the central system's timeout, not a sleep.
 */
export function answerLate(
  { cs, cp }: Pick<ProfileRig, 'cs' | 'cp'>,
  action: CentralSystemAction,
  times = 1,
): void {
  let left = times;
  cp.override(action, async (_request, next) => {
    if (left > 0) {
      left -= 1;
      await gaveUp(cs, action, cp.identity);
    }
    return next();
  });
}

/**
 * The charger holds its answer to its next request for `action` until the test calls the returned
 * function (a charger busy with one command for as long as the test needs it to be).
 */
export function holdAnswer(cp: InteropChargePoint, action: CentralSystemAction): () => void {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = false;
  cp.override(action, async (_request, next) => {
    if (!held) {
      held = true;
      await released;
    }
    return next();
  });
  return release;
}
