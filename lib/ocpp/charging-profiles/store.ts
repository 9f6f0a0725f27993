import type { GetCompositeScheduleResponse } from '../messages';
import { checkProfile, clears, replaces } from './check';
import { compositeResponse } from './composite';
import {
  type ChargingProfilePurpose,
  type ChargingRateUnit,
  type ClearCriteria,
  type ConnectorView,
  EXTERNAL_CONSTRAINTS,
  type InstalledProfile,
  type Limit,
  type LimitContext,
  limitOfPeriod,
  lowerOf,
  type ModelProfile,
  minLimit,
  type Period,
  type ProfileRules,
  type ProfileVerdict,
} from './model';
import { breakpoints, periodAt, prevailing } from './schedule';

/** How far ahead the next change of a limit is looked for. */
const LOOKAHEAD_MS = 8 * 24 * 3600 * 1000;

/**
 * The charging profiles of one charge point: where they are kept, which one prevails when, and the
 * composite schedule that follows. One implementation of the rules for everyone who needs them: the
 * simulated charger (sim/, which adds the deviations of charger models through the protected
 * hooks below), the pass-through keeping an operator's profiles (lib/upstream), either version.
 *
 * The limits combine as 3.13.3 and K08 say: for a connector, the transaction's profile (a TxProfile
 * of the running transaction over TxDefaultProfile; the connector's own TxDefaultProfile over
 * connector 0's) and the external constraints set on it; for the charge point as a whole, its
 * ChargePointMaxProfile and the external constraints on connector 0. Within a purpose the highest
 * stack level in force prevails; across purposes the minimum holds.
 */
export class ChargingProfileStore {
  protected profiles: InstalledProfile[] = [];
  /** A local limit per connector and phase, in A, outside OCPP smart charging (a vendor key). */
  private localCapA: number | undefined;

  all(): readonly InstalledProfile[] {
    return this.profiles;
  }

  /**
   * A local current limit per connector and phase (such as an EVlink's maxIntensitySocket), applied
   * on top of the profiles and reported in the composite schedule ("local limits", 5.7).
   */
  setLocalCapA(capA: number | undefined): void {
    this.localCapA = capA;
  }

  /**
   * Checks a SetChargingProfile (or a RemoteStartTransaction profile) against the charge point's
   * capabilities and state (check.ts). `transaction` is the one running on the connector.
   */
  check(
    connectorId: number,
    profile: ModelProfile,
    rules: ProfileRules,
    transaction?: { key: number; transactionId?: number },
  ): ProfileVerdict {
    return checkProfile(connectorId, profile, rules, this.profiles, transaction);
  }

  /**
   * Installs a profile. It replaces a profile with the same chargingProfileId, and one with the same
   * purpose and stackLevel on the same connector (check.ts `replaces`).
   */
  install(connectorId: number, profile: ModelProfile, nowMs: number, transactionKey?: number): void {
    const replaced = this.profiles.filter((installed) => replaces(connectorId, profile, installed));
    this.removed(replaced, nowMs);
    this.profiles = this.profiles.filter((installed) => !replaces(connectorId, profile, installed));
    this.profiles.push({
      connectorId,
      profile: structuredClone(profile),
      installedAtMs: nowMs,
      ...(transactionKey === undefined ? {} : { transactionKey }),
    });
  }

  /** ClearChargingProfile (check.ts `clears`). Returns whether anything was removed. */
  clear(request: ClearCriteria, nowMs = 0): boolean {
    const removed = this.profiles.filter((installed) => clears(request, installed));
    this.removed(removed, nowMs);
    this.profiles = this.profiles.filter((installed) => !clears(request, installed));
    return removed.length > 0;
  }

  /** "After the transaction is stopped, the profile SHOULD be deleted" (3.13.1). */
  removeTransactionProfiles(transactionKey: number): void {
    this.profiles = this.profiles.filter(
      (installed) =>
        !(
          installed.profile.chargingProfilePurpose === 'TxProfile' &&
          installed.transactionKey === transactionKey
        ),
    );
  }

  /**
   * The limit the charge point enforces on a transaction on `connector` at `atMs`: the TxProfile or
   * TxDefaultProfile limit and the connector's external constraints, and the local cap.
   */
  transactionLimitAt(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    return this.withLocalCap(this.scheduledTxLimit(connector, atMs, voltageV, nowMs), connector.phases);
  }

  /** The limit on the charge point as a whole at `atMs` (for all connectors together). */
  chargePointLimitAt(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    return this.scheduledChargePointLimit(atMs, voltageV, nowMs);
  }

  /**
   * The composite limit for one connector: the minimum of the charge point's limit and the
   * connector's (3.13.3), capped by the connector's rating. Connector 0 reports what the whole
   * charge point may draw: the sum over its connectors, capped by the charge point's limit.
   */
  compositeAt(connectorId: number, atMs: number, context: LimitContext, nowMs: number): Limit {
    // What the profiles say, also where a charger does not enforce them.
    const whole = this.scheduledChargePointLimit(atMs, context.voltageV, nowMs);
    if (connectorId === 0) {
      let sumA = 0;
      let phases = 1;
      for (const connector of context.connectors) {
        const limit = this.connectorLimit(connector, atMs, context.voltageV, nowMs);
        sumA += limit.currentA;
        phases = Math.max(phases, limit.phases);
      }
      return lowerOf({ currentA: sumA, phases }, whole) as Limit;
    }
    const connector = context.connectors.find((c) => c.connectorId === connectorId);
    if (!connector) throw new RangeError(`no connector ${connectorId}`);
    return lowerOf(this.connectorLimit(connector, atMs, context.voltageV, nowMs), whole) as Limit;
  }

  /** GetCompositeSchedule (5.7, K08): the composite from `fromMs` for `durationS` seconds. */
  compositeSchedule(
    connectorId: number,
    fromMs: number,
    durationS: number,
    unit: ChargingRateUnit,
    context: LimitContext,
  ): GetCompositeScheduleResponse {
    const toMs = fromMs + durationS * 1000;
    const relevant =
      connectorId === 0
        ? this.profiles
        : this.profiles.filter((p) => p.connectorId === 0 || p.connectorId === connectorId);
    const moments = [...relevant, ...this.formerProfiles()].flatMap((installed) =>
      breakpoints(installed, fromMs, toMs, context.connectors, fromMs),
    );
    return compositeResponse(connectorId, fromMs, durationS, unit, context.voltageV, moments, (atMs) =>
      this.compositeAt(connectorId, atMs, context, fromMs),
    );
  }

  /** The next moment after `afterMs` at which some connector's limit may change, if any within 8 days. */
  nextChangeAfter(afterMs: number, context: LimitContext): number | undefined {
    let next: number | undefined;
    for (const installed of [...this.profiles, ...this.formerProfiles()]) {
      for (const point of breakpoints(
        installed,
        afterMs,
        afterMs + LOOKAHEAD_MS,
        context.connectors,
        afterMs,
      )) {
        if (next === undefined || point < next) next = point;
      }
    }
    return next;
  }

  // ---- Hooks for a charger model's deviations (sim/) ------------------------------------

  /** Profiles replaced or cleared (by install or clear), just before they go. */
  protected removed(_removed: readonly InstalledProfile[], _nowMs: number): void {}

  /** Profiles no longer installed that may still apply; their changes count as changes. */
  protected formerProfiles(): readonly InstalledProfile[] {
    return [];
  }

  /** The TxDefaultProfiles of `connectorId` that may apply to `transaction` (or without one). */
  protected txDefaults(connectorId: number, _transaction: ConnectorView['transaction']): InstalledProfile[] {
    return this.profiles.filter(
      (p) => p.profile.chargingProfilePurpose === 'TxDefaultProfile' && p.connectorId === connectorId,
    );
  }

  /** The phases a schedule period states (numberPhases). */
  protected statedPhases(period: Period): number | undefined {
    return period.numberPhases;
  }

  // ---- The limits the profiles set -----------------------------------------------------------

  /** The transaction's limit on `connector` and its external constraints, as the profiles say. */
  protected scheduledTxLimit(
    connector: ConnectorView,
    atMs: number,
    voltageV: number,
    nowMs: number,
  ): Limit | undefined {
    const tx = this.limitOf(this.prevailingTx(connector, atMs, nowMs), atMs, voltageV, connector, nowMs);
    if (connector.connectorId === 0) return tx;
    const external = this.prevailingOf(EXTERNAL_CONSTRAINTS, connector.connectorId, atMs, connector, nowMs);
    return lowerOf(tx, this.limitOf(external, atMs, voltageV, connector, nowMs));
  }

  /** The ChargePointMaxProfile and connector 0's external constraints, as the profiles say. */
  protected scheduledChargePointLimit(atMs: number, voltageV: number, nowMs: number): Limit | undefined {
    const max = prevailing(
      this.profiles.filter((p) => p.profile.chargingProfilePurpose === 'ChargePointMaxProfile'),
      atMs,
      undefined,
      nowMs,
    );
    const external = this.prevailingOf(EXTERNAL_CONSTRAINTS, 0, atMs, undefined, nowMs);
    return lowerOf(
      this.limitOf(max, atMs, voltageV, undefined, nowMs),
      this.limitOf(external, atMs, voltageV, undefined, nowMs),
    );
  }

  protected withLocalCap(limit: Limit | undefined, phases: number): Limit | undefined {
    if (this.localCapA === undefined) return limit;
    return lowerOf(limit, { currentA: this.localCapA, phases });
  }

  private connectorLimit(connector: ConnectorView, atMs: number, voltageV: number, nowMs: number): Limit {
    const hardware: Limit = { currentA: connector.maxCurrentA, phases: connector.phases };
    const tx = this.withLocalCap(this.scheduledTxLimit(connector, atMs, voltageV, nowMs), connector.phases);
    return tx ? minLimit(hardware, { ...tx, phases: Math.min(tx.phases, connector.phases) }) : hardware;
  }

  /**
   * A TxProfile of the running transaction overrules TxDefaultProfile (3.13.1). Among
   * TxDefaultProfiles, the connector's own replace those of connector 0 for that connector; when
   * none of its own is in force (validity, schedule not started or ended) connector 0's apply.
   */
  private prevailingTx(connector: ConnectorView, atMs: number, nowMs: number): InstalledProfile | undefined {
    const tx = connector.transaction;
    if (tx) {
      const txProfiles = this.profiles.filter(
        (p) =>
          p.profile.chargingProfilePurpose === 'TxProfile' &&
          p.connectorId === connector.connectorId &&
          p.transactionKey === tx.key,
      );
      const txProfile = prevailing(txProfiles, atMs, connector, nowMs);
      if (txProfile) return txProfile;
    }
    return (
      prevailing(this.txDefaults(connector.connectorId, tx), atMs, connector, nowMs) ??
      prevailing(this.txDefaults(0, tx), atMs, connector, nowMs)
    );
  }

  private prevailingOf(
    purpose: ChargingProfilePurpose,
    connectorId: number,
    atMs: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): InstalledProfile | undefined {
    const candidates = this.profiles.filter(
      (p) => p.profile.chargingProfilePurpose === purpose && p.connectorId === connectorId,
    );
    return candidates.length === 0 ? undefined : prevailing(candidates, atMs, connector, nowMs);
  }

  private limitOf(
    installed: InstalledProfile | undefined,
    atMs: number,
    voltageV: number,
    connector: ConnectorView | undefined,
    nowMs: number,
  ): Limit | undefined {
    if (!installed) return undefined;
    const period = periodAt(installed, atMs, connector, nowMs);
    if (!period) return undefined;
    const unit = installed.profile.chargingSchedule.chargingRateUnit;
    return limitOfPeriod(unit, period, voltageV, this.statedPhases(period));
  }
}
