import type { CentralSystem } from '../../../lib/ocpp/central-system';
import type { CentralSystemAction } from '../../../lib/ocpp/connection';
import type { LimitReport } from '../../../lib/profiles';
import { waitFor } from '../../support/events';
import type { CommandEvent, InteropChargePoint } from '../interop/support';
import { type ProfileRig, setPoint, startCharging } from './support';

/**
 * Chargers that refuse profiles, answer late or hold their answers back, for the tests of what the
 * profile manager does then.
 */

/** A charger that takes charging profiles at stack level 0 only. */
export const STACK_LEVEL_0 = { ChargeProfileMaxStackLevel: { value: 0, readonly: true } };

/**
 * The charger refuses (Rejected) the SetChargingProfile requests `refuses` picks, by the profile's
 * purpose and its first period's limit, and takes the others.
 */
export function refuseProfiles(
  cp: InteropChargePoint,
  refuses: (purpose: string, limit: number | undefined) => boolean,
): void {
  cp.override('SetChargingProfile', (request, next) => {
    const profile = request.csChargingProfiles;
    return refuses(profile.chargingProfilePurpose, profile.chargingSchedule.chargingSchedulePeriod[0]?.limit)
      ? { status: 'Rejected' }
      : next();
  });
}

/** A session on connector 1 limited to 16 A, then paused; the pause's report. */
export async function pauseSession({
  cp,
  manager,
}: Pick<ProfileRig, 'cp' | 'manager'>): Promise<LimitReport> {
  await startCharging(cp);
  await manager.apply(setPoint(16));
  return manager.pause('CP1', 1);
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
