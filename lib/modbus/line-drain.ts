/** Least silence after a timeout on RTU framing, whatever the timeout. */
const MIN_DRAIN_MS = 250;
/** A drain lasts at most this many times its silence. */
const MAX_DRAIN_FACTOR = 4;

/** Where the line stands before a request is sent. */
export type DrainCheck =
  /** No drain: send. */
  | { state: 'none' }
  /** Keep the line quiet until `untilMs` at least. */
  | { state: 'draining'; untilMs: number }
  /**
   * The drain just ended: discard what came, then send. `cutShortAfterMs`: the line never fell
   * silent and the drain ended after this long all the same.
   */
  | { state: 'ended'; cutShortAfterMs?: number };

/**
 * The drain of an RTU-framed line after a failed request. After a timeout the device may still
 * answer; its answer has the unit, function code and often the length the next request expects,
 * and nothing else tells them apart. After a corrupt answer the rest of a frame may still be on
 * its way. So the line is left alone until it has been silent for a while (the failed request's
 * timeout, at least 250 ms, unless configured), and whatever came is then discarded by the bus.
 * A line that never falls silent is drained for at most 4 times the silence.
 */
export class LineDrain {
  /** When bytes last arrived on the line (any bytes, answer or not). */
  private lastReceivedMs = 0;
  private drain: { fromMs: number; silenceMs: number; latestMs: number } | undefined;

  /** `configuredMs`: the bus's drainAfterTimeoutMs option; 0 turns draining off. */
  constructor(private readonly configuredMs: number | undefined) {}

  /** Bytes arrived: the line is not silent. */
  received(nowMs: number): void {
    this.lastReceivedMs = nowMs;
  }

  /** Starts a drain after a request with this timeout failed; false when draining is off. */
  start(nowMs: number, failedTimeoutMs: number): boolean {
    const silenceMs = this.configuredMs ?? Math.max(MIN_DRAIN_MS, failedTimeoutMs);
    if (silenceMs <= 0) return false;
    this.drain = { fromMs: nowMs, silenceMs, latestMs: nowMs + MAX_DRAIN_FACTOR * silenceMs };
    return true;
  }

  /** Where the drain stands at `nowMs`; once it has ended it is forgotten. */
  check(nowMs: number): DrainCheck {
    const drain = this.drain;
    if (!drain) return { state: 'none' };
    const silentAtMs = Math.max(drain.fromMs, this.lastReceivedMs) + drain.silenceMs;
    const readyAtMs = Math.min(silentAtMs, drain.latestMs);
    if (nowMs < readyAtMs) return { state: 'draining', untilMs: readyAtMs };
    this.drain = undefined;
    if (silentAtMs > drain.latestMs)
      return { state: 'ended', cutShortAfterMs: drain.latestMs - drain.fromMs };
    return { state: 'ended' };
  }
}
