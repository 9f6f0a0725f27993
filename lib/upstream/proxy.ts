import { EventEmitter } from 'node:events';
import { type Clock, systemClock, type TimerHandle } from '../clock';
import { isCommandFailure } from '../contracts';
import { type Logger, silentLogger } from '../log';
import type { CentralSystemAction, ChargePointAction } from '../ocpp/actions';
import type { CentralSystem } from '../ocpp/central-system';
import type { ClearChargingProfileRequest, OcppAction, SetChargingProfileRequest } from '../ocpp/messages';
import { ocppError } from '../ocpp/validation';
import type { InstalledProfile } from '../sim/smart-charging';
import { LatestWrites } from './latest-writes';
import { type LinkState, UpstreamLink, UpstreamUnreachable } from './link';
import { type OperatorConnector, OperatorProfiles } from './operator-profiles';
import { DECIDED_ACTIONS, type DecidedAction, spellIdTag, type UpstreamSettings } from './settings';
import { type TxIdEntry, TxIds } from './tx-ids';

/** A charger's request on its way upstream, as the charger sent it (its own transaction ids). */
interface Queued {
  action: ChargePointAction;
  request: Record<string, unknown>;
}

/** What the proxy keeps per charger in the charger's durable record (facts of the room 'upstream'). */
interface Kept {
  ids?: { entries?: TxIdEntry[]; ended?: number[] };
  queue?: Queued[];
  boot?: Record<string, unknown>;
  /** The backend's charging profiles (smartCharging: compose). */
  operator?: InstalledProfile[];
}

interface Charger {
  identity: string;
  link: UpstreamLink;
  ids: TxIds;
  /** Requests waiting to go upstream, in the order the charger sent them. */
  queue: Queued[];
  draining: boolean;
  /** The charger's last BootNotification request, sent upstream first on every new link. */
  boot?: Record<string, unknown>;
  /** The link has told the upstream of the charger (boot sent) since it opened. */
  introduced: boolean;
  /** The backend's charging profiles, kept here (smartCharging: compose). */
  operator: OperatorProfiles;
  /** When the backend's profiles next change a connector's limit. */
  operatorTimer?: TimerHandle;
}

/** A charger's link as the status, sidebar and dashboard show it. */
export interface UpstreamLinkStatus {
  chargePointId: string;
  state: LinkState;
  queued: number;
}

/** Decided by a CALL from the charger that is not worth keeping while the upstream is away. */
const NOT_QUEUED: readonly ChargePointAction[] = [
  'Heartbeat',
  'Authorize',
  'BootNotification',
  'DataTransfer',
];

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
 * Events: `link` (UpstreamLinkStatus), `forwarded` ({ chargePointId, action, direction }),
 * `refused` ({ chargePointId, action, reason }), `replayed` ({ chargePointId, action }), `drained`
 * ({ chargePointId }: nothing waits for its upstream any more).
 */
export class UpstreamProxy extends EventEmitter {
  private readonly chargers = new Map<string, Charger>();
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Refusals already logged (each cause once per charger). */
  private readonly told = new Set<string>();
  private readonly detach: (() => void)[] = [];
  /** Who waits for the upstream's answer to a queued request (the charger, for what the upstream decides). */
  private readonly waiters = new Map<Queued, (answer: Record<string, unknown> | undefined) => void>();
  /** Requests on their way upstream right now. */
  private readonly inFlight = new Set<Queued>();
  /** Each charger's facts written durably, one write in flight per charger (a burst shares one). */
  private readonly writes = new LatestWrites<Charger>((charger) => this.write(charger));
  private closed = false;

  constructor(
    private readonly cs: CentralSystem,
    private readonly settings: UpstreamSettings,
    options: { clock?: Clock; log?: Logger } = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.detach.push(
      cs.interpose({
        request: (chargePointId, action, request, local) =>
          this.fromCharger(chargePointId, action, request, local),
        command: (chargePointId, action, request) => this.ownCommand(chargePointId, action, request),
      }),
    );
    const onConnect = ({ chargePointId }: { chargePointId: string }) => this.open(chargePointId);
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
    };
    cs.on('state', onState);
    this.detach.push(() => cs.off('state', onState));
    for (const chargePointId of cs.connectedChargePoints()) this.open(chargePointId);
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
    for (const charger of this.chargers.values()) this.clock.clearTimeout(charger.operatorTimer);
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
      handle: (action, request) => this.fromUpstream(identity, action, request),
    });
    const charger: Charger = {
      identity,
      link,
      ids: existing?.ids ?? new TxIds(kept.ids),
      queue: existing?.queue ?? [...(kept.queue ?? [])],
      draining: false,
      ...((existing?.boot ?? kept.boot) ? { boot: existing?.boot ?? kept.boot } : {}),
      introduced: false,
      operator: existing?.operator ?? new OperatorProfiles(kept.operator),
    };
    this.chargers.set(identity, charger);
    link.on('state', () => this.emit('link', this.statusOf(charger)));
    link.on('up', () => {
      charger.introduced = false;
      void this.drain(charger);
    });
    link.on('down', () => {
      // What waits for an answer gets ampflow's now; the queue waits for the link.
      for (const item of charger.queue) this.waiters.get(item)?.(undefined);
    });
    link.start();
    if (!existing) this.applyOperator(charger);
    return charger;
  }

  /** The charger left ampflow: its upstream sees it leave too (what is queued stays for its return). */
  private async leave(identity: string): Promise<void> {
    const charger = this.chargers.get(identity);
    if (!charger) return;
    await charger.link.close();
  }

  private statusOf(charger: Charger): UpstreamLinkStatus {
    return { chargePointId: charger.identity, state: charger.link.state, queued: charger.queue.length };
  }

  // ---- the charger's CALLs -------------------------------------------------------------------

  private async fromCharger(
    identity: string,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    const charger = this.chargers.get(identity) ?? this.open(identity);
    const answer = await this.answerCharger(charger, action, request, local);
    if (action === 'StopTransaction')
      charger.operator.endTransaction(Number((request as { transactionId?: unknown }).transactionId));
    // A transaction starts or ends: TxProfiles and Relative schedules of the backend change with it.
    if (action === 'StartTransaction' || action === 'StopTransaction') this.applyOperator(charger);
    return answer;
  }

  private async answerCharger(
    charger: Charger,
    action: ChargePointAction,
    request: unknown,
    local: (request: unknown, decided?: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    const sent = request as Record<string, unknown>;
    const forLocal = this.toLedger(charger, sent);
    if (action === 'BootNotification') {
      charger.boot = sent;
      charger.introduced = true;
    }
    const decider = (DECIDED_ACTIONS as readonly string[]).includes(action)
      ? this.buildingDecides(sent)
        ? 'local'
        : this.settings.decide[action as DecidedAction]
      : undefined;
    let item: Queued | undefined;
    if (decider === 'upstream' && charger.link.isOpen) {
      item = { action, request: sent };
      const answer = await this.throughQueue(charger, item);
      if (answer !== undefined) return this.recordDecided(charger, action, sent, forLocal, answer, local);
    }
    const answer = (await local(forLocal)) as Record<string, unknown>;
    // A StartTransaction ampflow answered is queued with ampflow's id: the charger uses it, and
    // the upstream's id maps to it once the upstream has the start.
    let forQueue = sent;
    if (action === 'StartTransaction' && typeof answer.transactionId === 'number') {
      charger.ids.add({ chargerId: answer.transactionId, ledgerId: answer.transactionId });
      forQueue = { ...sent, transactionId: answer.transactionId };
    }
    if (action === 'StopTransaction') charger.ids.end(Number(sent.transactionId));
    const waited = item !== undefined && charger.queue.includes(item);
    if (waited && item) {
      // It waited in vain and is still queued (a transaction message): it goes as ampflow answered it.
      item.request = forQueue;
      await this.keep(charger);
    } else if (action === 'Heartbeat') {
      if (charger.link.isOpen && charger.queue.length === 0)
        void this.send(charger, { action, request: sent });
    } else if (!NOT_QUEUED.includes(action)) {
      this.enqueue(charger, { action, request: forQueue });
    }
    return answer;
  }

  /** A tag of the building's own list (a staff card), where the settings keep those local. */
  private buildingDecides(sent: Record<string, unknown>): boolean {
    if (this.settings.localTags !== 'listed' || typeof sent.idTag !== 'string') return false;
    return this.cs.idTags.lookup(sent.idTag, this.clock.now()).entry !== undefined;
  }

  /**
   * Sends a request the upstream decides in its turn (after what the charger sent before it) and
   * resolves with the upstream's answer, or undefined when that cannot be had within
   * `decideWithinMs` (the link is away, the queue is long, the upstream refused it): ampflow
   * decides then. A transaction message stays queued for the upstream; the others are dropped.
   */
  private throughQueue(charger: Charger, item: Queued): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (answer: Record<string, unknown> | undefined) => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        this.waiters.delete(item);
        if (answer === undefined && NOT_QUEUED.includes(item.action)) {
          const at = charger.queue.indexOf(item);
          if (at > 0 || (at === 0 && !this.inFlight.has(item))) charger.queue.splice(at, 1);
        }
        resolve(answer);
      };
      const timer = this.clock.setTimeout(() => finish(undefined), this.settings.decideWithinMs);
      this.waiters.set(item, finish);
      this.enqueue(charger, item);
    });
  }

  /** Records in ampflow what the upstream decided and gives the charger the upstream's answer. */
  private async recordDecided(
    charger: Charger,
    action: ChargePointAction,
    sent: Record<string, unknown>,
    forLocal: Record<string, unknown>,
    answer: Record<string, unknown>,
    local: (request: unknown, decided?: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    const own = (await local(forLocal, action === 'BootNotification' ? undefined : answer)) as Record<
      string,
      unknown
    >;
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
      // The charger must keep the heartbeat ampflow's dead-connection watch counts on.
      const interval = Math.min(
        Number(answer.interval) > 0 ? Number(answer.interval) : Number.POSITIVE_INFINITY,
        Number(own.interval) > 0 ? Number(own.interval) : Number.POSITIVE_INFINITY,
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

  /**
   * A charger request as the upstream must see it: its id tag spelt, its transaction by the
   * upstream's id; undefined for a StopTransaction of a transaction the upstream never got.
   */
  private forUpstream(charger: Charger, action: ChargePointAction, sent: Record<string, unknown>): unknown {
    const out: Record<string, unknown> = { ...sent };
    if (typeof out.idTag === 'string') out.idTag = spellIdTag(out.idTag, this.settings.idTagCase);
    if (action === 'StartTransaction') delete out.transactionId;
    else if (typeof out.transactionId === 'number') {
      const entry = charger.ids.byCharger(out.transactionId);
      if (entry?.upstreamId !== undefined) out.transactionId = entry.upstreamId;
      // A MeterValues of a transaction the upstream never heard of is still a meter reading.
      else if (entry) delete out.transactionId;
    }
    if (action === 'StopTransaction' && out.transactionId === undefined) return undefined;
    return out;
  }

  // ---- the queue: what waits for the upstream --------------------------------------------------

  private enqueue(charger: Charger, item: Queued): void {
    charger.queue.push(item);
    if (!this.waiters.has(item)) void this.keep(charger);
    void this.drain(charger);
  }

  /** Sends what waits, in order, while the link is open; the charger introduced first on a new link. */
  private async drain(charger: Charger): Promise<void> {
    if (charger.draining) return;
    charger.draining = true;
    try {
      if (charger.link.isOpen && !charger.introduced) await this.introduce(charger);
      while (charger.link.isOpen && charger.queue.length > 0) {
        const item = charger.queue[0] as Queued;
        const sent = await this.send(charger, item);
        if (sent === 'unreachable') {
          this.waiters.get(item)?.(undefined);
          return;
        }
        if (charger.queue[0] === item) charger.queue.shift();
        await this.keep(charger);
        if (charger.queue.length === 0) this.emit('drained', { chargePointId: charger.identity });
      }
    } catch (err) {
      this.log.error(`forwarding to the upstream of ${charger.identity} failed: ${(err as Error).message}`);
    } finally {
      charger.draining = false;
    }
  }

  /** Sends one request upstream; its answer goes to whoever waits for it. */
  private async send(charger: Charger, item: Queued): Promise<'sent' | 'unreachable'> {
    const request = this.forUpstream(charger, item.action, item.request);
    if (request === undefined) return 'sent';
    let answer: Record<string, unknown> | undefined;
    this.inFlight.add(item);
    try {
      answer = (await charger.link.call(item.action, request)) as Record<string, unknown>;
      this.emit('forwarded', { chargePointId: charger.identity, action: item.action, direction: 'up' });
    } catch (err) {
      if (err instanceof UpstreamUnreachable) return 'unreachable';
      this.tell(
        charger.identity,
        `upstream refused ${item.action} (${(err as Error).message}); ampflow answered it`,
      );
    } finally {
      this.inFlight.delete(item);
    }
    const waiter = this.waiters.get(item);
    if (waiter) waiter(answer);
    else if (item.action === 'StartTransaction' && typeof answer?.transactionId === 'number') {
      // Replayed: the charger keeps ampflow's id; the upstream's maps to it from now on.
      charger.ids.setUpstream(item.request.transactionId as number, answer.transactionId);
      this.emit('replayed', { chargePointId: charger.identity, action: item.action });
    } else if (!waiter) this.emit('replayed', { chargePointId: charger.identity, action: item.action });
    return 'sent';
  }

  /** A link that opened tells the upstream of the charger first: its boot and its connectors' status. */
  private async introduce(charger: Charger): Promise<void> {
    if (!charger.boot) return;
    await charger.link.call('BootNotification', charger.boot).catch((err: Error) => {
      if (!(err instanceof UpstreamUnreachable))
        this.tell(charger.identity, `upstream refused the boot (${err.message})`);
    });
    for (const state of this.cs.connectorsOf(charger.identity)) {
      if (!state.status) continue;
      const status = {
        connectorId: state.connectorId,
        status: state.status,
        errorCode: state.errorCode ?? 'NoError',
        ...(state.statusAt ? { timestamp: state.statusAt } : {}),
      };
      await charger.link.call('StatusNotification', status).catch(() => undefined);
    }
    charger.introduced = true;
  }

  private keep(charger: Charger): Promise<void> {
    return this.writes.request(charger);
  }

  private async write(charger: Charger): Promise<void> {
    const kept: Kept = {
      ids: charger.ids.toJSON(),
      queue: charger.queue.filter((item) => !NOT_QUEUED.includes(item.action)),
      ...(charger.boot ? { boot: charger.boot } : {}),
      ...(charger.operator.empty ? {} : { operator: charger.operator.toJSON() }),
    };
    await this.cs.keepFacts(charger.identity, 'upstream', kept).catch((err: Error) => {
      this.log.error(`keeping the upstream queue of ${charger.identity} failed: ${err.message}`);
    });
  }

  // ---- the upstream's CALLs and ampflow's own commands -------------------------------------------

  private async fromUpstream(identity: string, action: OcppAction, request: unknown): Promise<unknown> {
    const charger = this.chargers.get(identity);
    const command = action as CentralSystemAction;
    if (this.settings.refuse.includes(command)) {
      this.refuse(identity, action, 'refused by the proxy settings (upstream.refuse)');
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    if (
      charger &&
      this.settings.smartCharging === 'compose' &&
      (action === 'SetChargingProfile' || action === 'ClearChargingProfile')
    ) {
      return this.composeProfile(charger, action, request);
    }
    if (
      this.settings.smartCharging === 'refuse' &&
      (action === 'SetChargingProfile' || action === 'ClearChargingProfile')
    ) {
      this.refuse(identity, action, 'smart charging from the backend is refused (upstream.smartCharging)');
      throw ocppError('NotSupported', `${action} from the upstream is not passed to ${identity} by ampflow`);
    }
    const key = (request as { key?: unknown }).key;
    if (
      action === 'ChangeConfiguration' &&
      typeof key === 'string' &&
      this.settings.protectedKeys.includes(key)
    ) {
      this.refuse(identity, action, `${key} is a key ampflow relies on (upstream.protectedKeys)`);
      return { status: 'Rejected' };
    }
    const out = { ...(request as Record<string, unknown>) };
    if (charger && typeof out.transactionId === 'number') {
      out.transactionId = charger.ids.upstreamToCharger(out.transactionId);
    }
    try {
      const answer = await this.cs.call(identity, command, out as never, { verbatim: true });
      this.emit('forwarded', { chargePointId: identity, action, direction: 'down' });
      return answer;
    } catch (err) {
      const failure = err as Error & { code?: string; ocppErrorCode?: string };
      if (isCommandFailure(failure) && failure.ocppErrorCode)
        throw ocppError(failure.ocppErrorCode as never, failure.message);
      throw ocppError('GenericError', failure.message);
    }
  }

  // ---- the backend's charging profiles, composed with the load manager's limit ------------------

  /** The backend's SetChargingProfile or ClearChargingProfile, kept here; the load manager applies it. */
  private async composeProfile(charger: Charger, action: OcppAction, request: unknown): Promise<unknown> {
    const nowMs = this.clock.now();
    let answer: { status: string; reason?: string };
    if (action === 'SetChargingProfile') {
      const set = request as SetChargingProfileRequest;
      answer = charger.operator.set(set, this.transactionOn(charger, set.connectorId), nowMs);
      if (answer.reason) this.tell(charger.identity, `backend's charging profile rejected: ${answer.reason}`);
    } else {
      answer = charger.operator.clear(request as ClearChargingProfileRequest, nowMs);
    }
    this.applyOperator(charger);
    await this.keep(charger);
    this.emit('forwarded', { chargePointId: charger.identity, action, direction: 'composed' });
    return { status: answer.status };
  }

  /** The transaction running on a connector: the charger's id and the backend's id for it. */
  private transactionOn(
    charger: Charger,
    connectorId: number,
  ): { chargerId: number; upstreamId: number } | undefined {
    const ledgerId = this.cs.connectorOf(charger.identity, connectorId)?.transaction?.transactionId;
    if (ledgerId === undefined) return undefined;
    const chargerId = charger.ids.ledgerToCharger(ledgerId);
    return { chargerId, upstreamId: charger.ids.byCharger(chargerId)?.upstreamId ?? chargerId };
  }

  /** Tells the central system what the backend's profiles allow each connector now, and when to look again. */
  private applyOperator(charger: Charger): void {
    this.clock.clearTimeout(charger.operatorTimer);
    charger.operatorTimer = undefined;
    if (this.closed) return;
    const connectors: OperatorConnector[] = this.cs
      .connectorsOf(charger.identity)
      .filter((state) => state.connectorId > 0)
      .map((state) => {
        const tx = state.transaction;
        const startMs = tx ? Date.parse(tx.startedAt) : Number.NaN;
        return {
          connectorId: state.connectorId,
          ...(tx
            ? {
                transaction: {
                  chargerId: charger.ids.ledgerToCharger(tx.transactionId),
                  startMs: Number.isFinite(startMs) ? startMs : this.clock.now(),
                },
              }
            : {}),
        };
      });
    const nowMs = this.clock.now();
    for (const [connectorId, limitA] of charger.operator.limitsAt(connectors, nowMs)) {
      this.cs.setOperatorLimit(charger.identity, connectorId, limitA);
    }
    const next = charger.operator.nextChangeAfter(connectors, nowMs);
    if (next !== undefined) {
      charger.operatorTimer = this.clock.setTimeout(
        () => this.applyOperator(charger),
        Math.max(0, next - nowMs),
      );
    }
  }

  /** ampflow's own command: its transaction ids become the charger's. */
  private ownCommand(identity: string, action: CentralSystemAction, request: unknown): unknown {
    const charger = this.chargers.get(identity);
    if (!charger) return request;
    const out = request as Record<string, unknown>;
    if (action === 'RemoteStopTransaction' && typeof out.transactionId === 'number') {
      return { ...out, transactionId: charger.ids.ledgerToCharger(out.transactionId) };
    }
    const profile = out.csChargingProfiles as Record<string, unknown> | undefined;
    if (action === 'SetChargingProfile' && typeof profile?.transactionId === 'number') {
      return {
        ...out,
        csChargingProfiles: { ...profile, transactionId: charger.ids.ledgerToCharger(profile.transactionId) },
      };
    }
    return request;
  }

  private refuse(identity: string, action: string, reason: string): void {
    this.emit('refused', { chargePointId: identity, action, reason });
    this.tell(identity, `upstream sent ${action}: ${reason}`);
  }

  /** Logs a cause once per charger. */
  private tell(identity: string, message: string): void {
    const key = `${identity}\u0000${message}`;
    if (this.told.has(key)) return;
    if (this.told.size > 1000) this.told.clear();
    this.told.add(key);
    this.log.warn(`${identity}: ${message}`);
  }
}
