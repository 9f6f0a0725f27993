import { TimeoutError } from 'ocpp-rpc';
import type { Clock, TimerHandle } from '../lib/clock';

/**
 * Messages the charge point must deliver in order even across outages: transaction-related
 * messages (OCPP 1.6 section 3.7) and security events (whitepaper A04.FR.02).
 *
 * Messages wait while the charge point is offline or not yet accepted, and go out one at a time in
 * the order they were queued. A message the central system fails to process (a CALLERROR, or no
 * answer within the call timeout: OCPP-J errata 3.2) is sent again after
 * TransactionMessageRetryInterval × the number of transmissions so far, until
 * TransactionMessageAttempts transmissions have failed; then it is dropped and the next one goes
 * (3.7.1). A lost connection is not a failure to process: the message waits for the next one.
 */

export interface QueuedMessage {
  action: string;
  /** Builds the payload when the message is sent, so it can carry ids learnt meanwhile. */
  build(): { payload: object; deviates?: boolean };
  onAnswered?(response: unknown): void;
  /** Called when the message is dropped after repeated failures. */
  onDropped?(error: unknown): void;
}

export interface QueueLink {
  readonly clock: Clock;
  /** Whether messages may go out now (socket open, registration Accepted). */
  ready(): boolean;
  send(action: string, payload: object, deviates: boolean): Promise<unknown>;
  /** TransactionMessageAttempts. */
  attempts(): number;
  /** TransactionMessageRetryInterval, in seconds. */
  retryIntervalS(): number;
  /** Called whenever the queue changes state, for idle detection. */
  changed(): void;
}

type State = 'idle' | 'sending' | 'waiting';

export class ReliableQueue {
  private readonly items: { message: QueuedMessage; failures: number }[] = [];
  private state: State = 'idle';
  private retryTimer: TimerHandle | undefined;

  constructor(private readonly link: QueueLink) {}

  get length(): number {
    return this.items.length;
  }

  /** Whether nothing is on its way or due right now (empty, or held back by the link or a retry wait). */
  get settled(): boolean {
    return (
      this.state !== 'sending' && (this.items.length === 0 || !this.link.ready() || this.state === 'waiting')
    );
  }

  push(message: QueuedMessage): void {
    this.items.push({ message, failures: 0 });
    this.pump();
  }

  /** Tries to send: call whenever the link may have become ready. */
  pump(): void {
    if (this.state !== 'idle') return;
    void this.run();
  }

  /** Forgets a pending retry wait (the link went down; the message goes out when it is back). */
  interrupt(): void {
    if (this.state !== 'waiting') return;
    this.link.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.state = 'idle';
    this.link.changed();
  }

  private async run(): Promise<void> {
    this.state = 'sending';
    this.link.changed();
    for (;;) {
      const head = this.items[0];
      if (!head || !this.link.ready()) break;
      const { payload, deviates } = head.message.build();
      try {
        const response = await this.link.send(head.message.action, payload, deviates ?? false);
        this.items.shift();
        head.message.onAnswered?.(response);
      } catch (err) {
        if (!isFailureToProcess(err)) break;
        head.failures += 1;
        if (head.failures >= Math.max(1, this.link.attempts())) {
          this.items.shift();
          head.message.onDropped?.(err);
          continue;
        }
        this.state = 'waiting';
        this.retryTimer = this.link.clock.setTimeout(
          () => {
            this.retryTimer = undefined;
            this.state = 'idle';
            this.pump();
          },
          this.link.retryIntervalS() * 1000 * head.failures,
        );
        this.link.changed();
        return;
      }
    }
    this.state = 'idle';
    this.link.changed();
  }
}

/** A CALLERROR answer, or no answer in time; not a dropped connection (OCPP-J errata 3.2). */
export function isFailureToProcess(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  return typeof err === 'object' && err !== null && 'rpcErrorCode' in err;
}

/** The link's two queues (transaction messages, security events) on one link, handled together. */
export class OutageQueues {
  /** Transaction-related messages (3.7). */
  readonly transactions: ReliableQueue;
  /** Security events (whitepaper A04.FR.02). */
  readonly securityEvents: ReliableQueue;

  constructor(link: QueueLink) {
    this.transactions = new ReliableQueue(link);
    this.securityEvents = new ReliableQueue(link);
  }

  /** Whether neither has a message that can go out right now. */
  get settled(): boolean {
    return this.transactions.settled && this.securityEvents.settled;
  }

  /** The connection is ready: each sends what waits. */
  pump(): void {
    this.transactions.pump();
    this.securityEvents.pump();
  }

  /** The connection is gone: what is in flight waits for the next one. */
  interrupt(): void {
    this.transactions.interrupt();
    this.securityEvents.interrupt();
  }
}
