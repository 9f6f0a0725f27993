import type { ChargePointMessage } from '../contracts';
import type { Logger } from '../log';

/**
 * Each charger's clock, measured from its own timestamps: how far its clock is from ampflow's
 * (positive: ahead). OCPP 1.6 gives the charger ampflow's time (the BootNotification and Heartbeat
 * answers' `currentTime`) but a charger on manual time (an EVlink set by hand) or without NTP
 * drifts; what it writes in StatusNotification, MeterValues, StartTransaction and StopTransaction
 * is its own clock. One sample per message: the charger's newest timestamp in it minus the time
 * ampflow received it (the network's delay, milliseconds on a site, is left in).
 *
 * The offset is the median of a charger's last 9 samples, from 3 samples on: a few outliers do
 * not move it (a StatusNotification written before a minute's wait in the charger's queue). A
 * queue of more than 4 messages replayed after a long outage reads as a charger running behind
 * until 5 live messages came; that errs on the safe side where the offset is used (set-point
 * profiles end earlier in the charger's time, so it falls to its fallback sooner, never later).
 *
 * Beyond 60 s either way the log says so, once per charger until it comes back within 60 s.
 * One instance per central system on its clock (`chargerClocksOf`: the Chargers sidebar and the
 * log); a profile manager keeps one on its own clock (lib/profiles/context.ts), silent, since the
 * times it writes are on that clock (the same one in Node-RED; tests may run it virtual).
 */

/** Samples kept per charger; the offset is their median. */
export const CLOCK_SAMPLES = 9;
/** Samples needed before an offset is given. */
export const CLOCK_SAMPLES_NEEDED = 3;
/** An offset beyond this is warned of. */
export const CLOCK_WARN_MS = 60_000;

/** What the clocks watch: the central system's answered messages. */
export interface ClockSource {
  on(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
  off(event: 'message', listener: (message: ChargePointMessage) => void): unknown;
}

/** A charger's clock as measured. */
export interface ChargerClock {
  /** Its clock minus ampflow's, ms (positive: ahead). */
  offsetMs: number;
  /** Samples it is the median of. */
  samples: number;
}

export class ChargerClocks {
  private readonly samples = new Map<string, number[]>();
  private readonly warned = new Set<string>();
  private readonly onMessage = (message: ChargePointMessage) => {
    const stamp = chargerTimestamp(message.action, message.request);
    const chargerMs = stamp === undefined ? Number.NaN : Date.parse(stamp);
    const receivedMs = this.now === undefined ? Date.parse(message.receivedAt) : this.now();
    if (Number.isFinite(chargerMs) && Number.isFinite(receivedMs))
      this.sample(message.chargePointId, chargerMs - receivedMs);
  };

  /**
   * `now`: the clock the offset is against, read when the message is handed on (a room with a
   * clock of its own, the profile manager); absent: the central system's receive time.
   */
  constructor(
    private readonly source: ClockSource,
    private readonly log: Logger,
    private readonly now?: () => number,
  ) {
    source.on('message', this.onMessage);
  }

  /** One sample of a charger's clock: its timestamp minus ampflow's receive time, ms. */
  sample(chargePointId: string, offsetMs: number): void {
    let list = this.samples.get(chargePointId);
    if (list === undefined) {
      // Bounded: chargers gone for good are forgotten past 10,000.
      if (this.samples.size >= 10_000) this.samples.clear();
      list = [];
      this.samples.set(chargePointId, list);
    }
    list.push(offsetMs);
    if (list.length > CLOCK_SAMPLES) list.shift();
    const clock = this.clockOf(chargePointId);
    if (clock === undefined) return;
    const beyond = Math.abs(clock.offsetMs) > CLOCK_WARN_MS;
    if (beyond && !this.warned.has(chargePointId)) {
      this.warned.add(chargePointId);
      const seconds = Math.round(clock.offsetMs / 1000);
      this.log.warn(
        `charge point ${chargePointId}: its clock is ${Math.abs(seconds)} s ${seconds > 0 ? 'ahead of' : 'behind'} ampflow's (median of its last ${clock.samples} timestamps); set it right (NTP, or the time the central system sends); set-point profiles are written in its time meanwhile`,
      );
    } else if (!beyond && this.warned.delete(chargePointId)) {
      this.log.info(
        `charge point ${chargePointId}: its clock is within ${CLOCK_WARN_MS / 1000} s of ampflow's again`,
      );
    }
  }

  /** The charger's clock as measured; undefined before 3 samples. */
  clockOf(chargePointId: string): ChargerClock | undefined {
    const list = this.samples.get(chargePointId);
    if (list === undefined || list.length < CLOCK_SAMPLES_NEEDED) return undefined;
    const sorted = [...list].sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    const offsetMs =
      sorted.length % 2 === 1
        ? (sorted[middle] ?? 0)
        : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
    return { offsetMs, samples: list.length };
  }

  /**
   * The offset to write a charger's times in, ms: whole seconds, 0 until measured and under a
   * second (a profile's times are whole seconds; the network's delay is not the charger's clock).
   */
  offsetMs(chargePointId: string): number {
    const offsetMs = this.clockOf(chargePointId)?.offsetMs ?? 0;
    return Math.abs(offsetMs) < 1000 ? 0 : Math.round(offsetMs / 1000) * 1000;
  }

  stop(): void {
    this.source.off('message', this.onMessage);
  }
}

/** The charger's own newest timestamp in a message (shared 1.6 shapes), if it has one. */
export function chargerTimestamp(action: string, request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  switch (action) {
    case 'StatusNotification':
    case 'StartTransaction':
    case 'StopTransaction': {
      const timestamp = (request as { timestamp?: unknown }).timestamp;
      return typeof timestamp === 'string' ? timestamp : undefined;
    }
    case 'MeterValues': {
      const values = (request as { meterValue?: { timestamp?: unknown }[] }).meterValue;
      if (!Array.isArray(values)) return undefined;
      let newest: string | undefined;
      let newestMs = Number.NEGATIVE_INFINITY;
      for (const value of values) {
        const ms = typeof value?.timestamp === 'string' ? Date.parse(value.timestamp) : Number.NaN;
        if (ms > newestMs) {
          newestMs = ms;
          newest = value.timestamp as string;
        }
      }
      return newest;
    }
    default:
      return undefined;
  }
}

const shared = new WeakMap<object, ChargerClocks>();

/**
 * The clocks of a central system's chargers: one instance per central system, made by whoever asks
 * first (the central-system node, a profile manager), logging to the central system's log.
 */
export function chargerClocksOf(cs: ClockSource & { readonly log?: Logger }, log?: Logger): ChargerClocks {
  let clocks = shared.get(cs);
  if (clocks === undefined) {
    clocks = new ChargerClocks(cs, cs.log ?? log ?? { info() {}, warn() {}, error() {} });
    shared.set(cs, clocks);
  }
  return clocks;
}
