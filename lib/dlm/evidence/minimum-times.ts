/**
 * The minimum on and off times: a connector the load manager started stays on for `minOnMs`, one
 * it paused stays off for `minOffMs`, doubled after each pause that follows a short charge (up to
 * `minOffMaxMs`). Kept in the policy's part of the connector's record (`PolicyRecord`
 * `chargingSinceMs`, `offUntilMs`) and the session's (`PolicySession.pauses`): the policy starts
 * them as a set-point goes out (control/policy.ts), the observer ends a pause's hold for a new car
 * and reads what holds into each connector's view (`keepOn`, `keepOff`), from which the later
 * stages take it.
 */
import type { ConnectorRuntime, ConnectorView, PolicyRecord } from '../parts';
import type { ControlConfig } from '../site/config';

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
    // Each pause that follows a short charge doubles it (up to minOffMaxMs), so a charger that
    // keeps being paused by the same recurring peak does not switch its contactor every minute.
    // A car that rests on its own (carYields) draws nothing: no contactor switches for it.
    if (view.wantsByStatus && view.mode !== 'off' && !runtime.session.yielding) {
      const { minOffMs, minOffMaxMs } = control;
      const chargedMs = now - (runtime.chargingSinceMs ?? now);
      const session = runtime.session;
      session.pauses = chargedMs >= minOffMaxMs ? 1 : session.pauses + 1;
      runtime.offUntilMs = now + Math.min(minOffMaxMs, minOffMs * 2 ** (session.pauses - 1));
    }
    runtime.chargingSinceMs = undefined;
  }
}
