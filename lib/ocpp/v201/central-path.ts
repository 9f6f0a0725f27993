import type { CarNeeds, ChargePointMessage } from '../../contracts';
import type { Logger } from '../../log';
import type { TransactionLedger } from '../transactions';
import { OCPP201, type StationAction201 } from './schemas';
import type { SharedPath } from './shared-path';
import type { TokenTypes } from './token-types';

/** What a 2.0.1 charger's path needs of the central system. */
export interface CentralPathHost {
  /** The durable state's owner (charger-state.ts): the ledger, and the id tokens' types seen. */
  charges: { requireLedger(): TransactionLedger; readonly tokenTypes: TokenTypes };
  log: Logger;
  nowIso(): string;
  emitMessage(message: ChargePointMessage): void;
  /** What the central system keeps of connectors (connector-notes.ts). */
  notes: {
    setCarNeeds(chargePointId: string, connectorId: number, needs: CarNeeds | undefined): void;
    /** Whether a load manager manages the charger: its limits follow as charging profiles. */
    managed(chargePointId: string): boolean;
  };
}

/** At most this many different texts are logged per connection (a charger that never stops erring). */
const MAX_REPORTED = 100;

/**
 * The central system's side of one OCPP 2.0.1 charger's translation (shared-path.ts): the ledger's
 * transactions by the charger's own ids, messages with no shared counterpart told to the flows as
 * they came, and what the charger did wrong, logged once.
 */
export function centralPath(host: CentralPathHost, chargePointId: string): Omit<SharedPath, 'identity'> {
  const reported = new Set<string>();
  return {
    notify(action, request, response) {
      const receivedAt = host.nowIso();
      host.emitMessage({
        chargePointId,
        action: action as StationAction201,
        request,
        response,
        receivedAt,
        payload: { chargePointId, ...(request as object) },
        ocpp: { version: OCPP201, action, request },
      });
    },
    transactionOf(chargerTransactionId) {
      return host.charges.requireLedger().ofCharger(chargePointId, chargerTransactionId);
    },
    ended(chargerTransactionId) {
      return host.charges.requireLedger().endedOfCharger(chargePointId, chargerTransactionId);
    },
    chargerTransactionId(ledgerId) {
      const tx = host.charges.requireLedger().get(ledgerId);
      return tx?.chargePointId === chargePointId ? tx.chargerTransactionId : undefined;
    },
    nowIso: () => host.nowIso(),
    carNeeds(evseId, needs) {
      host.notes.setCarNeeds(chargePointId, evseId, needs);
    },
    schedulesFollow: () => host.notes.managed(chargePointId),
    sawToken: (token) => host.charges.tokenTypes.saw(token),
    tokenType: (idToken) => host.charges.tokenTypes.typeOf(idToken),
    report(text) {
      if (reported.has(text) || reported.size >= MAX_REPORTED) return;
      reported.add(text);
      host.log.warn(`charge point ${chargePointId}: ${text}`);
    },
  };
}
