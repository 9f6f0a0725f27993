/**
 * The data shapes every layer shares (DESIGN.md, "Data contracts"). Node-RED messages carry them
 * in `msg.payload`. All fields are plain JSON (no Date, no Map) so they travel through flows,
 * context stores and files unchanged.
 */

/** A value per grid phase [L1, L2, L3]; null where the phase was not measured. */
export type PerPhase = [number | null, number | null, number | null];

/**
 * What any meter produces: a Modbus meter, OCPP MeterValues, or a flow (MQTT, HTTP, P1 reader).
 *
 * Sign: power and current are positive when the site imports from the grid (or the load
 * consumes), negative when it exports. Every field but `source` and `timestamp` is optional.
 */
export interface Reading {
  /** The meter's name, or `<chargePointId>/<connectorId>` for a charger's own meter. */
  source: string;
  /** When the values were measured (ISO 8601, UTC). */
  timestamp: string;
  /** Current per phase in A (line currents). */
  currentA?: PerPhase;
  /**
   * A current reported without a phase, in A. Chargers differ in what they mean by it (one
   * phase, the highest phase, the average), so it is kept apart from `currentA`.
   */
  currentUnphasedA?: number;
  /** Voltage per phase in V, line to neutral. */
  voltageV?: PerPhase;
  /** Active power per phase in W. */
  powerW?: PerPhase;
  /** Total active power in W. */
  totalPowerW?: number;
  /** Active energy imported, register value in Wh. */
  importWh?: number;
  /** Active energy exported, register value in Wh. */
  exportWh?: number;
  frequencyHz?: number;
  /** Vehicle state of charge in %. */
  socPercent?: number;
  /** Current the charger offers the vehicle, in A per phase. */
  offeredCurrentA?: number;
  /** Power the charger offers the vehicle, in W. */
  offeredPowerW?: number;
  powerFactor?: number;
  /** Total reactive power in var (positive = import). */
  reactivePowerVar?: number;
  temperatureC?: number;
}

/** OCPP 1.6 connector status (StatusNotification). */
export type ConnectorStatus =
  | 'Available'
  | 'Preparing'
  | 'Charging'
  | 'SuspendedEVSE'
  | 'SuspendedEV'
  | 'Finishing'
  | 'Reserved'
  | 'Unavailable'
  | 'Faulted';

/** The transaction running on a connector. */
export interface ConnectorTransaction {
  transactionId: number;
  idTag: string;
  /** ISO 8601 start time as the charger reported it. */
  startedAt: string;
  meterStartWh: number;
  /** From the id tag's VIP flag or priority; read by the load manager. */
  priority?: number;
}

/** Per charge point and connector: what the central system knows right now. */
export interface ConnectorState {
  chargePointId: string;
  /** 0 is the charge point as a whole. */
  connectorId: number;
  status?: ConnectorStatus;
  errorCode?: string;
  info?: string;
  vendorErrorCode?: string;
  /** When the status was reported (ISO 8601). */
  statusAt?: string;
  transaction?: ConnectorTransaction;
  /** Measured current per phase in A, from the charger's MeterValues. */
  currentA?: PerPhase;
  /** Current the charger offers the vehicle, in A per phase. */
  offeredCurrentA?: number;
  /** Phases (1, 2, 3) carrying more than 1 A while charging. */
  activePhases?: number[];
  /** Active energy register in Wh. */
  energyWh?: number;
  powerW?: number;
  socPercent?: number;
  /** When the charger last sent anything about this connector (ISO 8601). */
  lastSeen?: string;
  /** Whether the charge point is connected right now. */
  online: boolean;
}

/** What the load manager decides per connector; `limitA = 0` means pause. */
export interface SetPoint {
  chargePointId: string;
  connectorId: number;
  limitA: number;
  phases: 1 | 2 | 3;
  reason: string;
}
