import type { Clock } from '../clock';
import type { Logger } from '../log';
import type { CentralSystem } from '../ocpp/central-system';
import { OCPP201 } from '../ocpp/v201/schemas';
import type { Charger, ProxyVoice } from './charger';
import { UpstreamUnreachable } from './link';
import { NEVER_KEPT, type Queued } from './queue';
import { spellIdTag, type UpstreamSettings } from './settings';

/**
 * The messages that open and close a transaction at the backend: never sent twice, never lost, never
 * given way for a long queue (1.6's StartTransaction and StopTransaction, 2.0.1's TransactionEvent
 * Started and Ended).
 */
export function endsTransaction(action: string, request: Record<string, unknown>): boolean {
  if (action === 'TransactionEvent') return request.eventType === 'Started' || request.eventType === 'Ended';
  return action === 'StartTransaction' || action === 'StopTransaction';
}

/** Requests kept per charger for an absent backend (a charger metering every minute: about a week). */
const MAX_QUEUED = 10_000;

/** What the forwarding needs of the proxy. */
export interface ForwardingHost {
  cs: CentralSystem;
  settings: UpstreamSettings;
  clock: Clock;
  log: Logger;
  voice: ProxyVoice;
  emit(event: string, payload: unknown): void;
  /** Keeps the charger's facts (its transaction ids) durably. */
  keep(charger: Charger): Promise<void>;
  /** Tells the central system the link's state (dashboards). */
  noteLink(charger: Charger): void;
}

/**
 * The way up (lib/upstream): each charger's requests go to its backend in the order the charger
 * sent them, one at a time (OCPP-J), as the backend must see them (its transaction ids, id tags
 * spelt its way); a backend that has not accepted the charger's latest boot is told it first on a
 * new link, and the connectors' status after what waited; what the charger waits for the backend to decide is answered to its waiter, or given
 * up after `decideWithinMs`.
 */
export class Forwarding {
  /** Who waits for the upstream's answer to a queued request (the charger, for what the upstream decides). */
  private readonly waiters = new Map<Queued, (answer: Record<string, unknown> | undefined) => void>();
  /** Requests on their way upstream right now. */
  private readonly inFlight = new Set<Queued>();

  constructor(private readonly host: ForwardingHost) {}

  /** The link went down: what waits for an answer gets ampflow's now; the queue waits, written. */
  linkDown(charger: Charger): void {
    charger.backlog = charger.queue.length > 0;
    for (const item of [...charger.queue.items]) this.waiters.get(item)?.(undefined);
    void charger.queue.writeAll();
  }

  /**
   * Sends a request the upstream decides in its turn (after what the charger sent before it) and
   * resolves with the upstream's answer, or undefined when that cannot be had within
   * `decideWithinMs` (the link is away, the queue is long, the upstream refused it): ampflow
   * decides then. A transaction message stays queued for the upstream; the others are dropped.
   */
  throughQueue(
    charger: Charger,
    item: Queued,
    withinMs = this.host.settings.decideWithinMs,
  ): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (answer: Record<string, unknown> | undefined) => {
        if (done) return;
        done = true;
        this.host.clock.clearTimeout(timer);
        this.waiters.delete(item);
        if (answer === undefined && NEVER_KEPT.includes(item.action)) {
          const at = charger.queue.items.indexOf(item);
          if (at > 0 || (at === 0 && !this.inFlight.has(item))) void charger.queue.remove(item);
        }
        resolve(answer);
      };
      const timer = this.host.clock.setTimeout(() => finish(undefined), Math.max(0, withinMs));
      this.waiters.set(item, finish);
      void this.enqueue(charger, item);
    });
  }

  /**
   * A charger request as the upstream must see it: its id tag spelt, its transaction by the
   * upstream's id; undefined for a StopTransaction of a transaction the upstream never got.
   */
  private forUpstream(charger: Charger, action: string, sent: Record<string, unknown>): unknown {
    // A 2.0.1 charger names its transactions itself: only its tokens are spelt the backend's way.
    if (charger.link.protocol === OCPP201) return withTokenSpelt(sent, this.host.settings);
    const out: Record<string, unknown> = { ...sent };
    if (typeof out.idTag === 'string') out.idTag = spellIdTag(out.idTag, this.host.settings);
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

  /**
   * Queues a request for the backend; with `durable` it is written (the promise: once it is)
   * before it goes, else it is written only if it waits (lib/upstream/queue).
   */
  enqueue(charger: Charger, item: Queued, durable = true): Promise<void> {
    const kept = charger.queue.push(item, durable);
    if (!charger.link.isOpen) charger.backlog = true;
    if (charger.queue.length > MAX_QUEUED) this.trim(charger);
    void this.drain(charger);
    return kept;
  }

  /**
   * A backend away for weeks must not fill the disk: past MAX_QUEUED the oldest status reports and
   * meter values give way (a transaction's start and stop never do), said once per charger.
   */
  private trim(charger: Charger): void {
    const at = charger.queue.items.findIndex(
      (queued) => !endsTransaction(queued.action, queued.request) && !this.waiters.has(queued),
    );
    if (at === -1 || (at === 0 && charger.draining)) return;
    void charger.queue.remove(charger.queue.items[at] as Queued);
    this.host.voice.tell(
      charger.identity,
      `more than ${MAX_QUEUED} requests wait for the backend: the oldest status reports and meter values are dropped (starts and stops are kept)`,
    );
  }

  /**
   * Sends what waits, in order, while the link is open. A backend that has not accepted the
   * charger's latest boot is told it first; the connectors' status then follows what waited.
   */
  async drain(charger: Charger): Promise<void> {
    if (charger.draining) return;
    charger.draining = true;
    try {
      if (charger.link.isOpen && !charger.introduced) await this.introduce(charger);
      while (charger.link.isOpen && charger.queue.length > 0) {
        const item = charger.queue.items[0] as Queued;
        const sent = await this.send(charger, item);
        if (sent === 'unreachable') {
          this.waiters.get(item)?.(undefined);
          // What went out at once without a write now waits: written, so a crash keeps it.
          void charger.queue.writeAll();
          return;
        }
        // A start or stop the backend has must not go again after a crash: durable before the next
        // (its ids first: `send` kept them). Other messages are sent twice at worst.
        const removed = charger.queue.remove(item);
        if (endsTransaction(item.action, item.request)) await removed;
        this.host.noteLink(charger);
        if (charger.queue.length === 0) {
          this.host.emit('drained', { chargePointId: charger.identity });
          // The flows hear of it where something had to wait (the backend was away).
          if (charger.backlog)
            this.host.voice.report({ chargePointId: charger.identity, kind: 'drained', queued: 0 });
          charger.backlog = false;
        }
      }
      if (charger.link.isOpen && charger.queue.length === 0 && charger.statusesOwed) {
        charger.statusesOwed = false;
        await this.sendStatuses(charger);
      }
    } catch (err) {
      this.host.log.error(
        `forwarding to the upstream of ${charger.identity} failed: ${(err as Error).message}`,
      );
    } finally {
      charger.draining = false;
    }
  }

  /** Sends one request upstream; its answer goes to whoever waits for it. */
  async send(charger: Charger, item: Queued): Promise<'sent' | 'unreachable'> {
    const request = this.forUpstream(charger, item.action, item.request);
    if (request === undefined) return 'sent';
    let answer: Record<string, unknown> | undefined;
    this.inFlight.add(item);
    try {
      answer = (await charger.link.call(item.action, request)) as Record<string, unknown>;
      this.host.emit('forwarded', { chargePointId: charger.identity, action: item.action, direction: 'up' });
    } catch (err) {
      if (err instanceof UpstreamUnreachable) return 'unreachable';
      this.host.voice.tell(
        charger.identity,
        `upstream refused ${item.action} (${(err as Error).message}); ampflow answered it`,
      );
    } finally {
      this.inFlight.delete(item);
    }
    const waiter = this.waiters.get(item);
    if (waiter) waiter(answer);
    else if (item.action === 'StartTransaction' && typeof answer?.transactionId === 'number') {
      // Replayed: the charger keeps ampflow's id; the upstream's maps to it from now on, durably
      // before the start leaves the queue (a crash in between sends the start again, never a stop
      // that cannot be mapped).
      charger.ids.setUpstream(item.request.transactionId as number, answer.transactionId);
      await this.host.keep(charger);
      this.host.emit('replayed', { chargePointId: charger.identity, action: item.action });
    } else if (!waiter) this.host.emit('replayed', { chargePointId: charger.identity, action: item.action });
    return 'sent';
  }

  /**
   * A link that opened to a backend that has not accepted the charger's latest boot (it booted
   * while the backend was away, or before ampflow kept this backend) tells it that boot first; the
   * connectors' status is owed once what waited went up. A re-link to a backend that accepted the
   * boot tells nothing: the charger did not reboot.
   */
  private async introduce(charger: Charger): Promise<void> {
    charger.introduced = true;
    const boot = charger.boot;
    if (!boot || charger.bootAccepted || charger.booting) return;
    if (charger.queue.items.some((item) => item.action === 'BootNotification')) return;
    const answer = (await charger.link.call('BootNotification', boot).catch((err: Error) => {
      if (!(err instanceof UpstreamUnreachable))
        this.host.voice.tell(charger.identity, `upstream refused the boot (${err.message})`);
      return undefined;
    })) as { status?: string } | undefined;
    if (answer === undefined) return;
    charger.statusesOwed = true;
    if (answer.status === 'Accepted' && charger.boot === boot) {
      charger.bootAccepted = true;
      await this.host.keep(charger);
    } else if (answer.status !== 'Accepted') {
      this.host.voice.tell(
        charger.identity,
        `the backend answered the charger's boot ${String(answer.status)}; it is told again on the next link`,
      );
    }
  }

  /** Each connector's status now, as the charger last reported it. */
  private async sendStatuses(charger: Charger): Promise<void> {
    if (charger.link.protocol === OCPP201) {
      for (const status of charger.statuses201?.values() ?? [])
        await charger.link.call('StatusNotification', status).catch(() => undefined);
      return;
    }
    for (const state of this.host.cs.connectorsOf(charger.identity)) {
      if (!state.status) continue;
      const status = {
        connectorId: state.connectorId,
        status: state.status,
        errorCode: state.errorCode ?? 'NoError',
        ...(state.statusAt ? { timestamp: state.statusAt } : {}),
      };
      await charger.link.call('StatusNotification', status).catch(() => undefined);
    }
  }
}

/** A 2.0.1 request with its id token (Authorize, TransactionEvent) spelt the backend's way. */
function withTokenSpelt(sent: Record<string, unknown>, settings: UpstreamSettings): Record<string, unknown> {
  const token = sent.idToken as { idToken?: unknown } | undefined;
  if (typeof token?.idToken !== 'string') return sent;
  return { ...sent, idToken: { ...token, idToken: spellIdTag(token.idToken, settings) } };
}
