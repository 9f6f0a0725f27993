/**
 * What a charger's version of OCPP decides about its calls, chosen once at the handshake (the
 * sub-protocol it agreed: connection.ts): which actions exist (others are answered NotImplemented),
 * which a charger may send (NotSupported otherwise), and the schema its messages are checked
 * against. The connection keeps the rest (SecurityError before acceptance, the answer's check);
 * where a valid call goes on is ChargerCalls.take's (charger-calls.ts): the central system's
 * handlers for 1.6, the station's translation for 2.0.1.
 */
import { CHARGE_POINT_ACTIONS, type ChargePointAction } from './actions';
import { findViolation, isOcppAction, type Violation } from './v16/validation';
import type { Station201 } from './v201/station';

export interface Dialect {
  /** As said in errors and the log: `OCPP 1.6`, `OCPP 2.0.1`. */
  readonly name: string;
  /** An action of this version at all. */
  knows(action: string): boolean;
  /** An action a charger sends (the others are sent by a central system). */
  sentByChargers(action: string): boolean;
  validate(action: string, kind: 'request' | 'response', payload: unknown): Violation | undefined;
}

const chargePointActions = new Set<string>(CHARGE_POINT_ACTIONS);

/** OCPP 1.6-J: its own schemas. */
export const dialect16: Dialect = {
  name: 'OCPP 1.6',
  knows: (action) => isOcppAction(action),
  sentByChargers: (action) => chargePointActions.has(action),
  validate: (action, kind, payload) => findViolation(action as ChargePointAction, kind, payload),
};

/** OCPP 2.0.1: the station's schemas (v201/station.ts). */
export function dialect201(station: Station201): Dialect {
  return {
    name: 'OCPP 2.0.1',
    knows: (action) => station.isStationAction(action) || station.isCsmsAction(action),
    sentByChargers: (action) => station.isStationAction(action),
    validate: (action, kind, payload) => station.validate(action, kind, payload),
  };
}
