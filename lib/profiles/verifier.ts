import { isCommandFailure, type MeterValuesPayload } from '../contracts';
import type { SetPointAnswers } from './answers';
import type { AttemptRunner } from './attempts';
import { compositeLimitNow, floorTo, isOwnProfileId, limitInUnit, profileIdFor } from './build';
import type { ConnectorLimits } from './connector-limits';
import type { ProfileContext } from './context';
import type { Learning } from './learning';
import type { Target } from './limits';
import { DEFAULTS } from './options';
import type { Attempt } from './plan';
import type { ChargerRegistry } from './registry';
import type { CommandAttempt, VerificationReport } from './reports';
import type { Scheduler } from './scheduler';
import { type ChargerEntry, type ConnectorEntry, isRefusal, isVerified, type Sending } from './state';
import { spreadMs } from './validity';
import { compareSchedule, measuredCurrentA, type ScheduleVerdict } from './verification';

/**
 * Whether a limit the charger accepted took effect: its composite schedule (GetCompositeSchedule)
 * after a profile, connector 0's TxDefaultProfile on the running sessions it should reach, and the
 * meter values against the limit (a connector that ignores its limit).
 */
export class Verifier {
  constructor(
    private readonly ctx: ProfileContext,
    private readonly limits: ConnectorLimits,
    private readonly learning: Learning,
    private readonly attempts: AttemptRunner,
    private readonly answers: SetPointAnswers,
    private readonly scheduler: Scheduler,
    private readonly registry: ChargerRegistry,
  ) {}

  /**
   * Whether the composite schedule is read after this accepted limit (asked before the connector's
   * verification starts over for it). The read is what shows a charger that accepts a profile but
   * does not apply it: a TxDefaultProfile that does not reach the running session, a profile of
   * someone else's above ours, firmware that keeps a replaced profile. Such a charger shows it with
   * the first limits a way carries, so a way is read back for every limit until two reads in a row
   * matched on this connector, connection and transaction (a reconnect, a boot, a new session or
   * someone else's profile command starts over: resender.ts, the way's key, commandSeen); after
   * that while the meter shows the connector above its limit, and else once per `scheduleEveryMs`
   * (spread per charger), which also catches what no command showed. Reading after every limit doubled the commands of a load manager's
   * change (a SetChargingProfile and a GetCompositeSchedule per connector): with 100 connectors the
   * reads of the first chargers held up the limits of the last (bench:latency).
   */
  wanted(sent: Sending, attempt: Attempt): boolean {
    const { charger, connector } = sent;
    if (
      this.ctx.closed ||
      !(this.ctx.options.verifySchedule ?? true) ||
      !charger.strategy.compositeSchedule ||
      charger.compositeUnsupported ||
      attempt.method === 'ConfigurationKey' ||
      // Connector 0 would report the whole charge point (5.7), not one connector's limit.
      connector.connectorId === 0
    )
      return false;
    const read = connector.scheduleRead;
    if (!read || read.way !== wayOf(sent, attempt) || read.matched < 2) return true;
    const { meter, ignoresLimit } = connector.verification;
    if (ignoresLimit || meter === 'above' || meter === 'ignoresLimit') return true;
    const everyMs = this.ctx.verification.scheduleEveryMs;
    return this.ctx.clock.now() - read.atMs >= everyMs + spreadMs(charger.chargePointId, everyMs);
  }

  /**
   * A profile command someone else sent the charger (a flow, an operator's backend), or a clear
   * that may reach ours: such a profile may sit above ours, so every connector's next limit is
   * read back again.
   */
  commandSeen(charger: ChargerEntry | undefined, event: { action: string; request: unknown }): void {
    if (!charger || (event.action !== 'SetChargingProfile' && event.action !== 'ClearChargingProfile'))
      return;
    const request = event.request as { id?: number; csChargingProfiles?: { chargingProfileId?: number } };
    const id = request?.csChargingProfiles?.chargingProfileId ?? request?.id;
    if (id !== undefined && isOwnProfileId(id, this.ctx.profileIdBase)) return;
    for (const connector of charger.connectors.values()) connector.scheduleRead = undefined;
  }

  /**
   * Reads the composite schedule after an accepted profile (where `wanted`). One above the limit
   * counts as a refusal of the way that was used: the set-point goes again, the next way. Returns
   * whether it did.
   */
  async checkSchedule(sent: Sending, attempt: Attempt): Promise<boolean> {
    const { charger, connector, target } = sent;
    if (this.ctx.closed) return false;
    const unit = attempt.unit ?? 'A';
    const phases = this.limits.profilePhases(charger, connector.connectorId, target, unit);
    const expected = limitInUnit(target.limitA, unit, this.ctx.voltsFor(charger), phases);
    let verdict: ScheduleVerdict;
    let scheduleLimit: number | undefined;
    try {
      const response = await this.ctx.call(charger, 'GetCompositeSchedule', {
        connectorId: connector.connectorId,
        duration: this.ctx.options.compositeDurationS ?? DEFAULTS.compositeDurationS,
        chargingRateUnit: unit,
      });
      scheduleLimit = compositeLimitNow(response, unit, this.ctx.voltsFor(charger), phases);
      verdict = compareSchedule(scheduleLimit, expected);
    } catch (err) {
      if (
        isRefusal(err) &&
        ['NotSupported', 'NotImplemented'].includes(
          (isCommandFailure(err) ? err.ocppErrorCode : undefined) ?? '',
        )
      ) {
        charger.compositeUnsupported = true;
        this.learning.store(charger);
      }
      verdict = 'unsupported';
    }
    if (this.ctx.closed || connector.lastChange?.target !== target) return false; // a newer limit went out meanwhile
    const way = wayOf(sent, attempt);
    const read = connector.scheduleRead;
    const matched = verdict !== 'matches' ? 0 : read?.way === way ? read.matched + 1 : 1;
    connector.scheduleRead = { way, atMs: this.ctx.clock.now(), matched };
    // Not a spread followed by fields: optimized, that gives every object a hidden class of its own.
    connector.verification = Object.assign(
      {},
      connector.verification,
      { schedule: verdict },
      scheduleLimit === undefined ? {} : { scheduleLimit },
    );
    connector.verification.verified = isVerified(connector.verification);
    if (verdict === 'lower') {
      const said = `charge point ${charger.chargePointId} connector ${connector.connectorId} was given ${expected} ${unit} (${attempt.method}) but its composite schedule says ${scheduleLimit} ${unit}`;
      return this.correctLower(sent, attempt, said);
    }
    if (verdict !== 'differs') return false;
    const reason = `accepted ${expected} ${unit} but its composite schedule says ${scheduleLimit} ${unit}`;
    this.ctx.log.warn(
      `charge point ${charger.chargePointId} connector ${connector.connectorId} ${reason} (${attempt.method}); trying the next way`,
    );
    const record = [...sent.attempts]
      .reverse()
      .find((item) => item.method === attempt.method && item.action === 'SetChargingProfile');
    if (record) {
      record.refused = true;
      record.error = reason;
    }
    this.attempts.refuse(sent, attempt, reason, false);
    connector.enforced = undefined;
    if (attempt.method === 'TxDefaultProfile' && sent.transactionId !== undefined)
      connector.standingIgnoredBy = sent.transactionId;
    // The set-point goes again, with the commands sent so far; a newer one takes its place.
    // Not a spread followed by a field: optimized, that gives every waiter a hidden class of its own.
    const waiter = Object.assign({}, sent.waiter, { carried: sent.attempts });
    if (connector.waiter) waiter.resolve(this.answers.report(charger, connector, waiter, 'superseded'));
    else connector.waiter = waiter;
    this.scheduler.schedule(charger, connector);
    return true;
  }

  /**
   * The composite schedule is below the set-point (beyond rounding): something holds the car
   * below what the load manager allowed. Where that may be a stale profile of ours (a TxDefaultProfile
   * or TxProfile of an earlier limit, a pause at 0 A, left installed when the limit went another
   * way), those of ours that are lower are cleared and the set-point goes again: once per
   * set-point (a schedule still lower afterwards is only reported), never in a loop. A limit held
   * down by our own charger-wide limit (a connector's share of it) or by someone else's profile is
   * reported as before. Returns whether the set-point goes again (its report waits for it).
   */
  private async correctLower(sent: Sending, attempt: Attempt, said: string): Promise<boolean> {
    const { charger, connector, target } = sent;
    const wanted = this.limits.wantedOf(charger, connector);
    const stale = this.staleLower(charger, connector, attempt, target);
    if (!wanted || connector.lowerCorrected === wanted || stale.length === 0) {
      const again =
        connector.lowerCorrected === wanted && wanted !== undefined ? ', after it was corrected once' : '';
      this.ctx.log.info(`${said}${again}`);
      return false;
    }
    connector.lowerCorrected = wanted;
    const cleared: string[] = [];
    for (const purpose of stale) {
      const request = { id: profileIdFor(purpose, connector.connectorId, this.ctx.profileIdBase) };
      const record: CommandAttempt = { action: 'ClearChargingProfile', method: purpose, request };
      sent.attempts.push(record);
      try {
        const response = await this.ctx.call(charger, 'ClearChargingProfile', request);
        record.response = response;
        cleared.push(`${purpose} (${response.status})`);
      } catch (err) {
        record.error = (err as Error).message;
        cleared.push(`${purpose} (${record.error})`);
      }
      // Gone, or unknown: nothing of ours counts as in force there until the limit goes again.
      if (purpose === 'TxDefaultProfile') {
        connector.standing = undefined;
        delete connector.standingAtMs;
        delete connector.standingValidToMs;
      } else {
        connector.session = undefined;
        connector.sessionUnknown = false;
      }
    }
    if (this.ctx.closed) return false;
    this.ctx.log.warn(
      `${said}: cleared its stale profiles of ours below the set-point (${cleared.join(', ')}) and sends the limit again`,
    );
    // The way that carried it goes again as a command (a charger-wide limit in sync would not).
    connector.enforced = undefined;
    connector.force = true;
    if (attempt.method === 'ChargePointMaxProfile' && charger.chargePointMax.state === 'installed')
      charger.chargePointMax = { state: 'unknown' };
    if (attempt.method === 'ConfigurationKey') charger.key.valueA = undefined;
    // The set-point goes again with the commands so far; a newer one takes its place.
    // Not a spread followed by a field: optimized, that gives every waiter a hidden class of its own.
    const waiter = Object.assign({}, sent.waiter, { carried: sent.attempts });
    if (connector.waiter) waiter.resolve(this.answers.report(charger, connector, waiter, 'superseded'));
    else connector.waiter = waiter;
    this.scheduler.schedule(charger, connector);
    return true;
  }

  /**
   * Profiles of ours on the connector that may hold it below `target` and are not the way that
   * carries it: our TxDefaultProfile at a lower limit (or one that was installed and may still be
   * there after a reconnect, its limit unknown), our TxProfile at a lower limit (or one that may be
   * installed). None where our own charger-wide limit is below the target (the connector's share
   * of a limit other connectors need explains the schedule).
   */
  private staleLower(
    charger: ChargerEntry,
    connector: ConnectorEntry,
    attempt: Attempt,
    target: Target,
  ): ('TxDefaultProfile' | 'TxProfile')[] {
    const stale: ('TxDefaultProfile' | 'TxProfile')[] = [];
    const wide = charger.chargePointMax;
    if (wide.state === 'installed' && wide.limitA < target.limitA) return stale;
    if (
      attempt.method !== 'TxDefaultProfile' &&
      (connector.standing === undefined
        ? connector.standingAtMs !== undefined
        : connector.standing.limitA < target.limitA)
    )
      stale.push('TxDefaultProfile');
    const transactionId = this.limits.transactionOf(charger.chargePointId, connector.connectorId);
    if (
      attempt.method !== 'TxProfile' &&
      ((connector.session !== undefined && connector.session.limitA < target.limitA) ||
        (connector.sessionUnknown && transactionId !== undefined))
    )
      stale.push('TxProfile');
    return stale;
  }

  /**
   * Where the strategy counts on connector 0's TxDefaultProfile reaching running sessions, the
   * composite schedule of each running connector without a limit of its own tells whether it did;
   * one that stayed above gets connector 0's limit on its own (a TxProfile).
   */
  checkZeroReach(charger: ChargerEntry, target: Target, attempt: Attempt): void {
    const wanted =
      charger.strategy.txDefaultAppliesToRunningSession &&
      (this.ctx.options.verifySchedule ?? true) &&
      charger.strategy.compositeSchedule &&
      !charger.compositeUnsupported;
    if (!wanted) return;
    for (const state of this.ctx.cs.connectorsOf(charger.chargePointId)) {
      const connectorId = state.connectorId;
      const transactionId = state.transaction?.transactionId;
      if (connectorId === 0 || transactionId === undefined || charger.connectors.get(connectorId)?.wanted)
        continue;
      charger.checks.push(async () => {
        charger.checking += 1;
        try {
          const unit = attempt.unit ?? 'A';
          const phases = this.limits.profilePhases(charger, connectorId, target, unit);
          const response = await this.ctx.call(charger, 'GetCompositeSchedule', {
            connectorId,
            duration: this.ctx.options.compositeDurationS ?? DEFAULTS.compositeDurationS,
            chargingRateUnit: unit,
          });
          const scheduleLimit = compositeLimitNow(response, unit, this.ctx.voltsFor(charger), phases);
          const expected = limitInUnit(target.limitA, unit, this.ctx.voltsFor(charger), phases);
          const still = this.limits.transactionOf(charger.chargePointId, connectorId) === transactionId;
          if (!this.ctx.closed && still && compareSchedule(scheduleLimit, expected) === 'differs') {
            this.ctx.log.warn(
              `charge point ${charger.chargePointId}: connector 0's TxDefaultProfile of ${expected} ${unit} does not reach the session on connector ${connectorId} (its composite schedule says ${scheduleLimit} ${unit}); it gets a limit of its own`,
            );
            charger.zeroMisses.set(connectorId, transactionId);
            this.scheduler.fanOut(charger);
          }
        } catch {
          // No schedule: nothing learned.
        } finally {
          charger.checking -= 1;
          this.scheduler.afterWork(charger);
        }
      });
    }
  }

  /** Meter values against the limit of each watched connector: a `verification` event when the verdict changes. */
  meterValues(payload: MeterValuesPayload): void {
    const charger = this.registry.get(payload.chargePointId);
    // While a command is on its way, the charger may already draw what it allows (it applies a
    // limit before its answer arrives) or still what it replaces: such a reading tells nothing.
    if (!charger || payload.outOfOrder || charger.pumping) return;
    const atMs = this.ctx.clock.now();
    for (const connector of charger.connectors.values()) {
      const watch = connector.watch;
      if (!watch) continue;
      if (connector.connectorId !== 0 && connector.connectorId !== payload.connectorId) continue;
      if (
        connector.watchTransactionId !== undefined &&
        payload.transactionId !== undefined &&
        payload.transactionId !== connector.watchTransactionId
      ) {
        continue;
      }
      const phases =
        connector.wanted?.phases ??
        this.ctx.cs.connectorOf(payload.chargePointId, payload.connectorId)?.activePhases?.length ??
        3;
      const measuredA = measuredCurrentA(payload, this.ctx.voltsFor(charger), Math.max(1, phases));
      if (measuredA === undefined) continue;
      const changed = watch.observe(measuredA, atMs);
      if (watch.lastMeasuredA !== undefined) connector.verification.measuredA = watch.lastMeasuredA;
      // A new limit in the same session starts unverified with the meter's verdict going on
      // (taken.ts): a reading still within then verifies it, though the verdict did not change.
      // Else a limit that moves by tenths (a pv car following the surplus: 7.8, 7.7, 7.8 A), its
      // schedule read back only every scheduleEveryMs, stayed `sent` while the car followed it.
      // Only by a reading within the newest limit: after a decrease the follow window still allows
      // the higher limit before it, which verifies nothing of the new one.
      const confirms =
        !changed &&
        !connector.verification.verified &&
        measuredA <= watch.limitA + this.ctx.verification.toleranceA &&
        isVerified(connector.verification);
      if (!changed && !confirms) continue;
      if (changed) connector.verification.meter = changed;
      if (changed === 'ignoresLimit') connector.verification.ignoresLimit = true;
      if (changed === 'within') connector.verification.ignoresLimit = false;
      connector.verification.verified = isVerified(connector.verification);
      if (changed === 'ignoresLimit') {
        this.ctx.log.warn(
          `charge point ${charger.chargePointId} connector ${connector.connectorId} ignores its limit: ${floorTo(measuredA)} A measured, ${watch.lastAllowedA} A allowed`,
        );
      }
      const report: VerificationReport = {
        chargePointId: charger.chargePointId,
        connectorId: connector.connectorId,
        limitA: watch.limitA,
        ...(connector.lastMethod ? { method: connector.lastMethod } : {}),
        verification: { ...connector.verification },
        at: this.ctx.nowIso(),
      };
      this.ctx.publish('verification', report);
    }
  }
}

/** The way a limit went, as far as its composite schedule tells: method, stack level, unit, transaction. */
function wayOf(sent: Sending, attempt: Attempt): string {
  return `${attempt.method}/${attempt.stackLevel}/${attempt.unit}/${sent.transactionId}`;
}
