import type { ChargePointPort } from '../contracts';
import type { ProfileContext } from './context';
import { FastSampling } from './fast-sampling';
import { DEFAULTS } from './options';
import { type ChargerEntry, isRefusal, type SamplingProgress } from './state';

/** The key that lists what the charger samples during a transaction (a CSL of measurands). */
export const SAMPLED_DATA_KEY = 'MeterValuesSampledData';
/** How often it samples them, s (0: never). */
export const SAMPLE_INTERVAL_KEY = 'MeterValueSampleInterval';
const MAX_LENGTH_KEY = 'MeterValuesSampledDataMaxLength';
/** What an empty MeterValuesSampledData samples (OCPP 1.6 §7.31): kept when the list is written. */
const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';
const CURRENT = 'Current.Import';
const OFFERED = 'Current.Offered';
/** The name under which the central system keeps what was asked of a charger (storeData). */
const SAMPLING_ROOM = 'sampling';

type Outcome = Parameters<ChargePointPort['reportSampling']>[1];

/** What was asked of a charger and what came of it, for the boot it was asked in. */
interface SamplingFacts extends Outcome {
  version: 1;
  bootAt?: string;
}

/**
 * Asks a charger under load management to measure what the load manager needs as evidence: its
 * per-phase currents (MeterValuesSampledData with Current.Import, and Current.Offered where it
 * takes it, its other measurands kept) at a control interval (MeterValueSampleInterval, default
 * 10 s; a shorter one is kept, 0 is off). Once per boot: what was asked is kept with the charger's
 * facts, so a reconnect without a boot asks nothing, and a boot reads the keys again (a charger
 * that kept them gets no change). Keys the operator's backend keeps (`backendKeepsKey`) are only
 * read. The outcome goes to the central system (`reportSampling` → `ConnectorState.sampling`).
 * Its commands go one at a time once no limit is queued for the charger (the sender's queue is
 * handed back between them): a limit never waits for more than one of them.
 */
export class Sampling {
  /** The fast interval while a limit moves, once this asking is done. */
  readonly fast: FastSampling;

  constructor(
    private readonly ctx: ProfileContext,
    /** The sender's pump: limits queued meanwhile, then its step after the queue. */
    private readonly pump: (charger: ChargerEntry) => void,
  ) {
    this.fast = new FastSampling(ctx, pump);
  }

  get enabled(): boolean {
    return this.ctx.options.configureSampling !== false;
  }

  private get intervalS(): number {
    return this.ctx.options.samplingIntervalS ?? DEFAULTS.samplingIntervalS;
  }

  /** Reconnected: asked again only if it booted since it was last asked. */
  connected(charger: ChargerEntry): void {
    charger.samplingDue = undefined;
    this.kick(charger);
  }

  /** A boot: the keys are read again (a charger may lose what it was told). */
  booted(charger: ChargerEntry): void {
    if (!this.enabled) return;
    charger.samplingDue = true;
    charger.sampling = undefined;
    this.fast.booted(charger);
  }

  /** Starts asking when it is due and nothing else is on its way to the charger. */
  kick(charger: ChargerEntry): void {
    if (
      charger.pumping ||
      charger.configuring ||
      this.ctx.closed ||
      !this.ctx.cs.isConnected(charger.chargePointId)
    )
      return;
    if (!this.due(charger)) {
      this.fast.kick(charger);
      return;
    }
    void this.run(charger);
  }

  private due(charger: ChargerEntry): boolean {
    if (charger.samplingDue === undefined) {
      const facts = this.storedData(charger);
      charger.samplingDue = this.enabled && facts?.bootAt !== this.bootAt(charger);
      // Asked in this boot already: told again where the central system does not show it (a restart).
      if (facts && !charger.samplingDue && this.enabled) {
        this.tellAgain(charger, facts);
        const refused = facts.why?.includes(`refused ${SAMPLE_INTERVAL_KEY}=`) === true;
        this.fast.baseline(charger, facts.intervalS, !refused && !this.kept(charger, SAMPLE_INTERVAL_KEY), {
          perPhaseCurrents: facts.perPhaseCurrents,
          ...(facts.why === undefined ? {} : { why: facts.why }),
        });
      }
    }
    return charger.samplingDue;
  }

  private async run(charger: ChargerEntry): Promise<void> {
    charger.configuring = true;
    charger.sampling ??= { tried: new Map(), answers: new Map() };
    try {
      while (
        charger.samplingDue &&
        charger.queued.size === 0 &&
        !this.ctx.closed &&
        this.ctx.cs.isConnected(charger.chargePointId)
      )
        await this.step(charger, charger.sampling);
    } catch (err) {
      // No answer: asked again with the next connection or boot, not in a loop now.
      charger.samplingDue = false;
      charger.sampling = undefined;
      this.ctx.log.warn(
        `charge point ${charger.chargePointId}: could not ask for per-phase current samples (${(err as Error).message})`,
      );
    } finally {
      charger.configuring = false;
    }
    this.pump(charger);
  }

  /** The next command of the asking, or its end. */
  private async step(charger: ChargerEntry, progress: SamplingProgress): Promise<void> {
    if (!progress.read) {
      progress.read = await this.read(charger);
      return;
    }
    const change = this.nextChange(charger, progress);
    if (!change) {
      this.finish(charger, progress);
      return;
    }
    progress.tried.set(change.key, change.value);
    let status: string;
    try {
      status = (await this.ctx.call(charger, 'ChangeConfiguration', change)).status;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      status = (err as Error).message;
    }
    progress.answers.set(`${change.key}=${change.value}`, status);
  }

  /**
   * The keys as the charger has them now (GetConfiguration). Not from the central system's record:
   * its time is that of the latest read of any key, so a partial read after a boot (the capability
   * read) makes keys read before the boot look fresh.
   */
  private async read(charger: ChargerEntry): Promise<NonNullable<SamplingProgress['read']>> {
    let keys: { key: string; value?: string }[];
    try {
      const response = await this.ctx.call(charger, 'GetConfiguration', {
        key: [SAMPLED_DATA_KEY, SAMPLE_INTERVAL_KEY, MAX_LENGTH_KEY],
      });
      keys = response.configurationKey ?? [];
    } catch (err) {
      if (!isRefusal(err)) throw err;
      keys = [];
    }
    const sampled = find(keys, SAMPLED_DATA_KEY);
    const interval = Number(find(keys, SAMPLE_INTERVAL_KEY));
    const maxLength = Number(find(keys, MAX_LENGTH_KEY));
    return {
      ...(sampled === undefined ? {} : { sampled: csl(sampled) }),
      ...(Number.isInteger(interval) && find(keys, SAMPLE_INTERVAL_KEY) !== undefined
        ? { intervalS: interval }
        : {}),
      ...(Number.isInteger(maxLength) && maxLength > 0 ? { maxLength } : {}),
    };
  }

  /** The change still to ask for, if any: the measurands first, then the interval. */
  private nextChange(
    charger: ChargerEntry,
    progress: SamplingProgress,
  ): { key: string; value: string } | undefined {
    const read = progress.read ?? {};
    if (!this.kept(charger, SAMPLED_DATA_KEY)) {
      const list = this.wantedList(read, currentsOf(charger));
      const tried = progress.tried.get(SAMPLED_DATA_KEY);
      const refused = tried !== undefined && !taken(progress.answers.get(`${SAMPLED_DATA_KEY}=${tried}`));
      if (list && tried === undefined) return { key: SAMPLED_DATA_KEY, value: list.join(',') };
      // Refused with Current.Offered: asked once more without it (some chargers do not measure it).
      if (list && refused && tried?.split(',').includes(OFFERED) && !(read.sampled ?? []).includes(OFFERED)) {
        const without = tried
          .split(',')
          .filter((item) => item !== OFFERED)
          .join(',');
        if (!progress.answers.has(`${SAMPLED_DATA_KEY}=${without}`))
          return { key: SAMPLED_DATA_KEY, value: without };
      }
    }
    const current = read.intervalS;
    const shortEnough =
      current !== undefined &&
      current > 0 &&
      current <= this.intervalS &&
      !this.fast.isLeftOver(charger, current);
    if (!this.kept(charger, SAMPLE_INTERVAL_KEY) && !shortEnough && !progress.tried.has(SAMPLE_INTERVAL_KEY))
      return { key: SAMPLE_INTERVAL_KEY, value: String(this.intervalS) };
    return undefined;
  }

  /**
   * The measurand list to write: the charger's own with its current measurands (Current.Import,
   * or its strategy's phase forms) and Current.Offered added; undefined when it has them.
   */
  private wantedList(
    read: NonNullable<SamplingProgress['read']>,
    currents: readonly string[],
  ): string[] | undefined {
    const own = read.sampled && read.sampled.length > 0 ? read.sampled : [DEFAULT_MEASURAND];
    const missing = [...currents, OFFERED].filter((item) => !own.some((have) => measures(have, item)));
    if (read.sampled && missing.length === 0) return undefined;
    const list = [...own, ...missing];
    if (read.maxLength !== undefined && list.length > read.maxLength) {
      const fewer = list.filter((item) => item !== OFFERED || own.includes(OFFERED));
      return fewer.length <= read.maxLength ? fewer : undefined;
    }
    return list;
  }

  /** What came of it, told to the central system and kept with the charger's facts. */
  private finish(charger: ChargerEntry, progress: SamplingProgress): void {
    const read = progress.read ?? {};
    const why: string[] = [];
    const tried = progress.tried.get(SAMPLED_DATA_KEY);
    const lastSampled = [...progress.answers]
      .filter(([asked]) => asked.startsWith(`${SAMPLED_DATA_KEY}=`))
      .pop();
    const wanted = currentsOf(charger);
    let currents = wanted.every((current) => (read.sampled ?? []).some((item) => measures(item, current)));
    if (lastSampled && taken(lastSampled[1])) currents = true;
    else if (lastSampled) why.push(`it refused ${lastSampled[0]} (${lastSampled[1]})`);
    else if (!currents && this.kept(charger, SAMPLED_DATA_KEY))
      why.push(`${SAMPLED_DATA_KEY} is kept by the operator's backend and has no ${wanted.join(', ')}`);
    else if (!currents && tried === undefined)
      why.push(
        `${SAMPLED_DATA_KEY} has no room for ${wanted.join(', ')} (${MAX_LENGTH_KEY} ${read.maxLength})`,
      );
    const intervalAnswer = progress.answers.get(`${SAMPLE_INTERVAL_KEY}=${this.intervalS}`);
    let intervalS = read.intervalS !== undefined && read.intervalS > 0 ? read.intervalS : undefined;
    if (intervalAnswer !== undefined && taken(intervalAnswer)) intervalS = this.intervalS;
    else if (intervalAnswer !== undefined)
      why.push(`it refused ${SAMPLE_INTERVAL_KEY}=${this.intervalS} (${intervalAnswer})`);
    else if (intervalS === undefined && this.kept(charger, SAMPLE_INTERVAL_KEY))
      why.push(`${SAMPLE_INTERVAL_KEY} is kept by the operator's backend and is off`);
    if (intervalS === undefined) currents = false;
    const outcome: Outcome = {
      perPhaseCurrents: currents,
      ...(intervalS === undefined ? {} : { intervalS }),
      ...(why.length === 0 ? {} : { why: why.join('; ') }),
    };
    charger.samplingDue = false;
    charger.sampling = undefined;
    this.ctx.cs.reportSampling(charger.chargePointId, outcome);
    const changeable =
      (intervalAnswer === undefined || taken(intervalAnswer)) && !this.kept(charger, SAMPLE_INTERVAL_KEY);
    this.fast.baseline(charger, intervalS, changeable, {
      perPhaseCurrents: currents,
      ...(outcome.why === undefined ? {} : { why: outcome.why }),
    });
    if (!currents)
      this.ctx.log.warn(
        `charge point ${charger.chargePointId}: no per-phase current samples (${outcome.why})`,
      );
    const bootAt = this.bootAt(charger);
    const facts: SamplingFacts = { version: 1, ...(bootAt === undefined ? {} : { bootAt }), ...outcome };
    this.ctx.cs.storeData(charger.chargePointId, SAMPLING_ROOM, facts).catch((err: Error) => {
      this.ctx.log.warn(`could not keep what ${charger.chargePointId} samples in its record: ${err.message}`);
    });
  }

  /** The operator's backend keeps this key: ampflow reads it, never changes it. */
  private kept(charger: ChargerEntry, key: string): boolean {
    return this.ctx.options.backendKeepsKey?.(charger.chargePointId, key) === true;
  }

  private tellAgain(charger: ChargerEntry, facts: SamplingFacts): void {
    const told = this.ctx.cs
      .connectorsOf(charger.chargePointId)
      .every((state) => state.sampling !== undefined);
    if (told) return;
    this.ctx.cs.reportSampling(charger.chargePointId, {
      perPhaseCurrents: facts.perPhaseCurrents,
      ...(facts.intervalS === undefined ? {} : { intervalS: facts.intervalS }),
      ...(facts.why === undefined ? {} : { why: facts.why }),
    });
  }

  private storedData(charger: ChargerEntry): SamplingFacts | undefined {
    const facts = this.ctx.cs.storedData(charger.chargePointId, SAMPLING_ROOM) as SamplingFacts | undefined;
    return facts?.version === 1 && typeof facts.perPhaseCurrents === 'boolean' ? facts : undefined;
  }

  private bootAt(charger: ChargerEntry): string | undefined {
    return this.ctx.cs.recordOf(charger.chargePointId)?.boot?.at;
  }
}

function find(
  keys: readonly { key: string; value?: string }[] | undefined,
  name: string,
): string | undefined {
  return keys?.find((key) => key.key.toLowerCase() === name.toLowerCase())?.value;
}

function csl(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The current measurands the charger is asked for: its strategy's, else Current.Import. */
function currentsOf(charger: ChargerEntry): readonly string[] {
  return charger.strategy.currentMeasurands ?? [CURRENT];
}

/** An item of the list measures `measurand` (on its own or for one phase, "Current.Import.L1"). */
function measures(item: string, measurand: string): boolean {
  return item === measurand || item.startsWith(`${measurand}.`);
}

/** ChangeConfiguration took the value (now or after a reboot). */
function taken(status: string | undefined): boolean {
  return status === 'Accepted' || status === 'RebootRequired';
}
