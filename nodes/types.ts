import type { Node, NodeDef } from 'node-red';
import type { CentralSystem } from '../lib/ocpp/central-system';
import type { CentralSystemSettings } from '../lib/ocpp/settings';
import type { UpstreamProxy } from '../lib/upstream/proxy';

/** A node that uses a central system and shows its state in its own status. */
export interface CentralSystemUser {
  refreshStatus(): void;
}

/** The runtime object of an `ampflow-central-system` config node, as other nodes see it. */
export interface CentralSystemNode extends Node {
  /** Undefined when the node's settings are invalid (`problem` says why). */
  centralSystem?: CentralSystem;
  /** The operator's backend proxy, when the node has a backend URL. */
  upstream?: UpstreamProxy;
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
  /** The operator's backend every charger is passed through to (lib/upstream); empty: none. */
  upstreamUrl?: string;
  upstreamTlsCa?: string;
  upstreamTlsCertificate?: string;
  /** Who decides Boot, Authorize, Start, Stop, DataTransfer: the backend while it answers, or ampflow. */
  upstreamDecides?: 'upstream' | 'local';
  /** Seconds a charger's request waits for the backend's decision (empty: 8). */
  upstreamDecideWithinS?: string;
  /** Tags in the central system's own list are decided by ampflow (staff cards). */
  upstreamLocalTags?: boolean;
  /** The backend's charging profiles: composed with the load manager, forwarded, or refused. */
  upstreamSmartCharging?: 'compose' | 'forward' | 'refuse';
  /** The backend's commands refused, separated by commas. */
  upstreamRefuse?: string;
  /** Configuration keys the backend may not change (comma-separated). */
  upstreamProtectedKeys?: string;
  /** Configuration keys the backend may change, put back afterwards (comma-separated). */
  upstreamReassertKeys?: string;
  upstreamIdTagCase?: 'asIs' | 'upper' | 'lower';
  upstreamIdTagByteOrder?: 'asIs' | 'reversed';
}

/** The secret settings, kept as Node-RED credentials (never in exported flows). */
export interface CentralSystemCredentials {
  passwords?: string;
  tlsPrivateKey?: string;
  tlsPassphrase?: string;
  upstreamPassword?: string;
  upstreamTlsPrivateKey?: string;
  /** The backend's registration list: `identity,password[,certificate file]` per line. */
  upstreamRegistrations?: string;
}
