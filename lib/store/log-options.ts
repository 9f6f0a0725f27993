/** What a DurableLog (durable-log.ts) is opened with, and the error it stops with. */
import type { Logger } from '../log';
import type { StoreIo } from './files';
import type { EventReplay } from './recovery';

export const DEFAULT_COMPACT_AFTER_EVENTS = 10_000;

/** Also `initialState`, `apply` and `isArchived`: how the state is built from the events. */
export interface DurableLogOptions<State, Event> extends EventReplay<State, Event> {
  /** Where the files live; created (with its parents) if missing. */
  directory: string;
  /** Compact automatically once the journal holds this many events. */
  compactAfterEvents?: number;
  log?: Logger;
  /**
   * Called once if the store stops accepting events (a write or fsync failed, or apply threw): the
   * owner should stop acknowledging anything, because nothing more can be made durable.
   */
  onStop?: (error: StoreStoppedError) => void;
  /** File operations, replaceable by tests to count fsyncs, inject failures or observe crash points. */
  io?: Partial<StoreIo>;
}

/** The store accepts no more events: it was closed, or a write failed. */
export class StoreStoppedError extends Error {
  constructor(
    readonly reason: 'closed' | 'failed',
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'StoreStoppedError';
  }
}
