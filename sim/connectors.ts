import type { TimerHandle } from '../lib/clock';
import type { ChargingProfile, ConnectorView } from '../lib/ocpp/charging-profiles';
import type { IdTagInfo } from '../lib/ocpp/id-tags';
import type { BootNotificationRequest, OcppRequest, StatusNotificationRequest } from '../lib/ocpp/messages';
import type { ConfigurationStore } from './configuration';
import type { SimulatedEv } from './ev';
import type { GridPhase, MeterValue } from './metering';
import type { LinkOptions, StatusEvent, TransactionEvent } from './types';

/**
 * The simulated charge point's connectors (sim/station.ts): what they are made of, how they are
 * built from the options, wired (phase rotation), metered, and shown to the profile store and callers.
 */

export type { ChargingProfile, IdTagInfo };
export type ConnectorStatus = StatusNotificationRequest['status'];
export type ChargePointErrorCode = StatusNotificationRequest['errorCode'];
export type StopReason = NonNullable<OcppRequest<'StopTransaction'>['reason']>;

export interface ConnectorOptions {
  /** Phases the connector is wired with. Default: the charge point's `phases` (3). */
  phases?: 1 | 3;
  /** Rated current per phase. Default: the charge point's `maxCurrentA` (32 A). */
  maxCurrentA?: number;
  /** Energy register at power-on, Wh. Default 0. */
  initialEnergyWh?: number;
}

/** The identity fields are BootNotification's: what the station says about itself when it boots. */
export interface StationOptions extends LinkOptions, Partial<BootNotificationRequest> {
  /** Number of connectors, or one entry per connector. Default 1. */
  connectors?: number | ConnectorOptions[];
  /** Default phases per connector. Default 3. */
  phases?: 1 | 3;
  /** Default rated current per connector and phase. Default 32 A. */
  maxCurrentA?: number;
  /** Nominal phase-to-neutral voltage, for W↔A and the meter. Default 230 V. */
  voltageV?: number;
  /**
   * Entries the authorization cache keeps, like a real charger's bounded cache: when full, the
   * entry used least recently goes. Default 1000.
   */
  authorizationCacheSize?: number;
}

/** What a connector looks like right now. */
export interface ConnectorSnapshot {
  connectorId: number;
  status: ConnectorStatus;
  errorCode: ChargePointErrorCode;
  phases: 1 | 3;
  maxCurrentA: number;
  /** Energy register, Wh. */
  energyWh: number;
  /** Current offered to the EV per phase, A (0 without a transaction). */
  offeredA: number;
  /** Current drawn per grid phase [L1, L2, L3], A. */
  currentA: [number, number, number];
  powerW: number;
  ev?: SimulatedEv;
  transaction?: { transactionId?: number; idTag: string; startedAt: string; meterStartWh: number };
}

export interface Transaction {
  /** The simulator's own id, known before the central system answers. */
  key: number;
  connectorId: number;
  idTag: string;
  parentIdTag?: string;
  transactionId?: number;
  startMs: number;
  meterStartWh: number;
  reservationId?: number;
  /** Meter values for StopTransaction.transactionData (3.16, errata 3.14/3.89). */
  beginValues: MeterValue[];
  stopTxnValues: MeterValue[];
  /** StartTransaction.conf said the id tag is not valid and StopTransactionOnInvalidId is false. */
  deauthorized: boolean;
  meterTimer?: TimerHandle;
}

export interface PendingStart {
  idTag: string;
  parentIdTag?: string;
  reservationId?: number;
  chargingProfile?: ChargingProfile;
  timer: TimerHandle;
  resolve: (event: TransactionEvent) => void;
  reject: (err: Error) => void;
}

export interface Reservation {
  reservationId: number;
  connectorId: number;
  idTag: string;
  parentIdTag?: string;
  expiryMs: number;
  timer: TimerHandle;
}

export interface Connector {
  id: number;
  phases: 1 | 3;
  maxCurrentA: number;
  energyWh: number;
  integratedAtMs: number;
  ev?: SimulatedEv;
  transaction?: Transaction;
  /** The transaction ended and the EV is still plugged in: waits for it to leave. */
  finishing: boolean;
  pendingStart?: PendingStart;
  preparingTimer?: TimerHandle;
  fullTimer?: TimerHandle;
  availability: 'Operative' | 'Inoperative';
  scheduledAvailability?: 'Operative' | 'Inoperative';
  fault?: { errorCode: ChargePointErrorCode; info?: string };
  offeredA: number;
  /** Current drawn per grid phase. */
  currentA: [number, number, number];
  /** Grid phases in the connector's phase rotation. */
  gridPhases: GridPhase[];
  status: StatusEvent;
  reported?: StatusEvent;
}

export const TEMPERATURE_C = 25;
export const FREQUENCY_HZ = 50;

/** The connectors the options describe, checked. */
export function connectorSpecs(options: StationOptions): Required<ConnectorOptions>[] {
  const list =
    typeof options.connectors === 'number' || options.connectors === undefined
      ? Array.from({ length: options.connectors ?? 1 }, () => ({}) as ConnectorOptions)
      : options.connectors;
  if (list.length < 1) throw new RangeError('a charge point needs at least one connector');
  return list.map((spec) => {
    const phases = spec.phases ?? options.phases ?? 3;
    if (phases !== 1 && phases !== 3) throw new RangeError('phases must be 1 or 3');
    const maxCurrentA = spec.maxCurrentA ?? options.maxCurrentA ?? 32;
    if (!(maxCurrentA > 0)) throw new RangeError('maxCurrentA must be positive');
    return { phases, maxCurrentA, initialEnergyWh: spec.initialEnergyWh ?? 0 };
  });
}

/** Fresh connectors at power-on. */
export function createConnectors(specs: Required<ConnectorOptions>[], now: number): Connector[] {
  return specs.map((spec, index) => ({
    id: index + 1,
    phases: spec.phases,
    maxCurrentA: spec.maxCurrentA,
    energyWh: spec.initialEnergyWh,
    integratedAtMs: now,
    finishing: false,
    availability: 'Operative',
    offeredA: 0,
    currentA: [0, 0, 0],
    gridPhases: [],
    status: { connectorId: index + 1, status: 'Available', errorCode: 'NoError' },
  }));
}

/** Wires each connector's phases to the grid as ConnectorPhaseRotation says (RST when not given). */
export function applyPhaseRotation(
  configuration: ConfigurationStore,
  connectors: readonly Connector[],
): void {
  const rotations = new Map<number, string>();
  for (const item of configuration.csl('ConnectorPhaseRotation')) {
    const [id, rotation] = item.split('.');
    if (id !== undefined && rotation !== undefined) rotations.set(Number(id), rotation);
  }
  for (const c of connectors) {
    const rotation = rotations.get(c.id) ?? 'RST';
    const order = /^[RST]{3}$/.test(rotation)
      ? [...rotation].map((letter) => (letter === 'R' ? 'L1' : letter === 'S' ? 'L2' : 'L3') as GridPhase)
      : (['L1', 'L2', 'L3'] as GridPhase[]);
    c.gridPhases = order.slice(0, c.phases);
  }
}

/** Power drawn on a connector now, W. */
export function powerW(c: Connector, voltageV: number): number {
  return c.currentA.reduce((sum, currentA) => sum + currentA * voltageV, 0);
}

/** Adds the energy that flowed since the last integration at the draw of that period. */
export function integrate(c: Connector, now: number, voltageV: number): void {
  const elapsedMs = now - c.integratedAtMs;
  c.integratedAtMs = now;
  if (elapsedMs <= 0) return;
  const drawW = powerW(c, voltageV);
  if (drawW <= 0) return;
  let energyWh = (drawW * elapsedMs) / 3_600_000;
  if (c.ev) {
    energyWh = Math.min(energyWh, c.ev.remainingWh);
    c.ev.charge(energyWh);
  }
  c.energyWh += energyWh;
}

/** The connector as the charging profile store sees it. */
export function connectorView(c: Connector): ConnectorView {
  const tx = c.transaction;
  return {
    connectorId: c.id,
    phases: c.phases,
    maxCurrentA: c.maxCurrentA,
    ...(tx
      ? {
          transaction: {
            key: tx.key,
            startMs: tx.startMs,
            ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }),
          },
        }
      : {}),
  };
}

/** What a caller sees of a connector (energy integrated up to now by the caller). */
export function connectorSnapshot(c: Connector, voltageV: number): ConnectorSnapshot {
  const tx = c.transaction;
  return {
    connectorId: c.id,
    status: c.status.status,
    errorCode: c.status.errorCode,
    phases: c.phases,
    maxCurrentA: c.maxCurrentA,
    energyWh: c.energyWh,
    offeredA: c.offeredA,
    currentA: [...c.currentA],
    powerW: powerW(c, voltageV),
    ...(c.ev ? { ev: c.ev } : {}),
    ...(tx
      ? {
          transaction: {
            ...(tx.transactionId === undefined ? {} : { transactionId: tx.transactionId }),
            idTag: tx.idTag,
            startedAt: iso(tx.startMs),
            meterStartWh: tx.meterStartWh,
          },
        }
      : {}),
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
