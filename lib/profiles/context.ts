import { type Clock, systemClock } from '../clock';
import type { ChargePointPort } from '../contracts';
import { type Logger, silentLogger } from '../log';
import type { CentralSystemAction } from '../ocpp/actions';
import { ChargerClocks } from '../ocpp/charger-clocks';
import type { OcppRequest, OcppResponse } from '../ocpp/messages';
import { in201Words } from '../ocpp/v201/words';
import { DEFAULT_PROFILE_ID_BASE, DEFAULT_VOLTAGE_V } from './build';
import type { ProfileManagerOptions } from './options';
import type { ChargerEntry } from './state';
import { DEFAULT_VERIFICATION, type VerificationOptions } from './verification';

/**
 * What every part of the profile manager shares: the port to the central system, the clock, the
 * log, the settings, its events, and whether it was closed (then nothing is published or sent).
 */
export class ProfileContext {
  readonly clock: Clock;
  readonly log: Logger;
  readonly voltageV: number;
  readonly verification: VerificationOptions;
  private isClosed = false;
  private readonly clocks: ChargerClocks;

  constructor(
    readonly cs: ChargePointPort,
    readonly options: ProfileManagerOptions,
    private readonly emit: (event: string, payload: unknown) => void,
  ) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.voltageV = options.voltageV ?? DEFAULT_VOLTAGE_V;
    this.verification = { ...DEFAULT_VERIFICATION, ...options.verification };
    // The chargers' clocks against this manager's clock, measured from now on; the central
    // system's own measurement (chargerClocksOf) is the one that logs and shows them.
    this.clocks = new ChargerClocks(cs, silentLogger, () => this.clock.now());
  }

  /** Volts per ampere and phase for `charger`'s watts: its site's (SetPoint.voltageV), else the Voltage setting. */
  voltsFor(charger: Pick<ChargerEntry, 'siteVoltageV'>): number {
    return charger.siteVoltageV ?? this.voltageV;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Marks the manager closed; false when it was already. */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    this.clocks.stop();
    return true;
  }

  /** Events stop with close(): a command answered afterwards reports to no one. */
  publish(event: string, payload: unknown): void {
    if (!this.closed) this.emit(event, payload);
  }

  call<A extends CentralSystemAction>(
    charger: ChargerEntry,
    action: A,
    request: OcppRequest<A>,
  ): Promise<OcppResponse<A>> {
    const timeoutMs = this.options.callTimeoutMs;
    return this.cs.call(charger.chargePointId, action, request, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /** A reason in the charger's version's words (a 2.0.1 station's: v201/words.ts). */
  words(charger: ChargerEntry, text: string): string {
    return this.speaks201(charger) ? in201Words(text) : text;
  }

  /** Whether the charger speaks OCPP 2.0.1: its connection's version, the last one seen while it is away. */
  speaks201(charger: ChargerEntry): boolean {
    const protocol = this.cs.protocolOf?.(charger.chargePointId);
    if (protocol !== undefined) charger.ocpp201 = protocol === 'ocpp2.0.1';
    return charger.ocpp201 === true;
  }

  /** The charger's clock minus ampflow's, ms, as the central system measured it (0 until it has). */
  clockOffsetMs(charger: ChargerEntry): number {
    return this.clocks.offsetMs(charger.chargePointId);
  }

  nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }

  get profileIdBase(): number {
    return this.options.profileIdBase ?? DEFAULT_PROFILE_ID_BASE;
  }
}
