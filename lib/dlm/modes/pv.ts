/**
 * PV surplus stage: the surplus (measured in modes/pv-surplus.ts: grid export plus what the pv cars
 * draw, minus the residual, with the battery's share), and which pv-mode connectors may charge from
 * it, enabled one at a time in keep order after the enable delay (so that two cars do not both
 * start on a surplus that fits one), disabled last-started first once what each took beyond the surplus reaches its minimum
 * for the disable delay (energy, not time; a home battery above its buffer SoC covers dips); a car
 * a dip stopped starts again only on surplus the charging cars cannot take (the last allocation
 * says what held each: the surplus, or its maximum, a breaker, the unbalance limit). A car with a
 * departure plan (evidence/departure.ts) charges whatever the surplus and takes it first: the others start
 * and keep charging on what it leaves. It owns the PV settings a command changed, the PV state the
 * summary shows, and the PV part of the session record.
 */
import { IEC_61851_MINIMUM_A } from '../../electrical';
import type { Logger } from '../../log';
import type { DlmCommand } from '../commands';
import { shareSurplusWithPlans } from '../evidence/departure';
import { canSwitch, switchPhases } from '../evidence/phase-session';
import { commandNumber } from '../inputs';
import type { ConnectorView, PvSession } from '../parts';
import { EPS, onePhaseConductors } from '../phases';
import type { ConnectorRuntimes } from '../runtime';
import type { Site } from '../site/model';
import { say } from '../words';
import { BatteryBank } from './battery-bank';
import { type KeptPvSessions, KeptPvTimers } from './pv-kept';
import type { PvSummary } from './pv-surplus';
import { measureSurplus, type PvContext } from './pv-surplus';

/**
 * How many dips' budgets a charging pv car puts by of the surplus beyond its minimum. Ten: under
 * fast clouds with a home battery a car that had put by three stopped at a run of clouds a few
 * times a day, each stop one more start; with ten it rode them all on one phase (bench:control's
 * fast-clouds day: 1 start a day on seeds 11, 1, 2, 7, where three gave 1-4).
 */
export const CREDIT_DIPS = 10;
/** A dip lasts at most twice disableDelayMs, and once more that for each dip's budget put by, up to this many. */
export const DIP_LENGTH_DIPS = 3;

/** What the PV stage keeps across a restart (lib/dlm/memory.ts). Plain JSON. */
export interface KeptPv {
  /** The settings a pv command changed. */
  settings?: { residualPowerW?: number; batteryPrioritySocPercent?: number };
  /** By connector key: its session's key (`tx:<id>`, `plug:<ms>`) and PV timers and budgets. */
  sessions?: KeptPvSessions;
}

export class PvSurplus {
  private overrides: { residualPowerW?: number; batteryPrioritySocPercent?: number } = {};
  /** A pv command changed what is kept since the last `kept()`. */
  dirty = false;
  /** Each car's PV timers kept from before a restart, until its session is seen again. */
  private readonly timers = new KeptPvTimers();
  private current: PvSummary | undefined;
  /** The battery had priority at the last update (see `BATTERY_PRIORITY_BAND_PERCENT`). */
  private batteryAhead = false;
  /** What each pv-sharing car could take at the last allocation, W (see `allocated`), and its site. */
  private couldTake: { site: Site; w: Float64Array } | undefined;
  /** What the surplus leaves each resting pv/minpv car in this update, W (NaN: none; see `capResting`). */
  private restingLeftW = new Float64Array(0);
  /** The home battery's bank of the surplus the cars did not take. */
  private readonly bank = new BatteryBank();

  /** The PV figures of the last update (undefined when no connector uses PV and no grid meter is set). */
  get state(): PvSummary | undefined {
    return this.current;
  }

  /** A pv command: both values checked before either is taken. */
  command(command: Extract<DlmCommand, { type: 'pv' }>): string {
    // A PV budget that is not a number would let pv cars charge from the grid.
    const residualPowerW =
      command.residualPowerW === undefined
        ? undefined
        : commandNumber(command.residualPowerW, 'pv residualPowerW', { min: 0 });
    const prioritySoc =
      command.batteryPrioritySocPercent === undefined
        ? undefined
        : commandNumber(command.batteryPrioritySocPercent, 'pv batteryPrioritySocPercent', {
            min: 0,
            max: 100,
          });
    if (residualPowerW !== undefined) this.overrides.residualPowerW = residualPowerW;
    if (prioritySoc !== undefined) this.overrides.batteryPrioritySocPercent = prioritySoc;
    this.dirty = true;
    return 'PV settings changed';
  }

  /** The settings a pv command changed and every session's PV timers and budgets (see KeptPv). */
  kept(site: Site, runtimes: ConnectorRuntimes): KeptPv {
    this.dirty = false;
    const sessions = this.timers.kept(site, runtimes);
    return {
      ...(Object.keys(this.overrides).length > 0 ? { settings: { ...this.overrides } } : {}),
      ...(Object.keys(sessions).length > 0 ? { sessions } : {}),
    };
  }

  /** Whether a car has PV timers or budgets to keep (then they are written once a minute). */
  timing(site: Site, runtimes: ConnectorRuntimes): boolean {
    return this.timers.timing(site, runtimes);
  }

  /**
   * Takes back what was kept (see `kept`) `awayMs` after it was kept. The settings at once; a
   * session's timers once its connector's state is seen, and only for the same car (the same
   * transaction; without one, a car still there after a short gap: modes/pv-kept.ts) and once
   * the surplus is measured again: their times move on by the time nothing saw the car, so a car that had waited 40 of its 60 s waits 20 s more, and what it
   * put by of the surplus stays put by. Anything else is dropped with a line naming it and why.
   */
  restore(kept: unknown, awayMs: number, now: number, logger: Logger): void {
    if (typeof kept !== 'object' || kept === null) return;
    const { settings, sessions } = kept as { settings?: unknown; sessions?: unknown };
    if (typeof settings === 'object' && settings !== null) {
      const { residualPowerW, batteryPrioritySocPercent } = settings as Record<string, unknown>;
      try {
        this.command({
          type: 'pv',
          ...(residualPowerW === undefined ? {} : { residualPowerW: residualPowerW as number }),
          ...(batteryPrioritySocPercent === undefined
            ? {}
            : { batteryPrioritySocPercent: batteryPrioritySocPercent as number }),
        });
        logger.info(`PV settings set by message before the restart taken back: ${JSON.stringify(settings)}`);
      } catch (err) {
        logger.warn(`PV settings set by message before the restart dropped: ${(err as Error).message}`);
      }
    }
    this.timers.restore(sessions, awayMs, now, logger);
  }

  /**
   * After each allocation: what every charging pv/minpv car could take from the surplus, W
   * (allocation/pv-could-take.ts), undefined where no surplus was computed this update. A car a dip
   * stopped starts again only on what the others cannot take.
   */
  allocated(site: Site, w: Float64Array | undefined): void {
    this.couldTake = w && { site, w };
  }

  /** The array the last allocation's figures were written to, for the next to write again. */
  get couldTakeW(): Float64Array | undefined {
    return this.couldTake?.w;
  }

  /** Computes the surplus, enables and disables pv connectors; returns the PV budget of the allocation. */
  decide(context: PvContext, now: number): { budgetW: number } {
    const { site, views, runtimes } = context;
    const { pv } = site;
    // The pv and minpv connectors in keep order: the loops below look at no other.
    const pvOrder = context.order.filter((k) => views[k]?.mode === 'pv' || views[k]?.mode === 'minpv');
    if (pvOrder.length === 0 && pv.gridCircuitIndex === undefined) {
      this.current = undefined;
      return { budgetW: Number.POSITIVE_INFINITY };
    }
    const measured = this.surplus(context, now);
    const { surplusW } = measured;
    // Kept timers go on once the surplus is measured again (without it they would start over).
    if (surplusW !== undefined) this.timers.takeBack(context, now);
    // What the battery gives now of what it banked of the cars' surplus (modes/battery-bank.ts).
    const battery = this.current;
    const bankW = this.bank.update(
      battery?.batteryPowerW,
      battery?.batterySocPercent === undefined || this.batteryAhead,
      now,
    );
    const bufferW = Math.max(measured.bufferW, bankW);
    // Beside a home battery (its own controller covers a dip's import while it has charge) what a
    // car put by pays a dip; without one every watt short is the grid's: the dip's budget alone.
    const batteryBuffers = battery?.batteryPowerW !== undefined;
    this.noteRestingCaps(context, pvOrder, surplusW);

    // Enable and disable pv-mode connectors one at a time, in keep order, so that two cars do not
    // both start on a surplus that fits one (and then both stop).
    const minPowerW = (k: number, phases: number) =>
      (views[k]?.minA ?? site.connectors[k]?.minA ?? IEC_61851_MINIMUM_A) * phases * site.voltageV;
    const phasesIfStarted = (k: number) => {
      const view = views[k];
      const connector = site.connectors[k];
      if (!view || !connector) return 3;
      return view.phasesOut === 1 ? onePhaseConductors(connector) : view.gridPhases.length;
    };
    // What a charging car needs to keep charging: a car that can still be switched to one phase
    // needs only the one-phase minimum (the phase-switching stage switches it down rather than
    // the car being stopped).
    const phasesToKeep = (k: number) => {
      const connector = site.connectors[k];
      const runtime = runtimes.at(k);
      return connector?.canSwitchPhases && runtime && canSwitch(site, connector, runtime)
        ? onePhaseConductors(connector)
        : phasesIfStarted(k);
    };
    const available = surplusW ?? 0;
    // The cars with a departure plan take the surplus first (evidence/departure.ts), what they take
    // beyond it from the grid: the other cars start and keep charging on what is left.
    shareSurplusWithPlans(site, views, pvOrder, available, (k) => views[k]?.countsForPv === true);
    // What the charging pv/minpv cars need at their minimum (a car in SuspendedEV needs nothing).
    let committedW = 0;
    let keepW = 0;
    for (const k of pvOrder) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!view || !runtime || !view.wantsByStatus || !view.countsForPv) continue;
      if (view.plan) {
        const takeW = view.plan.takeA * view.plan.phases * site.voltageV;
        committedW += takeW;
        keepW += takeW;
      } else if (view.mode === 'minpv' || (view.mode === 'pv' && runtime.session.pvEnabled)) {
        committedW += minPowerW(k, phasesIfStarted(k));
        keepW += view.mode === 'pv' ? minPowerW(k, phasesToKeep(k)) : minPowerW(k, phasesIfStarted(k));
      }
    }
    let left = available - committedW;
    // What the charging cars could take beyond their minimum (see `allocated`).
    const taken = this.couldTake?.site === site ? this.couldTake.w : undefined;
    let othersCanTakeW = 0;
    for (const k of pvOrder) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!taken || !view || !runtime || !view.wantsByStatus || !view.countsForPv || view.plan) continue;
      if (view.mode === 'minpv' || (view.mode === 'pv' && runtime.session.pvEnabled))
        othersCanTakeW += Math.max(0, (taken[k] ?? 0) - minPowerW(k, phasesIfStarted(k)));
    }
    for (const k of pvOrder) {
      const view = views[k];
      const runtime = runtimes.at(k);
      const connector = site.connectors[k];
      if (!view || !runtime || !connector || view.mode !== 'pv') continue;
      const session = runtime.session;
      if (!view.wantsByStatus) {
        session.pvEnabled = false;
        clearPvDecision(session);
        continue;
      }
      if (view.plan) {
        // Its departure plan has it charge whatever the surplus: enabled, so that it charges on as
        // a pv car once the plan ends (and stops then only as any pv car does).
        if (!session.pvEnabled) session.pvEnabledAtMs = now;
        session.pvEnabled = true;
        clearPvDecision(session);
        continue;
      }
      if (session.pvEnabled) continue;
      const switchable = connector.canSwitchPhases && canSwitch(site, connector, runtime);
      const need = minPowerW(k, switchable ? 1 : phasesIfStarted(k));
      // What the surplus gave beyond the minimum since the last decision (W × ms), less what it
      // was short. A car that a dip stopped this session starts again only once that is worth its
      // minimum for enableDelayMs (a reserve that pays for the next dip), twice that after a second
      // short charge, up to 8× (a car the clouds keep stopping waits for steadier sun); the first
      // start, or one after a long charge, needs enableDelayMs of enough surplus, as before.
      const stops = session.pvStops ?? 0;
      // A car a dip stopped starts again only on surplus the charging cars cannot take: where
      // they can take it, its start would only move their current to it, and the next dip stops it.
      const free = stops > 0 ? left - othersCanTakeW : left;
      // Said in its reason: enough surplus, but the charging cars take it.
      session.pvLeftToOthersW = left >= need && free < need ? Math.round(othersCanTakeW) : undefined;
      const bankedMs = now - (session.pvStartAtMs ?? now);
      const banked =
        surplusW === undefined
          ? 0
          : Math.max(0, (session.pvStartWms ?? 0) + (session.pvStartW ?? 0) * bankedMs);
      session.pvStartWms = banked;
      session.pvStartW = surplusW === undefined ? 0 : free - need;
      session.pvStartAtMs = now;
      const reserveWms = stops > 0 ? need * pv.enableDelayMs * Math.min(8, 2 ** (stops - 1)) : 0;
      // Said in its reason: what it waits for.
      session.pvNeedW = Math.round(need);
      session.pvLeftW = left < available - EPS ? Math.max(0, Math.round(left)) : undefined;
      session.pvReserve =
        reserveWms > 0
          ? {
              paidWh: Math.round(Math.min(banked, reserveWms) / 3_600_000),
              neededWh: Math.round(reserveWms / 3_600_000),
            }
          : undefined;
      if (surplusW !== undefined && free >= need) {
        session.pvEnableSinceMs ??= now;
        left -= need;
        if (now - session.pvEnableSinceMs >= pv.enableDelayMs && banked >= reserveWms - EPS) {
          session.pvEnabled = true;
          session.pvEnabledAtMs = now;
          session.pvLeftW = undefined;
          session.pvEnableSinceMs = undefined;
          clearStart(session);
          clearShortfall(session);
          if (switchable && !session.onePhase && left + need < minPowerW(k, phasesIfStarted(k))) {
            // Not charging yet: switching now interrupts nothing.
            switchPhases(site, context.logger, connector, runtime, true, now);
          }
        }
      } else {
        session.pvEnableSinceMs = undefined;
      }
    }
    // The last started give way first. Each counts, in energy, what it takes beyond the surplus
    // at its minimum; surplus above the minimum gives it back. A dip has a budget of grid energy,
    // the one-phase minimum for disableDelayMs (the old time-based worst case of a one-phase car,
    // 69 Wh at 6 A), the same for a three-phase car (which without any surplus so stops after a
    // third of disableDelayMs: it costs three times as much a second), and lasts at most twice
    // disableDelayMs: a car short of a few watts rides out a cloud, not an afternoon, and no dip
    // costs a three-phase car 207 Wh. Without a grid reading (the fail-safe) the car stops after
    // disableDelayMs, as before. What a home battery above its buffer SoC gives is no shortfall.
    const totalShortW = keepW - available - bufferW;
    let shortW = totalShortW;
    for (const k of pvOrder.reverse()) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!view || !runtime || view.mode !== 'pv' || !runtime.session.pvEnabled) continue;
      const session = runtime.session;
      // A car with a plan does not give way (the others do: what it takes is in keepW).
      if (view.plan) {
        clearShortfall(session);
        continue;
      }
      const ownMinW = minPowerW(k, phasesToKeep(k));
      const budgetWms =
        (surplusW === undefined ? ownMinW : Math.min(ownMinW, minPowerW(k, 1))) * pv.disableDelayMs;
      // The shortfall seen at the last decision lasted until now. What the surplus gave beyond the
      // minimum is put by (negative), up to CREDIT_DIPS dips' budgets: a car the sun served well
      // rides out that many more dips in a row (fast clouds), one short of a few watts still stops.
      // Without a grid reading nothing is put by: it stops after disableDelayMs, as before.
      const floorWms = surplusW === undefined || !batteryBuffers ? 0 : -CREDIT_DIPS * budgetWms;
      const sinceMs = now - (session.pvShortfallAtMs ?? now);
      const total = Math.max(
        floorWms,
        Math.max(floorWms, session.pvShortfallWms ?? 0) + (session.pvShortfallW ?? 0) * sinceMs,
      );
      // A shortfall is the last started's; more than enough for all pays every car's back.
      const mine = totalShortW <= 0 ? totalShortW : Math.max(0, Math.min(shortW, ownMinW));
      shortW -= ownMinW;
      if (mine > 0 && session.pvShortSinceMs === undefined) {
        session.pvShortSinceMs = now;
        session.pvDipCreditWms = Math.max(0, -total);
      } else if (mine <= 0) session.pvShortSinceMs = undefined;
      session.pvShortfallWms = total;
      session.pvShortfallW = mine;
      session.pvShortfallAtMs = now;
      const dipMs = now - (session.pvShortSinceMs ?? now);
      // A dip lasts at most twice disableDelayMs, longer by what was put by when it began.
      const creditShare = budgetWms > 0 ? (session.pvDipCreditWms ?? 0) / budgetWms : 0;
      const dipCapMs = 2 * pv.disableDelayMs * (1 + Math.min(DIP_LENGTH_DIPS, creditShare));
      if ((total >= budgetWms - EPS && total > 0) || dipMs >= dipCapMs) {
        session.pvEnabled = false;
        // A stop after a long charge (minOffMaxMs, the contactor rule's) starts the count again.
        const chargedMs = now - (session.pvEnabledAtMs ?? now);
        session.pvStops = chargedMs >= site.control.minOffMaxMs ? 1 : (session.pvStops ?? 0) + 1;
        clearShortfall(session);
        view.pausedByManager = true;
      }
    }
    this.capResting(site, views);
    return { budgetW: surplusW === undefined ? 0 : Math.max(0, surplusW) };
  }

  /**
   * Caps each resting pv/minpv car (SuspendedEV: it draws nothing, so it does not share the PV
   * budget in the allocation, where its minimum would take the surplus of the cars that charge) at
   * what the surplus leaves beyond what the pv cars draw, on the phases it counts on now, at least
   * its minimum: uncapped it was offered its maximum ("maximum 16 A") and, once it resumed, could
   * draw that from the grid until the next update lowered it. Written into this update's views
   * (again after a phase switch made them anew, load-manager.ts: on its new phases).
   */
  capResting(site: Site, views: readonly ConnectorView[]): void {
    const leftW = this.restingLeftW;
    for (let k = 0; k < leftW.length; k++) {
      const left = leftW[k] ?? Number.NaN;
      const view = views[k];
      if (Number.isNaN(left) || !view) continue;
      const phases = view.phasesOut === 1 ? 1 : Math.max(1, view.gridPhases.length);
      const leftA = Math.floor((left / (phases * site.voltageV)) * 10 + EPS) / 10;
      const cap = Math.max(view.minA, leftA);
      if (cap >= view.capA) continue;
      view.capA = cap;
      view.capReason =
        leftA > view.minA
          ? [say('restingOffered', { w: Math.round(left) })]
          : [say('restingMinimum', { w: Math.round(left) })];
    }
  }

  /** This update's caps of the resting pv/minpv cars (see `capResting`): what the surplus leaves, W. */
  private noteRestingCaps(
    context: PvContext,
    pvOrder: readonly number[],
    surplusW: number | undefined,
  ): void {
    const { site, views, runtimes } = context;
    const n = site.connectors.length;
    if (this.restingLeftW.length !== n) this.restingLeftW = new Float64Array(n);
    this.restingLeftW.fill(Number.NaN);
    // What the surplus leaves beyond what the pv cars draw now (a resting car draws nothing).
    const leftW = Math.max(0, (surplusW ?? 0) - (this.current?.chargersPowerW ?? 0));
    for (const k of pvOrder) {
      const view = views[k];
      const runtime = runtimes.at(k);
      if (!view?.resting || !view.wantsByStatus || view.plan || !runtime) continue;
      if (view.mode === 'pv' && !runtime.session.pvEnabled) continue;
      this.restingLeftW[k] = leftW;
    }
  }

  /** The surplus now (modes/pv-surplus.ts), keeping the PV state and the battery's priority. */
  private surplus(context: PvContext, now: number): { surplusW: number | undefined; bufferW: number } {
    const { pv } = context.site;
    const settings = {
      residualPowerW: this.overrides.residualPowerW ?? pv.residualPowerW,
      prioritySocPercent: this.overrides.batteryPrioritySocPercent ?? pv.batteryPrioritySocPercent,
      banked: this.bank.wh > 0,
    };
    const measure = measureSurplus(context, now, settings, this.batteryAhead);
    this.batteryAhead = measure.batteryAhead;
    this.current = measure.summary;
    return { surplusW: measure.surplusW, bufferW: measure.bufferW };
  }
}

/** Forgets what the surplus decision was weighing for a car (enable timer, need, reserve, start, shortfall). */
function clearPvDecision(session: PvSession): void {
  session.pvEnableSinceMs = undefined;
  session.pvLeftToOthersW = undefined;
  session.pvNeedW = undefined;
  session.pvLeftW = undefined;
  session.pvReserve = undefined;
  clearStart(session);
  clearShortfall(session);
}

function clearShortfall(session: PvSession): void {
  session.pvDipCreditWms = undefined;
  session.pvShortfallWms = undefined;
  session.pvShortfallW = undefined;
  session.pvShortfallAtMs = undefined;
  session.pvShortSinceMs = undefined;
}

function clearStart(session: PvSession): void {
  session.pvStartWms = undefined;
  session.pvStartW = undefined;
  session.pvStartAtMs = undefined;
}
