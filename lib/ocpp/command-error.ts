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

/** The action and the time of a "did not answer" failure (describeCallFailure's words); undefined for another. */
export function unansweredIn(message: string): { action: string; within: string } | undefined {
  const match = /did not answer (\S+) within (\d+ m?s)$/.exec(message);
  return match ? { action: match[1] as string, within: match[2] as string } : undefined;
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
