import type { Node, NodeDef } from 'node-red';
import type { CentralSystem } from '../lib/ocpp/central-system';

/** The runtime object of an `ampflow-central-system` config node, as other nodes see it. */
export interface CentralSystemNode extends Node {
  /** Undefined when the node's settings are invalid (the node has logged why). */
  centralSystem?: CentralSystem;
}

/** Settings of an `ampflow-central-system` node as the editor saves them. */
export interface CentralSystemNodeDef extends NodeDef {
  host: string;
  port: string | number;
}
