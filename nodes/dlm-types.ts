import type { Node, NodeDef } from 'node-red';
import type { LoadManager } from '../lib/dlm/load-manager';

/** Settings of an `ampflow-dlm` node as the editor saves them. */
export interface DlmNodeDef extends NodeDef {
  /** The site model (circuits, connectors, settings) as JSON: the SiteConfig of lib/dlm/site.ts. */
  site: string;
  /**
   * Optional `ampflow-central-system` node: its connector states are taken directly (including the
   * ones known before this node started); without it, wire `ampflow-ocpp-in` to the input.
   */
  centralSystem?: string;
}

/** A deployed `ampflow-dlm` node with a valid site: its load manager, for the Chargers sidebar. */
export interface LoadManagerNode extends Node {
  loadManager?: LoadManager;
}
