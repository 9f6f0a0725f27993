import type { CarNeeds } from '../../contracts';
import type { ChargePointAction } from '../actions';

/** A transaction the ledger keeps open, as the 2.0.1 translation needs it. */
export interface LedgerTransaction {
  transactionId: number;
  connectorId: number;
  startedAt: string;
  meterStartWh?: number;
  chargerTransactionId?: string;
}

/**
 * One call in the shared shapes (OCPP 1.6's) that a 2.0.1 call became, for the central system's
 * handlers. `decided`: an answer decided elsewhere (the operator's backend), recorded instead.
 */
export interface SharedCall {
  action: ChargePointAction;
  request: Record<string, unknown>;
  decided?: unknown;
}

/**
 * One 2.0.1 call's translation as it runs: it yields each shared call it became and is given that
 * call's answer (shared shapes) back, so a later call can use it (a StartTransaction's ledger id in
 * the MeterValues after it); it returns its answer in 2.0.1's shapes. The translation calls nothing
 * above it: ChargerCalls drives it (charger-calls.ts), handing each call to the handlers by name.
 */
export type Translation201<T = unknown> = Generator<SharedCall, T, unknown>;

/**
 * What the translation of one OCPP 2.0.1 charger needs of the central system besides the shared
 * calls it yields: the ledger's transactions by the charger's own ids, the flows, the car's needs.
 */
export interface SharedPath {
  readonly identity: string;
  /** A message the shared model has no place for, told to the flows as it came. */
  notify(action: string, request: unknown, response: unknown): void;
  /** The ledger's open transaction of this charger with the charger's own transaction id. */
  transactionOf(chargerTransactionId: string): LedgerTransaction | undefined;
  /**
   * The charger's transaction that ended lately (its record is kept): an event of it is a repeat,
   * an Ended with other figures an anomaly. Its figures where the record names them.
   */
  ended(
    chargerTransactionId: string,
  ): { transactionId: number; meterStop?: number; timestamp?: string } | undefined;
  /** The charger's own id of a ledger transaction (for commands that name it). */
  chargerTransactionId(ledgerId: number): string | undefined;
  /** The central system's time now (ISO 8601). */
  nowIso(): string;
  /** What the car on an EVSE said it needs (undefined: its session ended). */
  carNeeds(evseId: number, needs: CarNeeds | undefined): void;
  /** Whether charging profiles follow a car's needs: a load manager manages this charger. */
  schedulesFollow(): boolean;
  /** An id token as the charger sent it: its type is kept (token-types.ts). */
  sawToken(token: { idToken?: unknown; type?: unknown } | undefined): void;
  /** The type an id token goes to the charger with: the one it was seen with, else `Central`. */
  tokenType(idToken: string): string;
  /** Something the charger did that the operator should hear of (logged once per text). */
  report(text: string): void;
}
