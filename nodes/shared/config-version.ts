import type { Node } from 'node-red';
import { ShapeVersionError, upgradeNodeSettings } from '../../lib/config-versions';
import { statusOf } from './status-table';

/**
 * A node's saved settings in today's shape of its type (lib/config-versions.ts). Settings saved
 * by a newer release are not guessed at: undefined, and the node says why (the error in the log,
 * `settings error` as its status); it does not start.
 */
export function settingsInTodaysShape<T extends object>(node: Node, type: string, def: T): T | undefined {
  try {
    return upgradeNodeSettings(type, def);
  } catch (err) {
    if (!(err instanceof ShapeVersionError)) throw err;
    node.error(err.message);
    node.status(statusOf('ampflow-central-system', 'settingsError'));
    return undefined;
  }
}
