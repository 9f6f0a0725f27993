import type { ConnectorState, ConnectorStatus, ConnectorTransaction, PerPhase, Reading } from '../contracts';
import { ACTIVE_PHASE_A } from '../electrical';
import { isoMs, parseTimestamp } from '../time';
import type { StatusNotificationRequest } from './messages';

/**
 * A sample's own timestamp is taken as when its currents were measured only if it lies within
 * this long before the message arrived (a charger sends a sample right after taking it); a clock
 * that is off, or a replay of queued samples, falls back to the arrival time.
 */
const MEASURED_AT_WITHIN_MS = 60_000;

export interface ConnectorUpdate {
  state: ConnectorState;
  /** Why the update did not change the state (older than what is known), if it did not. */
  ignored?: string;
}

/**
 * What the central system knows about every connector right now (DESIGN: connector state). Kept
 * in memory; transactions are restored from the durable store at start-up.
 */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, ConnectorState>();
  /** Timestamp (ms) of the newest reading applied per connector, to ignore older batches. */
  private readonly lastReadingMs = new Map<string, number>();
  private readonly lastStatusMs = new Map<string, number>();
  private readonly onlineChargePoints = new Set<string>();

  get(chargePointId: string, connectorId: number, key = keyOf(chargePointId, connectorId)): ConnectorState {
    let state = this.connectors.get(key);
    if (!state) {
      state = { chargePointId, connectorId, online: this.onlineChargePoints.has(chargePointId) };
      this.connectors.set(key, state);
    }
    return state;
  }

  find(chargePointId: string, connectorId: number): ConnectorState | undefined {
    return this.connectors.get(keyOf(chargePointId, connectorId));
  }

  /** Every known connector, optionally of one charge point, ordered by charge point and connector. */
  all(chargePointId?: string): ConnectorState[] {
    return [...this.connectors.values()]
      .filter((state) => chargePointId === undefined || state.chargePointId === chargePointId)
      .sort((a, b) => a.chargePointId.localeCompare(b.chargePointId) || a.connectorId - b.connectorId);
  }

  /** Marks every connector of a charge point online or offline; returns the ones that changed. */
  setOnline(chargePointId: string, online: boolean): ConnectorState[] {
    if (online) this.onlineChargePoints.add(chargePointId);
    else this.onlineChargePoints.delete(chargePointId);
    const changed = this.all(chargePointId).filter((state) => state.online !== online);
    for (const state of changed) state.online = online;
    return changed;
  }

  /**
   * Applies a StatusNotification. A notification older than the one already applied (chargers
   * replay queued ones after reconnecting) does not overwrite the newer status.
   */
  applyStatus(
    chargePointId: string,
    request: StatusNotificationRequest,
    receivedAt: string,
  ): ConnectorUpdate {
    const key = keyOf(chargePointId, request.connectorId);
    const state = this.get(chargePointId, request.connectorId, key);
    const stamped = parseTimestamp(request.timestamp);
    const at = stamped?.iso ?? receivedAt;
    const atMs = stamped?.ms ?? isoMs(receivedAt);
    state.lastSeen = receivedAt;
    state.online = true;
    const previousMs = this.lastStatusMs.get(key);
    if (previousMs !== undefined && atMs < previousMs) {
      return {
        state,
        ignored: `status ${request.status} of ${at} is older than the one of ${state.statusAt}`,
      };
    }
    this.lastStatusMs.set(key, atMs);
    state.status = request.status as ConnectorStatus;
    state.errorCode = request.errorCode;
    state.statusAt = at;
    setOrDelete(state, 'info', request.info);
    setOrDelete(state, 'vendorErrorCode', request.vendorErrorCode);
    if (state.status !== 'Charging') delete state.activePhases;
    if (state.status === 'Available' && state.transaction) {
      // Available means nothing is plugged in; a transaction still bound here was never stopped
      // by a StopTransaction the central system saw. The ledger keeps it open for billing.
      delete state.transaction;
    }
    return { state };
  }

  /**
   * Applies the charger's meter readings (sorted ascending). Only readings newer than what the
   * connector already shows change it: a batch that arrives late is ignored for the live state.
   * `receivedMs` and `newestMs` are `receivedAt` and the newest reading's timestamp in ms, where
   * the caller has already read them (the message path does).
   */
  applyReadings(
    chargePointId: string,
    connectorId: number,
    readings: Reading[],
    receivedAt: string,
    receivedMs?: number,
    newestMs?: number,
  ): ConnectorUpdate {
    const key = keyOf(chargePointId, connectorId);
    const state = this.get(chargePointId, connectorId, key);
    state.lastSeen = receivedAt;
    state.online = true;
    const newest = readings[readings.length - 1];
    if (!newest) return { state, ignored: 'no readings' };
    const newestAt = newestMs ?? isoMs(newest.timestamp);
    const previousMs = this.lastReadingMs.get(key);
    if (previousMs !== undefined && newestAt < previousMs) {
      return { state, ignored: `readings up to ${newest.timestamp} are older than those already applied` };
    }
    this.lastReadingMs.set(key, newestAt);
    // Only a reading with currents says when currents were measured: one of the energy register
    // alone, or one whose currents were skipped as unreadable (`NaN`, lib/ocpp/sampled-values.ts),
    // must not make the last currents pass for new ones (issue 46).
    let withCurrents: Reading | undefined;
    for (let i = readings.length - 1; i >= 0 && !withCurrents; i--) {
      const reading = readings[i];
      if (reading?.currentA || reading?.currentUnphasedA !== undefined) withCurrents = reading;
    }
    if (withCurrents) {
      const measuredMs = withCurrents === newest ? newestAt : isoMs(withCurrents.timestamp);
      const receivedAtMs = receivedMs ?? isoMs(receivedAt);
      const plausible = measuredMs <= receivedAtMs && measuredMs >= receivedAtMs - MEASURED_AT_WITHIN_MS;
      state.measuredAt = plausible ? withCurrents.timestamp : receivedAt;
    }
    for (const reading of readings) {
      if (reading.currentA) {
        state.currentA = reading.currentA;
        delete state.currentUnphasedA;
      } else if (reading.currentUnphasedA !== undefined) {
        // The newest current decides: a charger that reports it without a phase now.
        state.currentUnphasedA = reading.currentUnphasedA;
        delete state.currentA;
      }
      if (reading.offeredCurrentA !== undefined) state.offeredCurrentA = reading.offeredCurrentA;
      if (reading.importWh !== undefined) state.energyWh = reading.importWh;
      const powerW = reading.totalPowerW ?? sumPhases(reading.powerW);
      if (powerW !== undefined) state.powerW = powerW;
      if (reading.socPercent !== undefined) state.socPercent = reading.socPercent;
    }
    // When the register was read (the newest reading that has it): what a delta of it is timed by.
    for (let i = readings.length - 1; i >= 0; i--) {
      const reading = readings[i];
      if (reading?.importWh === undefined) continue;
      const readMs = reading === newest ? newestAt : isoMs(reading.timestamp);
      const arrivedMs = receivedMs ?? isoMs(receivedAt);
      const plausibleAt = readMs <= arrivedMs && readMs >= arrivedMs - MEASURED_AT_WITHIN_MS;
      state.energyAt = plausibleAt ? reading.timestamp : receivedAt;
      break;
    }
    if (state.status === 'Charging') {
      const phases = activePhases(state.currentA);
      if (phases) state.activePhases = phases;
    }
    return { state };
  }

  /** Forgets the newest timestamps seen from a charger (it rebooted: its clock may have gone back). */
  forgetOrdering(chargePointId: string): void {
    for (const state of this.all(chargePointId)) {
      this.lastReadingMs.delete(keyOf(chargePointId, state.connectorId));
      this.lastStatusMs.delete(keyOf(chargePointId, state.connectorId));
    }
  }

  bindTransaction(
    chargePointId: string,
    connectorId: number,
    transaction: ConnectorTransaction,
  ): ConnectorState {
    const state = this.get(chargePointId, connectorId);
    state.transaction = transaction;
    delete state.lastStop;
    return state;
  }

  /**
   * Unbinds the transaction if it is still the one on the connector; `stop` (a StopTransaction's
   * reason and time) is kept as the connector's `lastStop`.
   */
  unbindTransaction(
    chargePointId: string,
    connectorId: number,
    transactionId: number,
    stop?: { reason: string; at: string },
  ): ConnectorState | undefined {
    const state = this.find(chargePointId, connectorId);
    if (state?.transaction?.transactionId === transactionId) {
      delete state.transaction;
      delete state.activePhases;
      // The car no longer draws current; the last measurement must not look like live load.
      delete state.currentA;
      delete state.currentUnphasedA;
      delete state.powerW;
      if (stop) state.lastStop = { transactionId, ...stop };
      return state;
    }
    return undefined;
  }

  /** The connector a running transaction is bound to. */
  findTransaction(transactionId: number): ConnectorState | undefined {
    return [...this.connectors.values()].find((state) => state.transaction?.transactionId === transactionId);
  }
}

function keyOf(chargePointId: string, connectorId: number): string {
  return `${chargePointId}\u0000${connectorId}`;
}

/** Phases (1..3) carrying more than the threshold; undefined when no phase current is known. */
export function activePhases(currentA: PerPhase | undefined): number[] | undefined {
  if (!currentA) return undefined;
  let known = false;
  const phases: number[] = [];
  for (let index = 0; index < currentA.length; index++) {
    const value = currentA[index] as number | null;
    if (value === null) continue;
    known = true;
    if (Math.abs(value) > ACTIVE_PHASE_A) phases.push(index + 1);
  }
  return known ? phases : undefined;
}

function sumPhases(values: PerPhase | undefined): number | undefined {
  if (!values) return undefined;
  let sum: number | undefined;
  for (const value of values) if (value !== null) sum = (sum ?? 0) + value;
  return sum;
}

function setOrDelete<K extends 'info' | 'vendorErrorCode'>(
  state: ConnectorState,
  key: K,
  value: string | undefined,
) {
  if (value === undefined) delete state[key];
  else state[key] = value;
}
