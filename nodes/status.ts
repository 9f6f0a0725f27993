import type { NodeStatus } from 'node-red';
import type { CentralSystemNode } from './types';

/**
 * The one place that turns a central system's state into a node status (text under 20
 * characters, as Node-RED's status guidelines ask). Every node using a central system shows it.
 */
export function centralSystemStatus(csNode: CentralSystemNode | null | undefined): NodeStatus {
  if (!csNode) return { fill: 'red', shape: 'ring', text: 'no central system' };
  const cs = csNode.centralSystem;
  if (csNode.problem || !cs) return { fill: 'red', shape: 'ring', text: shortProblem(csNode.problem) };
  switch (cs.state) {
    case 'starting':
      return { fill: 'yellow', shape: 'ring', text: 'starting' };
    case 'listening': {
      const connected = cs.connectedChargePoints().length;
      return { fill: connected > 0 ? 'green' : 'grey', shape: 'dot', text: `${connected} connected` };
    }
    case 'failed':
      return { fill: 'red', shape: 'ring', text: 'failed' };
    case 'stopping':
    case 'stopped':
      return { fill: 'grey', shape: 'ring', text: 'stopped' };
  }
}

function shortProblem(problem: string | undefined): string {
  if (!problem) return 'not started';
  if (/already in use/.test(problem)) return 'port in use';
  if (/TLS|certificate|key/i.test(problem)) return 'TLS problem';
  return 'settings error';
}
