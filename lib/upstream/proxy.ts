import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock';
import { type Logger, silentLogger } from '../log';
import type { ChargePointAction } from '../ocpp/actions';
import type { CentralSystem } from '../ocpp/central-system';
import type { MaybePromise } from '../ocpp/central-types';
import { BackendCommands } from './backend-commands';
import { type Charger, type Kept, ProxyVoice, type Queued, type UpstreamLinkStatus } from './charger';
import { Forwarding, TRANSACTION_ENDS } from './forwarding';
import { LatestWrites } from './latest-writes';
import { type LinkState, UpstreamLink } from './link';
import { OperatorProfiles } from './operator-profiles';
import { BackendQueue, NEVER_KEPT } from './queue';
import { DECIDED_ACTIONS, type DecidedAction, type UpstreamSettings } from './settings';
import { TxIds } from './tx-ids';

export type { UpstreamLinkStatus } from './charger';

/** A transaction's MeterValues not at the backend within this long are written and answered (ms). */
export const METER_VALUES_ACK_MS = 50;

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
    this.detach.push(
      cs.interpose({
        request: (chargePointId, action, request, local) =>
          this.fromCharger(chargePointId, action, request, local),
        command: (chargePointId, action, request) => this.backend.ownCommand(chargePointId, action, request),
      }),
    );
    const onConnect = ({ chargePointId, protocol }: { chargePointId: string; protocol?: string }) => {
      // The link to the backend speaks 1.6: a 2.0.1 charger is answered by ampflow alone (for now).
      if (protocol === 'ocpp2.0.1') {
        this.log.warn(
          `charge point ${chargePointId} speaks OCPP 2.0.1: its messages are not passed to the operator's backend, which ampflow reaches over OCPP 1.6; ampflow answers it itself`,
        );
        return;
      }
      this.open(chargePointId);
    };
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
    if (existing && existing.link.state !== 'closed') return existing;
    const kept = (this.cs.factsOf(identity, 'upstream') ?? {}) as Kept;
    const link = new UpstreamLink({
      identity,
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
    if (charger.queue.length > 0) charger.backlog = true;
    // A queue an earlier version kept in the facts is now in entries: the facts lose it.
    if (!existing && kept.queue) void this.keep(charger);
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

  // ---- the charger's CALLs -------------------------------------------------------------------

  private async fromCharger(
    identity: string,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const charger = this.chargers.get(identity) ?? this.open(identity);
    const connectorId = Number((request as { connectorId?: unknown }).connectorId);
    if (action === 'StartTransaction') this.backend.transactionStarting(charger, connectorId);
    const answer = await this.answerCharger(charger, action, request, local);
    if (action === 'StopTransaction')
      charger.operator.endTransaction(Number((request as { transactionId?: unknown }).transactionId));
    if (
      action === 'StartTransaction' &&
      (answer as { idTagInfo?: { status?: string } }).idTagInfo?.status === 'Accepted'
    )
      this.backend.transactionStarted(charger, connectorId);
    // A transaction starts or ends: TxProfiles and Relative schedules of the backend change with it.
    if (action === 'StartTransaction' || action === 'StopTransaction') this.backend.applyOperator(charger);
    return answer;
  }

  private async answerCharger(
    charger: Charger,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    try {
      return await this.answerOrDecide(charger, action, request, local);
    } finally {
      if (action === 'BootNotification') charger.booting = false;
    }
  }

  private async answerOrDecide(
    charger: Charger,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const sent = request as Record<string, unknown>;
    const forLocal = this.toLedger(charger, sent);
    if (action === 'BootNotification') {
      charger.boot = sent;
      charger.bootAccepted = false;
      void this.keep(charger);
    }
    const decider = (DECIDED_ACTIONS as readonly string[]).includes(action)
      ? this.buildingDecides(sent)
        ? 'local'
        : this.settings.decide[action as DecidedAction]
      : undefined;
    let item: Queued | undefined;
    if (decider === 'upstream') {
      const startedMs = this.clock.now();
      // A charger that calls as soon as it connects (what real chargers do) waits for its first
      // link within the decision time; a backend already found away is not waited for again.
      if (charger.link.firstTry) {
        // The boot itself goes up: the opening link tells nothing in its name meanwhile.
        if (action === 'BootNotification') charger.booting = true;
        await this.linkOpens(charger, this.settings.decideWithinMs);
      }
      if (charger.link.isOpen) {
        item = { action, request: sent, decides: true };
        const withinMs = this.settings.decideWithinMs - (this.clock.now() - startedMs);
        const answer = await this.forwarding.throughQueue(charger, item, withinMs);
        if (answer !== undefined) return this.recordDecided(charger, action, sent, forLocal, answer, local);
      }
      const timedOut = this.clock.now() - startedMs >= this.settings.decideWithinMs;
      this.decidedLocally(charger, action, timedOut);
    }
    const answer = (await local(forLocal)) as Record<string, unknown>;
    // A transaction's meter values (OCPP 1.6 §4.7: the charger keeps them until they are answered)
    // are answered once the backend has them, or once written if it has not taken them within
    // METER_VALUES_ACK_MS: a present backend costs no write per meter value (a site's SD card), a
    // hung or slow one never holds the charger longer than that and a write.
    if (action === 'MeterValues' && typeof sent.transactionId === 'number' && charger.link.isOpen) {
      item = { action, request: sent, decides: true };
      if ((await this.forwarding.throughQueue(charger, item, METER_VALUES_ACK_MS)) !== undefined)
        return answer;
    }
    // A StartTransaction ampflow answered is queued with ampflow's id: the charger uses it, and
    // the upstream's id maps to it once the upstream has the start.
    let forQueue = sent;
    if (action === 'StartTransaction' && typeof answer.transactionId === 'number') {
      charger.ids.add({ chargerId: answer.transactionId, ledgerId: answer.transactionId });
      forQueue = { ...sent, transactionId: answer.transactionId };
    }
    if (action === 'StopTransaction') charger.ids.end(Number(sent.transactionId));
    // The ids first: a start written without its ids would come back after a crash unmapped.
    const ids = TRANSACTION_ENDS.includes(action) ? this.keep(charger) : undefined;
    const waited = item !== undefined && charger.queue.items.includes(item);
    if (waited && item) {
      // It waited in vain and is still queued (a transaction message): written, it goes as ampflow
      // answered it.
      item.request = forQueue;
      item.decides = false;
      await Promise.all([ids, charger.queue.keep(item)]);
    } else if (action === 'Heartbeat') {
      if (charger.link.isOpen && charger.queue.length === 0)
        void this.forwarding.send(charger, { action, request: sent });
    } else if (!NEVER_KEPT.includes(action)) {
      // Durable before the charger has its answer (it will not send this message again) where it
      // must wait for the backend, and always for a transaction's start and stop. A status or a
      // meter value outside a transaction that reaches a present backend within a second is not
      // written at all (lib/upstream/queue): a crash in that second loses it (as a charger may, and
      // a new link tells the backend every status again), and a site's storage (an SD card) is not
      // written for every message.
      const durable = !charger.link.isOpen || TRANSACTION_ENDS.includes(action);
      await Promise.all([ids, this.forwarding.enqueue(charger, { action, request: forQueue }, durable)]);
    }
    return answer;
  }

  /** Resolves once the charger's link opens, its try fails, or `withinMs` passed. */
  private linkOpens(charger: Charger, withinMs: number): Promise<void> {
    const link = charger.link;
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        link.off('up', done);
        link.off('retrying', done);
        link.off('state', onState);
        resolve();
      };
      const onState = (state: LinkState) => {
        if (state === 'closed') done();
      };
      const timer = this.clock.setTimeout(done, withinMs);
      link.on('up', done);
      link.on('retrying', done);
      link.on('state', onState);
    });
  }

  /**
   * ampflow answered in the backend's place what the backend decides: said in the log (once per
   * charger and cause), to the flows (an Upstream event) and in the sidebar.
   */
  private decidedLocally(charger: Charger, action: ChargePointAction, timedOut: boolean): void {
    const why = !charger.link.isOpen
      ? 'the backend is not reached'
      : timedOut
        ? `the backend did not answer within ${this.settings.decideWithinMs / 1000} s`
        : 'the backend answered it with an error';
    const reason = `${why}: ampflow answered ${action} by its own policy`;
    this.voice.tell(charger.identity, reason);
    this.voice.report({ chargePointId: charger.identity, kind: 'decidedLocally', action, reason });
    charger.decidedLocally = `${action} at ${new Date(this.clock.now()).toISOString()}: ${why}`;
    this.noteLink(charger);
  }

  /** A tag of the building's own list (a staff card), where the settings keep those local. */
  private buildingDecides(sent: Record<string, unknown>): boolean {
    if (this.settings.localTags !== 'listed' || typeof sent.idTag !== 'string') return false;
    return this.cs.idTags.lookup(sent.idTag, this.clock.now()).entry !== undefined;
  }

  /** Records in ampflow what the upstream decided and gives the charger the upstream's answer. */
  private async recordDecided(
    charger: Charger,
    action: ChargePointAction,
    sent: Record<string, unknown>,
    forLocal: Record<string, unknown>,
    answer: Record<string, unknown>,
    local: (request: unknown, decided?: unknown) => MaybePromise<unknown>,
  ): Promise<unknown> {
    const own = (await local(forLocal, answer)) as Record<string, unknown>;
    if (action === 'StartTransaction') {
      const upstreamId = answer.transactionId as number;
      charger.ids.add({ chargerId: upstreamId, ledgerId: own.transactionId as number, upstreamId });
      await this.keep(charger);
      return answer;
    }
    if (action === 'StopTransaction') {
      charger.ids.end(Number(sent.transactionId));
      await this.keep(charger);
    }
    if (action === 'BootNotification') {
      // A charger blocked in ampflow (the building's decision) stays Rejected.
      if (own.status === 'Rejected' && answer.status !== 'Rejected') return own;
      if (answer.status === 'Accepted' && charger.boot === sent) {
        charger.bootAccepted = true;
        void this.keep(charger);
      }
      // An accepted charger must keep the heartbeat ampflow's dead-connection watch counts on; a
      // Pending or Rejected one boots again when the backend says.
      if (answer.status !== 'Accepted') return answer;
      const interval = Math.min(
        Number(answer.interval) > 0 ? Number(answer.interval) : Number.POSITIVE_INFINITY,
        this.cs.heartbeatIntervalS(),
      );
      return Number.isFinite(interval) ? { ...answer, interval } : answer;
    }
    return answer;
  }

  /** A charger request as ampflow's own handling must see it: its transaction by the ledger's id. */
  private toLedger(charger: Charger, sent: Record<string, unknown>): Record<string, unknown> {
    if (typeof sent.transactionId !== 'number') return sent;
    const ledgerId = charger.ids.toLedger(sent.transactionId);
    return ledgerId === sent.transactionId ? sent : { ...sent, transactionId: ledgerId };
  }

  private keep(charger: Charger): Promise<void> {
    this.noteLink(charger);
    return this.writes.request(charger);
  }

  private async write(charger: Charger): Promise<void> {
    const kept: Kept = {
      ids: charger.ids.toJSON(),
      ...(charger.boot ? { boot: charger.boot } : {}),
      ...(charger.bootAccepted ? { bootAccepted: true } : {}),
      ...(charger.operator.empty ? {} : { operator: charger.operator.toJSON() }),
    };
    await this.cs.keepFacts(charger.identity, 'upstream', kept).catch((err: Error) => {
      this.log.error(`keeping the upstream queue of ${charger.identity} failed: ${err.message}`);
    });
  }
}
