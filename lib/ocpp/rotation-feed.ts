import type { ChargePointEvents } from '../contracts';
import { type RotationOfSite, rotationMismatch } from '../dlm/site/rotation-check';
import { WarnOnce } from '../log';
import type { OcppResponse } from './messages';

/**
 * Compares the site's phase rotations with what each charger reports (ConnectorPhaseRotation), in
 * the log of the room that owns the site (the load manager): at start from the configuration the
 * central system keeps, then at each GetConfiguration answer (read after every boot). The
 * comparison is lib/dlm/site/rotation-check.ts's; each mismatch is said once per value.
 */
export interface RotationSource {
  /** The charger's record, with its configuration as last read. */
  chargePoint(
    chargePointId: string,
  ): { configuration?: { keys: readonly { key: string; value?: string }[] } } | undefined;
  on(event: 'command', listener: (event: ChargePointEvents['command']) => void): unknown;
  off(event: 'command', listener: (event: ChargePointEvents['command']) => void): unknown;
}

const KEY = 'ConnectorPhaseRotation';

/** Starts comparing; returns the function that stops it. */
export function watchPhaseRotations(
  cs: RotationSource,
  connectors: readonly RotationOfSite[],
  warn: (message: string) => void,
): () => void {
  const once = new WarnOnce({ info() {}, warn, error() {} });
  const compare = (chargePointId: string, value: string | undefined) => {
    for (const connector of connectors) {
      if (connector.chargePointId !== chargePointId) continue;
      const mismatch = rotationMismatch(connector, value);
      if (mismatch !== undefined) once.warn(mismatch);
    }
  };
  const recorded = (chargePointId: string) =>
    cs.chargePoint(chargePointId)?.configuration?.keys.find((entry) => entry.key === KEY)?.value;
  for (const chargePointId of new Set(connectors.map((connector) => connector.chargePointId)))
    compare(chargePointId, recorded(chargePointId));
  const onCommand = (event: ChargePointEvents['command']) => {
    if (event.action !== 'GetConfiguration' || event.response === undefined) return;
    const keys = (event.response as OcppResponse<'GetConfiguration'>).configurationKey ?? [];
    const value = keys.find((entry) => entry.key === KEY)?.value;
    if (value !== undefined) compare(event.chargePointId, value);
  };
  cs.on('command', onCommand);
  return () => cs.off('command', onCommand);
}
