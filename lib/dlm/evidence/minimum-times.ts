/**
 * The minimum on and off times: a connector the load manager started stays on for `minOnMs`, one
 * it paused stays off for `minOffMs`, doubled after each pause that follows a charge shorter than
 * `RECURRING_PEAK_MS` (up to `minOffMaxMs`). Kept in the policy's part of the connector's record (`PolicyRecord`
 * `chargingSinceMs`, `offUntilMs`) and the session's (`PolicySession.pauses`): the policy starts
 * them as a set-point goes out (control/policy.ts), the observer ends a pause's hold for a new car
 * and reads what holds into each connector's view (`keepOn`, `keepOff`), from which the later
 * stages take it.
 */
import type { ConnectorRuntime, ConnectorView, PolicyRecord } from '../parts';
import type { ControlConfig } from '../site/config';

/**
 * A pause after a charge shorter than this is taken for a peak that keeps coming back (a lift run
 * every few minutes): it doubles the next minimum off time. 10 min, measured (bench:control, the
 * car park with the fleet's habits, seeds 63 / 760867 / 500983, and the Climkit zone's lift every
 * 7 min, test/unit/dlm/scenarios_spec.ts): with 15 min (minOffMaxMs, the rule before 2026-11-28)
 * a car paused again and again at lunch (seed 63, CP-12: lift runs every 6-15 min beside the
 * lunch load on L1) waited 60, 120, 240 s… after each pause, 88.4 / 90.3 / 88.1 % of
 * the ideal; with 10 min 90.3 / 92.4 / 90.5 %, starts per car at most 10 / 14 / 11 (9 / 12 / 11);
 * with the minimum on time (2 min) 92.3 / 92.5 / 89.6 %, but the Climkit zone's cars started up
 * to 23 times in 4 h (every lift run), 12 with 10 min, 11 with 15.
 */
const RECURRING_PEAK_MS = 10 * 60_000;

/** A new car: a pause of the previous one does not hold it back. */
export function forgetPause(record: PolicyRecord): void {
  record.offUntilMs = undefined;
}

/** Whether the minimum on time keeps a charging connector on, and the minimum off time a paused one off. */
export function minimumTimes(
  control: ControlConfig,
  record: PolicyRecord,
  now: number,
): { keepOn: boolean; keepOff: boolean } {
  const sentLimit = record.sent?.limitA ?? 0;
  return {
    keepOff: record.offUntilMs !== undefined && sentLimit === 0 && now < record.offUntilMs,
    keepOn:
      sentLimit > 0 && record.chargingSinceMs !== undefined && now - record.chargingSinceMs < control.minOnMs,
  };
}

/** A set-point goes out, from `before` to `limitA` (A): a start starts the minimum on time, a pause the off time. */
export function startMinimumTimes(
  control: ControlConfig,
  view: ConnectorView,
  runtime: ConnectorRuntime,
  before: number,
  limitA: number,
  now: number,
): void {
  if (limitA > 0 && before === 0) {
    runtime.chargingSinceMs = now;
    runtime.offUntilMs = undefined;
  }
  if (limitA === 0 && before > 0) {
    // Only a pause the load manager decided starts the minimum off time (not a car leaving).
    // Each pause that follows a short charge (RECURRING_PEAK_MS) doubles it (up to minOffMaxMs),
    // so a charger that keeps being paused by the same recurring peak does not switch its
    // contactor every few minutes.
    // A car that rests on its own (carYields) draws nothing: no contactor switches for it.
    if (view.wantsByStatus && view.mode !== 'off' && !runtime.session.yielding) {
      const { minOffMs, minOffMaxMs } = control;
      const chargedMs = now - (runtime.chargingSinceMs ?? now);
      const session = runtime.session;
      session.pauses = chargedMs >= RECURRING_PEAK_MS ? 1 : session.pauses + 1;
      runtime.offUntilMs = now + Math.min(minOffMaxMs, minOffMs * 2 ** (session.pauses - 1));
    }
    runtime.chargingSinceMs = undefined;
  }
}
