/**
 * The site's phase rotation against the charger's own (OCPP 1.6 9.1.7 `ConnectorPhaseRotation`,
 * "0.RST, 1.RST, 2.RTS"): the load manager counts a car on the charger's L1 on the grid phase the
 * site's rotation names; a charger wired otherwise loads another phase than the one counted. Where
 * the charger reports its rotation the two are compared (a warning naming both); where the site
 * leaves it out, what is assumed is said (RST), never taken silently.
 */
import { PHASE_ROTATIONS, type PhaseRotation } from '../../ocpp/phase-rotation';

/** What a connector of the site says of its wiring (the parsed site's connector, or its part). */
export interface RotationOfSite {
  key: string;
  chargePointId: string;
  connectorId: number;
  phaseRotation: PhaseRotation;
  phases: 1 | 3;
  /** The site's network; on IT a single-phase connector's rotation names its two conductors. */
  network?: 'TN' | 'IT';
}

/** The rotation the site assumes for a connector that leaves `phaseRotation` out. */
export const ASSUMED_ROTATION: PhaseRotation = 'RST';

/**
 * The charger's reported rotation of a connector, read from its `ConnectorPhaseRotation` value:
 * the connector's own item, else connector 0's (the charge point's connection to the grid, which
 * every connector shares). Undefined when it reports neither or only `Unknown`.
 */
export function reportedRotation(value: string | undefined, connectorId: number): PhaseRotation | undefined {
  if (value === undefined) return undefined;
  const items = new Map<number, PhaseRotation>();
  for (const item of value.split(',')) {
    const match = /^\s*(\d+)\s*\.\s*(\w+)\s*$/.exec(item);
    const known = PHASE_ROTATIONS.find((name) => name.toLowerCase() === (match?.[2] ?? '').toLowerCase());
    if (match && known) items.set(Number(match[1]), known);
  }
  const rotation = items.get(connectorId) ?? items.get(0);
  return rotation === 'Unknown' ? undefined : rotation;
}

/**
 * The warning for a connector whose charger reports another rotation than the site's, naming both;
 * undefined when they agree, or the charger does not tell. A single-phase connector's rotation
 * matters only for its L1: `NotApplicable` (a single-phase charger) agrees with any site rotation
 * of a single-phase connector, and a rotation with the same first phase agrees with it too; on an
 * IT site a single-phase connector is between its L1 and L2, so the first two must agree.
 */
export function rotationMismatch(connector: RotationOfSite, value: string | undefined): string | undefined {
  const reported = reportedRotation(value, connector.connectorId);
  if (reported === undefined) return undefined;
  const site = connector.phaseRotation;
  if (reported === site) return undefined;
  const named = connector.network === 'IT' ? 2 : 1;
  if (
    connector.phases === 1 &&
    (reported === 'NotApplicable' || reported.slice(0, named) === site.slice(0, named))
  )
    return undefined;
  const what =
    reported === 'NotApplicable'
      ? `reports NotApplicable (a single-phase connector) while the site wires it with 3 phases`
      : `reports ${reported} while the site says ${site}`;
  return `connector "${connector.key}" phaseRotation: charger ${connector.chargePointId} ${what} (its ConnectorPhaseRotation "${value}"); the load manager counts the car's phases on the grid phases ${site} names: set the site's phaseRotation to what the charger is wired with, or correct the charger's setting`;
}

/**
 * The note *Check the site* gives where connectors leave `phaseRotation` out: what is assumed,
 * naming them. Undefined when every three-phase connector gives one.
 */
export function assumedRotationNote(rawConnectors: readonly unknown[]): string | undefined {
  const left: string[] = [];
  for (const raw of rawConnectors) {
    if (typeof raw !== 'object' || raw === null) continue;
    const connector = raw as { chargePointId?: unknown; connectorId?: unknown; phaseRotation?: unknown };
    if (
      connector.phaseRotation !== undefined &&
      connector.phaseRotation !== null &&
      connector.phaseRotation !== ''
    )
      continue;
    left.push(`"${String(connector.chargePointId)}/${String(connector.connectorId ?? 1)}"`);
  }
  if (left.length === 0) return undefined;
  return `not given for ${left.join(', ')}: ${ASSUMED_ROTATION} assumed (the charger's L1, L2, L3 on the grid's L1, L2, L3); where a charger is wired rotated (Bender "Phase rotation of the ChargePoint", its ConnectorPhaseRotation), enter its rotation`;
}

/**
 * What *Check the site* says of rotations: a note where connectors leave it out, and a warning per
 * connector whose charger (`reported`: its ConnectorPhaseRotation value, as the central system last
 * read it) reports another rotation.
 */
export function rotationFindings(
  rawConnectors: readonly unknown[],
  connectors: readonly RotationOfSite[],
  reported: (chargePointId: string) => string | undefined,
): { warnings: { field: string; message: string }[]; notes: { field: string; message: string }[] } {
  const warnings: { field: string; message: string }[] = [];
  for (const connector of connectors) {
    const mismatch = rotationMismatch(connector, reported(connector.chargePointId));
    if (mismatch !== undefined)
      warnings.push({
        field: `connector "${connector.key}" phaseRotation`,
        message: mismatch.slice(mismatch.indexOf(': ') + 2),
      });
  }
  const assumed = assumedRotationNote(rawConnectors);
  return {
    warnings,
    notes: assumed === undefined ? [] : [{ field: 'connectors phaseRotation', message: assumed }],
  };
}
