import type { NodeStatus } from 'node-red';
import type { CentralSystemState } from '../lib/ocpp/central-system';
import { type StateOf, statusOf } from './shared/status-table';
import type { CentralSystemNode } from './types';

/** What a node using a central system shows of each state; a listening one counts its chargers. */
const CENTRAL_SYSTEM_STATES: Record<
  Exclude<CentralSystemState, 'listening'>,
  StateOf<'ampflow-central-system'>
> = {
  starting: 'starting',
  failed: 'failed',
  stopping: 'stopped',
  stopped: 'stopped',
};

/**
 * Which state of a central system a node using it shows (the look and text are the status table's).
 * Every node using a central system shows it.
 */
export function centralSystemStatus(csNode: CentralSystemNode | null | undefined): NodeStatus {
  if (!csNode) return statusOf('ampflow-central-system', 'noCentralSystem');
  const cs = csNode.centralSystem;
  if (csNode.problem || !cs) return statusOf('ampflow-central-system', problemState(csNode.problem));
  if (cs.state !== 'listening') return statusOf('ampflow-central-system', CENTRAL_SYSTEM_STATES[cs.state]);
  const connected = cs.connectedChargePoints().length;
  return statusOf('ampflow-central-system', connected > 0 ? 'connected' : 'noneConnected', { connected });
}

/** The short form of why a central system does not run. */
function problemState(problem: string | undefined): StateOf<'ampflow-central-system'> {
  if (!problem) return 'notStarted';
  if (/already in use/.test(problem)) return 'portInUse';
  if (/TLS|certificate|key/i.test(problem)) return 'tlsProblem';
  return 'settingsError';
}
