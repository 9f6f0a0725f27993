import type { Node, NodeDef } from 'node-red';
import type { CentralSystem } from '../lib/ocpp/central-system';
import type { CentralSystemSettings } from '../lib/ocpp/settings';

/** A node that uses a central system and shows its state in its own status. */
export interface CentralSystemUser {
  refreshStatus(): void;
}

/** The runtime object of an `ampflow-central-system` config node, as other nodes see it. */
export interface CentralSystemNode extends Node {
  /** Undefined when the node's settings are invalid (`problem` says why). */
  centralSystem?: CentralSystem;
  /** Why the central system does not run: bad settings, a port in use, unreadable TLS files. */
  problem?: string;
  register(user: CentralSystemUser): void;
  deregister(user: CentralSystemUser): void;
}

/** Settings of an `ampflow-central-system` node as the editor saves them. */
export interface CentralSystemNodeDef
  extends NodeDef,
    Omit<CentralSystemSettings, 'passwords' | 'tlsPrivateKey' | 'tlsPassphrase'> {
  /** `port`: a listener of its own; `shared`: Node-RED's own HTTP server under `path`. */
  listen?: 'port' | 'shared';
  /** Empty: `<userDir>/ampflow/central-system-<node id>`. */
  dataDirectory?: string;
}

/** The secret settings, kept as Node-RED credentials (never in exported flows). */
export interface CentralSystemCredentials {
  passwords?: string;
  tlsPrivateKey?: string;
  tlsPassphrase?: string;
}
