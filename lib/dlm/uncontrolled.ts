/** The rule for a charger the load manager does not control: what it is counted at (observer.ts's floor). */
import { isoMs } from '../time';
import type { ConnectorRuntime } from './parts';
import type { Connector, Site } from './site-model';

/**
 * What a charger not under control (offline, or not reported yet) is counted at, and why: its
 * offline current (`offlineA`, its own fallback), or, where the charging-profile manager confirmed
 * the fallback profile it installed (`offlineFallback`), that fallback (bounded by `offlineA`);
 * more while it is offline with a transaction open, since a charger that loses its connection
 * keeps the TxProfile of its running transaction (OCPP 1.6 §3.13.6): the limit it was given last,
 * or the one before when the change may not have reached it (it was not heard from for
 * decreaseSettleMs after the change). Never above the connector's maxA.
 */
export function offlineReserve(
  site: Site,
  connector: Connector,
  runtime: ConnectorRuntime,
): { amps: number; why: string } {
  const confirmed = runtime.state?.offlineFallback;
  const fallback =
    confirmed && confirmed.limitA < connector.offlineA
      ? { amps: Math.min(connector.maxA, confirmed.limitA), why: 'its fallback profile' }
      : { amps: connector.offlineA, why: 'its own fallback' };
  const state = runtime.state;
  if (!state || state.online || !state.transaction || !runtime.sent) return fallback;
  const changedAt = runtime.lastChangeAtMs;
  const heardAt = state.lastSeen === undefined ? Number.NaN : isoMs(state.lastSeen);
  const reached =
    changedAt === undefined ||
    (Number.isFinite(heardAt) && heardAt >= changedAt + site.control.decreaseSettleMs);
  const heldA = Math.min(
    connector.maxA,
    Math.max(runtime.sent.limitA, reached ? 0 : (runtime.previousSent?.limitA ?? 0)),
  );
  return heldA > fallback.amps
    ? { amps: heldA, why: 'the limit it keeps for its running session, OCPP 1.6 §3.13.6' }
    : fallback;
}
