import type { TimerHandle } from '../clock';
import type { UpstreamEvent } from '../contracts';
import { type Logger, WarnOnce } from '../log';
import type { CentralSystem } from '../ocpp/central-system';
import type { InstalledProfile, ModelProfile } from '../ocpp/charging-profiles';
import type { LinkState, UpstreamLink } from './link';
import type { OperatorProfiles } from './operator-profiles';
import type { BackendQueue, Queued } from './queue';

export type { Queued } from './queue';

import type { TxIdEntry, TxIds } from './tx-ids';

/** The proxy's record of one charger, and what its parts say (lib/upstream). */

/** What the proxy keeps per charger in the charger's durable record (facts of the room 'upstream'). */
export interface Kept {
  /** The sub-protocol the charger last spoke (its link speaks it too). */
  protocol?: string;
  ids?: { entries?: TxIdEntry[]; ended?: number[] };
  /** Until 2026-11-23 the whole queue was kept here; now each request is an entry (BackendQueue). */
  queue?: Queued[];
  boot?: Record<string, unknown>;
  /** The backend answered Accepted to that boot (so a new link introduces nothing). */
  bootAccepted?: boolean;
  /** The backend's charging profiles (smartCharging: compose). */
  operator?: InstalledProfile[];
}

export interface Charger {
  identity: string;
  link: UpstreamLink;
  ids: TxIds;
  /** Requests waiting to go upstream, in the order the charger sent them. */
  queue: BackendQueue;
  draining: boolean;
  /** The charger's last BootNotification request. */
  boot?: Record<string, unknown>;
  /**
   * The backend accepted that boot: a new link is a re-link, not a reboot (OCPP 1.6: a charger that
   * only reconnects sends no BootNotification), so nothing is introduced on it.
   */
  bootAccepted: boolean;
  /** The link has looked at whether the backend must be told of the charger, since it opened. */
  introduced: boolean;
  /** Something waited for the backend (it was away): the flows hear when it all went up. */
  backlog?: boolean;
  /** The charger's own boot is on its way up: nothing is told in its name. */
  booting?: boolean;
  /** The latest request ampflow decided in the backend's place, and why (the sidebar shows it). */
  decidedLocally?: string;
  /** A boot was told on this link in the charger's name: its connectors' status follows the queue. */
  statusesOwed?: boolean;
  /** The backend's charging profiles, kept here (smartCharging: compose). */
  operator: OperatorProfiles;
  /** An OCPP 2.0.1 charger's latest StatusNotification per EVSE and connector ("evse/connector"), as it came. */
  statuses201?: Map<string, Record<string, unknown>>;
  /** The charging profile of the backend's RemoteStartTransaction, until its transaction starts. */
  remoteStartProfile?: {
    profile: ModelProfile;
    connectorId?: number;
    untilMs: number;
  };
  /** When the backend's profiles next change a connector's limit. */
  operatorTimer?: TimerHandle;
}

/** A charger's link as the status, sidebar and dashboard show it. */
export interface UpstreamLinkStatus {
  chargePointId: string;
  state: LinkState;
  queued: number;
  /** The latest request ampflow answered in the backend's place, when, and why. */
  decidedLocally?: string;
}

/**
 * How the proxy speaks: events for the central system's listeners (ampflow-ocpp-in), its own
 * events, and a log line per cause and charger (a backend that keeps refusing is said once).
 */
export class ProxyVoice {
  private readonly once: WarnOnce;

  constructor(
    private readonly cs: CentralSystem,
    log: Logger,
    private readonly emit: (event: string, payload: unknown) => void,
  ) {
    this.once = new WarnOnce(log);
  }

  /** Tells the central system's listeners (ampflow-ocpp-in's Upstream events) what happened. */
  report(event: UpstreamEvent): void {
    this.cs.emit('upstream', event);
  }

  refuse(identity: string, action: string, reason: string): void {
    this.emit('refused', { chargePointId: identity, action, reason });
    this.report({ chargePointId: identity, kind: 'refused', action, reason });
    this.tell(identity, `upstream sent ${action}: ${reason}`);
  }

  /** Logs a cause once per charger. */
  tell(identity: string, message: string): void {
    this.once.warn(`${identity}: ${message}`);
  }
}
