import type { ProfileContext } from './context';
import { DEFAULTS } from './options';
import { type ChargerEntry, isRefusal, type SampleRate } from './state';

/** The key of the interval (OCPP 1.6; a 2.0.1 station's SampledDataCtrlr.TxUpdatedInterval, lib/ocpp/v201/device-model.ts). */
const INTERVAL_KEY = 'MeterValueSampleInterval';
/** At most one change of a charger's interval in this time, ms. */
export const SAMPLE_RATE_GAP_MS = 30_000;
/** A reading this far above the limit in force, A, shows a decrease not followed yet. */
const FOLLOWED_TOLERANCE_A = 1;
/** The name under which the central system keeps a refusal of the fast interval (storeData). */
const FAST_ROOM = 'fast-sampling';

interface FastFacts {
  version: 1;
  bootAt?: string;
  askedS: number;
  refused: string;
}

/**
 * The fast interval while a limit moves (issue #36): the load manager settles a raise by the
 * charger's own reading, and gives the current a decrease frees to others once the charger's
 * reading shows it followed (lib/dlm/evidence/charger-draw.ts), so the sooner that reading comes, the
 * sooner the site uses what it may. While a set-point of any connector of a charger with a
 * session changed in the last `fastSamplingForS` (60 s), or a decrease is not shown followed yet
 * (a connector with a session whose newest reading is above its limit in force), the charger is asked for
 * MeterValueSampleInterval `fastSamplingIntervalS` (5 s); once every limit has been steady that
 * long, for the interval the boot's asking settled on (sampling.ts, 10 s). The key is per charger.
 *
 * Only after the boot's asking, where that interval can be changed (not refused, not kept by the
 * operator's backend) and is longer than the fast one. One ChangeConfiguration at a time, none
 * while a limit is queued (the sender's queue is handed back after it), at most one per
 * SAMPLE_RATE_GAP_MS per charger. A charger that refuses the fast interval (Rejected,
 * NotSupported, RebootRequired, a CALLERROR) is not asked again in this boot (kept with its
 * facts). What it reports at is told to the central system (`ConnectorState.sampling`: `intervalS`
 * confirmed, `askedS` asked, `why`).
 */
export class FastSampling {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly pump: (charger: ChargerEntry) => void,
  ) {}

  private get fastS(): number {
    return this.ctx.options.fastSamplingIntervalS ?? DEFAULTS.fastSamplingIntervalS;
  }

  private get steadyMs(): number {
    return (this.ctx.options.fastSamplingForS ?? DEFAULTS.fastSamplingForS) * 1000;
  }

  /**
   * What the boot's asking settled on (or, asked in this boot before a restart, what it kept):
   * the steady interval, whether it can be changed, and the outcome told with it.
   */
  baseline(
    charger: ChargerEntry,
    intervalS: number | undefined,
    changeable: boolean,
    outcome: { perPhaseCurrents: boolean; why?: string },
  ): void {
    const rate = this.rateOf(charger);
    rate.baseS = intervalS;
    rate.changeable = changeable && intervalS !== undefined;
    rate.outcome = outcome;
    // Not known otherwise: as the boot left it (a restart of ampflow in a fast window heals with the next move).
    rate.nowS ??= intervalS;
    const facts = this.ctx.cs.storedData(charger.chargePointId, FAST_ROOM) as FastFacts | undefined;
    if (facts?.version === 1 && facts.bootAt === this.bootAt(charger) && rate.refused === undefined) {
      // Refused in this boot before ampflow restarted: not asked again, and said again.
      rate.refused = facts.refused;
      rate.askedS = facts.askedS;
      this.report(charger, rate);
    }
  }

  /** A boot: asked again, and a fast interval it kept from before is known as ours. */
  booted(charger: ChargerEntry): void {
    const rate = charger.sampleRate;
    if (!rate) return;
    this.ctx.clock.clearTimeout(rate.timer);
    const left = rate.nowS !== undefined && rate.baseS !== undefined && rate.nowS < rate.baseS;
    charger.sampleRate = {
      changeable: false,
      inFlight: rate.inFlight,
      ...(left ? { leftS: rate.nowS } : {}),
      ...(rate.movedAtMs === undefined ? {} : { movedAtMs: rate.movedAtMs }),
    };
  }

  /** The interval read at a boot is the fast one this manager asked for before it: not the installer's. */
  isLeftOver(charger: ChargerEntry, intervalS: number | undefined): boolean {
    return intervalS !== undefined && charger.sampleRate?.leftS === intervalS;
  }

  /** A connector's set-point changed from `fromA` to `toA`. */
  moved(charger: ChargerEntry, connectorId: number, fromA: number | undefined, toA: number): void {
    if (this.fastS <= 0 || fromA === undefined || fromA === toA) return;
    if (!this.inSession(charger, connectorId)) return;
    this.rateOf(charger).movedAtMs = this.ctx.clock.now();
  }

  /** Asks for the interval due now, if any and if nothing else is on its way (sampling.ts's kick checked that). */
  kick(charger: ChargerEntry): void {
    const rate = charger.sampleRate;
    if (!rate || rate.inFlight || charger.queued.size > 0 || !rate.changeable || rate.baseS === undefined)
      return;
    const now = this.ctx.clock.now();
    const moving =
      (rate.movedAtMs !== undefined && now - rate.movedAtMs < this.steadyMs) || this.decreasePending(charger);
    let wanted: number | undefined;
    if (rate.refused !== undefined) wanted = rate.undo ? rate.baseS : undefined;
    else if (this.fastS > 0 && this.fastS < rate.baseS) wanted = moving ? this.fastS : rate.baseS;
    else wanted = rate.nowS !== rate.baseS && rate.askedS !== undefined ? rate.baseS : undefined;
    this.ctx.clock.clearTimeout(rate.timer);
    rate.timer = undefined;
    if (wanted === undefined || (wanted === rate.nowS && !rate.undo)) {
      // Back to the steady interval once the limits have been steady long enough (a pending
      // decrease past that is looked at again with the charger's next reading, not on a timer).
      const steadyAtMs = (rate.movedAtMs ?? now) + this.steadyMs;
      if (moving && rate.nowS !== rate.baseS && steadyAtMs > now) this.wake(charger, steadyAtMs - now);
      return;
    }
    const gapEnds = (rate.askedAtMs ?? Number.NEGATIVE_INFINITY) + SAMPLE_RATE_GAP_MS;
    if (now < gapEnds) {
      this.wake(charger, gapEnds - now);
      return;
    }
    void this.ask(charger, rate, wanted);
  }

  stop(charger: ChargerEntry): void {
    this.ctx.clock.clearTimeout(charger.sampleRate?.timer);
    if (charger.sampleRate) charger.sampleRate.timer = undefined;
  }

  private wake(charger: ChargerEntry, delayMs: number): void {
    const rate = charger.sampleRate;
    if (!rate || this.ctx.closed) return;
    rate.timer = this.ctx.clock.setTimeout(
      () => {
        rate.timer = undefined;
        // Through the sender's pump: its step after the queue kicks the sampling (one CALL at a time).
        this.pump(charger);
      },
      Math.max(0, delayMs),
    );
  }

  private async ask(charger: ChargerEntry, rate: SampleRate, valueS: number): Promise<void> {
    rate.inFlight = true;
    charger.configuring = true;
    rate.askedAtMs = this.ctx.clock.now();
    rate.askedS = valueS;
    const undoing = rate.undo === true;
    rate.undo = false;
    let status: string | undefined;
    try {
      status = (
        await this.ctx.call(charger, 'ChangeConfiguration', { key: INTERVAL_KEY, value: String(valueS) })
      ).status;
    } catch (err) {
      if (isRefusal(err)) status = (err as Error).message;
      else
        this.ctx.log.warn(
          `charge point ${charger.chargePointId}: no answer to ${INTERVAL_KEY}=${valueS} (${(err as Error).message})`,
        );
    } finally {
      rate.inFlight = false;
      charger.configuring = false;
    }
    if (status === 'Accepted') rate.nowS = valueS;
    else if (status !== undefined && !undoing && valueS !== rate.baseS) this.refused(charger, rate, status);
    if (status !== undefined) this.report(charger, rate);
    if (!this.ctx.closed) this.pump(charger);
  }

  /** Not asked again in this boot; a RebootRequired would take effect at the next boot: undone. */
  private refused(charger: ChargerEntry, rate: SampleRate, status: string): void {
    rate.refused = status;
    if (status === 'RebootRequired') rate.undo = true;
    this.ctx.log.warn(
      `charge point ${charger.chargePointId}: refused ${INTERVAL_KEY}=${rate.askedS} (${status}); its readings stay every ${rate.nowS} s`,
    );
    const bootAt = this.bootAt(charger);
    const facts: FastFacts = {
      version: 1,
      ...(bootAt === undefined ? {} : { bootAt }),
      askedS: rate.askedS ?? this.fastS,
      refused: status,
    };
    this.ctx.cs.storeData(charger.chargePointId, FAST_ROOM, facts).catch((err: Error) => {
      this.ctx.log.warn(`could not keep what ${charger.chargePointId} refused in its record: ${err.message}`);
    });
  }

  /** What it reports at now, what was asked, and a refusal in words. */
  private report(charger: ChargerEntry, rate: SampleRate): void {
    const outcome = rate.outcome;
    if (!outcome || this.ctx.closed) return;
    const why = [
      ...(outcome.why === undefined ? [] : [outcome.why]),
      ...(rate.refused === undefined ? [] : [`it refused ${INTERVAL_KEY}=${this.fastS} (${rate.refused})`]),
    ];
    this.ctx.cs.reportSampling(charger.chargePointId, {
      perPhaseCurrents: outcome.perPhaseCurrents,
      ...(rate.nowS === undefined ? {} : { intervalS: rate.nowS }),
      ...(rate.askedS === undefined ? {} : { askedS: rate.askedS }),
      ...(why.length === 0 ? {} : { why: why.join('; ') }),
    });
  }

  /**
   * A decrease not shown followed: a connector with a session whose newest reading is above the
   * limit the charger confirmed. Looked at again with each of its readings (`reading`).
   */
  private decreasePending(charger: ChargerEntry): boolean {
    for (const state of this.ctx.cs.connectorsOf(charger.chargePointId)) {
      if (!state.transaction || !state.limitInForce) continue;
      let drawnA = state.currentUnphasedA ?? 0;
      for (const amps of state.currentA ?? []) drawnA = Math.max(drawnA, amps ?? 0);
      if (drawnA > state.limitInForce.limitA + FOLLOWED_TOLERANCE_A) return true;
    }
    return false;
  }

  private inSession(charger: ChargerEntry, connectorId: number): boolean {
    const states =
      connectorId === 0
        ? this.ctx.cs.connectorsOf(charger.chargePointId)
        : [this.ctx.cs.connectorOf(charger.chargePointId, connectorId)];
    return states.some((state) => state?.transaction !== undefined);
  }

  private rateOf(charger: ChargerEntry): SampleRate {
    charger.sampleRate ??= { changeable: false, inFlight: false };
    return charger.sampleRate;
  }

  private bootAt(charger: ChargerEntry): string | undefined {
    return this.ctx.cs.recordOf(charger.chargePointId)?.boot?.at;
  }
}
