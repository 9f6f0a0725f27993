import type { NodeDef } from 'node-red';

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
