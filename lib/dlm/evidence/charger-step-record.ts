/**
 * The connector record's part of the charger-step rule (evidence/charger-step.ts owns and writes
 * it): apart from the rule, so that the record (parts.ts) does not import the rule.
 */
import type { ConnectorState } from '../../contracts';

/** Written only by evidence/charger-step.ts. */
export interface ChargerStepRecord {
  /** The charger was seen offering the whole ampere below a set-point that is not whole. */
  wholeAmpsSeen: boolean;
  /** The connector state in hand at the first update after the set-point's follow time: proves nothing. */
  stepStaleState: ConnectorState | undefined;
  /** The set-point change (`lastChangeAtMs`) `stepStaleState` was taken for. */
  stepStaleForMs: number | undefined;
}

export function newChargerStepRecord(): ChargerStepRecord {
  return { wholeAmpsSeen: false, stepStaleState: undefined, stepStaleForMs: undefined };
}
