/**
 * The values of the ConnectorPhaseRotation configuration key (OCPP 1.6 section 9.1.7): how a
 * connector's phases are wired to the grid's (RST is L1-L2-L3 in order), NotApplicable for a
 * single-phase connector, Unknown when the charger cannot tell. The spec's list, kept here once.
 */
export const PHASE_ROTATIONS = [
  'RST',
  'RTS',
  'SRT',
  'STR',
  'TRS',
  'TSR',
  'NotApplicable',
  'Unknown',
] as const;
export type PhaseRotation = (typeof PHASE_ROTATIONS)[number];
