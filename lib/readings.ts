/**
 * What meters and chargers report, the first of the data shapes every layer shares (contracts.ts
 * re-exports them; import them from there): a Reading, a connector's state and what a car needs.
 * Plain JSON, as contracts.ts says.
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
  /**
   * The transaction that ended last on this connector, while no other runs: its id, the stop
   * reason in OCPP 1.6 words (`EVDisconnected`: the cable was pulled; a 2.0.1 stoppedReason is
   * translated) and when it ended (ISO 8601). Gone when the next transaction starts. The load
   * manager takes it as evidence that the car left (docs/load-manager.md, "A departure").
   */
  lastStop?: { transactionId: number; reason: string; at: string };
  /** Measured current per phase in A, from the charger's MeterValues. */
  currentA?: PerPhase;
  /**
   * A current the charger reported without a phase, in A (`Reading.currentUnphasedA`: Schneider
   * EVlink's `Current.Import` unless it is asked for `Current.Import.L1` etc.), while its newest
   * readings carry none per phase. The load manager counts it on every phase the connector is
   * wired for (the safe side) and says so.
   */
  currentUnphasedA?: number;
  /** Current the charger offers the vehicle, in A per phase. */
  offeredCurrentA?: number;
  /** Phases (1, 2, 3) carrying more than 1 A while charging. */
  activePhases?: number[];
  /** Active energy register in Wh. */
  energyWh?: number;
  /**
   * When `energyWh` was read (ISO 8601): the reading's own timestamp where it is plausible (as
   * `measuredAt`), else when it arrived. The load manager times a delta of the register by it
   * (a charger that reports its register only is measured by it, lib/dlm/evidence/energy-draw.ts).
   */
  energyAt?: string;
  powerW?: number;
  socPercent?: number;
  /** When the charger last sent anything about this connector (ISO 8601). */
  lastSeen?: string;
  /**
   * When its currents were measured (ISO 8601): the sample's own timestamp where it is plausible
   * (not after it arrived, at most a minute before), else when it arrived. A sample taken before a
   * set-point change but delivered after it must not pass for a reading of the new set-point.
   */
  measuredAt?: string;
  /** Whether the charge point is connected right now. */
  online: boolean;
  /**
   * The central system has no record of this charge point ever connecting (configured in a site,
   * not installed or not commissioned yet): it draws nothing, so the load manager reserves nothing
   * for it. Only with `online: false`; absent means it was seen, or nobody knows.
   */
  neverConnected?: true;
  /**
   * The limit the charger last confirmed for this connector (the charging-profile manager says so
   * when the charger accepted the command that carries it, or found it in force already): the car
   * may draw at most `limitA` per phase since `since`, when the charger's answer reached the central
   * system; `confirmedAt` is when it was said (each confirmation is new, even of the same limit). A
   * command still on its way may change it again: the load manager takes a reading as proof that a
   * decrease was followed only once the decrease is confirmed and the reading arrived after `since`.
   */
  limitInForce?: { limitA: number; since: string; confirmedAt: string };
  /**
   * What the charge-point operator's backend allows this connector now, in A per phase: its
   * charging profiles, kept by ampflow and composed with the load manager's limit (lib/upstream).
   * The load manager never gives the connector more.
   */
  operatorLimitA?: number;
  /**
   * The charger's offline fallback, as the charging-profile manager confirmed it: once ampflow has
   * lost the charger for `afterS` seconds, the connector offers at most `limitA` per phase (a new
   * car included), apart from a running session that keeps a higher limit it was given (OCPP 1.6
   * §3.13.6); confirmed at `since`. Kept while the charger is offline; absent when none is known.
   */
  offlineFallback?: { limitA: number; afterS: number; since: string };
  /**
   * The charger takes no offline fallback from ampflow (its limits go at stack level 0, by a vendor
   * key, or the fallback is switched off or refused; `why` says which): once ampflow is gone it
   * keeps the last limit it was given, forever. The charging-profile manager says so (since
   * `since`); the load manager counts it at that limit in its plan for ampflow's absence.
   */
  keepsLimitOffline?: { why: string; since: string };
  /**
   * The charging-profile manager could not set a limit on this connector since `since`: the
   * charger refused every way it knows to set one, or did not answer within its timeout (`why`
   * says which). The load manager counts the connector as uncontrolled from that moment (its
   * fallback, or what it draws if more), not after an overdraw grace. Absent once a limit is
   * confirmed again (`limitInForce`).
   */
  limitFailed?: LimitFailure & { since: string };
  /**
   * The charger takes limits only in multiples of `stepA` A per phase (`why`: its model, as the
   * charging-profile manager's strategy says: Schneider EVlink's maxIntensitySocket takes whole
   * amperes). The load manager then allocates the connector in that step (the site's own
   * `stepA` for the connector wins), and what the step leaves goes to the others.
   */
  limitStep?: { stepA: number; why: string };
  /**
   * What the charger was asked to measure for the load manager (OCPP 1.6 MeterValuesSampledData
   * with per-phase Current.Import, MeterValueSampleInterval) and what came of it, since `since`.
   * `perPhaseCurrents: false`: it refused or cannot (`why`), so its readings are no evidence that
   * it followed a decrease. Absent: nobody asked (a flow that sets the charger up itself).
   * `intervalS` is the interval the charger confirmed (its readings come this often); `askedS` the
   * one ampflow asked for last while limits move or settle (lib/profiles/fast-sampling.ts: 5 s while
   * a limit moves, back to the normal one once steady); where the two differ, `why` says so.
   */
  sampling?: SamplingState;
  /**
   * What the car said it needs, over ISO 15118 through an OCPP 2.0.1 charger (NotifyEVChargingNeeds)
   * at `at`: the most and least current per phase it takes, on how many phases, the energy it wants
   * and when it leaves. The load manager gives it no more than `maxA`, no less than `minA` while it
   * charges, and plans a pv car's charging to have `energyWh` by `departureTime` (lib/dlm/evidence/departure.ts).
   * Absent when the car said nothing; gone when its session ends.
   */
  carNeeds?: CarNeeds;
}

/** What came of asking a charger for its readings (`ConnectorState.sampling`). */
export interface SamplingState {
  perPhaseCurrents: boolean;
  intervalS?: number;
  askedS?: number;
  since: string;
  why?: string;
}

/** A car's charging needs (ISO 15118-2 AC charge parameters, OCPP 2.0.1 ChargingNeedsType). */
export interface CarNeeds {
  at: string;
  maxA?: number;
  minA?: number;
  phases?: 1 | 2 | 3;
  energyWh?: number;
  /** When the driver leaves (ISO 8601). */
  departureTime?: string;
}

/**
 * Why the charging-profile manager could not set a connector's limit, as data: lib/profiles makes
 * it, lib/dlm words it in the user's language. The actions the charger refused with the ways each
 * was tried (a profile purpose, or `ConfigurationKey`), or the action it did not answer in time.
 * Names are in the charger's version's words (a 2.0.1 station's purposes and messages).
 */
export type LimitFailureCause =
  | { refused: { action: string; ways: string[] }[] }
  | { unanswered: { action: string; within: string } }
  /** No way left to try: the charger has no SmartCharging, or refused every way before. */
  | { noWay: { strategy: string; noSmartCharging: boolean } };

/** A limit the charging-profile manager could not set: `why` in English (logs), `cause` as data. */
export interface LimitFailure {
  limitA: number;
  why: string;
  cause?: LimitFailureCause;
}

/**
 * Why a meter is stale, as data (ampflow-meter's `msg.staleCause` beside its `staleReason` text;
 * the load manager words it in the user's language): its bus's connection lost or not made (the
 * system's error as it came), its reads failing (`times` in a row, or a failure that no retry
 * mends: `times` 1), or nothing read for `nothingReadS` seconds.
 */
export type StaleCause =
  | { connectionLost: { address: string; error?: string; fault?: ModbusFault } }
  | { noConnection: { address: string; error?: string; fault?: ModbusFault } }
  | { readsFailed: { times: number; error: string; fault?: ModbusFault } }
  | { nothingReadS: number };

/**
 * A Modbus failure as data, beside its English text (`error` above; lib/modbus/errors.ts makes
 * both): no answer within `ms`, the device's exception `code`, an answer of the wrong length or
 * unusable (`detail` its text, `cause` why: a length, unit id, function code or byte count not the
 * one expected, a CRC error), the system's error `code` (`ECONNRESET`), no
 * connection within `ms`, nothing received for `s`, the other side or the port closing, a serial
 * adapter gone, the connection reopened after a late answer, the bus closed or overloaded, not
 * connected (`cause`, if known), the connection broken twice, or the unit backed off (`last`: its
 * last failure). The load manager words it in the user's language (lib/dlm/evidence/circuit-view.ts).
 */
export type ModbusFault =
  | { kind: 'timeout'; ms: number }
  | { kind: 'exception'; code: number }
  | { kind: 'wrongLength'; registers: number; asked: number }
  | { kind: 'unusable'; detail: string; cause?: ModbusFault }
  | { kind: 'badLength'; got: number; expected: number }
  | { kind: 'wrongUnit'; got: number; expected: number }
  | { kind: 'wrongFunction'; got: number; expected: number }
  | { kind: 'byteCount'; got: number; expected: number }
  | { kind: 'crc' }
  | { kind: 'system'; code: string }
  | { kind: 'connectTimeout'; ms: number }
  | { kind: 'silent'; s: number }
  | { kind: 'closedByPeer' }
  | { kind: 'connectionClosed' }
  | { kind: 'portClosed' }
  | { kind: 'hungUp' }
  | { kind: 'reopened' }
  | { kind: 'busClosed' }
  | { kind: 'queueFull'; waiting: number }
  | { kind: 'queueTimeout'; ms: number }
  | { kind: 'notConnected'; ms: number; cause?: ModbusFault }
  | { kind: 'brokeTwice'; cause?: ModbusFault }
  | { kind: 'backedOff'; failures: number; nextS: number; last?: ModbusFault };
