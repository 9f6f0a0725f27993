/**
 * When the time that settles a decrease without a reading (evidence/decrease-settle.ts settleDecrease)
 * starts to count: one rule, here.
 */
import type { ConnectorRuntime } from '../parts';

/** A confirmed limit this close above the set-point is the set-point (the profile manager floors to tenths). */
export const CONFIRMED_EPS_A = 0.05;

/**
 * When the follow time that settles a decrease by time alone starts, or undefined while it has not:
 * - where the charger's limits are confirmed (`runtime.confirmed`), only once a limit within the new
 *   set-point was confirmed after the decrease went out, and from when the charger took it (the
 *   confirmation's `sinceMs`) if that is later than the decrease: the time was emission, and a
 *   command queued behind a slow call, or answered late, let the others' increases out while the
 *   charger still drew its old limit. The learned follow time runs from emission to a reading, so it
 *   bounds what a charger takes to apply a limit once it has it; counted from its answer, it is
 *   never too short. A limit it already holds is confirmed again at once by the charging-profile
 *   node (no command goes), so such a decrease settles on the follow time from its emission;
 * - where it never confirmed one (a flow that sends set-points another way), offline
 *   (evidence/uncontrolled.ts counts what it keeps), or its limit failed (not under control, counted
 *   at what it may draw on its own): from when the decrease went out.
 */
export function followFrom(runtime: ConnectorRuntime, pending: { atMs: number }): number | undefined {
  const confirmed = runtime.confirmed;
  const state = runtime.state;
  const sent = runtime.sent;
  if (!confirmed || !sent || state?.online !== true || state.limitFailed) return pending.atMs;
  if (confirmed.atMs < pending.atMs || confirmed.limitA > sent.limitA + CONFIRMED_EPS_A) return undefined;
  return Math.max(pending.atMs, Math.min(confirmed.sinceMs, confirmed.atMs));
}
