import type { Clock, TimerHandle } from '../clock';
import type { ReadRequest } from './errors';

interface Waiter {
  resolve(registers: number[]): void;
  reject(error: Error): void;
}

/** A read waiting for its turn (or on the wire), and everyone waiting for its answer. */
export interface QueuedRead {
  readonly key: string;
  request: ReadRequest;
  readonly waiters: Waiter[];
  /** Times it went on the wire. */
  attempts: number;
  waitTimer?: TimerHandle;
}

export interface ReadQueueSettings {
  clock: Clock;
  /** Longest a read waits for its turn. */
  maxWaitMs: number;
  /** Reads that may wait; more are refused. */
  maxLength: number;
  /** A read waited `maxWaitMs` and left the queue: the bus fails it, saying why. */
  expired(read: QueuedRead): void;
  /** A read's callers got their answer. */
  settled(request: ReadRequest, error: Error | undefined): void;
}

/** What `take` decides for a waiting read: send it, keep it until a time, or fail it now. */
export type Turn = 'go' | { notBeforeMs: number } | { refuse: Error };

/**
 * The reads of one bus waiting for the wire, in order, each bound in time: a read leaves after
 * `maxWaitMs` whether or not its turn came, and every caller gets exactly one answer.
 */
export class ReadQueue {
  private readonly reads: QueuedRead[] = [];

  constructor(private readonly settings: ReadQueueSettings) {}

  get length(): number {
    return this.reads.length;
  }

  /**
   * Queues a read; an identical read still waiting is joined rather than queued twice (polls are
   * idempotent), so both callers get the one, newest answer. 'full' leaves the queue as it was.
   */
  add(request: ReadRequest, waiter: Waiter): 'queued' | 'joined' | 'full' {
    const key = `${request.unitId}/${request.functionCode}/${request.address}/${request.quantity}`;
    const waiting = this.reads.find((read) => read.key === key);
    if (waiting) {
      waiting.request = request;
      waiting.waiters.push(waiter);
      return 'joined';
    }
    if (this.reads.length >= this.settings.maxLength) return 'full';
    const read: QueuedRead = { key, request, waiters: [waiter], attempts: 0 };
    this.reads.push(read);
    this.startWaitTimer(read);
    return 'queued';
  }

  /** Puts a read that was on the wire back at the head; its wait starts again. */
  requeue(read: QueuedRead): void {
    this.reads.unshift(read);
    this.startWaitTimer(read);
  }

  /**
   * Takes the first read whose turn it is, as `turn` decides for each in order; reads it refuses
   * are failed with its error. Without one to send, says when the earliest held one may go.
   */
  take(turn: (read: QueuedRead) => Turn): { read: QueuedRead } | { notBeforeMs: number } | undefined {
    let earliestMs = Number.POSITIVE_INFINITY;
    for (let index = 0; index < this.reads.length; index++) {
      const read = this.reads[index] as QueuedRead;
      const decision = turn(read);
      if (decision === 'go') {
        this.reads.splice(index, 1);
        this.stopWaitTimer(read);
        return { read };
      }
      if ('refuse' in decision) {
        this.reads.splice(index, 1);
        index -= 1;
        this.settle(read, decision.refuse);
      } else {
        earliestMs = Math.min(earliestMs, decision.notBeforeMs);
      }
    }
    return earliestMs < Number.POSITIVE_INFINITY ? { notBeforeMs: earliestMs } : undefined;
  }

  /** Fails every waiting read for which `error` gives an error. */
  fail(error: (read: QueuedRead) => Error | undefined): void {
    for (const read of [...this.reads]) {
      const reason = error(read);
      if (!reason) continue;
      this.reads.splice(this.reads.indexOf(read), 1);
      this.settle(read, reason);
    }
  }

  /** Gives a read's callers their answer (registers, or the error). */
  settle(read: QueuedRead, error: Error | undefined, registers?: number[]): void {
    this.stopWaitTimer(read);
    for (const waiter of read.waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve(registers ?? []);
    }
    this.settings.settled(read.request, error);
  }

  private startWaitTimer(read: QueuedRead): void {
    const { clock, maxWaitMs } = this.settings;
    clock.clearTimeout(read.waitTimer);
    read.waitTimer = clock.setTimeout(() => {
      const index = this.reads.indexOf(read);
      if (index < 0) return;
      this.reads.splice(index, 1);
      this.settings.expired(read);
    }, maxWaitMs);
  }

  private stopWaitTimer(read: QueuedRead): void {
    this.settings.clock.clearTimeout(read.waitTimer);
    read.waitTimer = undefined;
  }
}
