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
