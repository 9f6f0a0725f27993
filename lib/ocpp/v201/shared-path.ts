import type { CarNeeds } from '../../contracts';
import type { ChargePointAction } from '../actions';
import type { MaybePromise } from '../central-types';

/** A transaction the ledger keeps open, as the 2.0.1 translation needs it. */
export interface LedgerTransaction {
  transactionId: number;
  connectorId: number;
  startedAt: string;
  meterStartWh?: number;
  chargerTransactionId?: string;
}

/**
 * What the translation of one OCPP 2.0.1 charger needs of the central system: the shared path
 * every version's messages end in (in the shared shapes, which are OCPP 1.6's), and the ledger's
 * transactions by the charger's own ids.
 */
export interface SharedPath {
  readonly identity: string;
  /**
   * The central system's handling of a call in the shared shapes; its answer in the same shapes.
   * `decided`: an answer decided elsewhere (the operator's backend), recorded instead.
   */
  handle(
    action: ChargePointAction,
    request: Record<string, unknown>,
    decided?: unknown,
  ): MaybePromise<unknown>;
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
