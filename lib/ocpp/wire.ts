import type { ServerClient } from './rpc-types';
import { OCPP201_ERROR_CODES } from './v201/schemas';

/**
 * CallError codes as OCPP-J 1.6 spells them on the wire. ocpp-rpc answers frames it cannot read
 * with the OCPP 2.0.1 codes RpcFrameworkError and MessageTypeNotSupported, which 1.6 does not
 * have (1.6 calls a payload "syntactically incorrect or not conform the PDU structure" a
 * FormationViolation, section 4.2.3), and on `ocpp1.6` connections it renames
 * OccurenceConstraintViolation to OccurrenceConstraintViolation, although the OCPP-J 1.6 errata
 * (section 5.1) keeps the original spelling. Outgoing CallErrors are put right here.
 */
const OCPP16_ERROR_CODES: Record<string, string> = {
  RpcFrameworkError: 'FormationViolation',
  MessageTypeNotSupported: 'FormationViolation',
  OccurrenceConstraintViolation: 'OccurenceConstraintViolation',
  FormatViolation: 'FormationViolation',
};

/** Puts the CallErrors going out on `client` in its version's spelling (`ocpp2.0.1` or 1.6). */
export function speakErrorsOf(client: ServerClient, protocol: string): void {
  const codes = protocol === 'ocpp2.0.1' ? OCPP201_ERROR_CODES : OCPP16_ERROR_CODES;
  const sendRaw = client.sendRaw.bind(client);
  client.sendRaw = (message: string) => {
    if (message.startsWith('[4,')) {
      const frame = JSON.parse(message) as [number, string, string, string, object];
      const code = codes[frame[2]];
      if (code) {
        frame[2] = code;
        return sendRaw(JSON.stringify(frame));
      }
    }
    return sendRaw(message);
  };
}

/**
 * An unreadable frame for the log: truncated, and cut before anything that follows an
 * AuthorizationKey (a broken ChangeConfiguration or GetConfiguration may carry the password).
 */
export function withoutSecrets(text: string): string {
  const at = text.search(/authorizationkey/i);
  if (at === -1) return truncate(text);
  return `${truncate(text.slice(0, at + 'AuthorizationKey'.length))} … (the rest is not logged: it may hold the charger's password)`;
}

function truncate(text: string, length = 200): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
