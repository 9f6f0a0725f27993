import type { Node } from 'node-red';
import type { Logger } from '../../lib/log';

/**
 * lib's `Logger` writing to a node's own log, so every line names the node's type and name and
 * warnings and errors show in the editor's debug sidebar like the node's own.
 */
export function nodeLogger(node: Node): Logger {
  return {
    info: (message) => node.log(message),
    warn: (message) => node.warn(message),
    error: (message) => node.error(message),
    debug: (message) => node.debug(message),
  };
}
