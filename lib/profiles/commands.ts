import type { CentralSystemAction } from '../ocpp/actions';
import type { OcppRequest } from '../ocpp/messages';
import { buildSetChargingProfile, type ProfileSpec, profileIdFor, wholeSecondsMs } from './build';
import type { ChargerWide, ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import type { Target } from './limits';
import type { OfflineFallback } from './offline-fallback';
import type { Attempt } from './plan';
import type { CommandAttempt } from './reports';
import { type ChargerEntry, type ConnectorEntry, isRefusal } from './state';
import type { ChargingStrategy } from './strategies';

/** A command to a charger: an action with its request. */
export type Command = {
  [A in CentralSystemAction]: { action: A; request: OcppRequest<A> };
}[CentralSystemAction];

/**
 * The commands that set and remove limits: the SetChargingProfile (or ChangeConfiguration) for
 * each way of the plan, built for the charger's strategy and phases; clearing our TxProfiles; and
 * releasing charger-wide limits nothing needs any more.
 */
export class Commands {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly learning: Learning,
    private readonly fallback: OfflineFallback,
  ) {}

  /**
   * The command for an attempt; for a charger-wide method also the charger-wide limit it carries,
   * for a profile that ends on its own its validTo (ms).
   */
  commandFor(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempt: Attempt,
    target: Target,
    transactionId: number | undefined,
  ): { command: Command; wide?: ChargerWide; validToMs?: number } {
    if (attempt.method === 'ConfigurationKey') {
      const key = charger.strategy.configurationKey as NonNullable<ChargingStrategy['configurationKey']>;
      const wide = this.limits.chargerWide(charger) ?? { limitA: target.limitA, wattPhases: 1 };
      if (charger.key.baseline === undefined) {
        const before = charger.capabilities?.vendorKeys[key.key];
        if (before !== undefined) charger.key.baseline = before;
      }
      const value = String(this.limits.keyValueA(charger, wide.limitA));
      return { command: { action: 'ChangeConfiguration', request: { key: key.key, value } }, wide };
    }
    if (attempt.method === 'ChargePointMaxProfile') {
      const wide = this.limits.chargerWide(charger) ?? { limitA: target.limitA, wattPhases: 1 };
      const unit = attempt.unit ?? 'A';
      // A per phase caps every phase alike; W is divided by the phases the car uses (the fewest known).
      const phases = unit === 'W' ? wide.wattPhases : 3;
      const spec = this.profileSpec(charger, connector, attempt, { limitA: wide.limitA, phases }, undefined);
      return {
        command: {
          action: 'SetChargingProfile',
          request: buildSetChargingProfile({
            ...spec,
            purpose: 'ChargePointMaxProfile',
            connectorId: 0,
            idConnectorId: 0,
            // The charger's minimum for one car says nothing about the charger as a whole.
            minChargingRateA: undefined,
          }),
        },
        wide,
      };
    }
    const spec = this.profileSpec(
      charger,
      connector,
      attempt,
      target,
      attempt.method === 'TxProfile' ? transactionId : undefined,
    );
    // The validTo as the profile carries it, handed on as a number: not read back from its text.
    return {
      command: { action: 'SetChargingProfile', request: buildSetChargingProfile(spec) },
      validToMs: spec.validToMs === undefined ? undefined : wholeSecondsMs(spec.validToMs),
    };
  }

  /**
   * What a TxProfile or TxDefaultProfile for `target` is built of. Every field is always there
   * (undefined where it does not apply, which buildChargingProfile reads as absent): one shape for
   * every spec, not an object spread together per set-point.
   */
  profileSpec(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempt: Attempt,
    target: Target,
    transactionId: number | undefined,
  ): ProfileSpec {
    const strategy = charger.strategy;
    const unit = attempt.unit ?? 'A';
    const phases = this.limits.profilePhases(charger, connector.connectorId, target, unit);
    const statePhases =
      strategy.numberPhases === 'always' ||
      (strategy.numberPhases === 'whenSwitching' &&
        (unit === 'W' || (charger.capabilities?.switch3to1 === true && target.phases !== undefined)));
    const minChargingRateA = target.limitA > 0 ? strategy.minChargingRateA : undefined;
    // A set-point profile ends on its own where the offline fallback is under it (re-sent before).
    const validToMs =
      attempt.method === 'TxProfile' || attempt.method === 'TxDefaultProfile'
        ? this.fallback.validToMs(charger)
        : undefined;
    return {
      purpose: (attempt.method === 'TxProfile' ? 'TxProfile' : 'TxDefaultProfile') as
        | 'TxProfile'
        | 'TxDefaultProfile',
      connectorId: connector.connectorId,
      stackLevel: attempt.stackLevel ?? 0,
      kind: strategy.kind,
      unit,
      limitA: target.limitA,
      phases,
      statePhases,
      voltageV: this.ctx.voltsFor(charger),
      transactionId,
      minChargingRateA,
      nowMs: this.ctx.clock.now(),
      profileIdBase: this.ctx.profileIdBase,
      validToMs,
      clockOffsetMs: this.ctx.clockOffsetMs(charger),
    };
  }

  /** Clears the TxProfile of a transaction that ended, where the strategy asks (3.13.1). */
  async clearEndedTxProfile(charger: ChargerEntry, connector: ConnectorEntry): Promise<void> {
    connector.clearTxProfile = false;
    // A TxProfile sent for a newer transaction has the same id: clearing now would remove it.
    if (
      connector.session ||
      this.limits.transactionOf(charger.chargePointId, connector.connectorId) !== undefined
    )
      return;
    const request = { id: this.txProfileId(connector) };
    try {
      await this.ctx.call(charger, 'ClearChargingProfile', request);
    } catch {
      // The charger SHOULD have deleted it with the transaction (3.13.1); an error there is no harm.
    }
  }

  /**
   * Clears our TxProfile of the running transaction, after a TxDefaultProfile took over. Anything
   * but Accepted leaves it in force where we know it is installed (Unknown is fine where we only
   * feared it might be); no answer leaves it unknown.
   */
  async clearTxProfile(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempts: CommandAttempt[],
    transactionId: number,
  ): Promise<{ kind: 'cleared' } | { kind: 'refused' | 'lost'; error: string }> {
    const request = { id: this.txProfileId(connector) };
    const attempt: CommandAttempt = { action: 'ClearChargingProfile', method: 'TxProfile', request };
    attempts.push(attempt);
    const known = connector.session?.transactionId === transactionId;
    try {
      const response = await this.ctx.call(charger, 'ClearChargingProfile', request);
      attempt.response = response;
      if (response.status === 'Accepted' || (!known && response.status === 'Unknown')) {
        connector.session = undefined;
        connector.sessionUnknown = false;
        return { kind: 'cleared' };
      }
      attempt.refused = true;
      return { kind: 'refused', error: `ClearChargingProfile of the TxProfile answered ${response.status}` };
    } catch (err) {
      attempt.error = (err as Error).message;
      if (isRefusal(err)) {
        attempt.refused = true;
        return { kind: 'refused', error: `ClearChargingProfile of the TxProfile: ${(err as Error).message}` };
      }
      connector.enforced = undefined;
      connector.session = undefined;
      connector.sessionUnknown = true;
      charger.unanswered = true;
      return { kind: 'lost', error: (err as Error).message };
    }
  }

  /**
   * Removes charger-wide limits nothing needs any more: our ChargePointMaxProfile is cleared, the
   * vendor key set back to the value it had before this manager changed it (where that is known).
   */
  releaseChargerWide(charger: ChargerEntry, attempts: CommandAttempt[]): Promise<void> | undefined {
    // Nothing to lift (nearly every limit): no promise, no turn of its own per set-point.
    if (this.ctx.closed || !(this.clearsMax(charger) || this.restoresKey(charger))) return undefined;
    return this.release(charger, attempts);
  }

  private clearsMax(charger: ChargerEntry): boolean {
    return (
      charger.chargePointMax.state !== 'none' &&
      !this.limits.chargerWideNeeded(charger, 'ChargePointMaxProfile')
    );
  }

  private restoresKey(charger: ChargerEntry): boolean {
    const baseline = charger.key.baseline;
    return (
      Boolean(charger.strategy.configurationKey) &&
      baseline !== undefined &&
      charger.key.valueA !== undefined &&
      String(charger.key.valueA) !== baseline &&
      !this.limits.chargerWideNeeded(charger, 'ConfigurationKey')
    );
  }

  private async release(charger: ChargerEntry, attempts: CommandAttempt[]): Promise<void> {
    if (this.clearsMax(charger)) {
      const request = {
        id: profileIdFor('ChargePointMaxProfile', 0, this.ctx.profileIdBase),
      };
      const attempt: CommandAttempt = {
        action: 'ClearChargingProfile',
        method: 'ChargePointMaxProfile',
        request,
      };
      attempts.push(attempt);
      try {
        attempt.response = await this.ctx.call(charger, 'ClearChargingProfile', request);
        // Unknown: it was not there (any more).
        charger.chargePointMax = { state: 'none' };
        delete charger.releaseRefusal;
        this.learning.store(charger);
      } catch (err) {
        attempt.error = (err as Error).message;
        // Refused or unanswered, the charger may still hold every connector down: it stays on
        // record and the clear goes again with the retry's backoff.
        if (isRefusal(err)) {
          attempt.refused = true;
          this.refusedRelease(charger, `ClearChargingProfile of its ChargePointMaxProfile: ${attempt.error}`);
        }
        charger.releasePending = true;
        charger.releaseWaits = true;
      }
    }
    const key = charger.strategy.configurationKey;
    const baseline = charger.key.baseline;
    // Looked at again after the clear above: its answer may have changed what is needed.
    if (key && baseline !== undefined && this.restoresKey(charger)) {
      const request = { key: key.key, value: baseline };
      const attempt: CommandAttempt = { action: 'ChangeConfiguration', method: 'ConfigurationKey', request };
      attempts.push(attempt);
      try {
        const response = await this.ctx.call(charger, 'ChangeConfiguration', request);
        attempt.response = response;
        // RebootRequired: it takes the value back at its next boot, which is all it can do.
        if (response.status === 'Accepted' || response.status === 'RebootRequired') {
          charger.key.valueA = undefined;
          delete charger.releaseRefusal;
        } else {
          attempt.refused = true;
          this.refusedRelease(
            charger,
            `ChangeConfiguration ${key.key}=${baseline} answered ${response.status}`,
          );
          charger.releasePending = true;
          charger.releaseWaits = true;
        }
      } catch (err) {
        attempt.error = (err as Error).message;
        if (isRefusal(err)) {
          attempt.refused = true;
          this.refusedRelease(charger, `ChangeConfiguration ${key.key}=${baseline}: ${attempt.error}`);
        }
        charger.releasePending = true;
        charger.releaseWaits = true;
      }
    }
  }

  /** A charger keeps a limit nobody needs any more: said once per cause, tried again with backoff. */
  private refusedRelease(charger: ChargerEntry, what: string): void {
    const message = `charge point ${charger.chargePointId} refused to lift a charger-wide limit nothing needs any more (${what}); its cars may charge below their set-points until it takes it; trying again`;
    if (charger.releaseRefusal !== message) this.ctx.log.warn(message);
    charger.releaseRefusal = message;
  }

  private txProfileId(connector: ConnectorEntry): number {
    return profileIdFor('TxProfile', connector.connectorId, this.ctx.profileIdBase);
  }
}
