/**
 * A connection's commands one at a time, in the order they were made (connection.ts): a call goes
 * out once the calls before it ended, answered or given up. One function ends every turn, and no
 * promise is chained per call to wait on (most calls find nothing in flight).
 */
export class CallTurns {
  /** Calls made whose turn has not ended (answered or given up), the one with ocpp-rpc included. */
  private pending = 0;
  /** Calls waiting for the one before them to end, in order: each hands its own to ocpp-rpc. */
  private readonly waiting: (() => void)[] = [];

  /** A call's turn ended, answered or not: the next one goes. */
  readonly ended = (): void => {
    this.pending -= 1;
    this.waiting.shift()?.();
  };

  /**
   * Takes a turn for `send`: at once, in this turn, when nothing is in flight; else once the calls
   * before it ended. `send` must call {@link ended} when its call is answered or given up.
   */
  take(send: () => Promise<unknown>): Promise<unknown> {
    const turn =
      this.pending === 0
        ? send()
        : new Promise<unknown>((resolve) => {
            this.waiting.push(() => resolve(send()));
          });
    this.pending += 1;
    return turn;
  }
}
