import type {
  CentralState,
  OpenTransaction,
  StopAnomaly,
  StopAnomalyReason,
  StopReceived,
} from './central-state';

/**
 * The most power one connector can deliver, W. The Megawatt Charging System (SAE J3271, IEC TS
 * 63379) is the largest standardised conductive connector: 3,000 A at 1,250 V, 3.75 MW. A meter
 * that claims more than this over a session's time did not measure a car's charge.
 */
export const MAX_CONNECTOR_POWER_W = 4_000_000;

/**
 * Time added to a session's length before the energy bound is applied: a charger's clock may be
 * off (set back by a time sync mid-session, or never set) and an offline queue delivers its start
 * and stop together, so neither clock alone is trusted to be long enough. An hour of MCS is 4 MWh,
 * still far below a register jump such as 999,999,999 Wh.
 */
export const SESSION_SLACK_MS = 3_600_000;

/** What a stop that is not a repeat is: the end of the open transaction, or an anomaly. */
export type StopVerdict =
  | { kind: 'stop'; open: OpenTransaction }
  | { kind: 'anomaly'; reason: StopAnomalyReason; detail: string; openOn?: string };

/**
 * Judges a stop that is not the repeat of one recorded (the caller checks the fingerprint first):
 * only a stop of a transaction this charger has open, with a meter reading a connector could have
 * reached, ends it as a record. The rest is an anomaly: another charger's transaction (an impostor
 * or a charger set to another's ids must not end it), a transaction already stopped with other
 * figures (the first true stop stands), one ampflow never started, or an impossible meter value
 * (the transaction then stays open: a later true stop, or a new start on the connector, ends it).
 */
export function judgeStop(
  state: Readonly<CentralState>,
  chargePointId: string,
  stop: StopReceived,
  receivedAt: string,
): StopVerdict {
  const open = state.openTransactions[String(stop.transactionId)];
  const named =
    stop.chargerTransactionId === undefined
      ? `transaction ${stop.transactionId}`
      : `transaction ${stop.chargerTransactionId}`;
  if (open && open.chargePointId === chargePointId) {
    const meter = meterProblem(open, stop, receivedAt);
    return meter ? { kind: 'anomaly', ...meter } : { kind: 'stop', open };
  }
  const other = open ?? otherChargersTransaction(state, chargePointId, stop.chargerTransactionId);
  if (other)
    return {
      kind: 'anomaly',
      reason: 'otherCharger',
      detail: `${named} is open on charge point ${other.chargePointId}, not on ${chargePointId}`,
      openOn: other.chargePointId,
    };
  if (stoppedBy(state, chargePointId, stop.transactionId))
    return {
      kind: 'anomaly',
      reason: 'alreadyStopped',
      detail: `${named} was stopped already with other figures; the first stop stands`,
    };
  return {
    kind: 'anomaly',
    reason: 'unknownTransaction',
    detail: `${named} is not open at charge point ${chargePointId}`,
  };
}

/** The anomaly as journalled. */
export function stopAnomaly(
  chargePointId: string,
  stop: StopReceived,
  receivedAt: string,
  verdict: Extract<StopVerdict, { kind: 'anomaly' }>,
): StopAnomaly {
  const received: StopAnomaly['received'] = {
    transactionId: stop.transactionId,
    meterStop: stop.meterStop,
    timestamp: stop.timestamp,
  };
  if (stop.chargerTransactionId !== undefined) received.chargerTransactionId = stop.chargerTransactionId;
  if (stop.reason !== undefined) received.reason = stop.reason;
  if (stop.idTag !== undefined) received.idTag = stop.idTag;
  const anomaly: StopAnomaly = {
    chargePointId,
    receivedAt,
    reason: verdict.reason,
    detail: verdict.detail,
    received,
  };
  if (verdict.openOn !== undefined) anomaly.openOn = verdict.openOn;
  return anomaly;
}

function meterProblem(
  open: OpenTransaction,
  stop: StopReceived,
  receivedAt: string,
): { reason: StopAnomalyReason; detail: string } | undefined {
  const { meterStop } = stop;
  if (!Number.isFinite(meterStop) || meterStop < 0)
    return { reason: 'negativeMeter', detail: `meterStop ${meterStop} Wh is not a meter reading` };
  if (meterStop < open.meterStartWh)
    return {
      reason: 'belowMeterStart',
      detail: `meterStop ${meterStop} Wh is below the transaction's meterStart ${open.meterStartWh} Wh`,
    };
  // The longer of the charger's own timestamps and ampflow's receipt times: a late, queued stop
  // only lengthens the second, a clock set right mid-session only the first.
  const byCharger = Date.parse(stop.timestamp) - Date.parse(open.startedAt);
  const byReceipt = Date.parse(receivedAt) - Date.parse(open.receivedAt);
  const sessionMs =
    Math.max(Number.isFinite(byCharger) ? byCharger : 0, Number.isFinite(byReceipt) ? byReceipt : 0, 0) +
    SESSION_SLACK_MS;
  const boundWh = (MAX_CONNECTOR_POWER_W * sessionMs) / 3_600_000;
  const energyWh = meterStop - open.meterStartWh;
  if (energyWh > boundWh)
    return {
      reason: 'impossibleEnergy',
      detail: `meterStop ${meterStop} Wh means ${energyWh} Wh since the start, more than ${Math.round(boundWh)} Wh a connector can deliver in that time (${MAX_CONNECTOR_POWER_W / 1e6} MW for the session and an hour)`,
    };
  return undefined;
}

/** Another charger's open transaction with this OCPP 2.0.1 transaction id. */
function otherChargersTransaction(
  state: Readonly<CentralState>,
  chargePointId: string,
  chargerTransactionId: string | undefined,
): OpenTransaction | undefined {
  if (chargerTransactionId === undefined) return undefined;
  for (const tx of Object.values(state.openTransactions))
    if (tx.chargePointId !== chargePointId && tx.chargerTransactionId === chargerTransactionId) return tx;
  return undefined;
}

/** Whether this charger's true stop of the transaction is among the recent ones. */
function stoppedBy(state: Readonly<CentralState>, chargePointId: string, transactionId: number): boolean {
  return state.recentStops.some(
    (stop) =>
      stop.transactionId === transactionId &&
      !stop.refused &&
      (stop.chargePointId ?? fingerprintCharger(stop.fingerprint)) === chargePointId,
  );
}

/** The charger of a fingerprint written before entries kept it (stopFingerprint's JSON). */
function fingerprintCharger(fingerprint: string): string | undefined {
  try {
    const parts = JSON.parse(fingerprint) as unknown;
    return Array.isArray(parts) && typeof parts[0] === 'string' ? parts[0] : undefined;
  } catch {
    return undefined;
  }
}
