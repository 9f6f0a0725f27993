import { buildSetChargingProfile, fallbackProfileId } from './build';
import type { RateUnit } from './capabilities';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import { DEFAULTS } from './options';
import { type Attempt, PLAN_SLOTS, profilesRefused, stackLevelsFor } from './plan';
import { type ChargerEntry, type ConnectorEntry, isRefusal } from './state';
import { refreshDue, spreadMs } from './validity';

/** The offline fallback's stack level: below every set-point profile (which then need level 1 or more). */
export const FALLBACK_STACK_LEVEL = 0;

/**
 * The offline fallback: what a charger does once ampflow has lost it. OCPP 1.6 has no "offline
 * only" profile, so it is made of stacking (3.13.2) and `validTo` (7.8): a permanent
 * TxDefaultProfile on connector 0 at stack level 0 carries the fallback F, and the profiles that
 * carry the load manager's set-points (TxDefaultProfile, TxProfile, at a higher stack level) end
 * `offlineFallbackAfterS` after they were sent. While the charger is connected they are re-sent
 * (same limit, new validTo) from half that time on, so nothing changes; once it is lost, every
 * connector falls to F within that time, a car that arrives offline included.
 *
 * Installed only where the charger's set-points go as profiles above stack level 0 (a limit
 * carried at level 0, by a ChargePointMaxProfile or a vendor key would be capped at F while
 * connected: the fallback is then removed, and said so once); on an OCPP 2.0.1 station, whose
 * EVSE profiles outrank EVSE 0's whatever the stack level, at level 0 too (evseOutranksStation). The central system is told per
 * connector (`confirmFallback`) once the fallback is installed and the profile carrying the
 * connector's limit (TxProfile or TxDefaultProfile) has a validTo (a permanent one would outlast
 * the connection),
 * so the load manager reserves F for it while it is offline; it is withdrawn whenever the charger
 * may have lost the fallback (a reconnect, a boot) until it is installed again.
 */
export class OfflineFallback {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    /** Looks at a connector's limit again (the scheduler): a profile due for refresh goes. */
    private readonly schedule: (charger: ChargerEntry, connector: ConnectorEntry) => void,
  ) {}

  /** F as set (the installer's upper bound), A per phase; undefined when the fallback is switched off. */
  get limitA(): number | undefined {
    const value = this.ctx.options.offlineFallbackA;
    if (value === null) return undefined;
    return value ?? DEFAULTS.offlineFallbackA;
  }

  /**
   * The F this charger gets: the setting, lowered to the lowest fallback the load manager chose
   * for its connectors (`SetPoint.fallbackA`: its minimum where the circuit has room for it when
   * ampflow is gone, else 0 A), as one profile on connector 0 carries it for every connector.
   */
  limitFor(charger: ChargerEntry): number | undefined {
    let limitA = this.limitA;
    if (limitA === undefined) return undefined;
    for (const connector of charger.connectors.values())
      if (connector.connectorId !== 0 && connector.plannedFallbackA !== undefined)
        limitA = Math.min(limitA, connector.plannedFallbackA);
    return limitA;
  }

  /**
   * A connector was given a fallback by the load manager: an installed fallback that is no longer
   * what the charger should get goes again before its next limit (the one installed is kept in
   * force, and confirmed, until the new one is accepted).
   */
  planned(charger: ChargerEntry, connector: ConnectorEntry, fallbackA: number | undefined): void {
    if (fallbackA === undefined || connector.plannedFallbackA === fallbackA) return;
    connector.plannedFallbackA = fallbackA;
    const fallback = charger.fallback;
    if (fallback.state === 'installed' && fallback.limitA !== this.limitFor(charger))
      charger.fallback = { state: 'wanted', installedA: fallback.limitA, replace: true };
  }

  get afterMs(): number {
    return (this.ctx.options.offlineFallbackAfterS ?? DEFAULTS.offlineFallbackAfterS) * 1000;
  }

  /** Checks the settings (a fallback below the IEC 61851 minimum would strand cars at 0 A). */
  static check(options: { offlineFallbackA?: number | null; offlineFallbackAfterS?: number }): void {
    const limitA = options.offlineFallbackA;
    if (
      limitA !== undefined &&
      limitA !== null &&
      !(Number.isFinite(limitA) && limitA >= DEFAULTS.minimumCurrentA)
    )
      throw new RangeError(
        `offlineFallbackA must be at least ${DEFAULTS.minimumCurrentA} A (a car cannot charge below it), or null for none`,
      );
    const afterS = options.offlineFallbackAfterS;
    if (afterS !== undefined && !(Number.isFinite(afterS) && afterS >= 10))
      throw new RangeError('offlineFallbackAfterS must be at least 10 s');
  }

  /** A new charger's state: wanted unless switched off. */
  initial(): ChargerEntry['fallback'] {
    return this.limitA === undefined ? { state: 'off' } : { state: 'wanted' };
  }

  /** The validTo for a set-point profile sent now (none while the fallback is not installed). */
  validToMs(charger: ChargerEntry): number | undefined {
    const fallback = charger.fallback;
    // A fallback being replaced (another F chosen) is in force until the new one is.
    const installed =
      fallback.state === 'installed' || (fallback.state === 'wanted' && fallback.installedA !== undefined);
    return installed ? this.ctx.clock.now() + this.afterMs : undefined;
  }

  /** Installs the fallback before the next limit goes, where it is wanted. Called by the sender. */
  ensure(charger: ChargerEntry): Promise<void> | undefined {
    // Nothing to install: no turn of its own before the limit goes.
    if (charger.fallback.state !== 'wanted' || this.ctx.closed) return undefined;
    return this.install(charger);
  }

  private async install(charger: ChargerEntry): Promise<void> {
    // Tried once on its own: without an answer it goes again before the next limit.
    if (charger.fallback.state === 'wanted') charger.fallback.replace = false;
    const limitA = this.limitFor(charger);
    const why = limitA === undefined ? 'switched off' : this.ineligible(charger);
    if (limitA === undefined || why !== undefined) {
      this.off(charger, why);
      return;
    }
    const unit = this.unitOf(charger);
    const request = buildSetChargingProfile({
      purpose: 'TxDefaultProfile',
      connectorId: 0,
      stackLevel: FALLBACK_STACK_LEVEL,
      kind: charger.strategy.kind,
      unit,
      limitA,
      // In W, one phase: the fewest watts (a car on three phases may get less than F, never more).
      phases: unit === 'W' ? 1 : 3,
      statePhases: charger.strategy.numberPhases === 'always',
      voltageV: this.ctx.voltsFor(charger),
      nowMs: this.ctx.clock.now(),
      clockOffsetMs: this.ctx.clockOffsetMs(charger),
      profileIdBase: this.ctx.profileIdBase,
      profileId: fallbackProfileId(this.ctx.profileIdBase),
    });
    try {
      const response = await this.ctx.call(charger, 'SetChargingProfile', request);
      if (response.status !== 'Accepted') {
        this.off(charger, `it answered ${response.status} to the fallback profile`);
        return;
      }
    } catch (err) {
      // No answer: it goes again before the next limit.
      if (!isRefusal(err)) return;
      this.off(charger, `it refused the fallback profile (${(err as Error).message})`);
      return;
    }
    charger.fallback = { state: 'installed', limitA, atMs: this.ctx.clock.now() };
    // Connectors told of the one before fall to this one now.
    for (const connector of charger.connectors.values())
      if (connector.fallbackConfirmed)
        this.ctx.cs.confirmFallback(charger.chargePointId, connector.connectorId, {
          limitA,
          afterS: this.afterMs / 1000,
        });
    this.note(
      charger,
      'info',
      `charge point ${charger.chargePointId}: offline fallback of ${limitA} A installed (its limits end ${this.afterMs / 1000} s after ampflow loses it)`,
    );
  }

  /**
   * A limit was taken one way: a set-point under the fallback's stack level, or charger-wide,
   * would be capped at F while connected, so the fallback goes; a TxDefaultProfile with a validTo
   * on the connector confirms its fallback; the refresh timer is armed.
   */
  taken(charger: ChargerEntry, connector: ConnectorEntry, attempt: Attempt): Promise<void> | undefined {
    if (charger.fallback.state === 'installed' && this.conflicts(charger, attempt)) {
      return this.remove(
        charger,
        `its limit on connector ${connector.connectorId} went as ${attempt.method}${attempt.stackLevel === undefined ? '' : ` at stack level ${attempt.stackLevel}`}, which the fallback would cap while connected`,
      ).then(() => this.afterTaken(charger, connector));
    }
    // Nothing to wait for (nearly every limit): no promise, no turn of its own per set-point.
    this.afterTaken(charger, connector);
    return undefined;
  }

  private afterTaken(charger: ChargerEntry, connector: ConnectorEntry): void {
    this.confirm(charger, connector);
    // An armed timer is due no later than this limit's profile needs (a new validTo is the
    // latest): a refresh that finds nothing due arms it again. Not re-armed per limit.
    if (charger.refreshTimer === undefined) this.arm(charger);
  }

  /** The charger may have lost what it had (a reconnect, a boot): the fallback goes again first. */
  lost(charger: ChargerEntry): void {
    if (charger.fallback.state === 'installed') charger.fallback = { state: 'wanted' };
    this.withdraw(charger);
  }

  /** A boot: what it can do is read again, so a fallback that did not fit is looked at again. */
  booted(charger: ChargerEntry): void {
    this.reconsider(charger);
    this.withdraw(charger);
  }

  /**
   * A fallback that went off is tried again before the next limit (a boot, or a refusal that made
   * it go found out to mean nothing: events.ts); one that does not fit goes off again.
   */
  reconsider(charger: ChargerEntry): void {
    if (charger.fallback.state === 'off' && this.limitA !== undefined) charger.fallback = { state: 'wanted' };
  }

  /** Stops the refresh timer (a disconnect, close). */
  stop(charger: ChargerEntry): void {
    this.ctx.clock.clearTimeout(charger.refreshTimer);
    charger.refreshTimer = undefined;
  }

  /** Arms the charger's refresh timer for its next profile due (spread per charger). */
  arm(charger: ChargerEntry): void {
    this.stop(charger);
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) return;
    let earliest: number | undefined;
    for (const connector of charger.connectors.values()) {
      const validToMs = this.limits.enforcement(charger, connector)?.validToMs;
      if (validToMs !== undefined && (earliest === undefined || validToMs < earliest)) earliest = validToMs;
    }
    if (earliest === undefined) return;
    const now = this.ctx.clock.now();
    const atMs = Math.max(
      earliest - this.afterMs / 2 + spreadMs(charger.chargePointId, this.afterMs),
      now + this.afterMs / 16,
    );
    charger.refreshTimer = this.ctx.clock.setTimeout(() => {
      charger.refreshTimer = undefined;
      this.refresh(charger);
    }, atMs - now);
  }

  /** Every connector whose profile is due goes again (same limit, new validTo). */
  private refresh(charger: ChargerEntry): void {
    if (this.ctx.closed || !this.ctx.cs.isConnected(charger.chargePointId)) return;
    const now = this.ctx.clock.now();
    for (const connector of charger.connectors.values()) {
      if (connector.holdTimer !== undefined) continue;
      const validToMs = this.limits.enforcement(charger, connector)?.validToMs;
      if (refreshDue(validToMs, now, this.afterMs)) this.schedule(charger, connector);
    }
    this.arm(charger);
  }

  /**
   * The connector falls to the fallback once its limit's profile ends: the charger accepted the
   * fallback and the profile that carries the connector's limit has a validTo, whichever purpose
   * it went with (a TxProfile for a car that was charging already, or a TxDefaultProfile). Not
   * while a TxDefaultProfile of ours without a validTo is known on the connector: it would outlast
   * the connection.
   */
  private confirm(charger: ChargerEntry, connector: ConnectorEntry): void {
    const fallback = charger.fallback;
    if (fallback.state === 'off' && connector.connectorId !== 0 && !connector.keepsNoted) {
      // No fallback, so its limits have no validTo: it keeps the last one when ampflow is gone.
      connector.keepsNoted = true;
      this.ctx.cs.confirmFallback(charger.chargePointId, connector.connectorId, {
        keepsLastLimit: this.ctx.words(charger, fallback.reason ?? 'switched off'),
      });
      return;
    }
    const endsOnItsOwn =
      connector.standingValidToMs !== undefined || connector.enforced?.validToMs !== undefined;
    const permanentStanding = connector.standing !== undefined && connector.standingValidToMs === undefined;
    // While another F goes (a new choice), the one installed is in force: confirmed until replaced.
    const inForceA =
      fallback.state === 'installed'
        ? fallback.limitA
        : fallback.state === 'wanted'
          ? fallback.installedA
          : undefined;
    if (
      inForceA === undefined ||
      connector.connectorId === 0 ||
      connector.fallbackConfirmed ||
      !endsOnItsOwn ||
      permanentStanding
    )
      return;
    connector.fallbackConfirmed = true;
    this.ctx.cs.confirmFallback(charger.chargePointId, connector.connectorId, {
      limitA: inForceA,
      afterS: this.afterMs / 1000,
    });
  }

  private withdraw(charger: ChargerEntry): void {
    for (const connector of charger.connectors.values()) {
      if (!connector.fallbackConfirmed && !connector.keepsNoted) continue;
      connector.fallbackConfirmed = false;
      connector.keepsNoted = false;
      this.ctx.cs.confirmFallback(charger.chargePointId, connector.connectorId, undefined);
    }
  }

  private conflicts(charger: ChargerEntry, attempt: Attempt): boolean {
    if (attempt.method === 'TxProfile') return false;
    if (attempt.method === 'TxDefaultProfile')
      return !this.evseOutranksStation(charger) && (attempt.stackLevel ?? 0) <= FALLBACK_STACK_LEVEL;
    return true;
  }

  /**
   * OCPP 2.0.1 (K08, the composite schedule): an EVSE's own TxDefaultProfile outranks EVSE 0's
   * whatever their stack levels, so a 2.0.1 station's limits (TxProfile or TxDefaultProfile on
   * its EVSE, with a validTo) sit above the fallback on EVSE 0 even at stack level 0, the level
   * every station takes. So a 2.0.1 station that does not report SmartChargingCtrlr.ProfileStackLevel
   * (or reports 0) still gets its fallback: a TxDefaultProfile on EVSE 0 at stack level 0, its limits
   * at level 0. A 1.6 charger's connector 0 and connector profiles are ranked by stack level alone.
   */
  private evseOutranksStation(charger: ChargerEntry): boolean {
    return this.ctx.speaks201(charger);
  }

  /** Why the fallback does not fit this charger, if it does not. */
  private ineligible(charger: ChargerEntry): string | undefined {
    const { strategy, capabilities, memory } = charger;
    if (capabilities?.smartCharging === false || PLAN_SLOTS.some((slot) => profilesRefused(memory, slot)))
      return 'it takes no charging profiles';
    const methods = [...strategy.sessionMethods, ...strategy.idleMethods];
    if (!methods.some((method) => method === 'TxProfile' || method === 'TxDefaultProfile'))
      return `its strategy ${strategy.name} sets no charging profiles`;
    // A charger that does not say its ChargeProfileMaxStackLevel is tried at level 1 first (plan.ts):
    // it gets the fallback; one that refuses 1 sends its limits at 0, and the fallback goes (taken).
    const level = stackLevelsFor(strategy, capabilities)[0] ?? 0;
    const evseOutranks = this.evseOutranksStation(charger);
    if (level <= FALLBACK_STACK_LEVEL && !evseOutranks)
      return `its limits go at stack level ${level} (ChargeProfileMaxStackLevel ${capabilities?.maxStackLevel ?? 'unknown'}); the fallback needs a level below them`;
    const worked = Object.values(memory.worked).find(
      (key) =>
        key !== undefined &&
        ((key.startsWith(`TxDefaultProfile/${FALLBACK_STACK_LEVEL}/`) && !evseOutranks) ||
          !key.startsWith('Tx')),
    );
    if (worked) return `its limits went as ${worked} before, which the fallback would cap`;
    return undefined;
  }

  private unitOf(charger: ChargerEntry): RateUnit {
    const unit = charger.strategy.rateUnit;
    if (unit !== 'auto') return unit;
    const allowed = charger.capabilities?.allowedUnits;
    return !allowed || allowed.includes('A') ? 'A' : 'W';
  }

  /** Removes the fallback (it would cap a limit while connected); said once. */
  private async remove(charger: ChargerEntry, why: string): Promise<void> {
    this.off(charger, why);
    try {
      await this.ctx.call(charger, 'ClearChargingProfile', { id: fallbackProfileId(this.ctx.profileIdBase) });
    } catch {
      // Refused or unanswered: a boot or reconnect looks at it again.
    }
  }

  private off(charger: ChargerEntry, reason: string | undefined): void {
    charger.fallback = { state: 'off', ...(reason === undefined ? {} : { reason }) };
    this.withdraw(charger);
    if (reason === undefined || reason === 'switched off') return;
    // Info, not a warning: such a charger works as before (the load manager counts it at offlineA).
    this.note(
      charger,
      'info',
      `charge point ${charger.chargePointId}: no offline fallback installed (${reason}); while offline the load manager counts it at its offlineA`,
    );
  }

  private note(charger: ChargerEntry, level: 'info' | 'warn', text: string): void {
    const message = this.ctx.words(charger, text);
    if (charger.fallbackNote === message) return;
    charger.fallbackNote = message;
    this.ctx.log[level](message);
  }
}
