import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock';
import { type Logger, silentLogger } from '../log';
import type { CentralSystem } from '../ocpp/central-system';
import { BackendCommands } from './backend-commands';
import { type Charger, type Kept, ProxyVoice, type UpstreamLinkStatus } from './charger';
import { Forwarding } from './forwarding';
import { LatestWrites } from './latest-writes';
import { type LinkState, UpstreamLink } from './link';
import { OperatorProfiles } from './operator-profiles';
import { BackendQueue } from './queue';
import type { RequestsHost } from './request-steps';
import { ChargerRequests } from './requests';
import type { UpstreamSettings } from './settings';
import { TxIds } from './tx-ids';
import { Requests201 } from './v201/requests';
import { versionChanged } from './version-change';

export type { UpstreamLinkStatus } from './charger';

export { METER_VALUES_ACK_MS } from './request-steps';

/**
 * Keeps the operator's backend (issue #14): every charger that dials ampflow gets its own link to
 * its upstream backend, as that charger. The charger's CALLs go upstream in the order it sent them;
 * for the actions the settings give the upstream to decide (Boot, Authorize, Start, Stop,
 * DataTransfer) the upstream's answer is what the charger gets while the upstream is reachable and
 * nothing is queued for it; otherwise ampflow decides, and the request goes upstream when it is
 * back. The upstream's CALLs go to the charger and its answers back, except what `refuse` lists
 * and the configuration keys ampflow relies on. ampflow's own commands keep going to the charger
 * over the same connection, with the charger's transaction ids.
 *
 * This class answers the charger and keeps the links; its parts: the way up (forwarding.ts), what
 * waits for the backend (queue.ts), the backend's commands and profiles (backend-commands.ts).
 *
 * Events: `link` (UpstreamLinkStatus), `forwarded` ({ chargePointId, action, direction }),
 * `refused` ({ chargePointId, action, reason }), `replayed` ({ chargePointId, action }), `drained`
 * ({ chargePointId }: nothing waits for its upstream any more).
 */
export class UpstreamProxy extends EventEmitter {
  private readonly chargers = new Map<string, Charger>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly detach: (() => void)[] = [];
  /** Each charger's facts (ids, boot, the backend's profiles) written durably, one write in flight per charger. */
  private readonly writes = new LatestWrites<Charger>((charger) => this.write(charger));
  private closed = false;
  private readonly voice: ProxyVoice;
  /** The backend's side: its commands to the chargers, its profiles, ampflow's own commands. */
  private readonly backend: BackendCommands;
  /** The way up: each charger's requests to its backend, in order. */
  private readonly forwarding: Forwarding;
  /** The chargers' CALLs: OCPP 1.6 in the shared shapes, 2.0.1 as they came. */
  private readonly requests: ChargerRequests;
  private readonly requests201: Requests201;

  constructor(
    private readonly cs: CentralSystem,
    private readonly settings: UpstreamSettings,
    options: { clock?: Clock; log?: Logger } = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.voice = new ProxyVoice(cs, this.log, (event, payload) => this.emit(event, payload));
    const parts = {
      cs,
      settings,
      clock: this.clock,
      voice: this.voice,
      emit: (event: string, payload: unknown) => this.emit(event, payload),
      keep: (charger: Charger) => this.keep(charger),
    };
    this.backend = new BackendCommands({ ...parts, chargers: this.chargers, closed: () => this.closed });
    this.forwarding = new Forwarding({
      ...parts,
      log: this.log,
      noteLink: (charger) => this.noteLink(charger),
    });
    const requestsHost: RequestsHost = {
      ...parts,
      forwarding: this.forwarding,
      backend: this.backend,
      charger: (identity: string) => this.chargers.get(identity) ?? this.open(identity),
      noteLink: (charger: Charger) => this.noteLink(charger),
    };
    this.requests = new ChargerRequests(requestsHost);
    this.requests201 = new Requests201(requestsHost);
    this.detach.push(
      cs.interpose({
        request: (chargePointId, action, request, local) =>
          this.requests.fromCharger(chargePointId, action, request, local),
        request201: (chargePointId, action, request, local) =>
          this.requests201.fromCharger(chargePointId, action, request, local),
        command: (chargePointId, action, request) => this.backend.ownCommand(chargePointId, action, request),
      }),
    );
    const onConnect = ({ chargePointId }: { chargePointId: string }) => void this.open(chargePointId);
    const onDisconnect = ({ chargePointId }: { chargePointId: string }) => void this.leave(chargePointId);
    cs.on('connect', onConnect);
    cs.on('disconnect', onDisconnect);
    this.detach.push(
      () => cs.off('connect', onConnect),
      () => cs.off('disconnect', onDisconnect),
    );
    // The central system stopping takes the chargers, so the links go too.
    const onState = (state: string) => {
      if (state === 'stopping' || state === 'stopped') void this.close();
      else if (state === 'listening') this.openWaiting();
    };
    cs.on('state', onState);
    this.detach.push(() => cs.off('state', onState));
    // A link kept for what waits (the charger is away) goes once nothing waits.
    this.on('drained', ({ chargePointId }: { chargePointId: string }) => {
      const charger = this.chargers.get(chargePointId);
      if (charger && !cs.isConnected(chargePointId)) void charger.link.close();
    });
    for (const chargePointId of cs.connectedChargePoints()) this.open(chargePointId);
    this.openWaiting();
  }

  /** Every charger's link. */
  status(): UpstreamLinkStatus[] {
    return [...this.chargers.values()].map((charger) => this.statusOf(charger));
  }

  /** Stops every link; the chargers stay connected to ampflow. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const undo of this.detach.splice(0)) undo();
    for (const charger of this.chargers.values()) {
      this.clock.clearTimeout(charger.operatorTimer);
      charger.queue.close();
    }
    await Promise.all([...this.chargers.values()].map((charger) => charger.link.close()));
    await this.writes.flush();
    this.chargers.clear();
  }

  // ---- the links -----------------------------------------------------------------------------

  private open(identity: string): Charger {
    const existing = this.chargers.get(identity);
    const kept = (this.cs.storedData(identity, 'upstream') ?? {}) as Kept;
    // The link speaks the charger's version: its connection's, or the one it last spoke (kept).
    const protocol = this.cs.protocolOf(identity) ?? existing?.link.protocol ?? kept.protocol ?? 'ocpp1.6';
    if (existing && existing.link.state !== 'closed') {
      if (existing.link.protocol === protocol) return existing;
      // The charger came back speaking another version (a firmware update): so does its link.
      void existing.link.close();
    }
    const link = new UpstreamLink({
      identity,
      protocol,
      settings: this.settings,
      clock: this.clock,
      log: this.log,
      handle: (action, request) => this.backend.fromUpstream(identity, action, request),
    });
    const charger: Charger = {
      identity,
      link,
      ids: existing?.ids ?? new TxIds(kept.ids),
      queue: existing?.queue ?? new BackendQueue(identity, this.cs, this.clock, this.log, kept.queue),
      draining: false,
      ...((existing?.boot ?? kept.boot) ? { boot: existing?.boot ?? kept.boot } : {}),
      bootAccepted: existing?.bootAccepted ?? kept.bootAccepted === true,
      introduced: false,
      operator: existing?.operator ?? new OperatorProfiles(kept.operator),
    };
    this.chargers.set(identity, charger);
    const before = existing?.link.protocol ?? kept.protocol;
    if (before !== undefined && before !== protocol) void versionChanged(charger, before, this.voice);
    if (charger.queue.length > 0) charger.backlog = true;
    // A queue an earlier version kept in the facts is now in entries: the facts lose it.
    if (!existing && kept.queue) void this.keep(charger);
    // The version is kept before anything waits: a link opened after a restart for what waits
    // (the charger away) must speak it, or the backend could not take what waits.
    else if (kept.protocol !== protocol) void this.keep(charger);
    link.on('state', (state: LinkState) => {
      this.emit('link', this.statusOf(charger));
      this.noteLink(charger);
      if (state === 'open') this.voice.report({ chargePointId: identity, kind: 'linkUp' });
      else if (state === 'connecting') {
        this.voice.report({ chargePointId: identity, kind: 'linkDown', queued: charger.queue.length });
      }
    });
    link.on('up', () => {
      charger.introduced = false;
      void this.forwarding.drain(charger);
    });
    link.on('down', () => this.forwarding.linkDown(charger));
    link.start();
    if (!existing) this.backend.applyOperator(charger);
    return charger;
  }

  /**
   * The charger left ampflow: its upstream sees it leave too, once what waits for the backend went
   * up (a charger that left during an outage still has its stop delivered).
   */
  private async leave(identity: string): Promise<void> {
    const charger = this.chargers.get(identity);
    if (!charger || charger.queue.length > 0) return;
    await charger.link.close();
  }

  /** A link for every charger whose requests wait for the backend, connected or not (after a restart). */
  private openWaiting(): void {
    if (this.closed || this.cs.state !== 'listening') return;
    for (const { chargePointId } of this.cs.chargePoints()) {
      if (this.chargers.has(chargePointId)) continue;
      if (Object.keys(this.cs.entriesOf(chargePointId, 'upstream')).length > 0) this.open(chargePointId);
    }
  }

  /** Tells the central system the link's state for dashboards (ListConnectors rows). */
  private noteLink(charger: Charger): void {
    if (charger.link.state === 'closed') this.cs.noteBackendLink(charger.identity, undefined);
    else {
      this.cs.noteBackendLink(charger.identity, {
        state: charger.link.isOpen ? 'connected' : 'not reached',
        queued: charger.queue.length,
        ...(charger.decidedLocally ? { decidedLocally: charger.decidedLocally } : {}),
      });
    }
  }

  private statusOf(charger: Charger): UpstreamLinkStatus {
    return {
      chargePointId: charger.identity,
      state: charger.link.state,
      queued: charger.queue.length,
      ...(charger.decidedLocally ? { decidedLocally: charger.decidedLocally } : {}),
    };
  }

  private keep(charger: Charger): Promise<void> {
    this.noteLink(charger);
    return this.writes.request(charger);
  }

  private async write(charger: Charger): Promise<void> {
    const kept: Kept = {
      protocol: charger.link.protocol,
      ids: charger.ids.toJSON(),
      ...(charger.boot ? { boot: charger.boot } : {}),
      ...(charger.bootAccepted ? { bootAccepted: true } : {}),
      ...(charger.operator.empty ? {} : { operator: charger.operator.toJSON() }),
    };
    await this.cs.storeData(charger.identity, 'upstream', kept).catch((err: Error) => {
      this.log.error(`keeping the upstream queue of ${charger.identity} failed: ${err.message}`);
    });
  }
}
