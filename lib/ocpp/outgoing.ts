import { type CentralSystemAction, isCentralSystemAction } from './actions';
import { CommandError } from './command-error';
import { findViolation } from './v16/validation';
import { NoCounterpart, type Translated } from './v201/commands';
import { isCsmsAction201 } from './v201/schemas';
import type { Station201 } from './v201/station';

/** A command as it goes on the wire, and how its answer reads back (translated commands only). */
export interface Outgoing {
  action: string;
  request: unknown;
  /** Sent in the charger's own 2.0.1 words, as the flow gave it (no translation, no record). */
  native: boolean;
  read?: Translated['read'];
  /** The answer, known without asking the charger. */
  answer?: unknown;
}

/**
 * A central-system command as it goes to one charger, checked: in the shared (OCPP 1.6) words to a
 * 1.6 charger; to a 2.0.1 charger (`station`) translated (v201/commands.ts), or as it is where the
 * flow wrote it in 2.0.1's own words (`asWritten`: it says so). Throws a CommandError naming the
 * charger and what is wrong.
 */
export function outgoing(
  station: Station201 | undefined,
  identity: string,
  action: string,
  request: unknown,
  asWritten = false,
): Outgoing {
  if (
    station &&
    (asWritten
      ? checkNative(station, identity, action, request)
      : isNative(station, identity, action, request))
  )
    return { action, request, native: true };
  checkShared(identity, action, request);
  if (!station || !isCentralSystemAction(action)) return { action, request, native: false };
  return { ...translate(station, identity, action, request), native: false };
}

/**
 * Whether a command goes to this charger in its own OCPP 2.0.1 words, as it is: an action only
 * 2.0.1 has (SetVariables, GetBaseReport, ...), or one of both versions whose request is 2.0.1's
 * and not 1.6's (SetChargingProfile with evseId). Anything else is in the shared (1.6) words and
 * is translated. A 2.0.1 request is checked against the 2.0.1 schema here.
 */
function isNative(station: Station201, identity: string, action: string, request: unknown): boolean {
  const native = isCentralSystemAction(action)
    ? findViolation(action, 'request', request) !== undefined &&
      station.validate(action, 'request', request) === undefined
    : station.isCsmsAction(action);
  return native && (isCentralSystemAction(action) || checkNative(station, identity, action, request));
}

/** A command in 2.0.1's own words, checked against the 2.0.1 schema (a CommandError if it breaks it). */
function checkNative(station: Station201, identity: string, action: string, request: unknown): true {
  if (!station.isCsmsAction(action))
    throw new CommandError(`${action} is not an OCPP 2.0.1 command of a central system`, 'InvalidRequest');
  const violation = station.validate(action, 'request', request);
  if (violation)
    throw new CommandError(`${action} to ${identity} (OCPP 2.0.1): ${violation.summary}`, 'InvalidRequest');
  return true;
}

/** A command in the shared (1.6) words: a 1.6 action, with a valid 1.6 request. */
function checkShared(identity: string, action: string, request: unknown): void {
  if (!isCentralSystemAction(action)) {
    const only201 = isCsmsAction201(action) ? ` (an OCPP 2.0.1 command; ${identity} speaks OCPP 1.6)` : '';
    throw new CommandError(`${action} is not a command a central system sends${only201}`, 'InvalidRequest');
  }
  const requestViolation = findViolation(action, 'request', request);
  if (requestViolation) {
    throw new CommandError(`${action} to ${identity}: ${requestViolation.summary}`, 'InvalidRequest');
  }
}

/** A command in the shared shapes as this 2.0.1 charger takes it (v201/commands.ts), checked. */
function translate(
  station: Station201,
  identity: string,
  action: CentralSystemAction,
  request: unknown,
): Translated {
  let wire: Translated;
  try {
    wire = station.command(action, request as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof NoCounterpart)) throw err;
    throw new CommandError(
      `${action} to ${identity} (OCPP 2.0.1): ${err.message}`,
      'CallError',
      'NotSupported',
    );
  }
  if (wire.answer !== undefined) return wire;
  const violation = station.validate(wire.action, 'request', wire.request);
  if (violation) {
    throw new CommandError(
      `${action} to ${identity}, as OCPP 2.0.1 ${wire.action}: ${violation.summary}`,
      'InvalidRequest',
    );
  }
  return wire;
}
