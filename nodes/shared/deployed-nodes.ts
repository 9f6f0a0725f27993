import type { NodeAPI, NodeDef } from 'node-red';

/**
 * The deployed flows' node definitions, or none while Node-RED has not loaded its flows yet.
 * Node-RED's `eachNode` throws until the flows are loaded (its active configuration is still
 * null), and the editor's sidebar may ask before then: a listing asked that early is empty, not
 * an error. Only Node-RED's own walk is guarded; callers work on the returned list.
 */
export function deployedNodes(RED: NodeAPI): NodeDef[] {
  const defs: NodeDef[] = [];
  try {
    RED.nodes.eachNode((def: NodeDef) => {
      defs.push(def);
    });
  } catch {
    return [];
  }
  return defs;
}
