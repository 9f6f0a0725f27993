import type { Clock } from '../clock';
import type { CentralSystem } from '../ocpp/central-system';
import type { BackendCommands } from './backend-commands';
import type { Charger, ProxyVoice } from './charger';
import { endsTransaction, type Forwarding } from './forwarding';
import type { LinkState } from './link';
import { NEVER_KEPT, type Queued } from './queue';
import type { DecidedAction, UpstreamSettings } from './settings';

/** A transaction's MeterValues not at the backend within this long are written and answered (ms). */
export const METER_VALUES_ACK_MS = 50;

/** What the charger's requests need of the proxy around them. */
export interface RequestsHost {
  cs: CentralSystem;
  settings: UpstreamSettings;
  clock: Clock;
  voice: ProxyVoice;
  forwarding: Forwarding;
  backend: BackendCommands;
  /** The charger's record, its link opened if it has none. */
  charger(identity: string): Charger;
  keep(charger: Charger): Promise<void>;
  noteLink(charger: Charger): void;
}

/** What the backend said of a request it decides; `item` is the request as it went into the queue. */
export interface Decision {
  answer?: Record<string, unknown>;
  item?: Queued;
}

/**
 * The steps of a charger's CALL on its way past the proxy (lib/upstream), for both versions: what
 * the backend decides waits for it (within `decideWithinMs`), the rest is answered by ampflow and
 * goes up in order, durable as the queue's rules say. requests.ts takes a 1.6 charger's CALLs,
 * v201/requests.ts a 2.0.1 charger's.
 */
export abstract class RequestSteps {
  constructor(protected readonly host: RequestsHost) {}

  /** A BootNotification is the charger's latest boot: the backend has not accepted it yet. */
  protected noteBoot(charger: Charger, action: string, sent: Record<string, unknown>): void {
    if (action !== 'BootNotification') return;
    charger.boot = sent;
    charger.bootAccepted = false;
    void this.host.keep(charger);
  }

  /** Who decides a request of this kind: ampflow for a tag of the building's own list (settings). */
  protected decider(action: DecidedAction, idTag: string | undefined): 'upstream' | 'local' {
    return this.buildingDecides(idTag) ? 'local' : this.host.settings.decide[action];
  }

  /**
   * Asks the backend to decide a request, in its turn after what the charger sent before it. A
   * charger that calls as soon as it connects (what real chargers do) waits for its first link
   * within the decision time; a backend already found away is not waited for again. No answer in
   * time: ampflow decides, and says so.
   */
  protected async decide(charger: Charger, action: string, sent: Record<string, unknown>): Promise<Decision> {
    const { clock, settings, forwarding } = this.host;
    const startedMs = clock.now();
    if (charger.link.firstTry) {
      // The boot itself goes up: the opening link tells nothing in its name meanwhile.
      if (action === 'BootNotification') charger.booting = true;
      await this.linkOpens(charger, settings.decideWithinMs);
    }
    let item: Queued | undefined;
    if (charger.link.isOpen) {
      item = { action, request: sent, decides: true };
      const withinMs = settings.decideWithinMs - (clock.now() - startedMs);
      const answer = await forwarding.throughQueue(charger, item, withinMs);
      if (answer !== undefined) return { answer, item };
    }
    const timedOut = clock.now() - startedMs >= settings.decideWithinMs;
    this.decidedLocally(charger, action, timedOut);
    return item ? { item } : {};
  }

  /**
   * A transaction's message that ampflow answers: 'taken' once the backend has it within
   * METER_VALUES_ACK_MS; else the request as it waits in the queue (written before the answer).
   */
  protected async quickly(
    charger: Charger,
    action: string,
    sent: Record<string, unknown>,
  ): Promise<'taken' | Queued | undefined> {
    if (!charger.link.isOpen) return undefined;
    const item: Queued = { action, request: sent, decides: true };
    if ((await this.host.forwarding.throughQueue(charger, item, METER_VALUES_ACK_MS)) !== undefined)
      return 'taken';
    return item;
  }

  /**
   * After ampflow answered: the request goes up in order. Durable before the charger has its answer
   * (it will not send this message again) where it must wait for the backend, and always for a
   * transaction's start and stop. A status or a meter value outside a transaction that reaches a
   * present backend within a second is not written at all (lib/upstream/queue): a crash in that
   * second loses it (as a charger may, and a new link tells the backend every status again), and a
   * site's storage (an SD card) is not written for every message. `item`: the request as it
   * already waits in the queue (it waited in vain for the backend).
   */
  protected async queueAnswered(
    charger: Charger,
    action: string,
    request: Record<string, unknown>,
    item: Queued | undefined,
    ids?: Promise<void>,
  ): Promise<void> {
    const { forwarding } = this.host;
    if (item !== undefined && charger.queue.items.includes(item)) {
      // It waited in vain and is still queued (a transaction message): written, it goes as ampflow
      // answered it.
      item.request = request;
      item.decides = false;
      await Promise.all([ids, charger.queue.keep(item)]);
    } else if (action === 'Heartbeat') {
      if (charger.link.isOpen && charger.queue.length === 0)
        void forwarding.send(charger, { action, request });
    } else if (!NEVER_KEPT.includes(action)) {
      const durable = !charger.link.isOpen || endsTransaction(action, request);
      await Promise.all([ids, forwarding.enqueue(charger, { action, request }, durable)]);
    }
  }

  /** Resolves once the charger's link opens, its try fails, or `withinMs` passed. */
  private linkOpens(charger: Charger, withinMs: number): Promise<void> {
    const { link } = charger;
    const { clock } = this.host;
    return new Promise((resolve) => {
      const done = () => {
        clock.clearTimeout(timer);
        link.off('up', done);
        link.off('retrying', done);
        link.off('state', onState);
        resolve();
      };
      const onState = (state: LinkState) => {
        if (state === 'closed') done();
      };
      const timer = clock.setTimeout(done, withinMs);
      link.on('up', done);
      link.on('retrying', done);
      link.on('state', onState);
    });
  }

  /**
   * ampflow answered in the backend's place what the backend decides: said in the log (once per
   * charger and cause), to the flows (an Upstream event) and in the sidebar.
   */
  private decidedLocally(charger: Charger, action: string, timedOut: boolean): void {
    const { settings, voice, clock } = this.host;
    const why = !charger.link.isOpen
      ? 'the backend is not reached'
      : timedOut
        ? `the backend did not answer within ${settings.decideWithinMs / 1000} s`
        : 'the backend answered it with an error';
    const reason = `${why}: ampflow answered ${action} by its own policy`;
    voice.tell(charger.identity, reason);
    voice.report({ chargePointId: charger.identity, kind: 'decidedLocally', action, reason });
    charger.decidedLocally = `${action} at ${new Date(clock.now()).toISOString()}: ${why}`;
    this.host.noteLink(charger);
  }

  /** A tag of the building's own list (a staff card), where the settings keep those local. */
  private buildingDecides(idTag: string | undefined): boolean {
    const { settings, cs, clock } = this.host;
    if (settings.localTags !== 'listed' || idTag === undefined) return false;
    return cs.idTags.lookup(idTag, clock.now()).entry !== undefined;
  }

  /**
   * The backend's answer to a boot, as the charger gets it: a charger blocked in ampflow (the
   * building's decision) stays Rejected; an accepted one keeps the heartbeat ampflow's
   * dead-connection watch counts on; a Pending or Rejected one boots again when the backend says.
   */
  protected bootDecided(
    charger: Charger,
    sent: Record<string, unknown>,
    own: Record<string, unknown>,
    answer: Record<string, unknown>,
  ): Record<string, unknown> {
    if (own.status === 'Rejected' && answer.status !== 'Rejected') return own;
    if (answer.status === 'Accepted' && charger.boot === sent) {
      charger.bootAccepted = true;
      void this.host.keep(charger);
    }
    if (answer.status !== 'Accepted') return answer;
    const interval = Math.min(
      Number(answer.interval) > 0 ? Number(answer.interval) : Number.POSITIVE_INFINITY,
      this.host.cs.heartbeatIntervalS(),
    );
    return Number.isFinite(interval) ? { ...answer, interval } : answer;
  }
}
