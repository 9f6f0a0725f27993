import { TimeoutError } from 'ocpp-rpc';

/** Why a command to a charge point failed: offline, no answer in time, refused, or invalid. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: 'Offline' | 'Timeout' | 'CallError' | 'InvalidRequest' | 'InvalidResponse',
    readonly ocppErrorCode?: string,
  ) {
    super(message);
    // The name is the contract other rooms recognise it by (lib/contracts.ts isCommandFailure).
    this.name = 'CommandError';
  }
}

/**
 * A command that failed on its way or got no answer, as a CommandError naming the charger and the
 * action: no answer in time, the charger's CallError, the connection gone, or anything else.
 */
export function describeCallFailure(
  identity: string,
  action: string,
  err: Error & { rpcErrorCode?: string },
  { timeoutMs, closed }: { timeoutMs: number; closed: boolean },
): CommandError {
  if (err instanceof TimeoutError) {
    const within = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
    return new CommandError(`charge point ${identity} did not answer ${action} within ${within}`, 'Timeout');
  }
  if (err.rpcErrorCode) {
    return new CommandError(
      `charge point ${identity} answered ${action} with CallError ${err.rpcErrorCode}: ${err.message}`,
      'CallError',
      err.rpcErrorCode,
    );
  }
  if (closed || /socket not open|going away|closed/i.test(err.message))
    return new CommandError(`charge point ${identity} disconnected before answering ${action}`, 'Offline');
  return new CommandError(`${action} to ${identity} failed: ${err.message}`, 'CallError');
}
