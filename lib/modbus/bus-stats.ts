/**
 * What a bus counts (its `stats`): requests sent and how they ended, reads refused or joined,
 * connections, drains and bytes. The bus decides when something happened; this says what a
 * finished request counts as.
 */
import type { ModbusRequestError } from './errors';

export interface BusStats {
  sent: number;
  answered: number;
  timeouts: number;
  exceptions: number;
  corrupt: number;
  coalesced: number;
  refusedQueueFull: number;
  refusedBackedOff: number;
  waitTimeouts: number;
  connects: number;
  connectionsLost: number;
  /** Times the line was drained after a timeout or a corrupt answer (RTU framing). */
  drains: number;
  /** Bytes received, answers or not. */
  bytesReceived: number;
}

export function emptyBusStats(): BusStats {
  return {
    sent: 0,
    answered: 0,
    timeouts: 0,
    exceptions: 0,
    corrupt: 0,
    coalesced: 0,
    refusedQueueFull: 0,
    refusedBackedOff: 0,
    waitTimeouts: 0,
    connects: 0,
    connectionsLost: 0,
    drains: 0,
    bytesReceived: 0,
  };
}

/** Counts a request that left the wire with an answer (`error` undefined) or a failure. */
export function countOutcome(stats: BusStats, error: ModbusRequestError | undefined): void {
  if (!error) stats.answered += 1;
  else if (error.failure === 'timeout') stats.timeouts += 1;
  else if (error.failure === 'exception') stats.exceptions += 1;
  else if (error.failure === 'corrupt') stats.corrupt += 1;
}
