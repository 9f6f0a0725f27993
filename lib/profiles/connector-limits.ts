import { floorTo, limitForCharger } from './build';
import { connectorPhases, type RateUnit } from './capabilities';
import type { ProfileContext } from './context';
import {
  type ConnectorShare,
  chargerWideLimit,
  isPureIncrease,
  lowersAnyPhase,
  sameTarget,
  type Target,
} from './limits';
import { DEFAULTS } from './options';
import type { ChargerEntry, ConnectorEntry, Enforcement, Wanted } from './state';
import type { LimitMethod } from './strategies';
import { refreshDue } from './validity';

/** The methods that cap every connector of a charger alike. */
export const CHARGER_WIDE: readonly LimitMethod[] = ['ChargePointMaxProfile', 'ConfigurationKey'];

/** A charger-wide limit: the current per phase, and the phases a limit in W is divided by. */
export interface ChargerWide {
  limitA: number;
  wattPhases: number;
}

export type Decision =
  | { kind: 'none' }
  | { kind: 'duplicate'; target: Target }
  | { kind: 'hold'; untilMs: number }
  | { kind: 'send'; target: Target; refresh?: true };

/**
 * What each connector wants and holds: the limit it is to have (its own set-point and connector
 * 0's), what the charger confirmed holds it now, whether that is in force, the charger-wide limit
 * made of every connector's, and whether a change goes now, later (an increase) or not at all.
 * Reads the per-charger records and the central system's connectors; writes nothing.
 */
export class ConnectorLimits {
  constructor(private readonly ctx: ProfileContext) {}

  /** Decides what to do with a connector's limit now: nothing, later (an increase), or send. */
  decide(charger: ChargerEntry, connector: ConnectorEntry): Decision {
    const target = this.limitOf(charger, connector);
    if (!target) return { kind: 'none' };
    // A limit on its way may still land: the one in force before it is no reason to send nothing.
    const sending = connector.inFlight;
    if ((sending === undefined || sameTarget(sending, target)) && this.inForce(charger, connector, target)) {
      // In force, but its profile ends soon (validTo, the offline fallback): the same limit goes
      // again; not a duplicate. One on its way carries a new validTo already.
      const validToMs = this.enforcement(charger, connector)?.validToMs;
      if (sending === undefined && refreshDue(validToMs, this.ctx.clock.now(), this.fallbackAfterMs()))
        return { kind: 'send', target, refresh: true };
      return { kind: 'duplicate', target };
    }
    const last = connector.lastChange;
    const intervalMs = this.ctx.options.increaseIntervalMs ?? DEFAULTS.increaseIntervalMs;
    // Increases wait so chargers and contactors are not driven to oscillate; any decrease protects a breaker and goes at once.
    // A car's first amps are not paced: the 0 A before its transaction began was no pause of this
    // car (a charger that booted, or a session that ended, a moment before it plugged in).
    if (
      last &&
      intervalMs > 0 &&
      !this.firstAmps(charger, connector, last) &&
      isPureIncrease(target, last.target)
    ) {
      const untilMs = last.atMs + intervalMs;
      if (this.ctx.clock.now() < untilMs) return { kind: 'hold', untilMs };
    }
    return { kind: 'send', target };
  }

  private fallbackAfterMs(): number {
    return (this.ctx.options.offlineFallbackAfterS ?? DEFAULTS.offlineFallbackAfterS) * 1000;
  }

  /** Whether raising `connector` from 0 A now starts a transaction that began after the 0 went out. */
  private firstAmps(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    last: { target: Target; atMs: number },
  ): boolean {
    if (connector.connectorId === 0 || last.target.limitA > 0) return false;
    const session = charger.transactions.get(connector.connectorId);
    return session?.transactionId !== undefined && session.seenMs > last.atMs;
  }

  /**
   * The limit a connector is to have: the lowest of its own set-point and connector 0's. Without
   * a set-point of its own it takes connector 0's only where connector 0's TxDefaultProfile does
   * not reach it (a TxProfile or TxDefaultProfile of its own, or a running session on a charger
   * that applies a new TxDefaultProfile from the next session only).
   */
  limitOf(charger: ChargerEntry, connector: ConnectorEntry): Target | undefined {
    const own = connector.wanted ? this.ownTarget(charger, connector.wanted) : undefined;
    const zeroWanted = connector.connectorId > 0 ? charger.connectors.get(0)?.wanted : undefined;
    const zero = zeroWanted ? this.ownTarget(charger, zeroWanted) : undefined;
    if (own && zero) {
      const phases = own.phases ?? zero.phases;
      return { limitA: Math.min(own.limitA, zero.limitA), ...(phases === undefined ? {} : { phases }) };
    }
    if (own) return own;
    if (zero && this.needsOwnLimit(charger, connector)) return zero;
    return undefined;
  }

  /** The set-point a connector follows: its own, else connector 0's (for reports). */
  wantedOf(charger: ChargerEntry, connector: ConnectorEntry): Wanted | undefined {
    if (connector.wanted) return connector.wanted;
    return this.limitOf(charger, connector) ? charger.connectors.get(0)?.wanted : undefined;
  }

  private needsOwnLimit(charger: ChargerEntry, connector: ConnectorEntry): boolean {
    const transactionId = this.transactionOf(charger.chargePointId, connector.connectorId);
    if (connector.standing) return true;
    if (transactionId === undefined) return false;
    return (
      connector.session?.transactionId === transactionId ||
      connector.sessionUnknown ||
      !this.zeroReaches(charger, connector.connectorId)
    );
  }

  /** A connector without an entry that needs connector 0's limit on its own. */
  inherits(charger: ChargerEntry, connectorId: number): boolean {
    return (
      charger.connectors.get(0)?.wanted !== undefined &&
      this.transactionOf(charger.chargePointId, connectorId) !== undefined &&
      !this.zeroReaches(charger, connectorId)
    );
  }

  /**
   * Whether connector 0's TxDefaultProfile limits the running session of a connector: where the
   * strategy says a new one applies to running sessions, or when it was in place before the
   * session began (a charger that applies it from the next session on started this one with it).
   */
  private zeroReaches(charger: ChargerEntry, connectorId: number): boolean {
    const transactionId = this.transactionOf(charger.chargePointId, connectorId);
    if (transactionId !== undefined && charger.zeroMisses.get(connectorId) === transactionId) return false;
    if (charger.strategy.txDefaultAppliesToRunningSession) return true;
    const zero = charger.connectors.get(0);
    const since = charger.transactions.get(connectorId)?.sinceMs;
    if (!zero || zero.standingAtMs === undefined || since === undefined) return false;
    const target = this.limitOf(charger, zero);
    const enforced = this.enforcement(charger, zero);
    return (
      target !== undefined &&
      enforced?.method === 'TxDefaultProfile' &&
      sameTarget(enforced.target, target) &&
      // Strictly before: within the same millisecond the order is not known.
      zero.standingAtMs < since
    );
  }

  /** Whether the connector's limit goes down (on any phase) from what the charger confirmed, or that is unknown. */
  lowers(charger: ChargerEntry, connector: ConnectorEntry): boolean {
    const target = this.limitOf(charger, connector);
    const enforced = connector.enforced?.target;
    return target !== undefined && (!enforced || lowersAnyPhase(target, enforced));
  }

  /** Whether the charger confirmed a command that holds the connector at `target` now. */
  inForce(charger: ChargerEntry, connector: ConnectorEntry, target: Target): boolean {
    if (connector.force) return false;
    const enforced = this.enforcement(charger, connector);
    return (
      enforced !== undefined &&
      sameTarget(enforced.target, target) &&
      this.chargerWideInSync(charger, enforced.method)
    );
  }

  /** What holds the connector now, if the charger still has it (a profile past its validTo does not). */
  enforcement(charger: ChargerEntry, connector: ConnectorEntry): Enforcement | undefined {
    const enforced = this.enforcementIgnoringValidity(charger, connector);
    if (enforced?.validToMs !== undefined && enforced.validToMs <= this.ctx.clock.now()) return undefined;
    return enforced;
  }

  private enforcementIgnoringValidity(
    charger: ChargerEntry,
    connector: ConnectorEntry,
  ): Enforcement | undefined {
    const transactionId = this.transactionOf(charger.chargePointId, connector.connectorId);
    const ownTxProfile =
      transactionId !== undefined &&
      (connector.session?.transactionId === transactionId || connector.sessionUnknown);
    const enforced = connector.enforced;
    if (enforced) {
      switch (enforced.method) {
        case 'TxProfile':
          if (
            transactionId !== undefined &&
            enforced.transactionId === transactionId &&
            connector.session?.transactionId === transactionId
          )
            return enforced;
          break;
        case 'TxDefaultProfile':
          // Accepted (and, where asked, seen in the composite schedule) for this connector as it is now.
          if (!ownTxProfile && connector.standing && sameTarget(connector.standing, enforced.target))
            return enforced;
          break;
        case 'ChargePointMaxProfile':
          if (charger.chargePointMax.state === 'installed') return enforced;
          break;
        case 'ConfigurationKey':
          if (charger.key.valueA !== undefined) return enforced;
          break;
      }
    }
    // A TxDefaultProfile of the connector, installed while no TxProfile of ours overrules it, limits
    // the sessions that start after it (and, where the strategy says so, the running one).
    if (
      connector.standing &&
      !ownTxProfile &&
      !connector.sessionUnknown &&
      (transactionId === undefined || connector.standingIgnoredBy !== transactionId)
    ) {
      const validToMs = connector.standingValidToMs;
      return {
        method: 'TxDefaultProfile',
        target: connector.standing,
        ...(validToMs === undefined ? {} : { validToMs }),
      };
    }
    return undefined;
  }

  /** Whether the charger-wide limit a method relies on carries what it should now. */
  chargerWideInSync(charger: ChargerEntry, method: LimitMethod): boolean {
    if (!CHARGER_WIDE.includes(method)) return true;
    const wide = this.chargerWide(charger);
    if (!wide) return false;
    if (method === 'ConfigurationKey') return charger.key.valueA === this.keyValueA(charger, wide.limitA);
    const installed = charger.chargePointMax;
    return (
      installed.state === 'installed' &&
      installed.limitA === wide.limitA &&
      installed.wattPhases === wide.wattPhases
    );
  }

  /** The limit for a charger-wide method: see {@link chargerWideLimit}. */
  chargerWide(charger: ChargerEntry): ChargerWide | undefined {
    const shares: ConnectorShare[] = [];
    for (const connector of charger.connectors.values()) {
      const current = this.limitOf(charger, connector);
      if (!current) continue;
      // What was let through the rate limit: a held increase does not raise a charger-wide limit early.
      const target = connector.released ?? current;
      const knownPhases = this.knownPhases(charger, connector.connectorId, target);
      shares.push({
        connectorId: connector.connectorId,
        target,
        ...(knownPhases === undefined ? {} : { knownPhases }),
      });
    }
    return chargerWideLimit(shares);
  }

  keyValueA(charger: ChargerEntry, limitA: number): number {
    return charger.strategy.configurationKey?.wholeAmps ? Math.floor(limitA + 1e-9) : floorTo(limitA);
  }

  /**
   * Whether a charger-wide method must stay: a connector is held by it, or a connector is not
   * (yet) held by anything of its own (a limit not confirmed, an increase waiting).
   */
  chargerWideNeeded(charger: ChargerEntry, method: LimitMethod): boolean {
    for (const connector of charger.connectors.values()) {
      const target = this.limitOf(charger, connector);
      if (!target) continue;
      const enforced = this.enforcement(charger, connector);
      if (enforced?.method === method) return true;
      if (connector.force || !enforced || !sameTarget(enforced.target, target)) return true;
    }
    return false;
  }

  /** Phases a connector's car is known to use: the set-point's, else the meter's, else single-phase wiring. */
  knownPhases(charger: ChargerEntry, connectorId: number, target: Target | undefined): number | undefined {
    if (target?.phases !== undefined) return target.phases;
    const active = this.ctx.cs.connectorOf(charger.chargePointId, connectorId)?.activePhases?.length;
    if (active !== undefined && active > 0) return active;
    return connectorPhases(charger.capabilities, connectorId) === 1 ? 1 : undefined;
  }

  /**
   * The phases a profile is built for. Unknown in W: 1, the lowest watts (A × V × 1 never exceeds
   * the allocation per phase however many phases the car uses); in A (numberPhases only): as wired.
   */
  profilePhases(charger: ChargerEntry, connectorId: number, target: Target, unit: RateUnit): number {
    const known = this.knownPhases(charger, connectorId, target);
    if (known !== undefined) return known;
    return unit === 'W' ? 1 : (connectorPhases(charger.capabilities, connectorId) ?? 3);
  }

  /** A set-point's limit as the charger gets it: a pause below the IEC 61851 minimum, rounded down to what it can do. */
  ownTarget(charger: ChargerEntry, wanted: { requestedLimitA: number; phases?: number }): Target {
    const minimumA = this.ctx.options.minimumCurrentA ?? DEFAULTS.minimumCurrentA;
    const stepA = charger.strategy.limitStepA;
    const stepped =
      stepA === undefined
        ? wanted.requestedLimitA
        : Math.floor((wanted.requestedLimitA + 1e-9) / stepA) * stepA;
    const requested = stepped < minimumA ? 0 : stepped;
    return {
      limitA: limitForCharger(requested, charger.strategy.limitStepsA),
      ...(wanted.phases === undefined ? {} : { phases: wanted.phases }),
    };
  }

  /** The transaction running on a connector, as the central system knows it (none on connector 0). */
  transactionOf(chargePointId: string, connectorId: number): number | undefined {
    if (connectorId === 0) return undefined;
    return this.ctx.cs.connectorOf(chargePointId, connectorId)?.transaction?.transactionId;
  }
}
